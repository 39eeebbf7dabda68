package org.libzerobus;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.ref.Cleaner;
import java.nio.charset.StandardCharsets;

/**
 * A table's schema (zb_schema): its name, the protobuf descriptor its streams are opened with and
 * that descriptor's .proto source, and an encoder from JSON records to protobuf ones; no .proto
 * file or protoc needed. Immutable and thread-safe; freed by {@link #close()} or once unreachable.
 * Streams opened from it keep it alive.
 */
public final class TableSchema implements AutoCloseable {
  private final MemorySegment handle;
  private final Cleaner.Cleanable cleanable;

  private TableSchema(MemorySegment handle) {
    this.handle = handle;
    this.cleanable =
        ZerobusSdk.CLEANER.register(this, () -> Calls.run(Native.zb_schema_destroy, handle));
  }

  /**
   * The schema of one Delta DDL statement, such as "main.default.events (id BIGINT NOT NULL,
   * payload STRING)".
   */
  public static TableSchema fromDdl(String ddl) throws ZerobusException {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment slot = arena.allocate(ADDRESS);
      Calls.checked(Native.zb_schema_from_ddl, arena.allocateFrom(ddl), slot);
      return new TableSchema(slot.get(ADDRESS, 0));
    }
  }

  /** The schema of a Unity Catalog table description (GET .../unity-catalog/tables/NAME). */
  public static TableSchema fromTableJson(String tableJson) throws ZerobusException {
    try (Arena arena = Arena.ofConfined()) {
      byte[] text = tableJson.getBytes(StandardCharsets.UTF_8);
      MemorySegment slot = arena.allocate(ADDRESS);
      MemorySegment json = arena.allocate(Math.max(text.length, 1));
      json.copyFrom(MemorySegment.ofArray(text));
      Calls.checked(Native.zb_schema_from_table_json, json, (long) text.length, slot);
      return new TableSchema(slot.get(ADDRESS, 0));
    }
  }

  MemorySegment handle() {
    return handle;
  }

  /** "catalog.schema.table". */
  public String tableName() {
    return Native.string(Calls.address(Native.zb_schema_table_name, handle));
  }

  /** The serialized google.protobuf.DescriptorProto of the table's records. */
  public byte[] descriptor() throws ZerobusException {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment data = arena.allocate(ADDRESS);
      MemorySegment length = arena.allocate(JAVA_LONG);
      Calls.checked(Native.zb_schema_descriptor, handle, data, length);
      return data.get(ADDRESS, 0).reinterpret(length.get(JAVA_LONG, 0)).toArray(JAVA_BYTE);
    }
  }

  /** The descriptor's proto2 source, as protoc would compile it. */
  public String protoSource() {
    return Native.string(Calls.address(Native.zb_schema_proto_source, handle));
  }

  /**
   * The table's Avro writer schema (Avro JSON), as docs/SCHEMAS.md maps Delta types to Avro: what
   * {@link ZerobusSdk#createAvroStream(String, String, StreamConfigurationOptions)} takes for the
   * table, and what {@link ZerobusSdk#createAvroStream(TableSchema, StreamConfigurationOptions)}
   * opens with.
   *
   * @throws ZerobusException ZB_ERR_INVALID_SCHEMA, naming the column, for a table with no Avro
   *     form (a MAP keyed by anything but a string)
   */
  public String avro() throws ZerobusException {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment text = arena.allocate(ADDRESS);
      Calls.checked(Native.zb_schema_avro, handle, text);
      return Native.string(text.get(ADDRESS, 0));
    }
  }

  /**
   * The JSON object `jsonRecord` encoded as a protobuf record of the table.
   *
   * @throws ZerobusException ZB_ERR_INVALID_RECORD, naming the column, for a record the table does
   *     not take
   */
  public byte[] encodeJson(String jsonRecord) throws ZerobusException {
    try (Arena arena = Arena.ofConfined()) {
      byte[] text = jsonRecord.getBytes(StandardCharsets.UTF_8);
      MemorySegment json = arena.allocate(Math.max(text.length, 1));
      json.copyFrom(MemorySegment.ofArray(text));
      MemorySegment size = arena.allocate(JAVA_LONG);
      // First the size the record needs, then the record.
      size.set(JAVA_LONG, 0, 0L);
      Calls.checked(
          Native.zb_schema_encode_json, handle, json, (long) text.length, MemorySegment.NULL, size);
      MemorySegment buffer = arena.allocate(Math.max(size.get(JAVA_LONG, 0), 1));
      Calls.checked(Native.zb_schema_encode_json, handle, json, (long) text.length, buffer, size);
      return buffer.asSlice(0, size.get(JAVA_LONG, 0)).toArray(JAVA_BYTE);
    }
  }

  /** Frees the schema; streams opened from it keep working. Idempotent. */
  @Override
  public void close() {
    cleanable.clean();
  }
}
