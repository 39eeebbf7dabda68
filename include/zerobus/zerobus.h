/**
 * @file zerobus.h
 * libzerobus: a native client for Databricks Zerobus Ingest.
 *
 * This header is the library's whole ABI. It is C99 and C++ compatible and includes nothing
 * but the C standard library.
 *
 * Conventions that hold for every function unless its comment says otherwise:
 *
 *  - Fallible functions return a zb_status: ZB_OK (0) or one of the ZB_ERR_* codes below.
 *  - The last parameter `zb_error **err` is optional. When it is not NULL and the call fails,
 *    *err receives a new error object that the caller owns and frees with zb_error_free();
 *    on success *err is set to NULL. A failed call leaves *err NULL only when it could not
 *    allocate the error object; its return value still says what failed, and the zb_error_*
 *    accessors read NULL as that out-of-memory error (zb_error_code() says ZB_ERR_NO_MEMORY).
 *  - Pointer parameters are borrowed for the duration of the call; the library keeps no
 *    reference to them after it returns. Strings are NUL-terminated UTF-8.
 *  - Handles (zb_config, zb_sdk, zb_stream, zb_schema, zb_records, zb_error) are created and
 *    released only by the library. Every *_destroy / *_free accepts NULL and does nothing with
 *    it.
 *  - `_destroy` ends an object, `_free` releases a value. An object (zb_config, zb_sdk,
 *    zb_stream, zb_schema) acts or is shared: it holds callback registrations, threads or
 *    connections, or what was made from it keeps it alive (an SDK, a schema: by their streams).
 *    Its *_destroy lets go of the caller's hold and may run a free_user_data or wait for the
 *    object's threads, as its comment says. A value (zb_error, zb_records, a string from
 *    zb_sdk_stats_json() or zb_stream_stats_json()) is immutable data that the caller alone
 *    owns; its *_free returns the memory and does nothing else: it runs no callback and waits
 *    for nothing. Every function follows the rule: zb_config_destroy(), zb_sdk_destroy(),
 *    zb_stream_destroy() and zb_schema_destroy(); zb_error_free(), zb_records_free() and
 *    zb_string_free().
 *  - Offsets are logical record offsets: 0, 1, 2, ... per stream, one per record.
 *  - Timeouts are in milliseconds; ZB_TIMEOUT_INFINITE waits without limit.
 *  - No function throws, aborts or unwinds; misuse is reported as ZB_ERR_INVALID_ARG or
 *    ZB_ERR_STATE.
 *
 * The declarations come in sections (Doxygen groups, one page each in the API reference), in
 * the order a program meets them: handles, versions, status codes, errors, callbacks,
 * configuration, headers providers, events, logging, the SDK, schemas, streams, statistics.
 */
#ifndef ZEROBUS_ZEROBUS_H
#define ZEROBUS_ZEROBUS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ----------------------------------------------------------------------------------------- */
/** @defgroup handles Handles and common definitions
 *  The opaque handles, ZB_TIMEOUT_INFINITE, and the ZB_API mark of every exported function.
 *  Each handle is created and released only by the library: an object by its *_destroy, a
 *  value by its *_free (the file's introduction gives the rule).
 *  @{ */

/** Marks the functions the library exports (default visibility while the library is built). */
#if defined(ZB_BUILDING_LIBRARY) && defined(__GNUC__)
#define ZB_API __attribute__((visibility("default")))
#else
#define ZB_API
#endif

/** Waits without a time limit, wherever a timeout is taken. */
#define ZB_TIMEOUT_INFINITE (-1)

/** An error: code, message, retryability and gRPC status (zb_error_*). */
typedef struct zb_error zb_error;
/** A set of string-keyed options and callback registrations (zb_config_*). */
typedef struct zb_config zb_config;
/** The gRPC metadata of one connection attempt, filled in by a headers provider. */
typedef struct zb_headers zb_headers;
/** Where the token federation callback puts the subject token it supplies (zb_token_sink_set()). */
typedef struct zb_token_sink zb_token_sink;
/** A Zerobus endpoint, its threads and its token cache (zb_sdk_*). */
typedef struct zb_sdk zb_sdk;
/** A stream of records into one table (zb_stream_*). */
typedef struct zb_stream zb_stream;
/** A table's schema: its descriptor, .proto source and JSON encoder (zb_schema_*). */
typedef struct zb_schema zb_schema;
/** A list of records with their offsets (from zb_stream_unacked()). */
typedef struct zb_records zb_records;
/** The Arrow C Data Interface's structs (zerobus/arrow_c_data.h declares them, under the
 *  specification's own guard macro, as every Arrow implementation's header does). */
struct ArrowSchema;
struct ArrowArray;
struct ArrowArrayStream;

/** @} */

/* ----------------------------------------------------------------------------------------- */
/** @defgroup versions Versions
 *  The header's version, to check at compile time, and the loaded library's, to check at run
 *  time: the same major, and a library at least as new as the header.
 *  @{ */

/** The major version of this header: the library's ABI changes only with it (SONAME). */
#define ZB_VERSION_MAJOR 0
/** The minor version of this header: grows with additions. */
#define ZB_VERSION_MINOR 1
/** The patch version of this header: grows with fixes. */
#define ZB_VERSION_PATCH 0
/** The version as one number, 0xMMmmpp: compare with zb_version() at run time. */
#define ZB_VERSION_NUM ((ZB_VERSION_MAJOR << 16) | (ZB_VERSION_MINOR << 8) | ZB_VERSION_PATCH)

/** The version of the library loaded at run time, encoded like ZB_VERSION_NUM.
 *  Thread-safe.
 *  @return ZB_VERSION_NUM of the loaded library. */
ZB_API uint32_t zb_version(void);

/** The version of the library loaded at run time as "MAJOR.MINOR.PATCH"; a static string.
 *  Thread-safe.
 *  @return "MAJOR.MINOR.PATCH". */
ZB_API const char *zb_version_str(void);

/** @} */

/* ----------------------------------------------------------------------------------------- */
/** @defgroup status_codes Status codes
 *  What every fallible function returns: ZB_OK or a ZB_ERR_* code. docs/ERRORS.md lists them.
 *  @{ */

/** A status code. Codes are never renumbered; new ones are only appended. */
typedef int32_t zb_status;

/** Success. */
#define ZB_OK 0
/** A required pointer was NULL, or an argument is out of its documented range. */
#define ZB_ERR_INVALID_ARG 1
/** zb_config_set() or zb_config_get() was given a key the library does not know. */
#define ZB_ERR_UNKNOWN_KEY 2
/** zb_config_set() was given a value that does not parse or is out of range for its key. */
#define ZB_ERR_INVALID_VALUE 3
/** The in-flight window is full and the ingest could not wait (stream.ingest.timeout.ms). */
#define ZB_ERR_QUEUE_FULL 4
/** A call's own time limit ran out before its condition held. Never a stream's failure: a
 *  wait that returns it may wait again. */
#define ZB_ERR_TIMEOUT 5
/** The stream was closed by zb_stream_close(); it accepts no more records. */
#define ZB_ERR_CLOSED 6
/** A record of zero bytes. */
#define ZB_ERR_EMPTY_RECORD 7
/** A record that cannot fit into one request (stream.max.request.bytes, 10 MiB by default). */
#define ZB_ERR_RECORD_TOO_LARGE 8
/** A batch of zero records. */
#define ZB_ERR_EMPTY_BATCH 9
/** Protobuf records given to a JSON stream, or JSON records to a protobuf stream. */
#define ZB_ERR_RECORD_TYPE 10
/** The endpoint, table name or descriptor is malformed. */
#define ZB_ERR_INVALID_TARGET 11
/** The gRPC call failed or the server ended it; zb_error_grpc_status() tells how. A call the
 *  library gave up on has DEADLINE_EXCEEDED: the server acknowledged nothing for
 *  stream.ack.timeout.ms while records waited, or did not accept the stream within
 *  recovery.timeout.ms. */
#define ZB_ERR_TRANSPORT 12
/** The server broke the protocol (an unexpected message, an ack that goes backwards). */
#define ZB_ERR_PROTOCOL 13
/** Authentication failed: the OAuth token request or token exchange (retryable for a 5xx
 *  answer or a network failure, not for a 4xx answer, whose message the error carries), the
 *  headers provider, which failed or gave headers that cannot be sent, or the token federation
 *  callback, which failed or gave no token. */
#define ZB_ERR_AUTH 14
/** The call is not allowed in the object's current state or from the calling thread. */
#define ZB_ERR_STATE 15
/** Memory could not be allocated. */
#define ZB_ERR_NO_MEMORY 16
/** A bug in the library; the message says where. */
#define ZB_ERR_INTERNAL 17
/** A table description (Unity Catalog JSON) or DDL that is malformed or has a type the service
 *  cannot take; the message says what and where. */
#define ZB_ERR_INVALID_SCHEMA 18
/** A JSON record that does not fit the table's schema; the message names the column. */
#define ZB_ERR_INVALID_RECORD 19

/** The code's symbolic name ("ZB_ERR_QUEUE_FULL"), a static string, or NULL for a code this
 *  version of the library does not know. Codes are contiguous from ZB_OK, so a binding can
 *  enumerate them by counting up until NULL. Thread-safe.
 *  @param status the code.
 *  @return the name, or NULL for an unknown code. */
ZB_API const char *zb_status_name(zb_status status);

/** A one-sentence description of the code, a static string, or NULL for an unknown code.
 *  Thread-safe.
 *  @param status the code.
 *  @return the description, or NULL for an unknown code. */
ZB_API const char *zb_status_describe(zb_status status);

/** @} */

/* ----------------------------------------------------------------------------------------- */
/** @defgroup errors Errors
 *  An error: a status code, a message, whether retrying may succeed, and the gRPC status it
 *  came from. Immutable; safe to read from any thread. The accessors take NULL, and read it as
 *  the error a failed call could not allocate (the only way a failed call leaves *err NULL):
 *  ZB_ERR_NO_MEMORY, with an empty message, not retryable, not from gRPC.
 *  @{ */

/** The status code of `err`. Thread-safe.
 *  @param err the error; may be NULL.
 *  @return the status code; ZB_ERR_NO_MEMORY when `err` is NULL (the error object of a failed
 *  call that ran out of memory; the call's own return value still gives its code). */
ZB_API zb_status zb_error_code(const zb_error *err);

/** The symbolic name of the status code of `err` ("ZB_ERR_TIMEOUT"), a static string:
 *  zb_status_name(zb_error_code(err)). Thread-safe.
 *  @param err the error; may be NULL.
 *  @return the name; "ZB_ERR_NO_MEMORY" when `err` is NULL (see zb_error_code()); NULL only for
 *  an error made by zb_error_new() with a code this version of the library does not know
 *  (every error the library itself hands out has a name). */
ZB_API const char *zb_error_name(const zb_error *err);

/** The message of `err`, valid until zb_error_free(err); "" when `err` is NULL.
 *  @param err the error; may be NULL.
 *  @return the message, valid until zb_error_free(err); "" when `err` is NULL. */
ZB_API const char *zb_error_message(const zb_error *err);

/** 1 when the same operation may succeed if tried again (a transient server or network
 *  failure), else 0.
 *  @param err the error; may be NULL.
 *  @return 1 when the same operation may succeed if tried again, else 0. */
ZB_API int32_t zb_error_is_retryable(const zb_error *err);

/** The gRPC status code (0..16) the error came from, or -1 when it did not come from gRPC.
 *  @param err the error; may be NULL.
 *  @return the gRPC status code, or -1. */
ZB_API int32_t zb_error_grpc_status(const zb_error *err);

/** A new error object, for tests that mock the library. `message` is copied (NULL means "").
 *  Returns NULL only when out of memory. The caller frees it with zb_error_free().
 *  @param code the status code.
 *  @param message the message, copied; NULL means "".
 *  @param retryable 1 when retrying may succeed, else 0.
 *  @return the error, or NULL when out of memory. */
ZB_API zb_error *zb_error_new(zb_status code, const char *message, int32_t retryable);

/** A copy of `err` that the caller owns; NULL when `err` is NULL or out of memory.
 *  @param err the error; may be NULL.
 *  @return the copy, or NULL when `err` is NULL or out of memory. */
ZB_API zb_error *zb_error_dup(const zb_error *err);

/** Frees `err`. NULL is ignored. Not while another thread still reads `err`.
 *  @param err the error to free; may be NULL. */
ZB_API void zb_error_free(zb_error *err);

/** @} */

/* ----------------------------------------------------------------------------------------- */
/** @defgroup callbacks Callbacks
 *  Every registration of a callback takes a user_data pointer, handed to each call, and a
 *  zb_free_cb that releases it once the library can no longer call the callback.
 *  @{ */

/** Releases a user_data pointer that was given to the library. Called exactly once, when the
 *  library can no longer call the callback registered with it. */
typedef void (*zb_free_cb)(void *user_data);

/** @} */

/* ----------------------------------------------------------------------------------------- */
/** @defgroup configuration Configuration
 *  A set of string-keyed options. zb_sdk_new() and zb_stream_new() copy what they need, so the
 *  caller may change or destroy a config right after using it. A config is not thread-safe:
 *  do not change one from two threads at once. docs/CONFIGURATION.md lists every key.
 *  @{ */

/** Creates a config holding every default.
 *  @param out receives the new config, owned by the caller (zb_config_destroy()).
 *  @param err receives a new error object when the call fails, else NULL; may be NULL.
 *  @return ZB_OK; ZB_ERR_INVALID_ARG if `out` is NULL; ZB_ERR_NO_MEMORY. */
ZB_API zb_status zb_config_new(zb_config **out, zb_error **err);

/** Copies `cfg`, its callbacks included (they are shared: each free_user_data still runs once).
 *  @param cfg the config to copy.
 *  @param out receives the copy, owned by the caller.
 *  @param err receives a new error object when the call fails, else NULL; may be NULL.
 *  @return ZB_OK; ZB_ERR_INVALID_ARG if `cfg` or `out` is NULL; ZB_ERR_NO_MEMORY. */
ZB_API zb_status zb_config_dup(const zb_config *cfg, zb_config **out, zb_error **err);

/** Frees `cfg` and releases its callbacks. NULL is ignored.
 *  @param cfg the config; may be NULL. */
ZB_API void zb_config_destroy(zb_config *cfg);

/** Sets option `key` to `value`, both copied.
 *  @param cfg the config.
 *  @param key the option's name, e.g. "recovery.retries".
 *  @param value its new value as text, e.g. "4".
 *  @param err receives a new error object when the call fails, else NULL; may be NULL.
 *  @return ZB_OK; ZB_ERR_INVALID_ARG if an argument is NULL; ZB_ERR_UNKNOWN_KEY if the key does
 *  not exist; ZB_ERR_INVALID_VALUE if the value does not parse or is out of range (the message
 *  says what is accepted). The config is unchanged on failure. */
ZB_API zb_status zb_config_set(zb_config *cfg, const char *key, const char *value, zb_error **err);

/** Reads option `key` as text. Secret values (auth.token, auth.client.secret, the password of
 *  a proxy URL) read back as "[hidden]".
 *  @param cfg the config.
 *  @param key the option's name.
 *  @param buf receives the value and a NUL when `*size` is large enough; may be NULL to ask
 *  for the size.
 *  @param size in: the capacity of `buf`; out: the bytes the value needs, NUL included.
 *  @param err receives a new error object when the call fails, else NULL; may be NULL.
 *  @return ZB_OK (check `*size` to know whether `buf` was large enough); ZB_ERR_INVALID_ARG;
 *  ZB_ERR_UNKNOWN_KEY. */
ZB_API zb_status zb_config_get(const zb_config *cfg, const char *key, char *buf, size_t *size,
                               zb_error **err);

/** Describes one configuration key. Grows only at the end; the caller sets struct_size. */
typedef struct zb_config_property {
  uint32_t struct_size;      /**< set by the caller to sizeof(zb_config_property) */
  const char *name;          /**< e.g. "recovery.retries" */
  const char *type;          /**< "bool", "int" or "string" */
  const char *default_value; /**< as zb_config_get() would print it */
  const char *range;         /**< the accepted values, e.g. "0 .. 2147483647" */
  const char *scope;         /**< "sdk" (read by zb_sdk_new) or "stream" (by zb_stream_new) */
  const char *description;   /**< one paragraph */
} zb_config_property;

/** Initializer for zb_config_property. */
#define ZB_CONFIG_PROPERTY_INIT \
  { sizeof(zb_config_property), NULL, NULL, NULL, NULL, NULL, NULL }

/** Fills `out` with the description of the `index`-th key (0-based, in a stable order). The
 *  strings are static. Thread-safe.
 *  @param index which key, from 0.
 *  @param out receives the description; its struct_size set by the caller
 *  (ZB_CONFIG_PROPERTY_INIT).
 *  @param err receives a new error object when the call fails, else NULL; may be NULL.
 *  @return ZB_OK; ZB_ERR_INVALID_ARG if `out` is NULL or its struct_size is too small for the
 *  first two fields, or `index` is past the last key (so a caller can enumerate until then). */
ZB_API zb_status zb_config_describe(size_t index, zb_config_property *out, zb_error **err);

/** @} */

/* ----------------------------------------------------------------------------------------- */
/** @defgroup headers Headers provider
 *  A callback that supplies the gRPC metadata of each connection attempt (a token fetched on
 *  demand, say), in place of auth.token or OAuth client credentials.
 *  @{ */

/** Adds one header for the connection attempt under way. Names are lower-case ASCII letters,
 *  digits, '-', '_' and '.'; values are printable ASCII. Call it only from inside the headers
 *  provider that received `headers`.
 *  @param headers the headers the provider received.
 *  @param name the header's name.
 *  @param value its value.
 *  @param err receives a new error object when the call fails, else NULL; may be NULL.
 *  @return ZB_OK; ZB_ERR_INVALID_ARG for a NULL argument, a name or value that gRPC cannot
 *  send, or user-agent, which gRPC would replace by the channel's (the connection attempt then
 *  fails with ZB_ERR_AUTH naming the header). */
ZB_API zb_status zb_headers_add(zb_headers *headers, const char *name, const char *value,
                                zb_error **err);

/** Supplies the headers of a connection attempt. Called before every connection: the first on
 *  the thread that opens the stream, every reconnection on one of the SDK's supervision threads
 *  (supervision.threads); calls are serialized, never concurrent. It may block (to fetch a
 *  token, say), which delays the connection, and holds that supervision thread meanwhile. As in
 *  a log callback, closing or destroying a stream there is refused, on any stream (see
 *  zb_log_cb).
 *  @param headers where to add headers with zb_headers_add(); valid during the call only.
 *  @param user_data the user_data given with the callback.
 *  @return ZB_OK to connect; any other status fails the attempt with ZB_ERR_AUTH. */
typedef zb_status (*zb_headers_cb)(zb_headers *headers, void *user_data);

/** Registers the stream's headers provider, replacing any earlier one (whose free_user_data
 *  runs when nothing holds it any more). Streams created from this config share it. A stream
 *  has one source of credentials: a provider, auth.token (sent as `authorization: Bearer
 *  <token>`), OAuth client credentials (auth.client.id and auth.client.secret), or token
 *  federation (zb_config_set_token_federation()); more than one makes zb_stream_new() fail with
 * ZB_ERR_INVALID_ARG. The library adds x-databricks-zerobus-table-name unless the provider set it.
 * The call's user-agent is the library's (`libzerobus/<version>` and sdk.application.name): a
 * provider cannot set it.
 *  @param cfg the config.
 *  @param cb the provider, or NULL to remove it (a free_user_data given with NULL runs at once).
 *  @param user_data handed to every call of `cb`.
 *  @param free_user_data may be NULL; runs exactly once, on the thread that drops the last
 *  holder (zb_config_destroy(), a later zb_config_set_headers_provider() or zb_stream_destroy()).
 *  @param err receives a new error object when the call fails, else NULL; may be NULL.
 *  @return ZB_OK; ZB_ERR_INVALID_ARG if `cfg` is NULL (free_user_data does not run: `user_data`
 *  stays the caller's); ZB_ERR_NO_MEMORY, after free_user_data has run. */
ZB_API zb_status zb_config_set_headers_provider(zb_config *cfg, zb_headers_cb cb, void *user_data,
                                                zb_free_cb free_user_data, zb_error **err);

/** @} */

/* ----------------------------------------------------------------------------------------- */
/** @defgroup federation Token federation
 *  OAuth token federation (RFC 8693 token exchange) in place of a client secret: a callback
 *  supplies a token from an external identity provider (a JWT: Entra ID, a Kubernetes service
 *  account, ...) whenever the stream needs a new Zerobus token, and the stream exchanges it at
 *  workspace.url's /oidc/v1/token for a token scoped to its table. With auth.federation.client.id
 *  set, the exchange names that service principal (workload identity federation); without it,
 *  none (account-level federation). The exchanged token is kept and renewed like one got with
 *  a client secret, and never kept past the subject JWT's own `exp` (a JWT without a numeric
 *  `exp` in its payload caps nothing: the workspace's expires_in stands). The library keeps
 *  the subject token for the exchange only, and neither token appears in a log line or an
 *  error message.
 *  @{ */

/** Gives the subject token of the exchange under way: a JWT, printable ASCII. A later call
 *  replaces an earlier one. Call it only from inside the token federation callback that
 *  received `sink`.
 *  @param sink the sink the callback received.
 *  @param token the subject token; copied.
 *  @param err receives a new error object when the call fails, else NULL; may be NULL.
 *  @return ZB_OK; ZB_ERR_INVALID_ARG for a NULL argument or a token with a character that is
 *  not printable ASCII (the message does not quote it). */
ZB_API zb_status zb_token_sink_set(zb_token_sink *sink, const char *token, zb_error **err);

/** Supplies the subject token for a token exchange. Called whenever the stream needs a new
 *  Zerobus token: when it opens and when a reconnection finds the kept token expiring or
 *  refused; the first on the thread that opens the stream, later ones on one of the SDK's
 *  supervision threads; calls are serialized, never concurrent, also across streams that
 *  share the registration. The SDK keeps one exchanged token per registration, client id and
 *  table: its streams opened from configs that share the registration share the token, and
 *  one call serves them all. It may block (to ask the identity provider, say), which delays
 *  the connection. The library does not keep the subject token beyond the exchange.
 *  @param sink where to give the token with zb_token_sink_set(); valid during the call only.
 *  @param user_data the user_data given with the callback.
 *  @return ZB_OK with a token given; any other status, or ZB_OK without a token, fails the
 *  connection attempt with ZB_ERR_AUTH naming the callback. */
typedef zb_status (*zb_token_cb)(zb_token_sink *sink, void *user_data);

/** Registers the stream's token federation callback, replacing any earlier one (whose
 *  free_user_data runs when nothing holds it any more). Streams created from this config share
 *  it. Federation is a stream's one source of credentials: with auth.client.id or
 *  auth.client.secret, auth.token or a headers provider as well, zb_stream_new() fails with
 *  ZB_ERR_INVALID_ARG, as it does without workspace.url in the SDK's config.
 *  @param cfg the config.
 *  @param cb the callback, or NULL to remove it (a free_user_data given with NULL runs at once).
 *  @param user_data handed to every call of `cb`.
 *  @param free_user_data may be NULL; runs exactly once, on the thread that drops the last
 *  holder (zb_config_destroy(), a later zb_config_set_token_federation() or
 *  zb_stream_destroy()).
 *  @param err receives a new error object when the call fails, else NULL; may be NULL.
 *  @return ZB_OK; ZB_ERR_INVALID_ARG if `cfg` is NULL (free_user_data does not run: `user_data`
 *  stays the caller's); ZB_ERR_NO_MEMORY, after free_user_data has run. */
ZB_API zb_status zb_config_set_token_federation(zb_config *cfg, zb_token_cb cb, void *user_data,
                                                zb_free_cb free_user_data, zb_error **err);

/** @} */

/* ----------------------------------------------------------------------------------------- */
/** @defgroup events Events
 *  What became durable, and what never will: each stream reports it as events, delivered to an
 *  event callback or taken with zb_stream_poll().
 *  @{ */

/** The kind of a zb_event: ZB_EVENT_ACK or ZB_EVENT_ERROR. */
typedef int32_t zb_event_type;
/** Records first_offset..last_offset became durable; last_offset is the new watermark. */
#define ZB_EVENT_ACK 1
/** Records first_offset..last_offset will never be acknowledged; `error` says why. They stay
 *  retrievable with zb_stream_unacked() until the stream is destroyed. */
#define ZB_EVENT_ERROR 2

/** One event of a stream. Grows only at the end; struct_size says how much the library
 *  filled. */
typedef struct zb_event {
  uint32_t struct_size;  /**< the size of zb_event as the library that wrote it knew it */
  zb_event_type type;    /**< ZB_EVENT_ACK or ZB_EVENT_ERROR */
  uint64_t first_offset; /**< the first offset of the range */
  uint64_t last_offset;  /**< the last offset of the range; for an ack, the new watermark */
  /** ZB_EVENT_ERROR only, else NULL. From zb_stream_poll() the caller owns it and frees it with
   *  zb_error_free(); in an event callback it is borrowed for the duration of the call. */
  zb_error *error;
} zb_event;

/** Initializer for zb_event. */
#define ZB_EVENT_INIT \
  { sizeof(zb_event), 0, 0, 0, NULL }

/** Receives a stream's events, in order, one at a time, on one of the SDK's dispatch threads
 *  (never on a network thread, the SDK's I/O thread or gRPC's, and never on the caller of a
 *  zb_* function). It may call any zb_stream_* function, including on its own stream;
 *  zb_stream_destroy() of its own stream takes effect once the callback returns.
 *
 *  Dispatch: the SDK's dispatch threads (dispatch.threads, 4 by default, started as needed)
 *  deliver the events of all of its streams. One stream's events come in order and never two at
 *  once, though not always on the same thread; different streams' events come at once on
 *  different threads. A callback that blocks holds one thread: its own stream's events queue up
 *  behind it, and other streams' events go on over the other threads, unless every one of them
 *  is held. Set dispatch.threads above the number of callbacks that may block at the same time.
 *  @param stream the stream the event belongs to; borrowed.
 *  @param event the event; borrowed for the duration of the call.
 *  @param user_data the user_data given with the callback. */
typedef void (*zb_event_cb)(zb_stream *stream, const zb_event *event, void *user_data);

/** Registers the event callback of streams created from this config, replacing an earlier one.
 *  With a callback, a stream delivers every event to it and zb_stream_poll() is not allowed.
 *  @param cfg the config.
 *  @param cb the callback, or NULL to remove it (a free_user_data given with NULL runs at once).
 *  @param user_data handed to every call of `cb`.
 *  @param free_user_data may be NULL; runs exactly once, when nothing holds the registration
 *  any more (see zb_config_set_headers_provider()).
 *  @param err receives a new error object when the call fails, else NULL; may be NULL.
 *  @return ZB_OK; ZB_ERR_INVALID_ARG if `cfg` is NULL (free_user_data does not run: `user_data`
 *  stays the caller's); ZB_ERR_NO_MEMORY, after free_user_data has run. */
ZB_API zb_status zb_config_set_event_callback(zb_config *cfg, zb_event_cb cb, void *user_data,
                                              zb_free_cb free_user_data, zb_error **err);

/** Tells a poller that a stream's event queue has turned non-empty. */
typedef void (*zb_wakeup_cb)(void *user_data);

/** Registers a wakeup for streams created from this config, replacing an earlier one. It runs
 *  on one of the SDK's dispatch threads (see zb_event_cb) each time the stream's event queue
 *  goes from empty to non-empty;
 *  after a wakeup, poll until the queue is empty or no new wakeup comes. A poll that empties
 *  the queue before the wakeup runs may leave no wakeup to come: wait for a wakeup only after a
 *  poll that found nothing. It must not block and must not call zb_* functions (signal your
 *  event loop instead).
 *  @param cfg the config.
 *  @param cb the wakeup, or NULL to remove it (a free_user_data given with NULL runs at once).
 *  @param user_data handed to every call of `cb`.
 *  @param free_user_data may be NULL; runs exactly once (see zb_config_set_headers_provider()).
 *  @param err receives a new error object when the call fails, else NULL; may be NULL.
 *  @return ZB_OK; ZB_ERR_INVALID_ARG if `cfg` is NULL (free_user_data does not run: `user_data`
 *  stays the caller's); ZB_ERR_NO_MEMORY, after free_user_data has run. */
ZB_API zb_status zb_config_set_wakeup(zb_config *cfg, zb_wakeup_cb cb, void *user_data,
                                      zb_free_cb free_user_data, zb_error **err);

/** Registers a file descriptor as the wakeup of streams created from this config, replacing an
 *  earlier wakeup (zb_config_set_wakeup() or this). Each time a stream's event queue goes from
 *  empty to non-empty, the library writes the 8-byte value 1 to `fd` at once, on the thread that
 *  queued the event: no user code runs, so unlike zb_config_set_wakeup() it needs no hop
 *  through a dispatch thread, and an event loop watching `fd` (epoll, asyncio's add_reader,
 *  Go's netpoller, tokio's AsyncFd) learns of an ack one thread switch sooner. Read what `fd`
 *  holds before polling; the rules of zb_config_set_wakeup() for polling after a wakeup apply.
 *  A stream recreated from one with this wakeup (zb_stream_recreate()) writes to the same `fd`.
 *  @param cfg the config.
 *  @param fd the write end of a pipe or an eventfd, non-blocking (O_NONBLOCK), so that a reader
 *  that lags never stalls the library: a write that would block is dropped, the descriptor
 *  holding unread wakeups already. No write begins after zb_stream_destroy() returns. -1
 *  removes the wakeup.
 *  @param close_on_release nonzero: `fd` is the library's from this call on, whatever its
 *  outcome; it is closed when no config or stream holds it any more (at once when the call
 *  fails). 0: the caller keeps it, and may close it once every stream that holds it is
 *  destroyed (zb_stream_destroy()).
 *  @param err receives a new error object when the call fails, else NULL; may be NULL.
 *  @return ZB_OK; ZB_ERR_INVALID_ARG if `cfg` is NULL or `fd` is not -1 and not an open,
 *  writable, non-blocking descriptor; ZB_ERR_NO_MEMORY. */
ZB_API zb_status zb_config_set_wakeup_fd(zb_config *cfg, int32_t fd, int32_t close_on_release,
                                         zb_error **err);

/** @} */

/* ----------------------------------------------------------------------------------------- */
/** @defgroup logging Logging
 *  The library's log messages, delivered to a callback of the host's: without one, nothing is
 *  logged anywhere.
 *  @{ */

/** The severity of a log message. Levels are never renumbered; new ones are only appended,
 *  each more detailed than the last. */
typedef int32_t zb_log_level;
/** A stream or a connection attempt failed for good. */
#define ZB_LOG_ERROR 1
/** Something went wrong that the library works around: a connection that ended in error, a
 *  failed connection attempt that will be retried, a close that timed out. */
#define ZB_LOG_WARN 2
/** What a production log wants: streams opened and closed, recoveries, close signals, OAuth
 *  tokens obtained. */
#define ZB_LOG_INFO 3
/** Details for troubleshooting: every connection attempt, kept tokens. */
#define ZB_LOG_DEBUG 4

/** The level's name as the log.level option spells it ("error", "warn", "info", "debug"), a
 *  static string, or NULL for a level this version of the library does not know. Levels are
 *  contiguous from ZB_LOG_ERROR, so a binding can enumerate them by counting up until NULL.
 *  Thread-safe.
 *  @param level the level.
 *  @return the name, or NULL for an unknown level. */
ZB_API const char *zb_log_level_name(zb_log_level level);

/** Receives the library's log messages: those of an SDK and of every stream created from it,
 *  at the log.level of the SDK's config or more severe.
 *
 *  Threads: it runs on the thread whose work the message reports, which is the caller of
 *  zb_sdk_new(), zb_stream_new(), zb_stream_new_from_schema(), zb_stream_recreate(),
 *  zb_stream_close() or zb_stream_destroy(), or one of the SDK's supervision threads
 *  (connections ending, reconnections, failures). It never runs on a network thread, inside an
 *  ingest call, or while the library holds a lock. Messages of different streams may come from
 *  different threads at once: the callback must be thread-safe. It may call zb_* functions,
 *  zb_sdk_destroy() included, but closing or destroying a stream there is refused, on any
 *  stream: zb_stream_close() returns ZB_ERR_STATE and zb_stream_destroy() does nothing (the
 *  thread the callback runs on may be the one they would wait for, or be inside a call on that
 *  stream); destroy the stream later from another thread. It should return quickly: a
 *  reconnection waits for it, so a flush or wait in it may last its whole timeout.
 *
 *  Messages never contain a secret: no auth.token, auth.client.secret, OAuth token, header
 *  value of a headers provider, nor the password of a proxy.
 *  @param level the message's level, ZB_LOG_ERROR .. ZB_LOG_DEBUG.
 *  @param component the part of the library speaking, a static string: "sdk", "stream",
 *  "connection", "recovery" or "auth" (more may be added).
 *  @param message one line of UTF-8 without a trailing newline, starting with the table's name
 *  for a stream's messages; valid during the call only.
 *  @param user_data as registered. */
typedef void (*zb_log_cb)(zb_log_level level, const char *component, const char *message,
                          void *user_data);

/** Registers the log callback of SDKs created from this config, replacing an earlier one.
 *  zb_sdk_new() reads it with log.level; the SDK's streams log through it, whatever the config
 *  they were created with (zb_stream_new() ignores it). Without a callback the library logs
 *  nothing anywhere: it never writes to stdout, stderr or syslog itself. gRPC, which it uses,
 *  has a logger of its own that is not the library's: process-wide, shared with any other gRPC
 *  user in the process, and by default writing gRPC's error lines (a TLS handshake that failed,
 *  say) to stderr. The library leaves that logger as it finds it, since the host may have set
 *  its own (gpr_set_log_function()); the environment variable GRPC_VERBOSITY=NONE silences it,
 *  GRPC_VERBOSITY=ERROR (its default) or INFO or DEBUG sets how much it writes.
 *  @param cfg the config.
 *  @param cb the callback, or NULL to remove it (a free_user_data given with NULL runs at once).
 *  @param user_data handed to every call of `cb`.
 *  @param free_user_data may be NULL; runs exactly once, when nothing holds the registration
 *  any more: the config (zb_config_destroy(), a later zb_config_set_log_callback()), the SDK and
 *  every stream of the SDK have been destroyed. The callback does not run after that, nor after
 *  the zb_stream_destroy() of a stream it would report on has returned.
 *  @param err receives the error on failure; may be NULL.
 *  @return ZB_OK; ZB_ERR_INVALID_ARG if `cfg` is NULL (free_user_data does not run: `user_data`
 *  stays the caller's); ZB_ERR_NO_MEMORY, after free_user_data has run. */
ZB_API zb_status zb_config_set_log_callback(zb_config *cfg, zb_log_cb cb, void *user_data,
                                            zb_free_cb free_user_data, zb_error **err);

/** @} */

/* ----------------------------------------------------------------------------------------- */
/** @defgroup sdk SDK: one endpoint
 *  A Zerobus endpoint. Each stream of an SDK, and each lane of one, has an HTTP/2 connection
 *  of its own, unless it asks to share the SDK's one (stream.own.connection=false).
 *  Thread-safe.
 *  @{ */

/** Creates an SDK for `endpoint`: "host[:port]" or "https://host[:port]", TLS with the system's
 *  trust store (or tls.ca.file / tls.ca.pem). Plaintext only with transport.plaintext=true
 *  ("http://host:port" or a host alone), for local servers. The workspace id that OAuth token
 *  requests name is the host's first label. The proxy (the proxy option, or the environment's
 *  grpc_proxy, https_proxy, http_proxy and no_proxy) and tls.ca.file are read here. No network
 *  I/O happens here; the connection opens with the first stream.
 *  @param endpoint the Zerobus endpoint, as described above.
 *  @param cfg SDK options (scope "sdk" in docs/CONFIGURATION.md), with the log and statistics
 *  callbacks, copied; NULL means defaults.
 *  @param out receives the SDK, owned by the caller (zb_sdk_destroy()).
 *  @param err receives a new error object when the call fails, else NULL; may be NULL.
 *  @return ZB_OK; ZB_ERR_INVALID_ARG if `endpoint` or `out` is NULL; ZB_ERR_INVALID_TARGET for
 *  a malformed endpoint, workspace.url or proxy URL, or an http:// endpoint without
 *  transport.plaintext=true; ZB_ERR_INVALID_VALUE when tls.ca.file cannot be read or holds no
 *  certificate; ZB_ERR_NO_MEMORY. */
ZB_API zb_status zb_sdk_new(const char *endpoint, const zb_config *cfg, zb_sdk **out,
                            zb_error **err);

/** Releases the caller's reference to `sdk`. Streams created from it keep working; the
 *  connection closes when the last of them is destroyed. Stops the statistics callback: when
 *  it returns, that callback is not running and will not run again (called from the callback
 *  itself, it takes effect once the callback returns). The log callback lives on with the
 *  SDK's streams. NULL is ignored.
 *
 *  It waits for nothing else, whatever the server did, and neither does zb_stream_destroy()
 *  when it frees the last stream of a destroyed SDK: not for the server, and not for gRPC's
 *  shutdown, which waited up to 10 s after a server that stopped reading. For that the first
 *  zb_sdk_new() initializes gRPC for the rest of the process and the library never shuts it
 *  down: gRPC's own threads stay until the process exits, and a host that uses gRPC itself
 *  finds it still initialized after its own last grpc_shutdown(). The one wait left is gRPC's:
 *  freeing the process's last gRPC channel stops the threads that run gRPC's callbacks, which
 *  may take about 0.1 s (idle, they sleep that long at a time).
 *  @param sdk the SDK; may be NULL. */
ZB_API void zb_sdk_destroy(zb_sdk *sdk);

/** @} */

/* ----------------------------------------------------------------------------------------- */
/** @defgroup schemas Schemas: a table's protobuf shape, without a .proto or protoc
 *  A table's schema: its columns as Delta types, the protobuf descriptor a stream of the table
 *  is opened with, that descriptor's .proto source, and an encoder from JSON records to
 *  protobuf ones. Immutable: every function may be called from any number of threads at once,
 *  except zb_schema_destroy(). docs/SCHEMAS.md gives the type mapping and the JSON forms the
 *  encoder takes.
 *  @{ */

/** Builds a schema from a Unity Catalog table description: the JSON body of
 *  GET /api/2.1/unity-catalog/tables/{full_name}, `len` bytes (not NUL-terminated necessarily).
 *  @param json the table description's text.
 *  @param len its length in bytes.
 *  @param out receives the schema, owned by the caller (zb_schema_destroy()).
 *  @param err receives a new error object when the call fails, else NULL; may be NULL.
 *  @return ZB_OK; ZB_ERR_INVALID_ARG for NULL pointers; ZB_ERR_INVALID_SCHEMA when the text is
 *  not such a description or names a type the service cannot take (the message says which
 *  column and why), and for JSON nested deeper than 512 levels, with a key given twice or with
 *  a NUL byte (docs/SCHEMAS.md); ZB_ERR_NO_MEMORY. */
ZB_API zb_status zb_schema_from_table_json(const char *json, size_t len, zb_schema **out,
                                           zb_error **err);

/** Builds a schema from one Delta DDL statement, NUL-terminated, such as
 *  "main.default.events (id BIGINT NOT NULL, tags ARRAY<STRING>)" (CREATE TABLE optional).
 *  @param ddl the statement.
 *  @param out receives the schema, owned by the caller (zb_schema_destroy()).
 *  @param err receives a new error object when the call fails, else NULL; may be NULL.
 *  @return as zb_schema_from_table_json(). */
ZB_API zb_status zb_schema_from_ddl(const char *ddl, zb_schema **out, zb_error **err);

/** Builds a schema from the table's description in the workspace's Unity Catalog
 *  (GET {workspace.url}/api/2.1/unity-catalog/tables/{table}), reached as the SDK reaches the
 *  workspace (tls.ca.*, proxy). Credentials come from `cfg` as for a stream: with
 *  auth.client.id and auth.client.secret a workspace token is requested first (scope all-apis,
 *  which the Unity Catalog API takes); with auth.token that token is sent; with neither, no
 *  credentials (a local server without --auth). Blocks for the requests, each bounded by
 *  recovery.timeout.ms.
 *  @param sdk an SDK created with workspace.url.
 *  @param table "catalog.schema.table".
 *  @param cfg stream options with the credentials; NULL means none.
 *  @param out receives the schema, owned by the caller (zb_schema_destroy()).
 *  @param err receives a new error object when the call fails, else NULL; may be NULL.
 *  @return ZB_OK; ZB_ERR_INVALID_ARG for NULL pointers, an SDK without workspace.url or half a
 *  client credential; ZB_ERR_INVALID_TARGET for a malformed table name or a table the
 *  workspace does not have; ZB_ERR_AUTH when the token request or the table request is
 *  refused (with the server's message); ZB_ERR_TRANSPORT, retryable, when the workspace cannot
 *  be reached or fails; ZB_ERR_INVALID_SCHEMA as zb_schema_from_table_json(); ZB_ERR_NO_MEMORY. */
ZB_API zb_status zb_schema_fetch(zb_sdk *sdk, const char *table, const zb_config *cfg,
                                 zb_schema **out, zb_error **err);

/** Frees `schema`. Streams opened from it keep working. NULL is ignored.
 *  @param schema the schema; may be NULL. */
ZB_API void zb_schema_destroy(zb_schema *schema);

/** The table's name, "catalog.schema.table"; owned by `schema`, valid until its destroy. NULL
 *  when `schema` is NULL.
 *  @param schema the schema.
 *  @return the name, or NULL when `schema` is NULL. */
ZB_API const char *zb_schema_table_name(const zb_schema *schema);

/** The serialized google.protobuf.DescriptorProto that zb_stream_new() takes for this table.
 *  @param schema the schema.
 *  @param data receives a pointer owned by `schema`, valid until its destroy.
 *  @param len receives its length.
 *  @param err receives a new error object when the call fails, else NULL; may be NULL.
 *  @return ZB_OK; ZB_ERR_INVALID_ARG for NULL pointers. */
ZB_API zb_status zb_schema_descriptor(const zb_schema *schema, const void **data, size_t *len,
                                      zb_error **err);

/** The proto2 source of the descriptor, NUL-terminated, as protoc would compile it; owned by
 *  `schema`, valid until its destroy. NULL when `schema` is NULL.
 *  @param schema the schema.
 *  @return the source, or NULL when `schema` is NULL. */
ZB_API const char *zb_schema_proto_source(const zb_schema *schema);

/** The Avro writer schema of the table (Avro JSON, NUL-terminated), as docs/SCHEMAS.md maps
 *  Delta types to Avro: what a ZB_RECORD_AVRO stream of the table is opened with.
 *  @param schema the schema.
 *  @param avro_json receives the schema's text, owned by `schema`, valid until its destroy.
 *  @param err receives a new error object when the call fails, else NULL; may be NULL.
 *  @return ZB_OK; ZB_ERR_INVALID_ARG for NULL pointers; ZB_ERR_INVALID_SCHEMA for a table
 *  with no Avro form (a MAP keyed by anything but a string: the message names the column). */
ZB_API zb_status zb_schema_avro(const zb_schema *schema, const char **avro_json, zb_error **err);

/** Encodes the JSON object `json` (`len` bytes) as a protobuf record of the schema.
 *  @param schema the schema.
 *  @param json the record's JSON text, `len` bytes.
 *  @param len its length in bytes.
 *  @param buf receives the record when `*size` is large enough; may be NULL to ask for the size.
 *  @param size in: the capacity of `buf`; out: the bytes the record needs.
 *  @param err receives a new error object when the call fails, else NULL; may be NULL.
 *  @return ZB_OK (check `*size` to know whether `buf` was large enough); ZB_ERR_INVALID_ARG
 *  for NULL pointers; ZB_ERR_INVALID_RECORD when the record does not fit the schema (the
 *  message names the column and the reason, quoting at most a few dozen bytes of a value):
 *  among others JSON nested deeper than 512 levels, a key given twice (case aside), a NUL byte,
 *  a FLOAT that rounds to infinity, a DATE or TIMESTAMP outside the years 0001-9999
 *  (docs/SCHEMAS.md); ZB_ERR_NO_MEMORY. */
ZB_API zb_status zb_schema_encode_json(const zb_schema *schema, const char *json, size_t len,
                                       void *buf, size_t *size, zb_error **err);

/** @} */

/* ----------------------------------------------------------------------------------------- */
/** @defgroup streams Streams
 *  A stream of records into one table. Every function on a stream may be called from any
 *  number of threads at once, except zb_stream_destroy().
 *
 *  Lanes: with stream.lanes = N (1 to 64, 1 by default) one stream carries its records over N
 *  server streams ("lanes") of its table, each on a call of its own, for more than one
 *  stream's quota (100,000 records/s and 100 MB/s each). The API stays that of one stream:
 *  offsets 0, 1, 2, ... across the lanes; ack events whose watermark is cumulative (every
 *  record at or below it is durable, whichever lane carried it); zb_stream_flush(),
 *  zb_stream_wait_for_offset(), zb_stream_unacked() (in offset order) and zb_stream_recreate()
 *  on those offsets; the in-flight window's bounds hold for the stream as a whole. Each ingest
 *  call's records go to the lane holding the fewest unacknowledged bytes among those whose
 *  call is live, so a lane that is reconnecting gets none and a slow one fewer. Ordering: the
 *  records of one ingest call stay together and in order, and so do those one lane carries,
 *  but rows of different lanes land in the table in no particular order (as with the official
 *  SDKs' lanes); with 1 lane rows land in offset order. Each lane recovers on its own,
 *  replaying its own records; one that fails for good (a fatal code, or its retries spent)
 *  fails the stream: one error event covers every offset above the watermark (including
 *  records that other lanes made durable meanwhile: at least once), ingest returns that error,
 *  the other lanes stop, and zb_stream_unacked() returns every record no lane got
 *  acknowledged. Opening waits for every lane; one that cannot open fails zb_stream_new().
 *  @{ */

/** What a stream's records are: ZB_RECORD_PROTO, ZB_RECORD_JSON or ZB_RECORD_AVRO. */
typedef int32_t zb_record_type;
/** Records are serialized protobuf messages of the stream's descriptor. */
#define ZB_RECORD_PROTO 1
/** Records are JSON objects, one per record, as UTF-8 text. */
#define ZB_RECORD_JSON 2
/** Records are raw Avro datums of the stream's writer schema, one per record, without
 *  framing (docs/SCHEMAS.md, "Avro"). */
#define ZB_RECORD_AVRO 4
/** Arrow record batches: a stream of zb_stream_new_arrow() or zb_stream_new_arrow_ipc() (the
 *  statistics' "arrow"); zb_stream_new() does not take it. */
#define ZB_RECORD_ARROW 8

/** Opens a stream into `table_name` ("catalog.schema.table") and returns once the server has
 *  accepted it. Connection attempts are retried as recovery.* configures; with OAuth client
 *  credentials each attempt first gets a token (see auth.client.id).
 *  @param sdk the SDK whose endpoint and connection the stream uses.
 *  @param table_name the table, "catalog.schema.table".
 *  @param record_type ZB_RECORD_PROTO, ZB_RECORD_JSON or ZB_RECORD_AVRO.
 *  @param descriptor for ZB_RECORD_PROTO: a serialized google.protobuf.DescriptorProto of the
 *  record message, copied; for ZB_RECORD_AVRO: the Avro writer schema, Avro JSON text of a
 *  record (not NUL-terminated necessarily), copied, which the server checks against the table
 *  (docs/SCHEMAS.md); for ZB_RECORD_JSON: NULL with descriptor_len 0.
 *  @param descriptor_len the descriptor's length in bytes: at most 10 MiB, the most one message
 *  to the service can carry.
 *  @param cfg stream options and callbacks, copied; NULL means defaults.
 *  @param out receives the stream, owned by the caller (zb_stream_close(), zb_stream_destroy()).
 *  @param err receives a new error object when the call fails, else NULL; may be NULL.
 *  @return ZB_OK; ZB_ERR_INVALID_ARG for NULL pointers, an unknown record type, a descriptor
 *  given to a JSON stream or a descriptor_len over 10 MiB; ZB_ERR_INVALID_TARGET for a malformed
 *  table name (three parts of ASCII letters, digits and underscores, each at most 255 characters
 *  long, as Unity Catalog names are), a descriptor that does not parse, or an Avro writer
 *  schema that is not the JSON of a record (checked before any network I/O, as is the choice of
 * credentials: ZB_ERR_INVALID_ARG for more than one source, or client credentials without
 * workspace.url); ZB_ERR_AUTH; ZB_ERR_TRANSPORT with the gRPC status when the server refused the
 * stream (an Avro writer schema that does not fit the table, say, with the column named) or could
 * not be reached or did not accept the stream within recovery.timeout.ms (DEADLINE_EXCEEDED);
 * ZB_ERR_NO_MEMORY. */
ZB_API zb_status zb_stream_new(zb_sdk *sdk, const char *table_name, zb_record_type record_type,
                               const void *descriptor, size_t descriptor_len, const zb_config *cfg,
                               zb_stream **out, zb_error **err);

/** Opens a ZB_RECORD_PROTO stream into the schema's table with the schema's descriptor, as
 *  zb_stream_new() does. Such a stream also takes JSON records (zb_stream_ingest_json() and
 *  zb_stream_ingest_json_batch()): each is encoded to protobuf before it is accepted, and it
 *  is the protobuf record that zb_stream_unacked() returns.
 *  @param sdk the SDK whose endpoint and connection the stream uses.
 *  @param schema shared with the stream, which keeps it alive: the caller may destroy it.
 *  @param cfg stream options and callbacks, copied; NULL means defaults.
 *  @param out receives the stream, owned by the caller.
 *  @param err receives a new error object when the call fails, else NULL; may be NULL.
 *  @return as zb_stream_new(). */
ZB_API zb_status zb_stream_new_from_schema(zb_sdk *sdk, const zb_schema *schema,
                                           const zb_config *cfg, zb_stream **out, zb_error **err);

/** Opens a ZB_RECORD_AVRO stream into the schema's table with the table's Avro writer schema
 *  (zb_schema_avro()), as zb_stream_new() does. Such a stream takes Avro datums
 *  (zb_stream_ingest_avro()) and JSON records, each encoded to an Avro datum before it is
 *  accepted; zb_stream_unacked() returns the datums.
 *  @param sdk the SDK whose endpoint the stream uses.
 *  @param schema shared with the stream, which keeps it alive: the caller may destroy it.
 *  @param cfg stream options and callbacks, copied; NULL means defaults.
 *  @param out receives the stream, owned by the caller.
 *  @param err receives a new error object when the call fails, else NULL; may be NULL.
 *  @return as zb_stream_new(), plus ZB_ERR_INVALID_SCHEMA for a table with no Avro form. */
ZB_API zb_status zb_stream_new_avro_from_schema(zb_sdk *sdk, const zb_schema *schema,
                                                const zb_config *cfg, zb_stream **out,
                                                zb_error **err);

/** Accepts one protobuf record on a ZB_RECORD_PROTO stream. The bytes are copied before the
 *  call returns; the record is sent in the background and becomes durable when an ack event
 *  covers its offset. When the in-flight window is full, waits up to stream.ingest.timeout.ms
 *  for room.
 *  @param stream the stream.
 *  @param record the serialized record.
 *  @param len its length in bytes.
 *  @param offset_out receives the record's offset; may be NULL.
 *  @param err receives a new error object when the call fails, else NULL; may be NULL.
 *  @return ZB_OK; ZB_ERR_INVALID_ARG for a NULL stream or record; ZB_ERR_EMPTY_RECORD;
 *  ZB_ERR_RECORD_TOO_LARGE, naming both sizes, when `len` is more than stream.max.payload.bytes
 *  (10,420,224 by default) or the record cannot fit into one request (stream.max.request.bytes),
 *  whatever `len` is (up to SIZE_MAX), before any byte is read;
 *  ZB_ERR_RECORD_TYPE on a JSON stream; ZB_ERR_QUEUE_FULL; ZB_ERR_CLOSED after
 *  zb_stream_close(); after the stream failed, the error it failed with; ZB_ERR_NO_MEMORY. */
ZB_API zb_status zb_stream_ingest_proto(zb_stream *stream, const void *record, size_t len,
                                        uint64_t *offset_out, zb_error **err);

/** Accepts one JSON object (UTF-8 text, not NUL-terminated necessarily) on a ZB_RECORD_JSON
 *  stream, or on a stream of zb_stream_new_from_schema() (encoded to protobuf first), as
 *  zb_stream_ingest_proto() does; ZB_ERR_RECORD_TYPE on any other protobuf stream;
 *  ZB_ERR_INVALID_RECORD, naming the column, for a record its schema does not take.
 *  @param stream the stream.
 *  @param json the record's text, `len` bytes.
 *  @param len its length in bytes.
 *  @param offset_out receives the record's offset; may be NULL.
 *  @param err receives a new error object when the call fails, else NULL; may be NULL.
 *  @return as zb_stream_ingest_proto(), plus ZB_ERR_INVALID_RECORD. */
ZB_API zb_status zb_stream_ingest_json(zb_stream *stream, const char *json, size_t len,
                                       uint64_t *offset_out, zb_error **err);

/** Accepts one Avro datum of the writer schema on a ZB_RECORD_AVRO stream, as
 *  zb_stream_ingest_proto() does for a protobuf record; ZB_ERR_RECORD_TYPE on any other stream.
 *  The datum is not read here: a datum that does not fit the writer schema is refused by the
 *  server, which fails the stream (ZB_ERR_TRANSPORT, INVALID_ARGUMENT, naming the column).
 *  @param stream the stream.
 *  @param datum the datum's bytes.
 *  @param len its length in bytes.
 *  @param offset_out receives the record's offset; may be NULL.
 *  @param err receives a new error object when the call fails, else NULL; may be NULL.
 *  @return as zb_stream_ingest_proto(). */
ZB_API zb_status zb_stream_ingest_avro(zb_stream *stream, const void *datum, size_t len,
                                       uint64_t *offset_out, zb_error **err);

/** Accepts `count` protobuf records as one unit: either all of them or none. They get
 *  consecutive offsets and travel in one request.
 *  @param stream the stream.
 *  @param records, lens arrays of `count` record pointers and lengths.
 *  @param count the number of records.
 *  @param last_offset_out receives the offset of the last record; may be NULL.
 *  @param err receives a new error object when the call fails, else NULL; may be NULL.
 *  @return as zb_stream_ingest_proto(), plus ZB_ERR_EMPTY_BATCH when `count` is 0,
 *  ZB_ERR_INVALID_ARG when an array or one of its records is NULL or `count` is more than two
 *  arrays in memory can hold (PTRDIFF_MAX / 16 on 64 bits), and ZB_ERR_RECORD_TOO_LARGE when
 *  its lengths add up to more than stream.max.payload.bytes or the batch cannot fit into one
 *  request, however large they add up to (past SIZE_MAX included). A record's message names it
 *  by its index. */
ZB_API zb_status zb_stream_ingest_proto_batch(zb_stream *stream, const void *const *records,
                                              const size_t *lens, size_t count,
                                              uint64_t *last_offset_out, zb_error **err);

/** Accepts `count` JSON records as one unit, as zb_stream_ingest_proto_batch() does (and as
 *  zb_stream_ingest_json() does on a stream of zb_stream_new_from_schema(): when one record
 *  does not fit, ZB_ERR_INVALID_RECORD says which, and none is accepted).
 *  @param stream the stream.
 *  @param records an array of `count` JSON texts (not NUL-terminated necessarily).
 *  @param lens their lengths in bytes.
 *  @param count the number of records.
 *  @param last_offset_out receives the offset of the last record; may be NULL.
 *  @param err receives a new error object when the call fails, else NULL; may be NULL.
 *  @return as zb_stream_ingest_proto_batch(), plus ZB_ERR_INVALID_RECORD. */
ZB_API zb_status zb_stream_ingest_json_batch(zb_stream *stream, const char *const *records,
                                             const size_t *lens, size_t count,
                                             uint64_t *last_offset_out, zb_error **err);

/** Accepts `count` Avro datums as one unit, as zb_stream_ingest_proto_batch() does.
 *  @param stream the stream.
 *  @param datums, lens arrays of `count` datum pointers and lengths.
 *  @param count the number of datums.
 *  @param last_offset_out receives the offset of the last datum; may be NULL.
 *  @param err receives a new error object when the call fails, else NULL; may be NULL.
 *  @return as zb_stream_ingest_proto_batch(). */
ZB_API zb_status zb_stream_ingest_avro_batch(zb_stream *stream, const void *const *datums,
                                             const size_t *lens, size_t count,
                                             uint64_t *last_offset_out, zb_error **err);

/** @name Arrow streams
 *  An Arrow stream carries Arrow record batches into a table over Arrow Flight's DoPut, on an
 *  HTTP/2 connection of its own (reference: the service's Arrow Flight ingestion). The server
 *  checks the batches' schema against the table's columns when the stream opens (the Delta to
 *  Arrow mapping is in docs/SCHEMAS.md). Each ingested batch gets one offset, 0, 1, 2, ...:
 *  a batch's offset is durable when every row of the batch is, and ack events, error events,
 *  zb_stream_wait_for_offset(), zb_stream_flush(), zb_stream_close(), zb_stream_poll(),
 *  zb_stream_get_info() (whose records_* count batches), statistics and logging work as for
 *  record streams. The server acknowledges rows: after a broken connection a batch it
 *  acknowledged in part is sent again cut to its rows that were not. A batch too large for one
 *  message (stream.max.request.bytes, 10 MiB) travels in several, split by rows. arrow.compression
 *  compresses the IPC bodies (none, lz4_frame, zstd). stream.max.inflight.records bounds the
 *  batches in flight, stream.max.inflight.bytes their encoded bytes. stream.lanes must be 1.
 *  zb_stream_unacked() gives each unacknowledged batch as an IPC stream (its schema, the batch
 *  cut to its unacknowledged rows, the end-of-stream marker), under the batch's offset;
 *  zb_stream_recreate() sends them to a new Arrow stream. The record functions
 *  (zb_stream_ingest_proto() and the others) return ZB_ERR_RECORD_TYPE on an Arrow stream, and
 *  the Arrow ones on a record stream. Like every function on a stream but zb_stream_destroy(),
 *  the Arrow functions may be called from any number of threads at once; batches ingested
 *  concurrently get their offsets in the order the calls take them.
 *  Types: boolean, int8/16/32/64, float32/64, utf8, large_utf8, binary, large_binary, date32,
 *  timestamp[us] with or without a time zone, decimal128, list, struct and map, with nulls and
 *  slices (non-zero offsets); dictionary-encoded columns are expanded. Anything else is refused
 *  with ZB_ERR_INVALID_SCHEMA naming the column and the type.
 *  @{ */

/** Opens an Arrow stream into `table_name` for record batches of `schema`, as zb_stream_new()
 *  opens a record stream, and returns once the server has accepted it (its ready signal).
 *  @param sdk the SDK whose endpoint the stream uses.
 *  @param table_name the table, "catalog.schema.table".
 *  @param schema the batches' schema, a struct ("+s") of the columns, in the Arrow C Data
 *  Interface; borrowed: read during the call, neither moved nor released. Columns may be
 *  dictionary-encoded: zb_stream_ingest_arrow() then takes their arrays so.
 *  @param cfg stream options and callbacks, copied; NULL means defaults.
 *  @param out receives the stream, owned by the caller (zb_stream_close(), zb_stream_destroy()).
 *  @param err receives a new error object when the call fails, else NULL; may be NULL.
 *  @return ZB_OK; ZB_ERR_INVALID_ARG for NULL pointers, a released schema or stream.lanes above
 *  1; ZB_ERR_INVALID_SCHEMA for a schema that is not a struct of columns or has a type listed
 *  above as refused (naming the column and the type); otherwise as zb_stream_new(): a schema that
 *  does not fit the table is refused by the server, ZB_ERR_TRANSPORT (INVALID_ARGUMENT) naming
 *  the column and both types. */
ZB_API zb_status zb_stream_new_arrow(zb_sdk *sdk, const char *table_name,
                                     const struct ArrowSchema *schema, const zb_config *cfg,
                                     zb_stream **out, zb_error **err);

/** Opens an Arrow stream as zb_stream_new_arrow() does, with the schema given as Arrow IPC
 *  bytes: an IPC stream (the encapsulated schema message, and the end-of-stream marker or
 *  nothing after it), as pyarrow's `schema.serialize()` or an IPC stream writer without batches
 *  gives it. Arrays given to zb_stream_ingest_arrow() then have no dictionary-encoded column.
 *  @param sdk the SDK whose endpoint the stream uses.
 *  @param table_name the table, "catalog.schema.table".
 *  @param schema_ipc the bytes, read during the call only.
 *  @param len their length.
 *  @param cfg stream options and callbacks, copied; NULL means defaults.
 *  @param out receives the stream, owned by the caller.
 *  @param err receives a new error object when the call fails, else NULL; may be NULL.
 *  @return as zb_stream_new_arrow(), with ZB_ERR_INVALID_ARG also for a NULL schema_ipc or a
 *  len over PTRDIFF_MAX, and ZB_ERR_INVALID_SCHEMA for bytes that are not such an IPC stream
 *  or that hold record batches. */
ZB_API zb_status zb_stream_new_arrow_ipc(zb_sdk *sdk, const char *table_name,
                                         const void *schema_ipc, size_t len, const zb_config *cfg,
                                         zb_stream **out, zb_error **err);

/** Accepts one record batch on an Arrow stream under one offset, as a struct array of the
 *  stream's schema (a record batch in the Arrow C Data Interface), without copying it: with
 *  arrow.compression=none its buffers go to the wire as they are.
 *  Ownership (the C Data Interface's move): unless the call returns ZB_ERR_INVALID_ARG, the
 *  library has taken the batch: on return `batch->release` is NULL and the library owns the
 *  data. On ZB_OK the library calls the producer's release exactly once, after the server has
 *  acknowledged every row of the batch, or when the stream is destroyed with the batch
 *  unacknowledged (a zb_stream_recreate() of it sharing the data: when both are destroyed);
 *  until then the buffers must stay as they are. On any other error it has called release
 *  before returning. It never calls it twice. With ZB_ERR_INVALID_ARG the batch is untouched,
 *  still the caller's. When the window is full, waits up to stream.ingest.timeout.ms for room.
 *  @param stream the stream.
 *  @param batch the batch, moved into the library.
 *  @param offset_out receives the batch's offset; may be NULL.
 *  @param err receives a new error object when the call fails, else NULL; may be NULL.
 *  @return ZB_OK; ZB_ERR_INVALID_ARG for a NULL stream or batch, or a released batch;
 *  ZB_ERR_RECORD_TYPE on a record stream; ZB_ERR_INVALID_RECORD for an array whose shape
 *  contradicts the schema (buffer or child counts, lengths, offsets; the message names the
 *  column); ZB_ERR_EMPTY_BATCH for a batch of no rows; ZB_ERR_RECORD_TOO_LARGE when one row
 *  alone does not fit into one message; ZB_ERR_QUEUE_FULL; ZB_ERR_CLOSED after
 *  zb_stream_close(); after the stream failed, the error it failed with; ZB_ERR_NO_MEMORY. */
ZB_API zb_status zb_stream_ingest_arrow(zb_stream *stream, struct ArrowArray *batch,
                                        uint64_t *offset_out, zb_error **err);

/** Accepts every batch of an Arrow C stream, in order, each under an offset of its own as
 *  zb_stream_ingest_arrow() accepts it (batches of no rows are skipped). The stream's schema
 *  must equal the Arrow stream's (dictionary-encoded columns compared by their values).
 *  Ownership: unless the call returns ZB_ERR_INVALID_ARG the library takes `batches` (moved:
 *  on return its release is NULL); it releases the C stream before returning, and each batch
 *  as zb_stream_ingest_arrow() does. At the first failure it stops: the batches before it stay
 *  accepted (`*count_out` says how many).
 *  @param stream the stream.
 *  @param batches the C stream, moved into the library.
 *  @param last_offset_out receives the offset of the last batch accepted; may be NULL.
 *  @param count_out receives the number of batches accepted; may be NULL.
 *  @param err receives a new error object when the call fails, else NULL; may be NULL.
 *  @return as zb_stream_ingest_arrow(), plus ZB_ERR_INVALID_SCHEMA when the C stream's schema
 *  is not the stream's (naming the first column that differs) and ZB_ERR_INVALID_RECORD when
 *  the C stream fails (quoting its get_last_error). */
ZB_API zb_status zb_stream_ingest_arrow_stream(zb_stream *stream, struct ArrowArrayStream *batches,
                                               uint64_t *last_offset_out, size_t *count_out,
                                               zb_error **err);

/** Accepts the record batches of Arrow IPC bytes (the IPC stream format: a schema message, the
 *  stream's, then record batches; dictionary batches are expanded), copied before the call
 *  returns, each batch under an offset of its own as zb_stream_ingest_arrow() accepts it
 *  (batches of no rows are skipped). Every batch is decoded before any is accepted; at a later
 *  failure (the window, the stream) the batches before it stay accepted.
 *  @param stream the stream.
 *  @param data the bytes, read during the call only.
 *  @param len their length.
 *  @param last_offset_out receives the offset of the last batch accepted; may be NULL.
 *  @param count_out receives the number of batches accepted; may be NULL.
 *  @param err receives a new error object when the call fails, else NULL; may be NULL.
 *  @return as zb_stream_ingest_arrow() (ZB_ERR_INVALID_ARG also for NULL data or a len over
 *  PTRDIFF_MAX), plus ZB_ERR_INVALID_RECORD for bytes that do not
 *  decode (the message says what and where), ZB_ERR_INVALID_SCHEMA for a schema that is not
 *  the stream's, and ZB_ERR_EMPTY_BATCH when they hold no rows at all. */
ZB_API zb_status zb_stream_ingest_arrow_ipc(zb_stream *stream, const void *data, size_t len,
                                            uint64_t *last_offset_out, size_t *count_out,
                                            zb_error **err);

/** @} */

/** Waits until `offset` is durable. Runs no callback.
 *  @param stream the stream.
 *  @param offset the offset to wait for.
 *  @param timeout_ms how long to wait, in milliseconds: 0 or more, or ZB_TIMEOUT_INFINITE.
 *  @param err receives a new error object when the call fails, else NULL; may be NULL.
 *  @return ZB_OK; ZB_ERR_INVALID_ARG for a NULL stream or an offset never issued; ZB_ERR_TIMEOUT
 *  when `timeout_ms` ran out first (the stream keeps going: a caller may wait again); the
 *  stream's error if it failed or was closed before the offset was acknowledged, which is never
 *  ZB_ERR_TIMEOUT. */
ZB_API zb_status zb_stream_wait_for_offset(zb_stream *stream, uint64_t offset, int32_t timeout_ms,
                                           zb_error **err);

/** Waits until every record accepted before the call is durable. Runs no callback.
 *  @param stream the stream.
 *  @param timeout_ms how long to wait, in milliseconds: 0 or more, or ZB_TIMEOUT_INFINITE.
 *  @param err receives a new error object when the call fails, else NULL; may be NULL.
 *  @return ZB_OK (also when nothing was ever ingested); ZB_ERR_INVALID_ARG; ZB_ERR_TIMEOUT (the
 *  stream keeps going); the stream's error if it failed. */
ZB_API zb_status zb_stream_flush(zb_stream *stream, int32_t timeout_ms, zb_error **err);

/** Closes the stream gracefully: stops accepting records, waits up to `timeout_ms` for every
 *  accepted record to be acknowledged, ends the gRPC call, and waits for the event callback to
 *  deliver the events queued so far (unless called from that callback). Records still
 *  unacknowledged get an error event and stay retrievable with zb_stream_unacked().
 *  Graceful on the wire too: once every record is acknowledged, the call is half-closed (the
 *  client's side of the HTTP/2 stream ends, as the official SDKs end it) and the server's final
 *  status is awaited, within what is left of `timeout_ms` and at most stream.ack.timeout.ms;
 *  only when that time runs out, when records stay unacknowledged, or on zb_stream_destroy()
 *  without a close is the call cancelled (RST_STREAM). Which of these ended the call does not
 *  change what the close returns.
 *  Idempotent: a second call returns what the first returned.
 *  @param stream the stream.
 *  @param timeout_ms how long to wait, in milliseconds: 0 or more, or ZB_TIMEOUT_INFINITE.
 *  @param err receives a new error object when the call fails, else NULL; may be NULL.
 *  @return ZB_OK when every record was acknowledged; ZB_ERR_TIMEOUT (the message counts the
 *  records left); the stream's error if it failed; ZB_ERR_INVALID_ARG for a NULL stream;
 *  ZB_ERR_STATE, closing nothing, when called from a log callback or a headers provider (see
 *  zb_log_cb). */
ZB_API zb_status zb_stream_close(zb_stream *stream, int32_t timeout_ms, zb_error **err);

/** Frees the stream. A barrier: when it returns, no event callback or wakeup of this stream is
 *  running or will run, and every free_user_data the stream held has run (unless a config
 *  still holds that registration). A stream that was not closed is closed at once, abandoning
 *  records not yet acknowledged. Called from the stream's own event callback, it takes effect
 *  when the callback returns. Called from a log callback or a headers provider, it does nothing:
 *  the stream stays valid, to be destroyed from another thread (see zb_log_cb). Not
 *  thread-safe: no other call on `stream` may be running or follow. NULL is ignored.
 *  @param stream the stream; may be NULL. */
ZB_API void zb_stream_destroy(zb_stream *stream);

/** The state of a stream, in zb_stream_info and the statistics. */
typedef int32_t zb_stream_state;
/** Connected: records flow to the server. */
#define ZB_STREAM_OPEN 1
/** Reconnecting after a retryable failure; ingest is still accepted into the window. */
#define ZB_STREAM_RECOVERING 2
/** The server announced it will close the call: acks drain, new records wait for the next
 *  connection (stream.paused.max.wait.ms). */
#define ZB_STREAM_PAUSED 3
/** Failed for good; every call reports the error it failed with. */
#define ZB_STREAM_FAILED 4
/** Closed by zb_stream_close(). */
#define ZB_STREAM_CLOSED 5

/** The state's name as the statistics spell it ("open", "recovering", "paused", "failed",
 *  "closed"), a static string, or NULL for a state this version of the library does not know.
 *  States are contiguous from ZB_STREAM_OPEN, so a binding can enumerate them by counting up
 *  until NULL. Thread-safe.
 *  @param state the state.
 *  @return the name, or NULL for an unknown state. */
ZB_API const char *zb_stream_state_name(zb_stream_state state);

/** A snapshot of a stream. Grows only at the end; the caller sets struct_size. */
typedef struct zb_stream_info {
  uint32_t struct_size;       /**< set by the caller to sizeof(zb_stream_info) */
  zb_stream_state state;      /**< one of the ZB_STREAM_* states */
  uint64_t records_accepted;  /**< offsets issued so far (the next offset) */
  uint64_t records_acked;     /**< every offset below this is durable */
  uint64_t records_in_flight; /**< accepted and not yet acknowledged */
  uint64_t bytes_in_flight;   /**< their bytes, framing included */
  uint64_t recoveries;        /**< connections re-established after a failure or close signal */
  uint64_t records_replayed;  /**< records sent again on a new connection */
} zb_stream_info;

/** Initializer for zb_stream_info. */
#define ZB_STREAM_INFO_INIT \
  { sizeof(zb_stream_info), 0, 0, 0, 0, 0, 0, 0 }

/** Fills `out` with the stream's state and counters, as much as out->struct_size has room for.
 *  @param stream the stream.
 *  @param out receives the snapshot; its struct_size set by the caller (ZB_STREAM_INFO_INIT).
 *  @param err receives a new error object when the call fails, else NULL; may be NULL.
 *  @return ZB_OK; ZB_ERR_INVALID_ARG for NULL pointers or a struct_size too small for the
 *  state. */
ZB_API zb_status zb_stream_get_info(zb_stream *stream, zb_stream_info *out, zb_error **err);

/** Opens a new stream like `stream` (same SDK, table, record type, descriptor, options and
 *  callbacks) and ingests into it, in order and in their original requests (with
 *  stream.lanes above 1: in offset order, one record per call), every record that
 *  `stream` did not get acknowledged: the way to carry on after a failure or a timed-out close.
 *  Records replayed this way may be stored twice if the server had made them durable without
 *  acknowledging them (at-least-once). The new stream's offsets start at 0; `stream` itself is
 *  unchanged and still has to be destroyed.
 *  @param stream the failed or closed stream.
 *  @param out receives the new stream, owned by the caller.
 *  @param err receives a new error object when the call fails, else NULL; may be NULL.
 *  @return ZB_OK; ZB_ERR_INVALID_ARG; ZB_ERR_STATE while `stream` is neither failed nor closed;
 *  any error of zb_stream_new() or of ingest (the new stream is then destroyed). */
ZB_API zb_status zb_stream_recreate(zb_stream *stream, zb_stream **out, zb_error **err);

/** Takes up to `capacity` events from the stream's queue, oldest first, waiting up to
 *  `timeout_ms` for the first (0 returns at once). Acks that arrive while an earlier ack event
 *  is still queued are merged into it, so the queue stays small when nobody polls.
 *  @param stream the stream.
 *  @param events an array of `capacity` events; the library writes `event_size` bytes of each.
 *  @param event_size sizeof(zb_event) as the caller knows it.
 *  @param capacity the number of events `events` has room for.
 *  @param timeout_ms how long to wait for the first event: 0 or more, or ZB_TIMEOUT_INFINITE.
 *  @param count_out receives the number of events written.
 *  @param err receives a new error object when the call fails, else NULL; may be NULL.
 *  @return ZB_OK (with *count_out 0 on timeout); ZB_ERR_INVALID_ARG for NULL pointers, an
 *  event_size too small, or `capacity` events of `event_size` bytes more than memory can hold
 *  (PTRDIFF_MAX); ZB_ERR_STATE when the stream has an event callback. One thread at a
 *  time should poll a stream; concurrent polls are safe but split the events between them. */
ZB_API zb_status zb_stream_poll(zb_stream *stream, zb_event *events, size_t event_size,
                                size_t capacity, int32_t timeout_ms, size_t *count_out,
                                zb_error **err);

/** Copies every record the stream accepted and that is not yet acknowledged, in offset order.
 *  After a failure or a timed-out close, these are exactly the records of the error events;
 *  with stream.lanes above 1 they may be fewer, as the error event covers every offset above
 *  the watermark, records other lanes got acknowledged included.
 *  @param stream the stream.
 *  @param out receives the list, owned by the caller (zb_records_free()).
 *  @param err receives a new error object when the call fails, else NULL; may be NULL.
 *  @return ZB_OK; ZB_ERR_INVALID_ARG; ZB_ERR_NO_MEMORY. */
ZB_API zb_status zb_stream_unacked(zb_stream *stream, zb_records **out, zb_error **err);

/** The number of records in `records`; 0 for NULL. A record list is immutable: any number of
 *  threads may read it at once, until zb_records_free().
 *  @param records the record list.
 *  @return the number of records; 0 for NULL. */
ZB_API size_t zb_records_count(const zb_records *records);

/** Reads record `index` of `records`.
 *  @param records the record list.
 *  @param index which record, from 0.
 *  @param data receives a pointer to the record's bytes, valid until zb_records_free().
 *  @param len receives its length. @param offset receives its offset; may be NULL.
 *  @param err receives a new error object when the call fails, else NULL; may be NULL.
 *  @return ZB_OK; ZB_ERR_INVALID_ARG for NULL pointers or an index out of range. */
ZB_API zb_status zb_records_get(const zb_records *records, size_t index, const void **data,
                                size_t *len, uint64_t *offset, zb_error **err);

/** Frees a record list and every pointer zb_records_get() returned from it. NULL is
 *  ignored.
 *  @param records the record list; may be NULL. */
ZB_API void zb_records_free(zb_records *records);

/** @} */

/* ----------------------------------------------------------------------------------------- */
/** @defgroup statistics Statistics
 *  Statistics are JSON objects, documented field by field in docs/STATISTICS.md. The SDK's
 *  object holds "ts_us" (when it was taken, microseconds since the Unix epoch), "version",
 *  "endpoint" and "streams": one object per live stream, in the order they opened, as
 *  zb_stream_stats_json() gives it: "ts_us", "table", "record_type", "state" ("open",
 *  "recovering", "paused", "failed", "closed"), "server_stream_id", "offsets" ("issued", "sent",
 *  "acked"), "in_flight" ("records", "bytes"), "recoveries", "records_replayed", "errors"
 *  ("count", "last": null or "code", "name", "grpc_status", "retryable", "message"), "wire"
 *  ("requests", "records", "bytes", "acks") and "ack_latency_us" ("count", "min", "max", "mean",
 *  "p50", "p99", "p99_9": microseconds from a request's write to the ack that covered it, since
 *  the stream opened). Counters only grow; fields are only added, never renamed or removed.
 *  A snapshot locks each stream about as briefly as zb_stream_get_info() does; ingest does no
 *  work for statistics.
 *  @{ */

/** Receives an SDK's statistics every statistics.interval.ms, on a thread the library owns for
 *  that SDK (one call at a time, never on a network thread, never while the library holds a
 *  lock). It may call any zb_* function; zb_sdk_destroy() of its own SDK takes effect once the
 *  callback returns. It should return within the interval: reports it overruns are skipped.
 *  @param sdk the SDK reported on; borrowed.
 *  @param json the statistics, as zb_sdk_stats_json() gives them, NUL-terminated; valid during
 *  the call only.
 *  @param len the length of `json`, NUL not included.
 *  @param user_data as registered. */
typedef void (*zb_stats_cb)(zb_sdk *sdk, const char *json, size_t len, void *user_data);

/** Registers the statistics callback of SDKs created from this config, replacing an earlier
 *  one. zb_sdk_new() reads it with statistics.interval.ms: with an interval of 0 (the default)
 *  the callback is never called.
 *  @param cfg the config.
 *  @param cb the callback, or NULL to remove it (a free_user_data given with NULL runs at once).
 *  @param user_data handed to every call of `cb`.
 *  @param free_user_data may be NULL; runs exactly once, when nothing holds the registration
 *  any more: the config, and every SDK created with it that calls it (one with an interval),
 *  have been destroyed.
 *  @param err receives the error on failure; may be NULL.
 *  @return ZB_OK; ZB_ERR_INVALID_ARG if `cfg` is NULL (free_user_data does not run: `user_data`
 *  stays the caller's); ZB_ERR_NO_MEMORY, after free_user_data has run. */
ZB_API zb_status zb_config_set_stats_callback(zb_config *cfg, zb_stats_cb cb, void *user_data,
                                              zb_free_cb free_user_data, zb_error **err);

/** The statistics of the SDK and of every live stream created from it, as JSON. Thread-safe.
 *  @param sdk the SDK.
 *  @param json_out receives a new NUL-terminated string, owned by the caller (zb_string_free()).
 *  @param len_out receives its length, NUL not included; may be NULL.
 *  @param err receives the error on failure; may be NULL.
 *  @return ZB_OK; ZB_ERR_INVALID_ARG if `sdk` or `json_out` is NULL; ZB_ERR_NO_MEMORY. */
ZB_API zb_status zb_sdk_stats_json(zb_sdk *sdk, char **json_out, size_t *len_out, zb_error **err);

/** The statistics of one stream, as JSON: the object that zb_sdk_stats_json() lists for it.
 *  Thread-safe, like every function on a stream but zb_stream_destroy().
 *  @param stream the stream.
 *  @param json_out receives a new NUL-terminated string, owned by the caller (zb_string_free()).
 *  @param len_out receives its length, NUL not included; may be NULL.
 *  @param err receives the error on failure; may be NULL.
 *  @return ZB_OK; ZB_ERR_INVALID_ARG if `stream` or `json_out` is NULL; ZB_ERR_NO_MEMORY. */
ZB_API zb_status zb_stream_stats_json(zb_stream *stream, char **json_out, size_t *len_out,
                                      zb_error **err);

/** Frees a string the library allocated for the caller (zb_sdk_stats_json(),
 *  zb_stream_stats_json()). NULL is ignored.
 *  @param str the string. */
ZB_API void zb_string_free(char *str);

/** @} */

/* ----------------------------------------------------------------------------------------- */
/** @defgroup persistent Persistent streams (experimental)
 *  Declared only when ZB_EXPERIMENTAL_PERSISTENT is defined before this header is included:
 *  the service marks PersistentStream and RetireStream "in development: may change or be
 *  removed", and so these functions may change or go in any release, without a new SONAME. The
 *  library always exports them.
 *
 *  A persistent stream has a durable id (zb_stream_persistent_id()) with which any process can
 *  resume it (zb_stream_resume()) from the last offset the server committed, so that nothing is
 *  stored twice and nothing is lost, across a dropped connection or a crashed process.
 *
 *  Offsets: on a persistent stream each wire request carries exactly one record, so the offset
 *  ingest returns IS the durable offset the server commits. A stream created anew issues
 *  0, 1, 2, ...; one resumed issues the resume watermark + 1 first (0 when nothing is
 *  committed), continuing the offsets of the processes before it. A process that crashed thus
 *  learns from the watermark alone which of its records are durable: every offset at or below
 *  it, and none above. Batch ingest is accepted as on any stream and sends one request per
 *  record, back to back; the service's quota of 100,000 records/s per stream is what bounds
 *  the rate, not the request count.
 *
 *  Everything a stream does works as @ref streams documents it: ingest, events, waits, flush,
 *  close, poll, zb_stream_unacked(), zb_stream_info(), statistics and logging. A connection
 *  that breaks resumes the same stream by its id, and sends again only the records above the
 *  watermark the server answers (never one at or below it: the service would store it
 *  twice). zb_stream_recreate() of a persistent stream resumes it the same way. Closing leaves
 *  the stream resumable; zb_stream_retire() ends it for good.
 *
 *  Refusals, each with ZB_ERR_TRANSPORT and the gRPC status zb_error_grpc_status() returns:
 *  NOT_FOUND (5), an id the server does not know (another server or data directory), final;
 *  FAILED_PRECONDITION (9), a retired stream, final; INVALID_ARGUMENT (3), a resume with
 *  another record type or descriptor than the creating one, final; ABORTED (10), another call
 *  holds the stream (another client, or this process's own lost connection the server has not
 *  ended yet), retried with backoff within recovery.retries, then returned.
 *
 *  Lanes: stream.lanes must be 1 (ZB_ERR_INVALID_ARG otherwise): lanes are separate server
 *  streams with offsets of their own, which no single durable watermark describes.
 *
 *  Thread-safety: as for every stream; the functions below that take an SDK are thread-safe.
 *  @{ */
#ifdef ZB_EXPERIMENTAL_PERSISTENT

/** Creates a persistent stream into `table_name` and returns once the server has created it;
 *  its durable id is then readable (zb_stream_persistent_id()).
 *  @param sdk the SDK whose endpoint and connection the stream uses.
 *  @param table_name the table, "catalog.schema.table".
 *  @param record_type ZB_RECORD_PROTO, ZB_RECORD_JSON or ZB_RECORD_AVRO.
 *  @param descriptor as for zb_stream_new(): the DescriptorProto of a protobuf stream, the Avro
 *  writer schema of an Avro one, NULL for JSON; copied.
 *  @param descriptor_len the descriptor's length in bytes, at most 10 MiB.
 *  @param cfg stream options and callbacks, copied; NULL means defaults.
 *  @param out receives the stream, owned by the caller (zb_stream_close(), zb_stream_destroy()).
 *  @param err receives a new error object when the call fails, else NULL; may be NULL.
 *  @return as zb_stream_new(), plus ZB_ERR_INVALID_ARG for stream.lanes > 1, and
 *  ZB_ERR_TRANSPORT with FAILED_PRECONDITION from a server that cannot keep persistent streams
 *  (`zerobus serve --null-sink`). */
ZB_API zb_status zb_stream_new_persistent(zb_sdk *sdk, const char *table_name,
                                          zb_record_type record_type, const void *descriptor,
                                          size_t descriptor_len, const zb_config *cfg,
                                          zb_stream **out, zb_error **err);

/** Resumes persistent stream `stream_id` of `table_name` and returns once the server has
 *  resumed it: zb_stream_resume_watermark() then tells what it had committed, and the next
 *  offset ingest returns is that watermark + 1.
 *  @param sdk the SDK whose endpoint and connection the stream uses.
 *  @param table_name the stream's table, "catalog.schema.table".
 *  @param stream_id the id zb_stream_persistent_id() gave, NUL-terminated; copied.
 *  @param record_type the record type the stream was created with.
 *  @param descriptor what the stream was created with: a protobuf descriptor must be the same
 *  byte for byte (the server checks it); an Avro writer schema should be (the server does not
 *  check it); NULL for JSON. Copied.
 *  @param descriptor_len the descriptor's length in bytes, at most 10 MiB.
 *  @param cfg stream options and callbacks, copied; NULL means defaults.
 *  @param out receives the stream, owned by the caller (zb_stream_close(), zb_stream_destroy()).
 *  @param err receives a new error object when the call fails, else NULL; may be NULL.
 *  @return as zb_stream_new(), plus ZB_ERR_INVALID_ARG for a NULL or empty stream_id or
 *  stream.lanes > 1, and the refusals listed above (ZB_ERR_TRANSPORT: NOT_FOUND,
 *  FAILED_PRECONDITION, INVALID_ARGUMENT, ABORTED once recovery.retries are spent). */
ZB_API zb_status zb_stream_resume(zb_sdk *sdk, const char *table_name, const char *stream_id,
                                  zb_record_type record_type, const void *descriptor,
                                  size_t descriptor_len, const zb_config *cfg, zb_stream **out,
                                  zb_error **err);

/** The durable id of a persistent stream, to save for zb_stream_resume() and
 *  zb_stream_retire(). Thread-safe.
 *  @param stream the stream.
 *  @param id_out receives a new NUL-terminated string, owned by the caller (zb_string_free()).
 *  @param len_out receives its length, NUL not included; may be NULL.
 *  @param err receives the error on failure; may be NULL.
 *  @return ZB_OK; ZB_ERR_INVALID_ARG if `stream` or `id_out` is NULL; ZB_ERR_STATE for a stream
 *  that is not persistent; ZB_ERR_NO_MEMORY. */
ZB_API zb_status zb_stream_persistent_id(zb_stream *stream, char **id_out, size_t *len_out,
                                         zb_error **err);

/** The watermark a persistent stream was resumed at: the last offset the server had committed
 *  when zb_stream_resume() opened it. Thread-safe.
 *  @param stream the stream.
 *  @param has_committed receives 1 when the server had committed records, 0 when it had
 *  committed none (and for a stream zb_stream_new_persistent() created).
 *  @param last_committed receives the last committed offset when *has_committed is 1, else 0.
 *  @param err receives the error on failure; may be NULL.
 *  @return ZB_OK; ZB_ERR_INVALID_ARG for a NULL argument; ZB_ERR_STATE for a stream that is
 *  not persistent. */
ZB_API zb_status zb_stream_resume_watermark(zb_stream *stream, int32_t *has_committed,
                                            uint64_t *last_committed, zb_error **err);

/** Retires persistent stream `stream_id` of `table_name` for good: the server refuses every
 *  resume of it afterwards (FAILED_PRECONDITION), and a call still open on it stores nothing
 *  more. Idempotent. One call within recovery.timeout.ms, authenticated as a stream of `cfg`
 *  would be, not retried. Thread-safe.
 *  @param sdk the SDK whose endpoint and connection the call uses.
 *  @param table_name the stream's table, "catalog.schema.table".
 *  @param stream_id the stream's durable id, NUL-terminated.
 *  @param cfg credentials and recovery.timeout.ms; NULL means defaults.
 *  @param err receives a new error object when the call fails, else NULL; may be NULL.
 *  @return ZB_OK; ZB_ERR_INVALID_ARG for a NULL argument, an empty id or credentials as
 *  zb_stream_new() checks them; ZB_ERR_INVALID_TARGET for a malformed table name; ZB_ERR_AUTH;
 *  ZB_ERR_TRANSPORT with the gRPC status: NOT_FOUND for an id the server does not know for that
 *  table, UNAVAILABLE or DEADLINE_EXCEEDED (retryable) when it could not be reached in time. */
ZB_API zb_status zb_stream_retire(zb_sdk *sdk, const char *table_name, const char *stream_id,
                                  const zb_config *cfg, zb_error **err);

#endif /* ZB_EXPERIMENTAL_PERSISTENT */
/** @} */

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* ZEROBUS_ZEROBUS_H */
