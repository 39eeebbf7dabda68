//! Raw declarations of libzerobus's C ABI, `include/zerobus/zerobus.h`, written to match it
//! item for item. The header's doc comments are the reference for every function: what it
//! owns, what it borrows, which threads may call it and which errors it returns. The safe API
//! is the `zerobus` crate.
//!
//! `build.rs` links the library found by pkg-config (`zerobus.pc`); at run time it is found
//! through the rpath of the executable or `LD_LIBRARY_PATH`. `tests/header_match.rs` compiles
//! every item of this file, translated to C, together with the header, so the two cannot
//! drift apart.
#![no_std]
#![allow(non_camel_case_types)]
#![warn(missing_docs)]

use core::ffi::{c_char, c_void};
use core::marker::{PhantomData, PhantomPinned};
use core::mem::size_of;
use core::ptr::null_mut;

/// Waits without a time limit, wherever a timeout is taken.
pub const ZB_TIMEOUT_INFINITE: i32 = -1;

/// An error object: code, message, retryable flag and gRPC status (`zb_error_*`).
#[repr(C)]
pub struct zb_error {
    _private: [u8; 0],
    _not_send_sync_unpin: PhantomData<(*mut u8, PhantomPinned)>,
}

/// A set of string-keyed options (`zb_config_*`).
#[repr(C)]
pub struct zb_config {
    _private: [u8; 0],
    _not_send_sync_unpin: PhantomData<(*mut u8, PhantomPinned)>,
}

/// The gRPC metadata of one connection attempt, filled in by a headers provider.
#[repr(C)]
pub struct zb_headers {
    _private: [u8; 0],
    _not_send_sync_unpin: PhantomData<(*mut u8, PhantomPinned)>,
}

/// Where the token federation callback puts the subject token it supplies.
#[repr(C)]
pub struct zb_token_sink {
    _private: [u8; 0],
    _not_send_sync_unpin: PhantomData<(*mut u8, PhantomPinned)>,
}

/// A Zerobus endpoint whose streams share one connection (`zb_sdk_*`).
#[repr(C)]
pub struct zb_sdk {
    _private: [u8; 0],
    _not_send_sync_unpin: PhantomData<(*mut u8, PhantomPinned)>,
}

/// A stream of records into one table (`zb_stream_*`).
#[repr(C)]
pub struct zb_stream {
    _private: [u8; 0],
    _not_send_sync_unpin: PhantomData<(*mut u8, PhantomPinned)>,
}

/// The Arrow C Data Interface's schema (`struct ArrowSchema`), opaque here: the Arrow functions
/// take it by pointer, and the `arrow` crates' `FFI_ArrowSchema` is its full declaration.
#[repr(C)]
pub struct ArrowSchema {
    _private: [u8; 0],
    _not_send_sync_unpin: PhantomData<(*mut u8, PhantomPinned)>,
}

/// The Arrow C Data Interface's array (`struct ArrowArray`), opaque as [`ArrowSchema`] is.
#[repr(C)]
pub struct ArrowArray {
    _private: [u8; 0],
    _not_send_sync_unpin: PhantomData<(*mut u8, PhantomPinned)>,
}

/// The Arrow C Stream Interface's stream (`struct ArrowArrayStream`), opaque as [`ArrowSchema`]
/// is.
#[repr(C)]
pub struct ArrowArrayStream {
    _private: [u8; 0],
    _not_send_sync_unpin: PhantomData<(*mut u8, PhantomPinned)>,
}

/// A table's schema: its descriptor, `.proto` source and JSON encoder (`zb_schema_*`).
#[repr(C)]
pub struct zb_schema {
    _private: [u8; 0],
    _not_send_sync_unpin: PhantomData<(*mut u8, PhantomPinned)>,
}

/// A list of records with their offsets, from `zb_stream_unacked()`.
#[repr(C)]
pub struct zb_records {
    _private: [u8; 0],
    _not_send_sync_unpin: PhantomData<(*mut u8, PhantomPinned)>,
}

/// The major version of the header these declarations match.
pub const ZB_VERSION_MAJOR: u32 = 0;
/// The minor version of the header these declarations match.
pub const ZB_VERSION_MINOR: u32 = 1;
/// The patch version of the header these declarations match.
pub const ZB_VERSION_PATCH: u32 = 0;
/// The version as one number, 0xMMmmpp, comparable with `zb_version()`.
pub const ZB_VERSION_NUM: u32 =
    (ZB_VERSION_MAJOR << 16) | (ZB_VERSION_MINOR << 8) | ZB_VERSION_PATCH;

/// A status code: `ZB_OK` or one of the `ZB_ERR_*` codes. Codes are only ever appended.
pub type zb_status = i32;

/// Success.
pub const ZB_OK: zb_status = 0;
/// A required pointer was NULL, or an argument is out of its documented range.
pub const ZB_ERR_INVALID_ARG: zb_status = 1;
/// A configuration key the library does not know.
pub const ZB_ERR_UNKNOWN_KEY: zb_status = 2;
/// A configuration value that does not parse or is out of range for its key.
pub const ZB_ERR_INVALID_VALUE: zb_status = 3;
/// The in-flight window is full and the ingest could not wait.
pub const ZB_ERR_QUEUE_FULL: zb_status = 4;
/// A wait ended before its condition held.
pub const ZB_ERR_TIMEOUT: zb_status = 5;
/// The stream was closed; it accepts no more records.
pub const ZB_ERR_CLOSED: zb_status = 6;
/// A record of zero bytes.
pub const ZB_ERR_EMPTY_RECORD: zb_status = 7;
/// A record that cannot fit into one request.
pub const ZB_ERR_RECORD_TOO_LARGE: zb_status = 8;
/// A batch of zero records.
pub const ZB_ERR_EMPTY_BATCH: zb_status = 9;
/// Records of the other record type than the stream's.
pub const ZB_ERR_RECORD_TYPE: zb_status = 10;
/// The endpoint, table name or descriptor is malformed.
pub const ZB_ERR_INVALID_TARGET: zb_status = 11;
/// The gRPC call failed or the server ended it.
pub const ZB_ERR_TRANSPORT: zb_status = 12;
/// The server broke the protocol.
pub const ZB_ERR_PROTOCOL: zb_status = 13;
/// The headers provider failed or gave headers that cannot be sent.
pub const ZB_ERR_AUTH: zb_status = 14;
/// The call is not allowed in the object's current state or from the calling thread.
pub const ZB_ERR_STATE: zb_status = 15;
/// Memory could not be allocated.
pub const ZB_ERR_NO_MEMORY: zb_status = 16;
/// A bug in the library; the message says where.
pub const ZB_ERR_INTERNAL: zb_status = 17;
/// A table description or DDL that is malformed or has a type the service cannot take.
pub const ZB_ERR_INVALID_SCHEMA: zb_status = 18;
/// A JSON record that does not fit the table's schema.
pub const ZB_ERR_INVALID_RECORD: zb_status = 19;

/// Releases a `user_data` pointer given to the library; called exactly once.
pub type zb_free_cb = Option<unsafe extern "C" fn(user_data: *mut c_void)>;

/// Describes one configuration key; the caller sets `struct_size`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct zb_config_property {
    /// `size_of::<zb_config_property>()`, set by the caller.
    pub struct_size: u32,
    /// The key, e.g. "recovery.retries"; a static string.
    pub name: *const c_char,
    /// "bool", "int" or "string".
    pub r#type: *const c_char,
    /// The default, as `zb_config_get()` prints it.
    pub default_value: *const c_char,
    /// The accepted values.
    pub range: *const c_char,
    /// "sdk" or "stream": which constructor reads the key.
    pub scope: *const c_char,
    /// One paragraph.
    pub description: *const c_char,
}

/// `ZB_CONFIG_PROPERTY_INIT`: an empty property with its `struct_size` set.
pub const ZB_CONFIG_PROPERTY_INIT: zb_config_property = zb_config_property {
    struct_size: size_of::<zb_config_property>() as u32,
    name: core::ptr::null(),
    r#type: core::ptr::null(),
    default_value: core::ptr::null(),
    range: core::ptr::null(),
    scope: core::ptr::null(),
    description: core::ptr::null(),
};

/// Supplies the headers of a connection attempt; any status but `ZB_OK` fails it.
pub type zb_headers_cb =
    Option<unsafe extern "C" fn(headers: *mut zb_headers, user_data: *mut c_void) -> zb_status>;

/// Supplies the subject token of a token exchange (token federation).
pub type zb_token_cb =
    Option<unsafe extern "C" fn(sink: *mut zb_token_sink, user_data: *mut c_void) -> zb_status>;

/// The kind of a [`zb_event`].
pub type zb_event_type = i32;
/// Records `first_offset..=last_offset` became durable.
pub const ZB_EVENT_ACK: zb_event_type = 1;
/// Records `first_offset..=last_offset` will never be acknowledged; `error` says why.
pub const ZB_EVENT_ERROR: zb_event_type = 2;

/// One event of a stream; `struct_size` says how much the library filled.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct zb_event {
    /// The size of the event as its writer knew it.
    pub struct_size: u32,
    /// `ZB_EVENT_ACK` or `ZB_EVENT_ERROR`.
    pub r#type: zb_event_type,
    /// The first offset of the range.
    pub first_offset: u64,
    /// The last offset of the range (for an ack, the new watermark).
    pub last_offset: u64,
    /// `ZB_EVENT_ERROR` only: owned by the caller of `zb_stream_poll()`, borrowed in a callback.
    pub error: *mut zb_error,
}

/// `ZB_EVENT_INIT`: an empty event with its `struct_size` set.
pub const ZB_EVENT_INIT: zb_event = zb_event {
    struct_size: size_of::<zb_event>() as u32,
    r#type: 0,
    first_offset: 0,
    last_offset: 0,
    error: null_mut(),
};

/// Receives a stream's events in order, on a library-owned thread.
pub type zb_event_cb = Option<
    unsafe extern "C" fn(stream: *mut zb_stream, event: *const zb_event, user_data: *mut c_void),
>;

/// Tells a poller that a stream's event queue turned non-empty; must not block nor call `zb_*`.
pub type zb_wakeup_cb = Option<unsafe extern "C" fn(user_data: *mut c_void)>;

/// The severity of a log message; levels are only appended, each more detailed.
pub type zb_log_level = i32;
/// A stream or a connection attempt failed for good.
pub const ZB_LOG_ERROR: zb_log_level = 1;
/// Something went wrong that the library works around.
pub const ZB_LOG_WARN: zb_log_level = 2;
/// Streams opened and closed, recoveries, close signals, OAuth tokens obtained.
pub const ZB_LOG_INFO: zb_log_level = 3;
/// Details for troubleshooting.
pub const ZB_LOG_DEBUG: zb_log_level = 4;

/// Receives the log messages of an SDK and its streams; thread-safe, never under a library
/// lock; `component` is static, `message` valid during the call only.
pub type zb_log_cb = Option<
    unsafe extern "C" fn(
        level: zb_log_level,
        component: *const c_char,
        message: *const c_char,
        user_data: *mut c_void,
    ),
>;

/// Receives an SDK's statistics JSON (`len` bytes, NUL-terminated) every
/// `statistics.interval.ms`, on a library-owned thread; `json` is valid during the call only.
pub type zb_stats_cb = Option<
    unsafe extern "C" fn(sdk: *mut zb_sdk, json: *const c_char, len: usize, user_data: *mut c_void),
>;

/// The format of a stream's records.
pub type zb_record_type = i32;
/// Serialized protobuf messages of the stream's descriptor.
pub const ZB_RECORD_PROTO: zb_record_type = 1;
/// JSON objects as UTF-8 text.
pub const ZB_RECORD_JSON: zb_record_type = 2;
/// Raw Avro datums of the stream's writer schema, without framing.
pub const ZB_RECORD_AVRO: zb_record_type = 4;
/// Arrow record batches: a stream of `zb_stream_new_arrow()` or `zb_stream_new_arrow_ipc()`.
pub const ZB_RECORD_ARROW: zb_record_type = 8;

/// The state of a stream, in [`zb_stream_info`].
pub type zb_stream_state = i32;
/// Connected: records flow to the server.
pub const ZB_STREAM_OPEN: zb_stream_state = 1;
/// Reconnecting after a retryable failure.
pub const ZB_STREAM_RECOVERING: zb_stream_state = 2;
/// The server announced it will close the call.
pub const ZB_STREAM_PAUSED: zb_stream_state = 3;
/// Failed for good.
pub const ZB_STREAM_FAILED: zb_stream_state = 4;
/// Closed by `zb_stream_close()`.
pub const ZB_STREAM_CLOSED: zb_stream_state = 5;

/// A snapshot of a stream; the caller sets `struct_size`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct zb_stream_info {
    /// `size_of::<zb_stream_info>()`, set by the caller.
    pub struct_size: u32,
    /// One of the `ZB_STREAM_*` states.
    pub state: zb_stream_state,
    /// Offsets issued so far (the next offset).
    pub records_accepted: u64,
    /// Every offset below this is durable.
    pub records_acked: u64,
    /// Accepted and not yet acknowledged.
    pub records_in_flight: u64,
    /// Their bytes, framing included.
    pub bytes_in_flight: u64,
    /// Connections re-established after a failure or close signal.
    pub recoveries: u64,
    /// Records sent again on a new connection.
    pub records_replayed: u64,
}

/// `ZB_STREAM_INFO_INIT`: an empty snapshot with its `struct_size` set.
pub const ZB_STREAM_INFO_INIT: zb_stream_info = zb_stream_info {
    struct_size: size_of::<zb_stream_info>() as u32,
    state: 0,
    records_accepted: 0,
    records_acked: 0,
    records_in_flight: 0,
    bytes_in_flight: 0,
    recoveries: 0,
    records_replayed: 0,
};

unsafe extern "C" {
    /// The version of the library loaded at run time, encoded like [`ZB_VERSION_NUM`].
    pub fn zb_version() -> u32;
    /// The version of the library loaded at run time as "MAJOR.MINOR.PATCH"; static.
    pub fn zb_version_str() -> *const c_char;

    /// The code's symbolic name, static, or NULL for a code this library does not know.
    pub fn zb_status_name(status: zb_status) -> *const c_char;
    /// A one-sentence description of the code, static, or NULL for an unknown code.
    pub fn zb_status_describe(status: zb_status) -> *const c_char;

    /// The status code of `err`; `ZB_ERR_NO_MEMORY` for NULL (an error that could not be
    /// allocated).
    pub fn zb_error_code(err: *const zb_error) -> zb_status;
    /// The symbolic name of `err`'s code, static; NULL for a code this library does not know.
    pub fn zb_error_name(err: *const zb_error) -> *const c_char;
    /// The message of `err`, valid until `zb_error_free(err)`.
    pub fn zb_error_message(err: *const zb_error) -> *const c_char;
    /// 1 when retrying may succeed, else 0.
    pub fn zb_error_is_retryable(err: *const zb_error) -> i32;
    /// The gRPC status code (0..16) the error came from, or -1.
    pub fn zb_error_grpc_status(err: *const zb_error) -> i32;
    /// A new error object owned by the caller.
    pub fn zb_error_new(code: zb_status, message: *const c_char, retryable: i32) -> *mut zb_error;
    /// A copy of `err` owned by the caller.
    pub fn zb_error_dup(err: *const zb_error) -> *mut zb_error;
    /// Frees `err`; NULL is ignored.
    pub fn zb_error_free(err: *mut zb_error);

    /// Creates a config holding every default, owned by the caller.
    pub fn zb_config_new(out: *mut *mut zb_config, err: *mut *mut zb_error) -> zb_status;
    /// Copies `cfg`, callbacks included.
    pub fn zb_config_dup(
        cfg: *const zb_config,
        out: *mut *mut zb_config,
        err: *mut *mut zb_error,
    ) -> zb_status;
    /// Frees `cfg` and releases its callbacks; NULL is ignored.
    pub fn zb_config_destroy(cfg: *mut zb_config);
    /// Sets option `key` to `value`, both copied.
    pub fn zb_config_set(
        cfg: *mut zb_config,
        key: *const c_char,
        value: *const c_char,
        err: *mut *mut zb_error,
    ) -> zb_status;
    /// Reads option `key` as text into `buf`; `*size` tells the bytes needed.
    pub fn zb_config_get(
        cfg: *const zb_config,
        key: *const c_char,
        buf: *mut c_char,
        size: *mut usize,
        err: *mut *mut zb_error,
    ) -> zb_status;
    /// Describes the `index`-th configuration key.
    pub fn zb_config_describe(
        index: usize,
        out: *mut zb_config_property,
        err: *mut *mut zb_error,
    ) -> zb_status;

    /// Adds one header to the connection attempt under way, from inside a headers provider.
    pub fn zb_headers_add(
        headers: *mut zb_headers,
        name: *const c_char,
        value: *const c_char,
        err: *mut *mut zb_error,
    ) -> zb_status;
    /// Registers the headers provider of streams created from `cfg`.
    pub fn zb_config_set_headers_provider(
        cfg: *mut zb_config,
        cb: zb_headers_cb,
        user_data: *mut c_void,
        free_user_data: zb_free_cb,
        err: *mut *mut zb_error,
    ) -> zb_status;
    /// Gives the subject token from a token federation callback.
    pub fn zb_token_sink_set(
        sink: *mut zb_token_sink,
        token: *const c_char,
        err: *mut *mut zb_error,
    ) -> zb_status;
    /// Registers the token federation callback of streams created from `cfg`.
    pub fn zb_config_set_token_federation(
        cfg: *mut zb_config,
        cb: zb_token_cb,
        user_data: *mut c_void,
        free_user_data: zb_free_cb,
        err: *mut *mut zb_error,
    ) -> zb_status;
    /// Registers the event callback of streams created from `cfg`.
    pub fn zb_config_set_event_callback(
        cfg: *mut zb_config,
        cb: zb_event_cb,
        user_data: *mut c_void,
        free_user_data: zb_free_cb,
        err: *mut *mut zb_error,
    ) -> zb_status;
    /// Registers a non-blocking descriptor the library writes to when a stream's events wait,
    /// from the thread that queues them; closed by the library when `close_on_release` is set.
    pub fn zb_config_set_wakeup_fd(
        cfg: *mut zb_config,
        fd: i32,
        close_on_release: i32,
        err: *mut *mut zb_error,
    ) -> zb_status;
    /// Registers the wakeup of streams created from `cfg`.
    pub fn zb_config_set_wakeup(
        cfg: *mut zb_config,
        cb: zb_wakeup_cb,
        user_data: *mut c_void,
        free_user_data: zb_free_cb,
        err: *mut *mut zb_error,
    ) -> zb_status;

    /// Creates an SDK for `endpoint`, owned by the caller.
    pub fn zb_sdk_new(
        endpoint: *const c_char,
        cfg: *const zb_config,
        out: *mut *mut zb_sdk,
        err: *mut *mut zb_error,
    ) -> zb_status;
    /// Releases the caller's reference to `sdk`; its streams keep working.
    pub fn zb_sdk_destroy(sdk: *mut zb_sdk);

    /// The level's name as `log.level` spells it, a static string; NULL for an unknown level.
    pub fn zb_log_level_name(level: zb_log_level) -> *const c_char;
    /// Registers the log callback of SDKs created from `cfg`.
    pub fn zb_config_set_log_callback(
        cfg: *mut zb_config,
        cb: zb_log_cb,
        user_data: *mut c_void,
        free_user_data: zb_free_cb,
        err: *mut *mut zb_error,
    ) -> zb_status;
    /// Registers the statistics callback of SDKs created from `cfg`.
    pub fn zb_config_set_stats_callback(
        cfg: *mut zb_config,
        cb: zb_stats_cb,
        user_data: *mut c_void,
        free_user_data: zb_free_cb,
        err: *mut *mut zb_error,
    ) -> zb_status;
    /// The statistics of the SDK and its live streams as JSON; freed with `zb_string_free()`.
    pub fn zb_sdk_stats_json(
        sdk: *mut zb_sdk,
        json_out: *mut *mut c_char,
        len_out: *mut usize,
        err: *mut *mut zb_error,
    ) -> zb_status;
    /// The statistics of one stream as JSON; freed with `zb_string_free()`.
    pub fn zb_stream_stats_json(
        stream: *mut zb_stream,
        json_out: *mut *mut c_char,
        len_out: *mut usize,
        err: *mut *mut zb_error,
    ) -> zb_status;
    /// Frees a string the library allocated for the caller.
    pub fn zb_string_free(str: *mut c_char);

    /// Builds a schema from a Unity Catalog table description (`len` bytes of JSON).
    pub fn zb_schema_from_table_json(
        json: *const c_char,
        len: usize,
        out: *mut *mut zb_schema,
        err: *mut *mut zb_error,
    ) -> zb_status;
    /// Builds a schema from one Delta DDL statement.
    pub fn zb_schema_from_ddl(
        ddl: *const c_char,
        out: *mut *mut zb_schema,
        err: *mut *mut zb_error,
    ) -> zb_status;
    /// Builds a schema from the table's description in the SDK's workspace (Unity Catalog),
    /// with the credentials of `cfg`.
    pub fn zb_schema_fetch(
        sdk: *mut zb_sdk,
        table: *const c_char,
        cfg: *const zb_config,
        out: *mut *mut zb_schema,
        err: *mut *mut zb_error,
    ) -> zb_status;
    /// Frees `schema`; streams opened from it keep working. NULL is ignored.
    pub fn zb_schema_destroy(schema: *mut zb_schema);
    /// The table's name, owned by `schema`.
    pub fn zb_schema_table_name(schema: *const zb_schema) -> *const c_char;
    /// The serialized DescriptorProto for `zb_stream_new()`, owned by `schema`.
    pub fn zb_schema_descriptor(
        schema: *const zb_schema,
        data: *mut *const c_void,
        len: *mut usize,
        err: *mut *mut zb_error,
    ) -> zb_status;
    /// The proto2 source of the descriptor, owned by `schema`.
    pub fn zb_schema_proto_source(schema: *const zb_schema) -> *const c_char;
    /// The table's Avro writer schema (Avro JSON), owned by `schema`.
    pub fn zb_schema_avro(
        schema: *const zb_schema,
        avro_json: *mut *const c_char,
        err: *mut *mut zb_error,
    ) -> zb_status;
    /// Encodes a JSON object as a protobuf record of the schema; `*size` tells the bytes needed.
    pub fn zb_schema_encode_json(
        schema: *const zb_schema,
        json: *const c_char,
        len: usize,
        buf: *mut c_void,
        size: *mut usize,
        err: *mut *mut zb_error,
    ) -> zb_status;

    /// Opens a stream into `table_name`, owned by the caller.
    pub fn zb_stream_new(
        sdk: *mut zb_sdk,
        table_name: *const c_char,
        record_type: zb_record_type,
        descriptor: *const c_void,
        descriptor_len: usize,
        cfg: *const zb_config,
        out: *mut *mut zb_stream,
        err: *mut *mut zb_error,
    ) -> zb_status;
    /// Opens a protobuf stream into the schema's table that also takes JSON records.
    pub fn zb_stream_new_from_schema(
        sdk: *mut zb_sdk,
        schema: *const zb_schema,
        cfg: *const zb_config,
        out: *mut *mut zb_stream,
        err: *mut *mut zb_error,
    ) -> zb_status;
    /// Opens an AVRO stream of the schema's table with its Avro writer schema.
    pub fn zb_stream_new_avro_from_schema(
        sdk: *mut zb_sdk,
        schema: *const zb_schema,
        cfg: *const zb_config,
        out: *mut *mut zb_stream,
        err: *mut *mut zb_error,
    ) -> zb_status;
    /// Opens an Arrow stream for batches of `schema` (borrowed).
    pub fn zb_stream_new_arrow(
        sdk: *mut zb_sdk,
        table_name: *const c_char,
        schema: *const ArrowSchema,
        cfg: *const zb_config,
        out: *mut *mut zb_stream,
        err: *mut *mut zb_error,
    ) -> zb_status;
    /// Opens an Arrow stream with its schema as Arrow IPC bytes.
    pub fn zb_stream_new_arrow_ipc(
        sdk: *mut zb_sdk,
        table_name: *const c_char,
        schema_ipc: *const c_void,
        len: usize,
        cfg: *const zb_config,
        out: *mut *mut zb_stream,
        err: *mut *mut zb_error,
    ) -> zb_status;
    /// Accepts one record batch, moved into the library (see zerobus.h for who releases it).
    pub fn zb_stream_ingest_arrow(
        stream: *mut zb_stream,
        batch: *mut ArrowArray,
        offset_out: *mut u64,
        err: *mut *mut zb_error,
    ) -> zb_status;
    /// Accepts every batch of an Arrow C stream, moved into the library.
    pub fn zb_stream_ingest_arrow_stream(
        stream: *mut zb_stream,
        batches: *mut ArrowArrayStream,
        last_offset_out: *mut u64,
        count_out: *mut usize,
        err: *mut *mut zb_error,
    ) -> zb_status;
    /// Accepts the record batches of Arrow IPC bytes, copied before the call returns.
    pub fn zb_stream_ingest_arrow_ipc(
        stream: *mut zb_stream,
        data: *const c_void,
        len: usize,
        last_offset_out: *mut u64,
        count_out: *mut usize,
        err: *mut *mut zb_error,
    ) -> zb_status;
    /// Accepts one Avro datum, copied before the call returns.
    pub fn zb_stream_ingest_avro(
        stream: *mut zb_stream,
        datum: *const c_void,
        len: usize,
        offset_out: *mut u64,
        err: *mut *mut zb_error,
    ) -> zb_status;
    /// Accepts Avro datums as one unit, all or none.
    pub fn zb_stream_ingest_avro_batch(
        stream: *mut zb_stream,
        datums: *const *const c_void,
        lens: *const usize,
        count: usize,
        last_offset_out: *mut u64,
        err: *mut *mut zb_error,
    ) -> zb_status;
    /// Accepts one protobuf record, copied before the call returns.
    pub fn zb_stream_ingest_proto(
        stream: *mut zb_stream,
        record: *const c_void,
        len: usize,
        offset_out: *mut u64,
        err: *mut *mut zb_error,
    ) -> zb_status;
    /// Accepts one JSON object, copied before the call returns.
    pub fn zb_stream_ingest_json(
        stream: *mut zb_stream,
        json: *const c_char,
        len: usize,
        offset_out: *mut u64,
        err: *mut *mut zb_error,
    ) -> zb_status;
    /// Accepts `count` protobuf records as one unit.
    pub fn zb_stream_ingest_proto_batch(
        stream: *mut zb_stream,
        records: *const *const c_void,
        lens: *const usize,
        count: usize,
        last_offset_out: *mut u64,
        err: *mut *mut zb_error,
    ) -> zb_status;
    /// Accepts `count` JSON records as one unit.
    pub fn zb_stream_ingest_json_batch(
        stream: *mut zb_stream,
        records: *const *const c_char,
        lens: *const usize,
        count: usize,
        last_offset_out: *mut u64,
        err: *mut *mut zb_error,
    ) -> zb_status;
    /// Waits until `offset` is durable.
    pub fn zb_stream_wait_for_offset(
        stream: *mut zb_stream,
        offset: u64,
        timeout_ms: i32,
        err: *mut *mut zb_error,
    ) -> zb_status;
    /// Waits until every record accepted before the call is durable.
    pub fn zb_stream_flush(
        stream: *mut zb_stream,
        timeout_ms: i32,
        err: *mut *mut zb_error,
    ) -> zb_status;
    /// Closes the stream gracefully; idempotent.
    pub fn zb_stream_close(
        stream: *mut zb_stream,
        timeout_ms: i32,
        err: *mut *mut zb_error,
    ) -> zb_status;
    /// Frees the stream; a barrier for its callbacks. Not thread-safe.
    pub fn zb_stream_destroy(stream: *mut zb_stream);
    /// The state's name ("open", "recovering", ...), a static string, or NULL when unknown.
    pub fn zb_stream_state_name(state: zb_stream_state) -> *const c_char;
    /// Fills `out` with the stream's state and counters.
    pub fn zb_stream_get_info(
        stream: *mut zb_stream,
        out: *mut zb_stream_info,
        err: *mut *mut zb_error,
    ) -> zb_status;
    /// Opens a new stream like `stream` and replays into it what `stream` left unacknowledged.
    pub fn zb_stream_recreate(
        stream: *mut zb_stream,
        out: *mut *mut zb_stream,
        err: *mut *mut zb_error,
    ) -> zb_status;
    /// Takes up to `capacity` events from the stream's queue.
    pub fn zb_stream_poll(
        stream: *mut zb_stream,
        events: *mut zb_event,
        event_size: usize,
        capacity: usize,
        timeout_ms: i32,
        count_out: *mut usize,
        err: *mut *mut zb_error,
    ) -> zb_status;
    /// Copies every record accepted and not yet acknowledged, in offset order.
    pub fn zb_stream_unacked(
        stream: *mut zb_stream,
        out: *mut *mut zb_records,
        err: *mut *mut zb_error,
    ) -> zb_status;

    /// The number of records in `records`; 0 for NULL.
    pub fn zb_records_count(records: *const zb_records) -> usize;
    /// Reads record `index`: its bytes (valid until `zb_records_free()`), length and offset.
    pub fn zb_records_get(
        records: *const zb_records,
        index: usize,
        data: *mut *const c_void,
        len: *mut usize,
        offset: *mut u64,
        err: *mut *mut zb_error,
    ) -> zb_status;
    /// Frees a record list; NULL is ignored.
    pub fn zb_records_free(records: *mut zb_records);

    // Persistent streams, the header's experimental section (declared there only under
    // ZB_EXPERIMENTAL_PERSISTENT; the library always exports them): the service marks them
    // "in development", so they may change or go in any release.

    /// Experimental: creates a persistent stream, whose durable id is then readable.
    pub fn zb_stream_new_persistent(
        sdk: *mut zb_sdk,
        table_name: *const c_char,
        record_type: zb_record_type,
        descriptor: *const c_void,
        descriptor_len: usize,
        cfg: *const zb_config,
        out: *mut *mut zb_stream,
        err: *mut *mut zb_error,
    ) -> zb_status;
    /// Experimental: resumes persistent stream `stream_id` from the server's watermark + 1.
    pub fn zb_stream_resume(
        sdk: *mut zb_sdk,
        table_name: *const c_char,
        stream_id: *const c_char,
        record_type: zb_record_type,
        descriptor: *const c_void,
        descriptor_len: usize,
        cfg: *const zb_config,
        out: *mut *mut zb_stream,
        err: *mut *mut zb_error,
    ) -> zb_status;
    /// Experimental: the durable id of a persistent stream, a new string (`zb_string_free()`).
    pub fn zb_stream_persistent_id(
        stream: *mut zb_stream,
        id_out: *mut *mut c_char,
        len_out: *mut usize,
        err: *mut *mut zb_error,
    ) -> zb_status;
    /// Experimental: the last offset the server had committed when the stream was resumed.
    pub fn zb_stream_resume_watermark(
        stream: *mut zb_stream,
        has_committed: *mut i32,
        last_committed: *mut u64,
        err: *mut *mut zb_error,
    ) -> zb_status;
    /// Experimental: retires persistent stream `stream_id` for good.
    pub fn zb_stream_retire(
        sdk: *mut zb_sdk,
        table_name: *const c_char,
        stream_id: *const c_char,
        cfg: *const zb_config,
        err: *mut *mut zb_error,
    ) -> zb_status;
}
