package org.libzerobus;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Records of every kind into a local server, and what it stored. */
@Timeout(120)
class IngestTest {
  static void assertStoredOnce(LocalServer server, long records) throws Exception {
    TreeMap<Long, Integer> expected = new TreeMap<>();
    LongStream.range(0, records).forEach(id -> expected.put(id, 1));
    assertEquals(expected, server.rowIds(LocalServer.EVENTS));
  }

  @Test
  void jsonRecordsAsStringsBytesAndBatchesAreStored() throws Exception {
    try (LocalServer server = LocalServer.start();
        ZerobusSdk sdk = server.sdk()) {
      ZerobusStream stream = sdk.createJsonStream(LocalServer.EVENTS, server.options().build());
      for (long id = 0; id < 300; id++) {
        assertEquals(id, stream.ingestRecordOffset(Events.json(id)));
      }
      for (long id = 300; id < 400; id++) {
        assertEquals(id, stream.ingestRecordOffset(Events.json(id).getBytes()));
      }
      List<String> batch = new ArrayList<>();
      for (long id = 400; id < 500; id++) {
        batch.add(Events.json(id));
      }
      assertEquals(499, stream.ingestJsonRecordsOffset(batch));
      stream.flush().get(30, TimeUnit.SECONDS);
      assertEquals(500, stream.getInfo().recordsAcked());
      stream.close();
      assertEquals("closed", stream.getInfo().state());
      assertStoredOnce(server, 500);
    }
  }

  @Test
  void protobufRecordsFromArraysBuffersAndSegmentsAreStored() throws Exception {
    try (LocalServer server = LocalServer.start();
        ZerobusSdk sdk = server.sdk();
        TableSchema schema = TableSchema.fromDdl(LocalServer.EVENTS_DDL);
        Arena arena = Arena.ofConfined()) {
      assertEquals(LocalServer.EVENTS, schema.tableName());
      // The library's encoder and this test's hand-made record agree.
      assertArrayEquals(Events.proto(7), schema.encodeJson(Events.json(7)));
      ZerobusStream stream =
          sdk.createProtoStream(LocalServer.EVENTS, schema.descriptor(), server.options().build());
      long id = 0;
      for (; id < 100; id++) {
        stream.ingestRecordOffset(Events.proto(id));
      }
      for (; id < 200; id++) {
        byte[] record = Events.proto(id);
        ByteBuffer direct = ByteBuffer.allocateDirect(record.length + 3);
        direct.put(new byte[] {9, 9, 9}).put(record).flip().position(3);
        assertEquals(id, stream.ingestRecordOffset(direct));
        assertEquals(3, direct.position()); // read where it is, position untouched
      }
      for (; id < 300; id++) {
        stream.ingestRecordOffset(ByteBuffer.wrap(Events.proto(id)));
      }
      for (; id < 400; id++) {
        MemorySegment record =
            arena.allocateFrom(java.lang.foreign.ValueLayout.JAVA_BYTE, Events.proto(id));
        stream.ingestRecordOffset(record);
      }
      List<byte[]> batch = new ArrayList<>();
      for (; id < 500; id++) {
        batch.add(Events.proto(id));
      }
      assertEquals(499, stream.ingestRecordsOffset(batch));
      stream.closeAsync().get(30, TimeUnit.SECONDS);
      assertStoredOnce(server, 500);
    }
  }

  @Test
  void aSchemaStreamTakesJsonAndProtobuf() throws Exception {
    try (LocalServer server = LocalServer.start();
        ZerobusSdk sdk = server.sdk();
        TableSchema schema = TableSchema.fromDdl(LocalServer.EVENTS_DDL)) {
      // The same table described by Unity Catalog's JSON gives the same descriptor.
      try (TableSchema described =
          TableSchema.fromTableJson(server.tableJson(LocalServer.EVENTS))) {
        assertEquals(LocalServer.EVENTS, described.tableName());
        assertArrayEquals(schema.descriptor(), described.descriptor());
        assertTrue(described.protoSource().contains("payload"), described.protoSource());
      }
      ZerobusStream stream = sdk.createStream(schema, server.options().build());
      for (long id = 0; id < 200; id++) {
        if (id % 2 == 0) {
          stream.ingestRecordOffset(Events.json(id));
        } else {
          stream.ingestRecordOffset(Events.proto(id));
        }
      }
      stream.close();
      String stats = stream.statsJson();
      assertTrue(stats.contains("\"table\":\"" + LocalServer.EVENTS + "\""), stats);
      assertStoredOnce(server, 200);
    }
  }

  @Test
  void acksReachTheCallbackAndCompleteTheFutures() throws Exception {
    AtomicLong watermark = new AtomicLong(-1);
    ConcurrentLinkedQueue<String> wrongs = new ConcurrentLinkedQueue<>();
    AckCallback callback =
        new AckCallback() {
          @Override
          public void onAck(long offset) {
            if (offset <= watermark.getAndSet(offset)) {
              wrongs.add("ack " + offset + " does not move the watermark");
            }
          }

          @Override
          public void onError(long first, long last, ZerobusException error) {
            wrongs.add("error " + first + ".." + last + ": " + error);
          }
        };
    try (LocalServer server = LocalServer.start();
        ZerobusSdk sdk = server.sdk()) {
      ZerobusStream stream =
          sdk.createJsonStream(
              LocalServer.EVENTS, server.options().setAckCallback(callback).build());
      var fifth = stream.waitForOffset(4);
      for (long id = 0; id < 1000; id++) {
        stream.ingestRecordOffset(Events.json(id));
      }
      fifth.get(30, TimeUnit.SECONDS);
      stream.waitForOffset(999).get(30, TimeUnit.SECONDS);
      assertEquals(999, watermark.get());
      // An offset already durable: complete at once.
      assertTrue(stream.waitForOffset(10).isDone());
      stream.close();
      assertEquals(List.of(), List.copyOf(wrongs));
      // The library wrote zb_event at the size of this binding's layout.
      assertEquals(Native.EVENT.byteSize(), Upcalls.librarysEventSize());
    }
  }

  @Test
  void manyThreadsIngestIntoOneStream() throws Exception {
    int threads = 8;
    int perThread = 500;
    try (LocalServer server = LocalServer.start();
        ZerobusSdk sdk = server.sdk()) {
      ZerobusStream stream = sdk.createJsonStream(LocalServer.EVENTS, server.options().build());
      ConcurrentLinkedQueue<Long> offsets = new ConcurrentLinkedQueue<>();
      ConcurrentLinkedQueue<Throwable> failures = new ConcurrentLinkedQueue<>();
      CountDownLatch start = new CountDownLatch(1);
      List<Thread> workers = new ArrayList<>();
      for (int thread = 0; thread < threads; thread++) {
        long first = (long) thread * perThread;
        workers.add(
            Thread.ofPlatform()
                .start(
                    () -> {
                      try {
                        start.await();
                        for (long id = first; id < first + perThread; id++) {
                          offsets.add(
                              id % 2 == 0
                                  ? stream.ingestRecordOffset(Events.json(id))
                                  : stream.ingestRecordOffset(Events.json(id).getBytes()));
                        }
                      } catch (Throwable failed) {
                        failures.add(failed);
                      }
                    }));
      }
      start.countDown();
      for (Thread worker : workers) {
        worker.join();
      }
      assertEquals(List.of(), List.copyOf(failures));
      long total = (long) threads * perThread;
      assertEquals(LongStream.range(0, total).boxed().toList(), offsets.stream().sorted().toList());
      stream.flush().get(30, TimeUnit.SECONDS);
      stream.close();
      assertStoredOnce(server, total);
    }
  }

  @Test
  void lanesKeepOneOffsetSpaceAndACumulativeWatermark() throws Exception {
    int lanes = 4;
    long records = 2000;
    AtomicLong watermark = new AtomicLong(-1);
    ConcurrentLinkedQueue<String> wrongs = new ConcurrentLinkedQueue<>();
    AckCallback callback =
        new AckCallback() {
          @Override
          public void onAck(long offset) {
            if (offset <= watermark.getAndSet(offset)) {
              wrongs.add("ack " + offset + " does not move the watermark");
            }
          }

          @Override
          public void onError(long first, long last, ZerobusException error) {
            wrongs.add("error " + first + ".." + last + ": " + error);
          }
        };
    try (LocalServer server = LocalServer.start();
        ZerobusSdk sdk = server.sdk()) {
      ZerobusStream stream =
          sdk.createJsonStream(
              LocalServer.EVENTS,
              server.options().setLanes(lanes).setAckCallback(callback).build());
      assertEquals(lanes, server.streamsOpened(), "server streams of one handle");
      for (long id = 0; id < records; id++) {
        assertEquals(id, stream.ingestRecordOffset(Events.json(id)));
      }
      stream.flush().get(30, TimeUnit.SECONDS);
      assertEquals(records, stream.getInfo().recordsAcked());
      assertEquals(records - 1, watermark.get());
      stream.close();
      assertEquals(List.of(), List.copyOf(wrongs));
      assertStoredOnce(server, records);
    }
  }
}
