package org.libzerobus;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Faults of the server, refusals, and streams left to the garbage collector. */
@Timeout(120)
class FailureTest {
  private static final String WITHHOLD_ACKS = LocalServer.EVENTS + ":withhold_acks=true";

  private static ZerobusException causeOf(CompletableFuture<?> future) {
    ExecutionException failed =
        assertThrows(ExecutionException.class, () -> future.get(30, TimeUnit.SECONDS));
    return assertInstanceOf(ZerobusException.class, failed.getCause());
  }

  @Test
  void aTimedOutCloseKeepsTheUnackedForARecreatedStream() throws Exception {
    AtomicLong lostFirst = new AtomicLong(-1);
    AtomicLong lostLast = new AtomicLong(-1);
    AckCallback callback =
        new AckCallback() {
          @Override
          public void onAck(long offset) {}

          @Override
          public void onError(long first, long last, ZerobusException error) {
            lostFirst.compareAndSet(-1, first);
            lostLast.set(last);
          }
        };
    try (LocalServer server = LocalServer.start("--fault", WITHHOLD_ACKS);
        ZerobusSdk sdk = server.sdk()) {
      ZerobusStream stream =
          sdk.createProtoStream(
              LocalServer.EVENTS,
              TableSchema.fromDdl(LocalServer.EVENTS_DDL).descriptor(),
              server.options().setAckCallback(callback).build());
      List<byte[]> sent = new ArrayList<>();
      for (long id = 0; id < 5; id++) {
        sent.add(Events.proto(id));
        stream.ingestRecordOffset(sent.get((int) id));
      }
      CompletableFuture<Void> last = stream.waitForOffset(4);
      ZerobusException timeout =
          assertThrows(ZerobusException.class, () -> stream.close(Duration.ofMillis(200)));
      assertEquals("ZB_ERR_TIMEOUT", timeout.codeName());
      // The waiter learns the records' fate from the error events.
      causeOf(last);
      assertEquals(0, lostFirst.get());
      assertEquals(4, lostLast.get());
      List<byte[]> unacked = stream.getUnackedRecords();
      assertEquals(sent.size(), unacked.size());
      for (int index = 0; index < sent.size(); index++) {
        assertArrayEquals(sent.get(index), unacked.get(index));
      }

      server.clearFault(LocalServer.EVENTS);
      ZerobusStream again = sdk.recreateStream(stream);
      again.flush().get(30, TimeUnit.SECONDS);
      assertEquals(5, again.getInfo().recordsAcked());
      again.close();
      // The server stored what it did not acknowledge: the replay stores it again (at least
      // once), and each record is there.
      TreeMap<Long, Integer> ids = server.rowIds(LocalServer.EVENTS);
      assertEquals(List.of(0L, 1L, 2L, 3L, 4L), List.copyOf(ids.keySet()));
      assertTrue(ids.values().stream().allMatch(count -> count <= 2), ids.toString());
    }
  }

  @Test
  void aStreamRecoversThroughAServerFault() throws Exception {
    int records = 1000;
    try (LocalServer server =
            LocalServer.start(
                "--fault", LocalServer.EVENTS + ":fail_after_records=300,fail_status=UNAVAILABLE");
        ZerobusSdk sdk = server.sdk()) {
      ZerobusStream stream = sdk.createJsonStream(LocalServer.EVENTS, server.options().build());
      for (long id = 0; id < records; id++) {
        stream.ingestRecordOffset(Events.json(id));
      }
      stream.flush().get(60, TimeUnit.SECONDS);
      StreamInfo info = stream.getInfo();
      assertTrue(info.recoveries() >= 1, info.toString());
      assertEquals(records, info.recordsAcked());
      stream.close();
      // At least once: a replayed record may be stored twice, no more than were replayed.
      TreeMap<Long, Integer> ids = server.rowIds(LocalServer.EVENTS);
      assertEquals(records, ids.size());
      assertEquals(0L, ids.firstKey());
      assertEquals(records - 1L, ids.lastKey());
      long extra = ids.values().stream().mapToLong(count -> count - 1).sum();
      assertTrue(extra <= info.recordsReplayed(), extra + " duplicates, " + info);
    }
  }

  @Test
  void errorsCarryTheLibrarysCodeAndMessage() throws Exception {
    try (LocalServer server = LocalServer.start();
        ZerobusSdk sdk = server.sdk();
        TableSchema schema = TableSchema.fromDdl(LocalServer.EVENTS_DDL)) {
      ZerobusStream stream = sdk.createStream(schema, server.options().build());
      ZerobusException wrongType =
          assertThrows(
              ZerobusException.class, () -> stream.ingestRecordOffset("{\"id\": \"seven\"}"));
      assertInstanceOf(NonRetriableException.class, wrongType);
      assertEquals("ZB_ERR_INVALID_RECORD", wrongType.codeName());
      assertTrue(wrongType.getMessage().contains("id"), wrongType.getMessage());
      assertEquals(-1, wrongType.grpcStatus());
      ZerobusException empty =
          assertThrows(ZerobusException.class, () -> stream.ingestRecordOffset(new byte[0]));
      assertEquals("ZB_ERR_EMPTY_RECORD", empty.codeName());
      stream.close();
      assertEquals(
          "ZB_ERR_CLOSED",
          assertThrows(ZerobusException.class, () -> stream.ingestRecordOffset(Events.proto(1)))
              .codeName());

      ZerobusException missing =
          assertThrows(
              ZerobusException.class,
              () -> sdk.createJsonStream("main.default.missing", server.options().build()));
      assertEquals("ZB_ERR_TRANSPORT", missing.codeName());
      assertEquals(5, missing.grpcStatus()); // NOT_FOUND
      assertFalse(missing.isRetryable());
    }
  }

  @Test
  void theHeadersProviderSuppliesEveryConnection() throws Exception {
    AtomicLong calls = new AtomicLong();
    try (LocalServer server = LocalServer.start();
        ZerobusSdk sdk = server.sdk()) {
      ZerobusStream stream =
          sdk.createJsonStream(
              LocalServer.EVENTS,
              server
                  .options()
                  .setHeadersProvider(
                      () -> {
                        calls.incrementAndGet();
                        return Map.of("x-trace-id", "java-test");
                      })
                  .build());
      stream.ingestRecordOffset(Events.json(0));
      stream.close();
      assertEquals(1, calls.get());

      ZerobusException refused =
          assertThrows(
              ZerobusException.class,
              () ->
                  sdk.createJsonStream(
                      LocalServer.EVENTS,
                      server
                          .options()
                          .setRecoveryRetries(0)
                          .setHeadersProvider(
                              () -> {
                                throw new IllegalStateException("no token today");
                              })
                          .build()));
      assertEquals("ZB_ERR_AUTH", refused.codeName());
    }
  }

  @Test
  void aStreamLeftToTheCollectorIsDestroyedAndItsWaitersFail() throws Exception {
    try (LocalServer server = LocalServer.start("--fault", WITHHOLD_ACKS);
        ZerobusSdk sdk = server.sdk()) {
      Abandoned abandoned = abandonAStreamWithRecordsInFlight(sdk, server);
      CompletableFuture<Void> lastRecord = abandoned.lastRecord();
      Instant deadline = Instant.now().plusSeconds(30);
      while (!lastRecord.isDone() && Instant.now().isBefore(deadline)) {
        System.gc();
        try {
          lastRecord.get(20, TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.TimeoutException notYet) {
          // The cleaner has not run yet: collect again.
        } catch (ExecutionException failed) {
          break;
        }
      }
      assertEquals("ZB_ERR_CLOSED", causeOf(lastRecord).codeName());
      assertFalse(StreamState.holds(abandoned.callbacks()));
      // The library let go of the stream's event callback, and so of its registration.
      assertFalse(Upcalls.holds(abandoned.callbacks()));
      // The SDK goes on serving streams.
      server.clearFault(LocalServer.EVENTS);
      try (ZerobusStream next =
          sdk.createJsonStream(LocalServer.EVENTS, server.options().build())) {
        next.ingestRecordOffset(Events.json(0));
      }
    }
  }

  /** What is left of a stream dropped by the test: its registration and a waiter. */
  private record Abandoned(Callbacks callbacks, CompletableFuture<Void> lastRecord) {}

  private static Abandoned abandonAStreamWithRecordsInFlight(ZerobusSdk sdk, LocalServer server)
      throws ZerobusException {
    ZerobusStream stream = sdk.createJsonStream(LocalServer.EVENTS, server.options().build());
    for (long id = 0; id < 100; id++) {
      stream.ingestRecordOffset(Events.json(id));
    }
    assertTrue(Upcalls.holds(stream.callbacks()));
    return new Abandoned(stream.callbacks(), stream.waitForOffset(99));
  }

  @Test
  void closeAsyncWaitsForTheRecordsInFlight() throws Exception {
    try (LocalServer server = LocalServer.start();
        ZerobusSdk sdk = server.sdk()) {
      ZerobusStream stream = sdk.createJsonStream(LocalServer.EVENTS, server.options().build());
      for (long id = 0; id < 2000; id++) {
        stream.ingestRecordOffset(Events.json(id));
      }
      CompletableFuture<Void> closed = stream.closeAsync();
      closed.get(30, TimeUnit.SECONDS);
      assertEquals(2000, stream.getInfo().recordsAcked());
      IngestTest.assertStoredOnce(server, 2000);
    }
  }
}
