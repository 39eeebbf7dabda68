package org.libzerobus;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Persistent streams (experimental) against zerobus serve: created, closed and resumed with the
 * offsets continuing after the watermark; a call broken by the server after it stored records whose
 * acks it withheld, resumed without storing them twice (where an ephemeral stream stores them
 * again); the refusals with their codes; a producer process killed with SIGKILL mid-stream and this
 * process resuming its stream by id, every record exactly once.
 */
@Timeout(120)
class PersistentTest {
  private static final byte[] DESCRIPTOR = descriptor();
  private static final int NOT_FOUND = 5;
  private static final int FAILED_PRECONDITION = 9;
  private static final int INVALID_ARGUMENT = 3;

  private static byte[] descriptor() {
    try {
      return TableSchema.fromDdl(LocalServer.EVENTS_DDL).descriptor();
    } catch (ZerobusException failed) {
      throw new IllegalStateException(failed);
    }
  }

  /** Ingests the events of ids first .. end-1, asserting that each offset is its id. */
  private static void ingest(ZerobusStream stream, long first, long end) throws ZerobusException {
    for (long id = first; id < end; id++) {
      assertEquals(id, stream.ingestRecordOffset(Events.proto(id)));
    }
  }

  /** Asserts that the table holds the events of ids 0 .. count-1, each exactly once. */
  private static void assertIdsOnce(LocalServer server, long count) throws Exception {
    TreeMap<Long, Integer> ids = server.rowIds(LocalServer.EVENTS);
    assertEquals(count, ids.size(), "distinct ids stored");
    for (Map.Entry<Long, Integer> id : ids.entrySet()) {
      assertEquals(1, id.getValue(), "copies of id " + id.getKey());
    }
    assertEquals(0, ids.firstKey());
    assertEquals(count - 1, ids.lastKey());
  }

  @Test
  void resumedByIdTheOffsetsContinueAfterTheWatermark() throws Exception {
    try (LocalServer server = LocalServer.start();
        ZerobusSdk sdk = server.sdk()) {
      PersistentStream created =
          sdk.createPersistentProtoStream(LocalServer.EVENTS, DESCRIPTOR, server.options().build());
      assertFalse(created.getStreamId().isEmpty());
      assertEquals(OptionalLong.empty(), created.getResumeWatermark());
      ingest(created, 0, 40);
      created.close();

      AtomicLong lastAck = new AtomicLong(-1);
      PersistentStream resumed =
          sdk.resumePersistentProtoStream(
              LocalServer.EVENTS,
              created.getStreamId(),
              DESCRIPTOR,
              server.options().setAckCallback(lastAck::set).build());
      assertEquals(created.getStreamId(), resumed.getStreamId());
      assertEquals(OptionalLong.of(39), resumed.getResumeWatermark());
      // Nothing new yet: what the server committed before counts as durable.
      resumed.flush().get(30, TimeUnit.SECONDS);
      resumed.waitForOffset(39).get(30, TimeUnit.SECONDS);
      ingest(resumed, 40, 41);
      assertEquals(42, resumed.ingestRecordsOffset(List.of(Events.proto(41), Events.proto(42))));
      resumed.waitForOffset(42).get(30, TimeUnit.SECONDS);
      resumed.close();
      assertEquals(42, lastAck.get());
      assertEquals(43, resumed.getInfo().recordsAcked());
      assertIdsOnce(server, 43);
      // One request per record.
      assertTrue(server.stats().contains("\"requests\":43"), server.stats());
    }
  }

  /**
   * The server stores records 0..59 and withholds their acks, then breaks the call on the next
   * request (UNAVAILABLE). A persistent stream resumes by its id, learns from the watermark that
   * 0..59 are stored, and sends again only record 60; an ephemeral stream replays all 61.
   */
  private static int storedAfterLostAcks(boolean persistent) throws Exception {
    try (LocalServer server =
            LocalServer.start("--fault", LocalServer.EVENTS + ":withhold_acks=true");
        ZerobusSdk sdk = server.sdk()) {
      List<ZerobusException> errors = new ArrayList<>();
      StreamConfigurationOptions options =
          server
              .options()
              .setAckCallback(
                  new AckCallback() {
                    @Override
                    public void onAck(long offset) {}

                    @Override
                    public void onError(long first, long last, ZerobusException error) {
                      errors.add(error);
                    }
                  })
              .build();
      ZerobusStream stream =
          persistent
              ? sdk.createPersistentProtoStream(LocalServer.EVENTS, DESCRIPTOR, options)
              : sdk.createProtoStream(LocalServer.EVENTS, DESCRIPTOR, options);
      ingest(stream, 0, 60);
      server.awaitRecords(60);
      server.setFault(
          LocalServer.EVENTS,
          "{\"withhold_acks\": true, \"fail_after_records\": 0, \"fail_status\": \"UNAVAILABLE\"}");
      ingest(stream, 60, 61);
      server.awaitRecords(persistent ? 61 : 121);
      server.clearFault(LocalServer.EVENTS);
      stream.flush().get(30, TimeUnit.SECONDS);
      StreamInfo info = stream.getInfo();
      stream.close();
      assertEquals(List.of(), errors);
      assertEquals(1, info.recoveries());
      assertEquals(61, info.recordsAcked());
      if (persistent) {
        assertEquals(1, info.recordsReplayed());
        assertIdsOnce(server, 61);
      }
      return server.rows(LocalServer.EVENTS).size();
    }
  }

  @Test
  void aCallBrokenAfterStoredRecordsLostTheirAcksResumesWithoutDuplicates() throws Exception {
    assertEquals(61, storedAfterLostAcks(true));
  }

  @Test
  void theContrastAnEphemeralStreamStoresTheRecordsOfTheLostAcksAgain() throws Exception {
    assertEquals(121, storedAfterLostAcks(false));
  }

  private static void assertRefused(int grpcStatus, Executable call) {
    ZerobusException refused = assertThrows(ZerobusException.class, call::run);
    assertEquals("ZB_ERR_TRANSPORT", refused.codeName());
    assertEquals(grpcStatus, refused.grpcStatus(), refused.getMessage());
    assertFalse(refused.isRetryable());
  }

  @FunctionalInterface
  private interface Executable {
    void run() throws Exception;
  }

  @Test
  void refusalsOfUnknownAndRetiredIdsAnotherRecordTypeAndLanes() throws Exception {
    try (LocalServer server = LocalServer.start();
        ZerobusSdk sdk = server.sdk()) {
      StreamConfigurationOptions options = server.options().set("recovery.retries", "1").build();
      PersistentStream created =
          sdk.createPersistentProtoStream(LocalServer.EVENTS, DESCRIPTOR, options);
      ingest(created, 0, 5);
      created.close();
      String id = created.getStreamId();

      assertRefused(
          INVALID_ARGUMENT, () -> sdk.resumePersistentJsonStream(LocalServer.EVENTS, id, options));
      assertRefused(
          NOT_FOUND,
          () ->
              sdk.resumePersistentProtoStream(
                  LocalServer.EVENTS, "no-such-stream", DESCRIPTOR, options));
      assertRefused(
          NOT_FOUND,
          () -> sdk.retirePersistentStream(LocalServer.EVENTS, "no-such-stream", options));
      sdk.retirePersistentStream(LocalServer.EVENTS, id, options);
      // Idempotent.
      sdk.retirePersistentStream(LocalServer.EVENTS, id, options);
      assertRefused(
          FAILED_PRECONDITION,
          () -> sdk.resumePersistentProtoStream(LocalServer.EVENTS, id, DESCRIPTOR, options));

      ZerobusException lanes =
          assertThrows(
              ZerobusException.class,
              () ->
                  sdk.createPersistentJsonStream(
                      LocalServer.EVENTS, server.options().set("stream.lanes", "2").build()));
      assertEquals("ZB_ERR_INVALID_ARG", lanes.codeName());
      assertIdsOnce(server, 5);
    }
  }

  @Test
  void aRecreatedPersistentStreamIsResumed() throws Exception {
    try (LocalServer server = LocalServer.start();
        ZerobusSdk sdk = server.sdk()) {
      PersistentStream stream =
          sdk.createPersistentJsonStream(LocalServer.EVENTS, server.options().build());
      assertEquals(0, stream.ingestRecordOffset(Events.json(0)));
      stream.close();
      PersistentStream again = assertInstanceOf(PersistentStream.class, sdk.recreateStream(stream));
      assertEquals(stream.getStreamId(), again.getStreamId());
      assertEquals(OptionalLong.of(0), again.getResumeWatermark());
      assertEquals(1, again.ingestRecordOffset(Events.json(1)));
      again.close();
      assertIdsOnce(server, 2);
    }
  }

  private static final int KILL_AFTER = 2_000;
  private static final int CONTINUED = 2_000;

  /**
   * {@link PersistentProducer} is killed with SIGKILL once the server accepted KILL_AFTER of its
   * records (of many more it would send); this process then resumes its stream by the id it saved:
   * the watermark is exactly what the server stored, and CONTINUED records after it complete the
   * run, every record once.
   */
  @Test
  void aProducerKilledMidStreamIsResumedByAnotherProcessEveryRecordOnce() throws Exception {
    try (LocalServer server = LocalServer.start();
        ZerobusSdk sdk = server.sdk()) {
      Path idFile = Files.createTempDirectory("zerobus-persistent-").resolve("stream-id");
      List<String> command = new ArrayList<>();
      command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
      command.add("--enable-native-access=ALL-UNNAMED");
      // The library this JVM loaded (other tests change the property afterwards).
      if (!Native.LOADED_FROM.equals(Native.SONAME)) {
        command.add("-D" + Native.LIBRARY_PROPERTY + "=" + Native.LOADED_FROM);
      }
      command.addAll(
          List.of(
              "-cp",
              System.getProperty("java.class.path"),
              PersistentProducer.class.getName(),
              server.endpoint,
              idFile.toString(),
              "1000000"));
      Process producer =
          new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
      try {
        server.awaitRecords(KILL_AFTER);
      } finally {
        // Process.destroyForcibly() is SIGKILL on Linux.
        producer.destroyForcibly();
      }
      assertTrue(producer.waitFor(30, TimeUnit.SECONDS));
      assertEquals(128 + 9, producer.exitValue(), "killed by SIGKILL");

      String id = Files.readString(idFile);
      // The server may not have ended the killed producer's call yet: ABORTED, retried.
      PersistentStream resumed =
          sdk.resumePersistentProtoStream(
              LocalServer.EVENTS,
              id,
              DESCRIPTOR,
              server.options().setRecoveryBackoffMs(20).set("recovery.retries", "100").build());
      int stored = server.rows(LocalServer.EVENTS).size();
      System.out.println(
          "producer killed after "
              + stored
              + " records stored; resumed at "
              + resumed.getResumeWatermark());
      assertTrue(stored >= KILL_AFTER && stored < 1_000_000, stored + " stored");
      assertEquals(OptionalLong.of(stored - 1), resumed.getResumeWatermark());
      ingest(resumed, stored, stored + CONTINUED);
      resumed.close();
      assertIdsOnce(server, stored + CONTINUED);
      Files.delete(idFile);
      Files.delete(idFile.getParent());
    }
  }
}
