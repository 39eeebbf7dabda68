package org.libzerobus;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.file.Path;

/**
 * The downcall handles of zerobus.h and its structs' layouts, written from the header by hand (the
 * names are the header's). The library is found by its SONAME, libzerobus.so.0, through the
 * system's loader, or at the path of the system property {@value #LIBRARY_PROPERTY}, read once when
 * this class loads (see {@link ZerobusSdk#loadLibrary(Path)}).
 */
final class Native {
  static final String LIBRARY_PROPERTY = "zerobus.library.path";
  static final String SONAME = "libzerobus.so.0";

  static final int ZB_OK = 0;
  static final int ZB_ERR_CLOSED = 6;
  static final int ZB_ERR_AUTH = 14;
  static final int ZB_RECORD_PROTO = 1;
  static final int ZB_RECORD_JSON = 2;
  static final int ZB_RECORD_AVRO = 4;
  static final int ZB_EVENT_ACK = 1;
  static final int ZB_EVENT_ERROR = 2;
  static final int ZB_TIMEOUT_INFINITE = -1;

  /** size_t: this binding runs on 64-bit Linux only, where it is a uint64_t. */
  static final MemoryLayout SIZE_T = JAVA_LONG;

  /** struct zb_event. */
  static final StructLayout EVENT =
      MemoryLayout.structLayout(
          JAVA_INT.withName("struct_size"),
          JAVA_INT.withName("type"),
          JAVA_LONG.withName("first_offset"),
          JAVA_LONG.withName("last_offset"),
          ADDRESS.withName("error"));

  static final VarHandle EVENT_STRUCT_SIZE = field(EVENT, "struct_size");
  static final VarHandle EVENT_TYPE = field(EVENT, "type");
  static final VarHandle EVENT_FIRST = field(EVENT, "first_offset");
  static final VarHandle EVENT_LAST = field(EVENT, "last_offset");
  static final VarHandle EVENT_ERROR = field(EVENT, "error");

  /** struct zb_stream_info. */
  static final StructLayout STREAM_INFO =
      MemoryLayout.structLayout(
          JAVA_INT.withName("struct_size"),
          JAVA_INT.withName("state"),
          JAVA_LONG.withName("records_accepted"),
          JAVA_LONG.withName("records_acked"),
          JAVA_LONG.withName("records_in_flight"),
          JAVA_LONG.withName("bytes_in_flight"),
          JAVA_LONG.withName("recoveries"),
          JAVA_LONG.withName("records_replayed"));

  /** struct zb_config_property: a uint32_t, then six pointers from offset 8. */
  static final StructLayout CONFIG_PROPERTY =
      MemoryLayout.structLayout(
          JAVA_INT.withName("struct_size"),
          MemoryLayout.paddingLayout(4),
          ADDRESS.withName("name"),
          ADDRESS.withName("type"),
          ADDRESS.withName("default_value"),
          ADDRESS.withName("range"),
          ADDRESS.withName("scope"),
          ADDRESS.withName("description"));

  private static final Linker LINKER = Linker.nativeLinker();

  /** The path the library was loaded from, or its SONAME when the system's loader found it. */
  static final String LOADED_FROM = libraryPath();

  private static final SymbolLookup LIBRARY = openLibrary();

  // Versions, codes and errors.
  static final MethodHandle zb_version = handle("zb_version", FunctionDescriptor.of(JAVA_INT));
  static final MethodHandle zb_version_str =
      handle("zb_version_str", FunctionDescriptor.of(ADDRESS));
  static final MethodHandle zb_status_name =
      handle("zb_status_name", FunctionDescriptor.of(ADDRESS, JAVA_INT));
  static final MethodHandle zb_status_describe =
      handle("zb_status_describe", FunctionDescriptor.of(ADDRESS, JAVA_INT));
  static final MethodHandle zb_error_code =
      handle("zb_error_code", FunctionDescriptor.of(JAVA_INT, ADDRESS));
  static final MethodHandle zb_error_message =
      handle("zb_error_message", FunctionDescriptor.of(ADDRESS, ADDRESS));
  static final MethodHandle zb_error_is_retryable =
      handle("zb_error_is_retryable", FunctionDescriptor.of(JAVA_INT, ADDRESS));
  static final MethodHandle zb_error_grpc_status =
      handle("zb_error_grpc_status", FunctionDescriptor.of(JAVA_INT, ADDRESS));
  static final MethodHandle zb_error_free =
      handle("zb_error_free", FunctionDescriptor.ofVoid(ADDRESS));

  // Configuration and callbacks.
  static final MethodHandle zb_config_new =
      handle("zb_config_new", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
  static final MethodHandle zb_config_destroy =
      handle("zb_config_destroy", FunctionDescriptor.ofVoid(ADDRESS));
  static final MethodHandle zb_config_set =
      handle("zb_config_set", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS));
  static final MethodHandle zb_config_describe =
      handle("zb_config_describe", FunctionDescriptor.of(JAVA_INT, SIZE_T, ADDRESS, ADDRESS));
  static final MethodHandle zb_config_set_event_callback =
      registration("zb_config_set_event_callback");
  static final MethodHandle zb_config_set_headers_provider =
      registration("zb_config_set_headers_provider");
  static final MethodHandle zb_config_set_log_callback = registration("zb_config_set_log_callback");
  static final MethodHandle zb_config_set_token_federation =
      registration("zb_config_set_token_federation");
  static final MethodHandle zb_token_sink_set =
      handle("zb_token_sink_set", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS));
  static final MethodHandle zb_headers_add =
      handle("zb_headers_add", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS));
  static final MethodHandle zb_log_level_name =
      handle("zb_log_level_name", FunctionDescriptor.of(ADDRESS, JAVA_INT));

  // The SDK and schemas.
  static final MethodHandle zb_sdk_new =
      handle("zb_sdk_new", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS));
  static final MethodHandle zb_sdk_destroy =
      handle("zb_sdk_destroy", FunctionDescriptor.ofVoid(ADDRESS));
  static final MethodHandle zb_schema_from_ddl =
      handle("zb_schema_from_ddl", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS));
  static final MethodHandle zb_schema_from_table_json =
      handle(
          "zb_schema_from_table_json",
          FunctionDescriptor.of(JAVA_INT, ADDRESS, SIZE_T, ADDRESS, ADDRESS));
  static final MethodHandle zb_schema_destroy =
      handle("zb_schema_destroy", FunctionDescriptor.ofVoid(ADDRESS));
  static final MethodHandle zb_schema_table_name =
      handle("zb_schema_table_name", FunctionDescriptor.of(ADDRESS, ADDRESS));
  static final MethodHandle zb_schema_proto_source =
      handle("zb_schema_proto_source", FunctionDescriptor.of(ADDRESS, ADDRESS));
  static final MethodHandle zb_schema_descriptor =
      handle(
          "zb_schema_descriptor",
          FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS));
  static final MethodHandle zb_schema_avro =
      handle("zb_schema_avro", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS));
  static final MethodHandle zb_schema_encode_json =
      handle(
          "zb_schema_encode_json",
          FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, SIZE_T, ADDRESS, ADDRESS, ADDRESS));

  // Streams.
  static final MethodHandle zb_stream_new =
      handle(
          "zb_stream_new",
          FunctionDescriptor.of(
              JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, ADDRESS, SIZE_T, ADDRESS, ADDRESS, ADDRESS));
  static final MethodHandle zb_stream_new_from_schema =
      handle(
          "zb_stream_new_from_schema",
          FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS));
  static final MethodHandle zb_stream_new_avro_from_schema =
      handle(
          "zb_stream_new_avro_from_schema",
          FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS));
  static final MethodHandle zb_stream_ingest_proto = ingest("zb_stream_ingest_proto");
  static final MethodHandle zb_stream_ingest_json = ingest("zb_stream_ingest_json");
  static final MethodHandle zb_stream_ingest_avro = ingest("zb_stream_ingest_avro");
  static final MethodHandle zb_stream_ingest_proto_batch =
      ingestBatch("zb_stream_ingest_proto_batch");
  static final MethodHandle zb_stream_ingest_json_batch =
      ingestBatch("zb_stream_ingest_json_batch");
  static final MethodHandle zb_stream_ingest_avro_batch =
      ingestBatch("zb_stream_ingest_avro_batch");
  static final MethodHandle zb_stream_close =
      handle("zb_stream_close", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS));
  static final MethodHandle zb_stream_destroy =
      handle("zb_stream_destroy", FunctionDescriptor.ofVoid(ADDRESS));
  static final MethodHandle zb_stream_state_name =
      handle("zb_stream_state_name", FunctionDescriptor.of(ADDRESS, JAVA_INT));
  static final MethodHandle zb_stream_get_info =
      handle("zb_stream_get_info", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS));
  static final MethodHandle zb_stream_recreate =
      handle("zb_stream_recreate", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS));
  static final MethodHandle zb_stream_unacked =
      handle("zb_stream_unacked", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS));
  static final MethodHandle zb_records_count =
      handle("zb_records_count", FunctionDescriptor.of(SIZE_T, ADDRESS));
  static final MethodHandle zb_records_get =
      handle(
          "zb_records_get",
          FunctionDescriptor.of(JAVA_INT, ADDRESS, SIZE_T, ADDRESS, ADDRESS, ADDRESS, ADDRESS));
  static final MethodHandle zb_records_free =
      handle("zb_records_free", FunctionDescriptor.ofVoid(ADDRESS));
  static final MethodHandle zb_stream_stats_json =
      handle(
          "zb_stream_stats_json",
          FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS));
  // Persistent streams (experimental: the header's ZB_EXPERIMENTAL_PERSISTENT section).
  static final MethodHandle zb_stream_new_persistent =
      handle(
          "zb_stream_new_persistent",
          FunctionDescriptor.of(
              JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, ADDRESS, SIZE_T, ADDRESS, ADDRESS, ADDRESS));
  static final MethodHandle zb_stream_resume =
      handle(
          "zb_stream_resume",
          FunctionDescriptor.of(
              JAVA_INT, ADDRESS, ADDRESS, ADDRESS, JAVA_INT, ADDRESS, SIZE_T, ADDRESS, ADDRESS,
              ADDRESS));
  static final MethodHandle zb_stream_persistent_id =
      handle(
          "zb_stream_persistent_id",
          FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS));
  static final MethodHandle zb_stream_resume_watermark =
      handle(
          "zb_stream_resume_watermark",
          FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS));
  static final MethodHandle zb_stream_retire =
      handle(
          "zb_stream_retire",
          FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS));
  static final MethodHandle zb_string_free =
      handle("zb_string_free", FunctionDescriptor.ofVoid(ADDRESS));

  private Native() {}

  private static String libraryPath() {
    String path = System.getProperty(LIBRARY_PROPERTY);
    return path != null && !path.isEmpty() ? Path.of(path).toAbsolutePath().toString() : SONAME;
  }

  private static SymbolLookup openLibrary() {
    // Global: the library stays loaded for the life of the process, as its threads and upcall
    // stubs need it to.
    return LOADED_FROM.equals(SONAME)
        ? SymbolLookup.libraryLookup(SONAME, Arena.global())
        : SymbolLookup.libraryLookup(Path.of(LOADED_FROM), Arena.global());
  }

  private static MethodHandle handle(String name, FunctionDescriptor descriptor) {
    MemorySegment symbol =
        LIBRARY
            .find(name)
            .orElseThrow(() -> new UnsatisfiedLinkError(name + " is not in the loaded libzerobus"));
    return LINKER.downcallHandle(symbol, descriptor);
  }

  /** zb_config_set_*(cfg, cb, user_data, free_user_data, err). */
  private static MethodHandle registration(String name) {
    return handle(
        name, FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS));
  }

  /** zb_stream_ingest_*(stream, record, len, offset_out, err). */
  private static MethodHandle ingest(String name) {
    return handle(
        name, FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, SIZE_T, ADDRESS, ADDRESS));
  }

  /** zb_stream_ingest_*_batch(stream, records, lens, count, last_offset_out, err). */
  private static MethodHandle ingestBatch(String name) {
    return handle(
        name, FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, SIZE_T, ADDRESS, ADDRESS));
  }

  private static VarHandle field(StructLayout layout, String name) {
    // Since Java 22 the handle takes the segment and a base offset: get(segment, 0L).
    return layout.varHandle(MemoryLayout.PathElement.groupElement(name));
  }

  /** The upcall stub of a static method, alive as long as the process. */
  static MemorySegment upcallStub(MethodHandle target, FunctionDescriptor descriptor) {
    return LINKER.upcallStub(target, descriptor, Arena.global());
  }

  /** A NUL-terminated string the library returned, or null for NULL. */
  static String string(MemorySegment pointer) {
    if (pointer.equals(MemorySegment.NULL)) {
      return null;
    }
    return pointer.reinterpret(Long.MAX_VALUE).getString(0);
  }
}
