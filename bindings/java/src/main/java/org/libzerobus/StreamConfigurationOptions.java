package org.libzerobus;

import static java.lang.foreign.ValueLayout.ADDRESS;

import java.lang.System.Logger;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * Options of an SDK or of its streams: any configuration key of the library (docs/
 * CONFIGURATION.md, or {@link ZerobusSdk#configurationKeys()}) by {@link Builder#set}, the common
 * ones by name, and the callbacks. An SDK reads the keys of scope "sdk" and a stream those of scope
 * "stream"; one object may serve both. Immutable; made by {@link #builder()}.
 */
public final class StreamConfigurationOptions {
  private static final StreamConfigurationOptions DEFAULTS = builder().build();

  private final Map<String, String> values;
  private final AckCallback ackCallback;
  private final HeadersProvider headersProvider;
  private final SubjectTokenProvider subjectTokenProvider;
  private final Logger logger;

  private StreamConfigurationOptions(Builder builder) {
    this.values = Collections.unmodifiableMap(new LinkedHashMap<>(builder.values));
    this.ackCallback = builder.ackCallback;
    this.headersProvider = builder.headersProvider;
    this.subjectTokenProvider = builder.subjectTokenProvider;
    this.logger = builder.logger;
  }

  /** Every default, no callback. */
  public static StreamConfigurationOptions getDefault() {
    return DEFAULTS;
  }

  public static Builder builder() {
    return new Builder();
  }

  /** The keys set, with their values as text, in the order they were set. */
  public Map<String, String> values() {
    return values;
  }

  public AckCallback ackCallback() {
    return ackCallback;
  }

  public HeadersProvider headersProvider() {
    return headersProvider;
  }

  public SubjectTokenProvider subjectTokenProvider() {
    return subjectTokenProvider;
  }

  /** Where the library's log messages go: System.getLogger("org.libzerobus") by default. */
  public Logger logger() {
    return logger;
  }

  /**
   * A new zb_config holding these options and `callbacks`' registrations, owned by the caller
   * (zb_config_destroy): on failure none is left.
   */
  MemorySegment toNative(Callbacks callbacks, boolean forSdk) throws ZerobusException {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment slot = arena.allocate(ADDRESS);
      Calls.checked(Native.zb_config_new, slot);
      MemorySegment config = slot.get(ADDRESS, 0);
      try {
        // The logger's level is the library's, unless log.level says otherwise; a logger that
        // prints none of the library's levels is not called at all.
        String level = LogLevels.forLogger(logger);
        if (forSdk && level != null && !values.containsKey("log.level")) {
          set(arena, config, "log.level", level);
        }
        for (Map.Entry<String, String> option : values.entrySet()) {
          set(arena, config, option.getKey(), option.getValue());
        }
        if (callbacks != null) {
          if (forSdk) {
            if (level != null) {
              register(Native.zb_config_set_log_callback, config, Upcalls.LOG_MESSAGE, callbacks);
            }
          } else {
            register(Native.zb_config_set_event_callback, config, Upcalls.EVENT, callbacks);
            if (headersProvider != null) {
              register(Native.zb_config_set_headers_provider, config, Upcalls.HEADERS, callbacks);
            }
            if (subjectTokenProvider != null) {
              register(
                  Native.zb_config_set_token_federation, config, Upcalls.SUBJECT_TOKEN, callbacks);
            }
          }
        }
        return config;
      } catch (ZerobusException | RuntimeException failure) {
        Calls.run(Native.zb_config_destroy, config);
        throw failure;
      }
    }
  }

  private static void set(Arena arena, MemorySegment config, String key, String value)
      throws ZerobusException {
    Calls.checked(Native.zb_config_set, config, arena.allocateFrom(key), arena.allocateFrom(value));
  }

  private static void register(
      MethodHandle registration, MemorySegment config, MemorySegment stub, Callbacks callbacks)
      throws ZerobusException {
    // Each registration has a user_data of its own, freed by the library through FREE.
    Calls.checked(registration, config, stub, Upcalls.register(callbacks), Upcalls.FREE);
  }

  /** Builds {@link StreamConfigurationOptions}; not thread-safe. */
  public static final class Builder {
    private final Map<String, String> values = new LinkedHashMap<>();
    private AckCallback ackCallback;
    private HeadersProvider headersProvider;
    private SubjectTokenProvider subjectTokenProvider;
    private Logger logger = System.getLogger("org.libzerobus");

    private Builder() {}

    /**
     * Sets any configuration key to a value as text ("true", "5000", ...), as zb_config_set() takes
     * it; {@link #build()} checks both with the library.
     */
    public Builder set(String key, String value) {
      values.put(key, value);
      return this;
    }

    /** stream.max.inflight.records: records accepted and not yet acknowledged, at most. */
    public Builder setMaxInflightRecords(int records) {
      return set("stream.max.inflight.records", Integer.toString(records));
    }

    /** recovery.enable: whether a stream reconnects and replays after a retryable failure. */
    public Builder setRecovery(boolean recovery) {
      return set("recovery.enable", Boolean.toString(recovery));
    }

    /** recovery.timeout.ms: how long one recovery may take. */
    public Builder setRecoveryTimeoutMs(int milliseconds) {
      return set("recovery.timeout.ms", Integer.toString(milliseconds));
    }

    /** recovery.backoff.ms: the first wait between connection attempts. */
    public Builder setRecoveryBackoffMs(int milliseconds) {
      return set("recovery.backoff.ms", Integer.toString(milliseconds));
    }

    /** recovery.retries: connection attempts per recovery. */
    public Builder setRecoveryRetries(int retries) {
      return set("recovery.retries", Integer.toString(retries));
    }

    /** stream.ack.timeout.ms: how long the server may leave records unacknowledged. */
    public Builder setServerLackOfAckTimeoutMs(int milliseconds) {
      return set("stream.ack.timeout.ms", Integer.toString(milliseconds));
    }

    /** stream.ingest.timeout.ms: how long an ingest waits for room in a full window. */
    public Builder setIngestTimeoutMs(int milliseconds) {
      return set("stream.ingest.timeout.ms", Integer.toString(milliseconds));
    }

    /** transport.plaintext: plaintext gRPC, for a local server (an http:// endpoint). */
    public Builder setPlaintext(boolean plaintext) {
      return set("transport.plaintext", Boolean.toString(plaintext));
    }

    /**
     * stream.lanes: carries the stream over this many server streams ("lanes", 1 to 64) of its
     * table, for the throughput of several streams behind one handle. Offsets stay contiguous and
     * acknowledgements cumulative across lanes; rows of different lanes land in the table in no
     * particular order relative to each other. Each lane recovers on its own; a lane that fails for
     * good fails the stream, its records reported through the ack callback's errors.
     */
    public Builder setLanes(int lanes) {
      return set("stream.lanes", Integer.toString(lanes));
    }

    /**
     * sdk.application.name: names the application to the service, which attributes traffic by the
     * user-agent, "libzerobus/VERSION java/JAVA_VERSION NAME" (an SDK's option).
     */
    public Builder setApplicationName(String name) {
      return set("sdk.application.name", name);
    }

    /** auth.token: a bearer token sent with every connection attempt. */
    public Builder setToken(String token) {
      return set("auth.token", token);
    }

    /** auth.client.id and auth.client.secret: OAuth client credentials (needs workspace.url). */
    public Builder setClientCredentials(String clientId, String clientSecret) {
      return set("auth.client.id", clientId).set("auth.client.secret", clientSecret);
    }

    /**
     * Token federation (RFC 8693) in place of a client secret: `provider` supplies a JWT of an
     * external identity provider whenever the stream needs a token, which the library exchanges at
     * workspace.url for one scoped to the table. The stream's one source of credentials: with
     * auth.token, client credentials or a headers provider as well, opening it fails. Null removes
     * it.
     */
    public Builder setTokenFederation(SubjectTokenProvider provider) {
      this.subjectTokenProvider = provider;
      return this;
    }

    /**
     * auth.federation.client.id: the service principal of workload identity federation; without it,
     * the exchange is account-level federation.
     */
    public Builder setFederationClientId(String clientId) {
      return set("auth.federation.client.id", clientId);
    }

    public Builder setAckCallback(AckCallback callback) {
      this.ackCallback = callback;
      return this;
    }

    public Builder setHeadersProvider(HeadersProvider provider) {
      this.headersProvider = provider;
      return this;
    }

    /** Where the library's log messages go; its level sets log.level unless that is set. */
    public Builder setLogger(Logger logger) {
      this.logger = Objects.requireNonNull(logger, "logger");
      return this;
    }

    /**
     * The options, each key and value checked by the library.
     *
     * @throws IllegalArgumentException for a key the library does not know or a value out of its
     *     range, with the library's {@link ZerobusException} as its cause
     */
    public StreamConfigurationOptions build() {
      StreamConfigurationOptions options = new StreamConfigurationOptions(this);
      try {
        Calls.run(Native.zb_config_destroy, options.toNative(null, false));
      } catch (ZerobusException refused) {
        throw new IllegalArgumentException(refused.getMessage(), refused);
      }
      return options;
    }
  }
}
