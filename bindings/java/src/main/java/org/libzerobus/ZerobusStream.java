package org.libzerobus;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.ref.Cleaner;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * A stream of records into one table (zb_stream). Every method may be called from any number of
 * threads at once. A record is accepted when its ingest call returns an offset (0, 1, 2, ... per
 * stream) and durable when an ack covers it: {@link #waitForOffset}, {@link #flush} and {@link
 * #closeAsync} give futures that the stream's events complete, and the {@link AckCallback} of its
 * options hears every ack.
 *
 * <p>{@link #close()} (or {@link #closeAsync()}) ends the stream gracefully; its native object is
 * freed once the stream is unreachable, so no call running on another thread can touch freed
 * memory. A stream that becomes unreachable without a close is closed at once, abandoning the
 * records not yet acknowledged, and the futures still waiting on them fail.
 */
public sealed class ZerobusStream implements AutoCloseable permits PersistentStream {
  private final ZerobusSdk sdk;
  private final MemorySegment handle;
  private final int recordType;
  private final Callbacks callbacks;
  private final StreamState state;
  private final Cleaner.Cleanable cleanable;

  ZerobusStream(ZerobusSdk sdk, MemorySegment handle, int recordType, Callbacks callbacks) {
    this.sdk = sdk;
    this.handle = handle;
    this.recordType = recordType;
    this.callbacks = callbacks;
    long address = handle.address();
    this.state = StreamState.of(address, callbacks);
    this.cleanable = ZerobusSdk.CLEANER.register(this, () -> destroy(handle, address, callbacks));
  }

  private static void destroy(MemorySegment handle, long address, Callbacks callbacks) {
    // A barrier: once it returns no event of the stream is running or will run.
    Calls.run(Native.zb_stream_destroy, handle);
    StreamState.forget(
        address,
        callbacks,
        new NonRetriableException(
            Native.ZB_ERR_CLOSED, "the stream was destroyed before the record was durable", -1));
  }

  /**
   * Accepts one record: a serialized protobuf message on a protobuf stream, JSON text (UTF-8) on a
   * JSON stream, a raw Avro datum of the writer schema on an Avro stream. The bytes are copied
   * before the call returns.
   *
   * @return the record's offset
   * @throws ZerobusException ZB_ERR_QUEUE_FULL when the window stayed full for
   *     stream.ingest.timeout.ms, ZB_ERR_CLOSED after a close, the stream's error after it failed,
   *     and the rest of zb_stream_ingest_proto()'s and zb_stream_ingest_json()'s errors
   */
  public long ingestRecordOffset(byte[] record) throws ZerobusException {
    Scratch scratch = Scratch.get();
    return ingest(scratch, scratch.copy(record), record.length, recordType);
  }

  /**
   * Accepts the bytes between the buffer's position and its limit, as {@link
   * #ingestRecordOffset(byte[])} does; a direct buffer is read where it is, without a copy. The
   * buffer's position does not change.
   */
  public long ingestRecordOffset(ByteBuffer record) throws ZerobusException {
    return ingestRecordOffset(MemorySegment.ofBuffer(record));
  }

  /**
   * Accepts the segment's bytes, as {@link #ingestRecordOffset(byte[])} does; a native segment is
   * read where it is, without a copy.
   */
  public long ingestRecordOffset(MemorySegment record) throws ZerobusException {
    Scratch scratch = Scratch.get();
    MemorySegment bytes = record.isNative() ? record : scratch.copy(record);
    return ingest(scratch, bytes, record.byteSize(), recordType);
  }

  /**
   * Accepts one JSON object, on a JSON stream or a stream of a {@link TableSchema} (which encodes
   * it to protobuf, or to an Avro datum, first, failing with ZB_ERR_INVALID_RECORD, naming the
   * column, for a record the table does not take).
   */
  public long ingestRecordOffset(String jsonRecord) throws ZerobusException {
    Scratch scratch = Scratch.get();
    byte[] text = jsonRecord.getBytes(StandardCharsets.UTF_8);
    return ingest(scratch, scratch.copy(text), text.length, Native.ZB_RECORD_JSON);
  }

  /** Ingests one record with the library's function for records of type `as`. */
  private long ingest(Scratch scratch, MemorySegment record, long length, int as)
      throws ZerobusException {
    int status;
    try {
      status =
          switch (as) {
            case Native.ZB_RECORD_JSON ->
                (int)
                    Native.zb_stream_ingest_json.invokeExact(
                        handle, record, length, scratch.offset, scratch.error);
            case Native.ZB_RECORD_AVRO ->
                (int)
                    Native.zb_stream_ingest_avro.invokeExact(
                        handle, record, length, scratch.offset, scratch.error);
            default ->
                (int)
                    Native.zb_stream_ingest_proto.invokeExact(
                        handle, record, length, scratch.offset, scratch.error);
          };
    } catch (Throwable thrown) {
      throw Calls.rethrow(thrown);
    }
    if (status != Native.ZB_OK) {
      throw Calls.takeError(status, scratch.error);
    }
    return scratch.offset.get(JAVA_LONG, 0);
  }

  /**
   * Accepts `records` as one unit, all or none, with consecutive offsets, in one request: as {@link
   * #ingestRecordOffset(byte[])} takes one.
   *
   * @return the offset of the last record
   */
  public long ingestRecordsOffset(List<byte[]> records) throws ZerobusException {
    return ingestBatch(records, recordType);
  }

  /** Accepts JSON `records` as one unit, as {@link #ingestRecordOffset(String)} takes one. */
  public long ingestJsonRecordsOffset(List<String> records) throws ZerobusException {
    List<byte[]> texts = new ArrayList<>(records.size());
    for (String record : records) {
      texts.add(record.getBytes(StandardCharsets.UTF_8));
    }
    return ingestBatch(texts, Native.ZB_RECORD_JSON);
  }

  /** Ingests `records` as one batch with the library's function for records of type `as`. */
  private long ingestBatch(List<byte[]> records, int as) throws ZerobusException {
    try (Arena arena = Arena.ofConfined()) {
      int count = records.size();
      MemorySegment pointers = arena.allocate(ADDRESS, Math.max(count, 1));
      MemorySegment lengths = arena.allocate(JAVA_LONG, Math.max(count, 1));
      for (int index = 0; index < count; index++) {
        byte[] record = records.get(index);
        MemorySegment copy = arena.allocate(Math.max(record.length, 1));
        copy.copyFrom(MemorySegment.ofArray(record));
        pointers.setAtIndex(ADDRESS, index, copy);
        lengths.setAtIndex(JAVA_LONG, index, record.length);
      }
      MemorySegment last = arena.allocate(JAVA_LONG);
      Calls.checked(
          switch (as) {
            case Native.ZB_RECORD_JSON -> Native.zb_stream_ingest_json_batch;
            case Native.ZB_RECORD_AVRO -> Native.zb_stream_ingest_avro_batch;
            default -> Native.zb_stream_ingest_proto_batch;
          },
          handle,
          pointers,
          lengths,
          (long) count,
          last);
      return last.get(JAVA_LONG, 0);
    }
  }

  /**
   * A future completed once `offset` is durable, or completed exceptionally with the {@link
   * ZerobusException} of the error event that reported it lost. No thread waits for it; bound the
   * wait with {@link CompletableFuture#orTimeout}.
   */
  public CompletableFuture<Void> waitForOffset(long offset) {
    return state.waitFor(offset);
  }

  /** A future completed once every record accepted before the call is durable. */
  public CompletableFuture<Void> flush() {
    try {
      long accepted = getInfo().recordsAccepted();
      return accepted == 0 ? CompletableFuture.completedFuture(null) : waitForOffset(accepted - 1);
    } catch (ZerobusException failed) {
      return CompletableFuture.failedFuture(failed);
    }
  }

  /**
   * Closes the stream once every record accepted so far is durable or reported lost: a future
   * completed when the close is done, or failed with the close's {@link ZerobusException}
   * (ZB_ERR_TIMEOUT counting the records left, or the stream's error).
   */
  public CompletableFuture<Void> closeAsync() {
    return flush()
        .handle((durable, lost) -> null)
        .thenRunAsync(
            () -> {
              try {
                close(Native.ZB_TIMEOUT_INFINITE);
              } catch (ZerobusException failed) {
                throw new CompletionException(failed);
              }
            });
  }

  /**
   * Closes the stream gracefully: stops accepting records and waits, without limit, until every
   * accepted record is acknowledged (recovery.* bounds how long a broken connection is retried).
   * Idempotent: a second call throws what the first threw.
   */
  @Override
  public void close() throws ZerobusException {
    close(Native.ZB_TIMEOUT_INFINITE);
  }

  /**
   * As {@link #close()}, waiting at most `timeout`: records still unacknowledged then stay in
   * {@link #getUnackedRecords()}, and the close throws ZB_ERR_TIMEOUT.
   */
  public void close(Duration timeout) throws ZerobusException {
    close((int) Math.min(Integer.MAX_VALUE, timeout.toMillis()));
  }

  private void close(int timeoutMs) throws ZerobusException {
    Calls.checked(Native.zb_stream_close, handle, timeoutMs);
  }

  /** The stream's state and counters now. */
  public StreamInfo getInfo() throws ZerobusException {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment info = arena.allocate(Native.STREAM_INFO);
      info.set(JAVA_INT, 0, (int) Native.STREAM_INFO.byteSize());
      Calls.checked(Native.zb_stream_get_info, handle, info);
      int state = info.get(JAVA_INT, offsetOf("state"));
      return new StreamInfo(
          Native.string(Calls.address(Native.zb_stream_state_name, state)),
          info.get(JAVA_LONG, offsetOf("records_accepted")),
          info.get(JAVA_LONG, offsetOf("records_acked")),
          info.get(JAVA_LONG, offsetOf("records_in_flight")),
          info.get(JAVA_LONG, offsetOf("bytes_in_flight")),
          info.get(JAVA_LONG, offsetOf("recoveries")),
          info.get(JAVA_LONG, offsetOf("records_replayed")));
    }
  }

  private static long offsetOf(String field) {
    return Native.STREAM_INFO.byteOffset(MemoryLayout.PathElement.groupElement(field));
  }

  /**
   * Every record the stream accepted and that is not yet acknowledged, in offset order: after a
   * failure or a timed-out close, exactly the records of the error events. On a stream of a {@link
   * TableSchema}, JSON records come back encoded as protobuf.
   */
  public List<byte[]> getUnackedRecords() throws ZerobusException {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment slot = arena.allocate(ADDRESS);
      Calls.checked(Native.zb_stream_unacked, handle, slot);
      MemorySegment records = slot.get(ADDRESS, 0);
      try {
        long count = Calls.size(Native.zb_records_count, records);
        List<byte[]> copies = new ArrayList<>((int) count);
        MemorySegment data = arena.allocate(ADDRESS);
        MemorySegment length = arena.allocate(JAVA_LONG);
        for (long index = 0; index < count; index++) {
          Calls.checked(Native.zb_records_get, records, index, data, length, MemorySegment.NULL);
          long size = length.get(JAVA_LONG, 0);
          copies.add(data.get(ADDRESS, 0).reinterpret(size).toArray(JAVA_BYTE));
        }
        return Collections.unmodifiableList(copies);
      } finally {
        Calls.run(Native.zb_records_free, records);
      }
    }
  }

  /** The stream's statistics as JSON (docs/STATISTICS.md). */
  public String statsJson() throws ZerobusException {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment slot = arena.allocate(ADDRESS);
      Calls.checked(Native.zb_stream_stats_json, handle, slot, MemorySegment.NULL);
      MemorySegment text = slot.get(ADDRESS, 0);
      try {
        return Native.string(text);
      } finally {
        Calls.run(Native.zb_string_free, text);
      }
    }
  }

  /** The stream's registration: for the tests of its clean-up, and for its siblings. */
  Callbacks callbacks() {
    return callbacks;
  }

  ZerobusSdk sdk() {
    return sdk;
  }

  int recordType() {
    return recordType;
  }

  StreamState state() {
    return state;
  }

  ZerobusStream recreate() throws ZerobusException {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment slot = arena.allocate(ADDRESS);
      Calls.checked(Native.zb_stream_recreate, handle, slot);
      return sibling(slot.get(ADDRESS, 0));
    }
  }

  /**
   * The stream of `handle`, which zb_stream_recreate() made from this one: of the same kind, and
   * sharing this one's registrations, callbacks included.
   */
  ZerobusStream sibling(MemorySegment handle) throws ZerobusException {
    return new ZerobusStream(sdk, handle, recordType, callbacks);
  }
}
