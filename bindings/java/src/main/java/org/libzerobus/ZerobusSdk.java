package org.libzerobus;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.ref.Cleaner;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;

/**
 * A Zerobus endpoint (zb_sdk), each of whose streams has a connection of its own unless it asks to
 * share (stream.own.connection). Thread-safe. {@link #close()} lets go of it; streams made from it
 * keep working until they are closed. An SDK that is never closed is let go of when it becomes
 * unreachable.
 */
public final class ZerobusSdk implements AutoCloseable {
  static final Cleaner CLEANER = Cleaner.create();
  private static final String APPLICATION_NAME = "sdk.application.name";

  private final MemorySegment handle;
  private final Cleaner.Cleanable cleanable;

  /**
   * An SDK for `serverEndpoint` ("host[:port]", "https://host[:port]", or "http://host:port" for a
   * local server, with transport.plaintext), with the Unity Catalog (workspace) URL that OAuth
   * tokens come from, or null.
   */
  public ZerobusSdk(String serverEndpoint, String unityCatalogEndpoint) throws ZerobusException {
    this(serverEndpoint, unityCatalogEndpoint, StreamConfigurationOptions.getDefault());
  }

  /** As {@link #ZerobusSdk(String, String)}, with the options' keys of scope "sdk" and logger. */
  public ZerobusSdk(
      String serverEndpoint, String unityCatalogEndpoint, StreamConfigurationOptions options)
      throws ZerobusException {
    Objects.requireNonNull(serverEndpoint, "serverEndpoint");
    options = forSdk(options, unityCatalogEndpoint);
    Callbacks logging = new Callbacks(null, null, null, options.logger());
    MemorySegment config = options.toNative(logging, true);
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment slot = arena.allocate(ADDRESS);
      Calls.checked(Native.zb_sdk_new, arena.allocateFrom(serverEndpoint), config, slot);
      handle = slot.get(ADDRESS, 0);
    } finally {
      Calls.run(Native.zb_config_destroy, config);
    }
    MemorySegment sdk = handle;
    cleanable = CLEANER.register(this, () -> Calls.run(Native.zb_sdk_destroy, sdk));
  }

  /**
   * `options` with the workspace URL (unless null) and the binding's part of the user-agent,
   * "java/<version>", before the application's name (sdk.application.name): "libzerobus/0.1.0
   * java/25.0.1 my-app/1.0".
   */
  private static StreamConfigurationOptions forSdk(
      StreamConfigurationOptions options, String workspaceUrl) {
    StreamConfigurationOptions.Builder builder = StreamConfigurationOptions.builder();
    options.values().forEach(builder::set);
    if (workspaceUrl != null) {
      builder.set("workspace.url", workspaceUrl);
    }
    String binding = "java/" + System.getProperty("java.version");
    String application = options.values().get(APPLICATION_NAME);
    return builder
        .set(APPLICATION_NAME, application == null ? binding : binding + " " + application)
        .setLogger(options.logger())
        .setAckCallback(options.ackCallback())
        .setHeadersProvider(options.headersProvider())
        .setTokenFederation(options.subjectTokenProvider())
        .build();
  }

  /**
   * Loads libzerobus from `path` instead of by its SONAME from the system. Call it before any other
   * use of this package; the system property zerobus.library.path does the same.
   *
   * @throws IllegalStateException when a library is already loaded from elsewhere
   */
  public static synchronized void loadLibrary(Path path) {
    String wanted = path.toAbsolutePath().toString();
    if (System.getProperty(Native.LIBRARY_PROPERTY) == null) {
      System.setProperty(Native.LIBRARY_PROPERTY, wanted);
    }
    // Loads the library now if it was not yet, from the property as it stands.
    if (!Native.LOADED_FROM.equals(wanted)) {
      throw new IllegalStateException(
          "libzerobus is loaded from " + Native.LOADED_FROM + ", not from " + wanted);
    }
  }

  /** The loaded library's version, "MAJOR.MINOR.PATCH". */
  public static String libraryVersion() {
    return Native.string(Calls.address(Native.zb_version_str));
  }

  /** Every configuration key of the loaded library, in its order. */
  public static List<ConfigProperty> configurationKeys() {
    List<ConfigProperty> keys = new ArrayList<>();
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment property = arena.allocate(Native.CONFIG_PROPERTY);
      for (long index = 0; ; index++) {
        property.fill((byte) 0);
        property.set(JAVA_INT, 0, (int) Native.CONFIG_PROPERTY.byteSize());
        int status = Calls.status(Native.zb_config_describe, index, property, MemorySegment.NULL);
        if (status != Native.ZB_OK) {
          return Collections.unmodifiableList(keys);
        }
        keys.add(
            new ConfigProperty(
                pointer(property, "name"),
                pointer(property, "type"),
                pointer(property, "default_value"),
                pointer(property, "range"),
                pointer(property, "scope"),
                pointer(property, "description")));
      }
    }
  }

  private static String pointer(MemorySegment struct, String field) {
    long offset = Native.CONFIG_PROPERTY.byteOffset(MemoryLayout.PathElement.groupElement(field));
    return Native.string(struct.get(ADDRESS, offset));
  }

  /** Opens a stream of JSON records (one object per record) into `tableName`. */
  public ZerobusStream createJsonStream(String tableName, StreamConfigurationOptions options)
      throws ZerobusException {
    return open(
        options,
        Native.ZB_RECORD_JSON,
        (config, slot, arena) ->
            Calls.checked(
                Native.zb_stream_new,
                handle,
                arena.allocateFrom(tableName),
                Native.ZB_RECORD_JSON,
                MemorySegment.NULL,
                0L,
                config,
                slot));
  }

  /**
   * Opens a stream of protobuf records into `tableName`, whose records are messages of
   * `descriptorProto`, a serialized google.protobuf.DescriptorProto.
   */
  public ZerobusStream createProtoStream(
      String tableName, byte[] descriptorProto, StreamConfigurationOptions options)
      throws ZerobusException {
    return open(
        options,
        Native.ZB_RECORD_PROTO,
        (config, slot, arena) -> {
          MemorySegment descriptor = arena.allocate(descriptorProto.length);
          descriptor.copyFrom(MemorySegment.ofArray(descriptorProto));
          Calls.checked(
              Native.zb_stream_new,
              handle,
              arena.allocateFrom(tableName),
              Native.ZB_RECORD_PROTO,
              descriptor,
              (long) descriptorProto.length,
              config,
              slot);
        });
  }

  /**
   * Opens a protobuf stream into the schema's table with its descriptor. It takes protobuf records
   * and JSON ones too, which the library encodes.
   */
  public ZerobusStream createStream(TableSchema schema, StreamConfigurationOptions options)
      throws ZerobusException {
    return open(
        options,
        Native.ZB_RECORD_PROTO,
        (config, slot, arena) ->
            Calls.checked(Native.zb_stream_new_from_schema, handle, schema.handle(), config, slot));
  }

  /**
   * Opens a stream of Avro datums into `tableName`: each record is one raw datum (no framing) of
   * `writerSchema`, the Avro JSON of a record, which the server checks against the table
   * (docs/SCHEMAS.md, "Avro").
   *
   * @throws ZerobusException ZB_ERR_INVALID_TARGET for a writer schema that is not the JSON of an
   *     Avro record; ZB_ERR_TRANSPORT (gRPC INVALID_ARGUMENT, the column named) for one that does
   *     not fit the table; and the errors of {@link #createJsonStream}
   */
  public ZerobusStream createAvroStream(
      String tableName, String writerSchema, StreamConfigurationOptions options)
      throws ZerobusException {
    return open(
        options,
        Native.ZB_RECORD_AVRO,
        (config, slot, arena) -> {
          byte[] text = writerSchema.getBytes(StandardCharsets.UTF_8);
          MemorySegment schema = arena.allocate(Math.max(text.length, 1));
          schema.copyFrom(MemorySegment.ofArray(text));
          Calls.checked(
              Native.zb_stream_new,
              handle,
              arena.allocateFrom(tableName),
              Native.ZB_RECORD_AVRO,
              schema,
              (long) text.length,
              config,
              slot);
        });
  }

  /**
   * Opens an Avro stream into the schema's table with the table's own writer schema ({@link
   * TableSchema#avro()}). It takes datums of that schema and JSON records too ({@link
   * ZerobusStream#ingestRecordOffset(String)}), which the library encodes to datums.
   *
   * @throws ZerobusException ZB_ERR_INVALID_SCHEMA for a table with no Avro form, and the errors of
   *     {@link #createAvroStream(String, String, StreamConfigurationOptions)}
   */
  public ZerobusStream createAvroStream(TableSchema schema, StreamConfigurationOptions options)
      throws ZerobusException {
    return open(
        options,
        Native.ZB_RECORD_AVRO,
        (config, slot, arena) ->
            Calls.checked(
                Native.zb_stream_new_avro_from_schema, handle, schema.handle(), config, slot));
  }

  /**
   * A new stream like `stream` (same table, record type, options and callbacks) into which every
   * record `stream` did not get acknowledged has been ingested again, in order: the way to carry on
   * after a failure or a close that timed out. Its offsets start at 0; a {@link PersistentStream}
   * is resumed instead, into a PersistentStream whose offsets continue after the server's
   * watermark, and only the records above it are ingested again.
   */
  public ZerobusStream recreateStream(ZerobusStream stream) throws ZerobusException {
    return stream.recreate();
  }

  /**
   * Creates a persistent stream of JSON records into `tableName` (experimental: see {@link
   * PersistentStream}); returns once the server has created it, its id readable.
   *
   * @throws ZerobusException as {@link #createJsonStream}; ZB_ERR_INVALID_ARG for stream.lanes
   *     above 1; ZB_ERR_TRANSPORT (gRPC FAILED_PRECONDITION) from a server that keeps no persistent
   *     streams
   */
  @Experimental
  public PersistentStream createPersistentJsonStream(
      String tableName, StreamConfigurationOptions options) throws ZerobusException {
    return persistent(tableName, null, Native.ZB_RECORD_JSON, null, options);
  }

  /**
   * Creates a persistent stream of protobuf records, messages of `descriptorProto`, as {@link
   * #createPersistentJsonStream} does.
   */
  @Experimental
  public PersistentStream createPersistentProtoStream(
      String tableName, byte[] descriptorProto, StreamConfigurationOptions options)
      throws ZerobusException {
    return persistent(tableName, null, Native.ZB_RECORD_PROTO, descriptorProto, options);
  }

  /**
   * Creates a persistent stream of Avro datums of `writerSchema`, as {@link
   * #createPersistentJsonStream} does.
   */
  @Experimental
  public PersistentStream createPersistentAvroStream(
      String tableName, String writerSchema, StreamConfigurationOptions options)
      throws ZerobusException {
    return persistent(
        tableName,
        null,
        Native.ZB_RECORD_AVRO,
        writerSchema.getBytes(StandardCharsets.UTF_8),
        options);
  }

  /**
   * Resumes persistent JSON stream `streamId` of `tableName` (experimental: see {@link
   * PersistentStream}); returns once the server has resumed it, its {@link
   * PersistentStream#getResumeWatermark()} telling what the server had committed.
   *
   * @throws ZerobusException ZB_ERR_TRANSPORT with the gRPC status of the refusal: NOT_FOUND (5)
   *     for an id the server does not know, FAILED_PRECONDITION (9) for a retired stream,
   *     INVALID_ARGUMENT (3) for another record type or descriptor than the stream was created
   *     with, ABORTED (10) when another call holds the stream (retried within recovery.retries
   *     first); and the errors of {@link #createPersistentJsonStream}
   */
  @Experimental
  public PersistentStream resumePersistentJsonStream(
      String tableName, String streamId, StreamConfigurationOptions options)
      throws ZerobusException {
    return persistent(tableName, streamId, Native.ZB_RECORD_JSON, null, options);
  }

  /**
   * Resumes a persistent protobuf stream, as {@link #resumePersistentJsonStream} does, with the
   * descriptor it was created with, byte for byte.
   */
  @Experimental
  public PersistentStream resumePersistentProtoStream(
      String tableName, String streamId, byte[] descriptorProto, StreamConfigurationOptions options)
      throws ZerobusException {
    return persistent(tableName, streamId, Native.ZB_RECORD_PROTO, descriptorProto, options);
  }

  /**
   * Resumes a persistent Avro stream, as {@link #resumePersistentJsonStream} does, with the writer
   * schema it was created with.
   */
  @Experimental
  public PersistentStream resumePersistentAvroStream(
      String tableName, String streamId, String writerSchema, StreamConfigurationOptions options)
      throws ZerobusException {
    return persistent(
        tableName,
        streamId,
        Native.ZB_RECORD_AVRO,
        writerSchema.getBytes(StandardCharsets.UTF_8),
        options);
  }

  /**
   * Retires persistent stream `streamId` of `tableName` for good (experimental): every later resume
   * fails with gRPC FAILED_PRECONDITION. Idempotent. One call within recovery.timeout.ms,
   * authenticated as a stream of `options` would be, not retried.
   *
   * @throws ZerobusException ZB_ERR_TRANSPORT with gRPC NOT_FOUND (5) for an id the server does not
   *     know, or UNAVAILABLE or DEADLINE_EXCEEDED (retryable) when it could not be reached in time;
   *     ZB_ERR_AUTH; ZB_ERR_INVALID_TARGET for a malformed table name
   */
  @Experimental
  public void retirePersistentStream(
      String tableName, String streamId, StreamConfigurationOptions options)
      throws ZerobusException {
    Objects.requireNonNull(streamId, "streamId");
    Callbacks callbacks = callbacksOf(options);
    MemorySegment config = options.toNative(callbacks, false);
    try (Arena arena = Arena.ofConfined()) {
      Calls.checked(
          Native.zb_stream_retire,
          handle,
          arena.allocateFrom(tableName),
          arena.allocateFrom(streamId),
          config);
    } finally {
      Calls.run(Native.zb_config_destroy, config);
    }
  }

  /** Creates (`resumeId` null) or resumes a persistent stream. */
  private PersistentStream persistent(
      String tableName,
      String resumeId,
      int recordType,
      byte[] descriptor,
      StreamConfigurationOptions options)
      throws ZerobusException {
    return open(
        options,
        recordType,
        (config, slot, arena) -> {
          MemorySegment bytes = MemorySegment.NULL;
          long length = 0;
          if (descriptor != null) {
            bytes = arena.allocate(Math.max(descriptor.length, 1));
            bytes.copyFrom(MemorySegment.ofArray(descriptor));
            length = descriptor.length;
          }
          MemorySegment table = arena.allocateFrom(tableName);
          if (resumeId == null) {
            Calls.checked(
                Native.zb_stream_new_persistent,
                handle,
                table,
                recordType,
                bytes,
                length,
                config,
                slot);
          } else {
            Calls.checked(
                Native.zb_stream_resume,
                handle,
                table,
                arena.allocateFrom(resumeId),
                recordType,
                bytes,
                length,
                config,
                slot);
          }
        },
        PersistentStream::new);
  }

  /** Lets go of the SDK: its streams keep working until they are closed. Idempotent. */
  @Override
  public void close() {
    cleanable.clean();
  }

  /** How a stream is opened, given its config, the slot of its handle and an arena. */
  @FunctionalInterface
  private interface Opener {
    void open(MemorySegment config, MemorySegment slot, Arena arena) throws ZerobusException;
  }

  /** What a stream is made of once its handle is open: a {@link ZerobusStream} or a subclass. */
  @FunctionalInterface
  private interface StreamOf<S extends ZerobusStream> {
    S make(ZerobusSdk sdk, MemorySegment handle, int recordType, Callbacks callbacks)
        throws ZerobusException;
  }

  private static Callbacks callbacksOf(StreamConfigurationOptions options) {
    return new Callbacks(
        options.ackCallback(),
        options.headersProvider(),
        options.subjectTokenProvider(),
        options.logger());
  }

  private ZerobusStream open(StreamConfigurationOptions options, int recordType, Opener opener)
      throws ZerobusException {
    return open(options, recordType, opener, ZerobusStream::new);
  }

  private <S extends ZerobusStream> S open(
      StreamConfigurationOptions options, int recordType, Opener opener, StreamOf<S> streamOf)
      throws ZerobusException {
    Callbacks callbacks = callbacksOf(options);
    MemorySegment config = options.toNative(callbacks, false);
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment slot = arena.allocate(ADDRESS);
      opener.open(config, slot, arena);
      return streamOf.make(this, slot.get(ADDRESS, 0), recordType, callbacks);
    } finally {
      // The stream holds its registrations; the config lets go of its own.
      Calls.run(Native.zb_config_destroy, config);
    }
  }
}
