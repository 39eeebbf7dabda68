/*
 * libzerobus for C++17: a header-only wrapper over the C API of zerobus/zerobus.h.
 *
 * It adds no behaviour of its own. Each class owns one C handle and frees it in its destructor
 * (Config, Sdk, Stream, Schema: movable, not copyable); a failed call throws zerobus::Error,
 * which carries the C error's code, message, retryability and gRPC status; timeouts are
 * std::chrono durations; callbacks are std::function. The C header's doc comments remain the
 * reference for what each call does, waits for and returns: every method below names the C
 * function it calls.
 *
 * Conventions that hold for every class unless its comment says otherwise:
 *
 *  - Methods that can fail throw zerobus::Error; they throw std::bad_alloc when C++ allocation
 *    fails. Destructors, moves and accessors of held data never throw.
 *  - A moved-from object holds no handle: get() returns NULL, and any other method but the
 *    destructor and assignment throws zerobus::Error with ZB_ERR_INVALID_ARG (the C API's
 *    answer to a NULL handle).
 *  - get() lends the C handle: the object still owns it. adopt() goes the other way: it takes
 *    a handle the caller made through the C API, and the object then owns it and destroys it
 *    in its destructor, so the caller must neither destroy it nor use it after the object is
 *    gone. Adopting NULL gives an object that holds no handle, as a moved-from one.
 *  - Arguments are borrowed for the duration of the call, as in the C API: records are copied
 *    before an ingest returns.
 *  - Timeouts are rounded up to whole milliseconds and capped at about 24 days; a negative one
 *    counts as zero. The overloads without a timeout wait without a limit.
 *
 * The library's own C++ engine is not exposed: only zerobus.h is linked against, so a program
 * built with any C++17 compiler and standard library works with any build of libzerobus.
 */
#ifndef ZEROBUS_ZEROBUS_HPP
#define ZEROBUS_ZEROBUS_HPP

#include <zerobus/zerobus.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <functional>
#include <initializer_list>
#include <iterator>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace zerobus {

/** The status codes of zerobus.h (ZB_OK, ZB_ERR_*). */
using Status = zb_status;

/* ----------------------------------------------------------------------------------------- */
/* Errors                                                                                    */
/* ----------------------------------------------------------------------------------------- */

/** A failed call: what a zb_error holds, copied, so an Error outlives the C object and can be
 *  copied and thrown freely. Immutable; safe to read from any thread. */
class Error : public std::exception {
 public:
  Error(Status code, std::string message, bool retryable, int grpc_status)
      : code_(code),
        message_(std::move(message)),
        retryable_(retryable),
        grpc_status_(grpc_status),
        what_(name() + std::string(": ") + message_) {}

  /** A copy of `err`, which stays the caller's. A NULL `err` (the library could not allocate
   *  one) becomes an error of `code` described by zb_status_describe(). */
  static Error from_c(Status code, const zb_error *err) {
    if (err == nullptr) {
      const char *description = zb_status_describe(code);
      return Error(code, description ? description : "unknown status", false, -1);
    }
    return Error(zb_error_code(err), zb_error_message(err), zb_error_is_retryable(err) != 0,
                 zb_error_grpc_status(err));
  }

  /** The ZB_ERR_* code. */
  Status code() const noexcept { return code_; }
  /** The code's symbolic name, e.g. "ZB_ERR_TIMEOUT". */
  const char *name() const noexcept {
    const char *name = zb_status_name(code_);
    return name ? name : "ZB_ERR_UNKNOWN";
  }
  /** The library's message. */
  const std::string &message() const noexcept { return message_; }
  /** Whether the same operation may succeed if tried again. */
  bool retryable() const noexcept { return retryable_; }
  /** The gRPC status code (0..16) the error came from, or -1 when it did not come from gRPC. */
  int grpc_status() const noexcept { return grpc_status_; }
  /** "NAME: message". */
  const char *what() const noexcept override { return what_.c_str(); }

 private:
  Status code_;
  std::string message_;
  bool retryable_;
  int grpc_status_;
  std::string what_;
};

namespace detail {

struct ErrorFree {
  void operator()(zb_error *err) const noexcept { zb_error_free(err); }
};

/** Throws the Error of a failed call, freeing the C error object either way. */
inline void check(Status status, zb_error *err) {
  std::unique_ptr<zb_error, ErrorFree> owned(err);
  if (status != ZB_OK) throw Error::from_c(status, owned.get());
}

struct StringFree {
  void operator()(char *text) const noexcept { zb_string_free(text); }
};

/** A string the library allocated for the caller, copied and freed. */
inline std::string take_string(char *text, std::size_t size) {
  std::unique_ptr<char, StringFree> owned(text);
  return std::string(owned.get(), size);
}

/** A duration as the C API's int32_t milliseconds. */
template <class Rep, class Period>
int32_t timeout_ms(std::chrono::duration<Rep, Period> timeout) {
  using Millis = std::chrono::duration<double, std::milli>;
  const double ms = std::chrono::duration_cast<Millis>(timeout).count();
  constexpr double max_ms = std::numeric_limits<int32_t>::max();
  if (!(ms > 0)) return 0;
  if (ms >= max_ms) return std::numeric_limits<int32_t>::max();
  const auto whole = static_cast<int32_t>(ms);
  return whole < ms ? whole + 1 : whole;
}

/** Reports an exception that a user callback let escape. It cannot travel on: the callback
 *  runs on a library thread, under a C frame that must not be unwound. */
inline void report_callback_exception(const char *callback) noexcept {
  const char *what = "an exception not derived from std::exception";
  try {
    throw;
  } catch (const std::exception &exception) {
    what = exception.what();
  } catch (...) {
  }
  std::fprintf(stderr, "zerobus: the %s callback threw, and the exception was dropped: %s\n",
               callback, what);
}

/** Gives the library a heap copy of `callable` as user_data, with the deleter it calls once it
 *  can no longer call back; `set` is the zb_config_set_* function. From the call on, the
 *  library owns the copy: on a valid config it runs the deleter exactly once, even when the
 *  call fails for want of memory, so the wrapper must not free it again; and the only other
 *  failure, a NULL config, is answered here before the copy is made. */
template <class Callable, class CFunction, class Setter>
void register_callback(zb_config *config, Callable callable, CFunction trampoline, Setter set) {
  if (config == nullptr) throw Error(ZB_ERR_INVALID_ARG, "the Config was moved from", false, -1);
  auto *holder = new Callable(std::move(callable));
  zb_error *err = nullptr;
  const Status status = set(
      config, trampoline, holder,
      [](void *user_data) { delete static_cast<Callable *>(user_data); }, &err);
  check(status, err);
}

/** Whether E is a one-byte element type: char, unsigned char, std::byte, uint8_t... */
template <class E>
struct is_byte : std::bool_constant<sizeof(E) == 1 && std::is_trivially_copyable_v<E>> {};
template <>
struct is_byte<void> : std::false_type {};

template <class T, class = void>
struct is_byte_range : std::false_type {};
/** A contiguous class type of one-byte elements: std::string, std::string_view,
 *  std::vector<uint8_t>, std::array<std::byte, N>, a span... Not a C array, since a string
 *  literal would bring its NUL along. */
template <class T>
struct is_byte_range<
    T, std::void_t<decltype(std::size(std::declval<const T &>())),
                   std::remove_pointer_t<decltype(std::data(std::declval<const T &>()))>>>
    : std::conjunction<std::is_class<T>, is_byte<std::remove_cv_t<std::remove_pointer_t<
                                             decltype(std::data(std::declval<const T &>()))>>>> {};

}  // namespace detail

/* ----------------------------------------------------------------------------------------- */
/* Records, events, stream snapshots                                                         */
/* ----------------------------------------------------------------------------------------- */

/** A borrowed run of bytes: a protobuf record or a descriptor. Converts implicitly from any
 *  contiguous container of one-byte elements, so ingest_proto() takes a std::string from
 *  SerializeAsString() or a std::vector<uint8_t> as it is. It does not own the bytes. */
class Bytes {
 public:
  constexpr Bytes() noexcept = default;
  constexpr Bytes(const void *data, std::size_t size) noexcept : data_(data), size_(size) {}
  template <class Range, class = std::enable_if_t<detail::is_byte_range<Range>::value>>
  Bytes(const Range &range) noexcept  // NOLINT(google-explicit-constructor): a view, like span
      : data_(std::data(range)), size_(std::size(range)) {}

  const void *data() const noexcept { return data_; }
  std::size_t size() const noexcept { return size_; }

 private:
  const void *data_ = nullptr;
  std::size_t size_ = 0;
};

/** One record the stream accepted and the server has not acknowledged (Stream::unacked()). */
struct Record {
  uint64_t offset;
  /** The record's bytes: protobuf, or JSON text on a JSON stream. */
  std::string data;
};

/** One event of a stream (zb_event): offsets that became durable, or that never will. */
struct Event {
  enum class Type : int32_t {
    /** first_offset..last_offset are durable; last_offset is the new watermark. */
    ack = ZB_EVENT_ACK,
    /** first_offset..last_offset will never be acknowledged; `error` says why. They stay in
     *  Stream::unacked() until the stream is destroyed. */
    error = ZB_EVENT_ERROR,
  };

  Type type;
  uint64_t first_offset;
  uint64_t last_offset;
  /** Set for Type::error only. */
  std::optional<Error> error;

  /** How many records the event covers. */
  uint64_t record_count() const noexcept { return last_offset - first_offset + 1; }

  /** A copy of `event`, whose error stays the caller's. */
  static Event from_c(const zb_event &event) {
    std::optional<Error> error;
    if (event.type == ZB_EVENT_ERROR) error = Error::from_c(ZB_ERR_INTERNAL, event.error);
    return Event{static_cast<Type>(event.type), event.first_offset, event.last_offset,
                 std::move(error)};
  }
};

/** A snapshot of a stream's state and counters (zb_stream_info; ZB_STREAM_* states). */
using StreamInfo = zb_stream_info;

/** A log message's severity (ZB_LOG_*), most severe first; Config::set("log.level", ...)
 *  chooses the least severe one delivered. */
enum class LogLevel : int32_t {
  error = ZB_LOG_ERROR,
  warn = ZB_LOG_WARN,
  info = ZB_LOG_INFO,
  debug = ZB_LOG_DEBUG,
};

/** The gRPC metadata of one connection attempt, being filled in by a headers provider
 *  (Config::headers_provider()); valid only during the provider's call. */
class Headers {
 public:
  /** Adds one header (zb_headers_add): a lower-case name of letters, digits, '-', '_' and '.';
   *  a printable ASCII value. Throws ZB_ERR_INVALID_ARG for one gRPC cannot send. */
  void add(const std::string &name, const std::string &value) {
    zb_error *err = nullptr;
    const Status status = zb_headers_add(headers_, name.c_str(), value.c_str(), &err);
    detail::check(status, err);
  }

 private:
  friend class Config;
  explicit Headers(zb_headers *headers) noexcept : headers_(headers) {}
  zb_headers *headers_;
};

/* ----------------------------------------------------------------------------------------- */
/* Config                                                                                    */
/* ----------------------------------------------------------------------------------------- */

/** Options and callbacks for an Sdk and its streams (docs/CONFIGURATION.md lists the keys).
 *  Sdk and Sdk::*stream() copy what they need, so a Config may be changed or destroyed right
 *  after. Not thread-safe: do not change one Config from two threads at once. */
class Config {
 public:
  /** Every option at its default (zb_config_new). */
  Config() {
    zb_error *err = nullptr;
    zb_config *config = nullptr;
    const Status status = zb_config_new(&config, &err);
    detail::check(status, err);
    handle_.reset(config);
  }

  /** Sets option `key` (zb_config_set). Throws ZB_ERR_UNKNOWN_KEY or ZB_ERR_INVALID_VALUE;
   *  the config is unchanged then. Returns *this, so that settings chain. */
  Config &set(const std::string &key, const std::string &value) {
    zb_error *err = nullptr;
    const Status status = zb_config_set(handle_.get(), key.c_str(), value.c_str(), &err);
    detail::check(status, err);
    return *this;
  }
  Config &set(const std::string &key, const char *value) { return set(key, std::string(value)); }
  Config &set(const std::string &key, bool value) { return set(key, value ? "true" : "false"); }
  template <class Integer, class = std::enable_if_t<std::is_integral_v<Integer>>>
  Config &set(const std::string &key, Integer value) {
    return set(key, std::to_string(value));
  }

  /** The value of option `key` as text (zb_config_get); secrets read back as "[hidden]". */
  std::string get(const std::string &key) const {
    zb_error *err = nullptr;
    std::size_t size = 0;
    Status status = zb_config_get(handle_.get(), key.c_str(), nullptr, &size, &err);
    detail::check(status, err);
    std::string value(size, '\0');
    status = zb_config_get(handle_.get(), key.c_str(), value.data(), &size, &err);
    detail::check(status, err);
    value.resize(size - 1);  // the NUL
    return value;
  }

  /** Receives every event of the streams created from this config, in order, on the stream's
   *  dispatcher thread (zb_config_set_event_callback); replaces an earlier callback. Streams
   *  then cannot be polled. The callback may call any Stream method except the destructor of
   *  its own stream. It should not throw: an exception is caught and reported on stderr, and
   *  the event counts as delivered. The std::function is destroyed once no stream or config
   *  holds it, at the latest when the last such Stream is destroyed. */
  Config &on_event(std::function<void(const Event &)> callback) {
    using Callback = std::function<void(const Event &)>;
    detail::register_callback(
        handle_.get(), std::move(callback),
        [](zb_stream *, const zb_event *event, void *user_data) {
          try {
            (*static_cast<Callback *>(user_data))(Event::from_c(*event));
          } catch (...) {
            detail::report_callback_exception("event");
          }
        },
        zb_config_set_event_callback);
    return *this;
  }

  /** Tells a poller that a stream's event queue turned non-empty (zb_config_set_wakeup). Runs
   *  on a library thread; it must not block nor call into zerobus (signal your event loop).
   *  Exceptions are caught and reported on stderr. Lifetime as on_event(). */
  Config &on_wakeup(std::function<void()> wakeup) {
    using Wakeup = std::function<void()>;
    detail::register_callback(
        handle_.get(), std::move(wakeup),
        [](void *user_data) {
          try {
            (*static_cast<Wakeup *>(user_data))();
          } catch (...) {
            detail::report_callback_exception("wakeup");
          }
        },
        zb_config_set_wakeup);
    return *this;
  }

  /** Receives the library's log messages at log.level or more severe, for SDKs created from
   *  this config and all their streams (zb_config_set_log_callback); replaces an earlier
   *  callback. Without one the library logs nothing anywhere. It runs on the thread whose work
   *  the message reports (the caller of the Sdk or Stream method that opens, closes or
   *  destroys, or a stream's own thread), possibly on several threads at once: it must be
   *  thread-safe. It must not close() or destroy a Stream, nor destroy an Sdk, and should
   *  return quickly. Messages never contain secrets. `component` and `message` are valid
   *  during the call only. Exceptions are caught and reported on stderr. The std::function is
   *  destroyed once the config, the SDKs made from it and all their streams are gone. */
  Config &on_log(
      std::function<void(LogLevel level, std::string_view component, std::string_view message)>
          callback) {
    using Callback = std::function<void(LogLevel, std::string_view, std::string_view)>;
    detail::register_callback(
        handle_.get(), std::move(callback),
        [](zb_log_level level, const char *component, const char *message, void *user_data) {
          try {
            (*static_cast<Callback *>(user_data))(static_cast<LogLevel>(level), component, message);
          } catch (...) {
            detail::report_callback_exception("log");
          }
        },
        zb_config_set_log_callback);
    return *this;
  }

  /** Receives the statistics of each SDK created from this config every
   *  statistics.interval.ms (0, the default, never calls it), as Sdk::statistics_json() gives
   *  them (zb_config_set_stats_callback). One call at a time, on a thread of the SDK's; the
   *  JSON is valid during the call only. Exceptions are caught and reported on stderr. The
   *  std::function is destroyed once the config and every SDK made from it are gone. */
  Config &on_statistics(std::function<void(std::string_view json)> callback) {
    using Callback = std::function<void(std::string_view)>;
    detail::register_callback(
        handle_.get(), std::move(callback),
        [](zb_sdk *, const char *json, std::size_t size, void *user_data) {
          try {
            (*static_cast<Callback *>(user_data))(std::string_view(json, size));
          } catch (...) {
            detail::report_callback_exception("statistics");
          }
        },
        zb_config_set_stats_callback);
    return *this;
  }

  /** Supplies the headers of every connection attempt (zb_config_set_headers_provider), a
   *  way to bring credentials of one's own. Called before each connection, the first and every
   *  reconnection, serialized, on the thread that makes it; it may block, which delays the
   *  connection. An exception fails that attempt with ZB_ERR_AUTH (reported on stderr unless it
   *  is a zerobus::Error, such as Headers::add() throws). Lifetime as on_event(). */
  Config &headers_provider(std::function<void(Headers &)> provider) {
    using Provider = std::function<void(Headers &)>;
    detail::register_callback(
        handle_.get(), std::move(provider),
        [](zb_headers *c_headers, void *user_data) -> zb_status {
          try {
            Headers headers(c_headers);
            (*static_cast<Provider *>(user_data))(headers);
            return ZB_OK;
          } catch (const Error &) {
            return ZB_ERR_AUTH;
          } catch (...) {
            detail::report_callback_exception("headers provider");
            return ZB_ERR_AUTH;
          }
        },
        zb_config_set_headers_provider);
    return *this;
  }

  /** An independent copy, callbacks shared (zb_config_dup). */
  Config clone() const {
    zb_error *err = nullptr;
    zb_config *copy = nullptr;
    const Status status = zb_config_dup(handle_.get(), &copy, &err);
    detail::check(status, err);
    return Config(copy);
  }

  /** Owns `config`, from zb_config_new() or zb_config_dup(), and destroys it with
   *  zb_config_destroy(). */
  static Config adopt(zb_config *config) noexcept { return Config(config); }

  /** The C handle, still owned by this object. */
  zb_config *get() const noexcept { return handle_.get(); }

 private:
  explicit Config(zb_config *adopted) noexcept : handle_(adopted) {}
  struct Free {
    void operator()(zb_config *config) const noexcept { zb_config_destroy(config); }
  };
  std::unique_ptr<zb_config, Free> handle_;
};

/* ----------------------------------------------------------------------------------------- */
/* Schema                                                                                    */
/* ----------------------------------------------------------------------------------------- */

/** A table's schema: the protobuf descriptor a stream of the table is opened with, its .proto
 *  source, and an encoder from JSON records to protobuf ones (zb_schema). Immutable: every
 *  const method may be called from any number of threads at once. */
class Schema {
 public:
  /** From one Delta DDL statement, e.g. "main.default.events (id BIGINT, payload STRING)"
   *  (zb_schema_from_ddl). Throws ZB_ERR_INVALID_SCHEMA. */
  static Schema from_ddl(const std::string &ddl) {
    zb_error *err = nullptr;
    zb_schema *schema = nullptr;
    const Status status = zb_schema_from_ddl(ddl.c_str(), &schema, &err);
    detail::check(status, err);
    return Schema(schema);
  }

  /** From a Unity Catalog table description, the JSON of GET
   *  /api/2.1/unity-catalog/tables/{name} (zb_schema_from_table_json). */
  static Schema from_table_json(std::string_view json) {
    zb_error *err = nullptr;
    zb_schema *schema = nullptr;
    const Status status = zb_schema_from_table_json(json.data(), json.size(), &schema, &err);
    detail::check(status, err);
    return Schema(schema);
  }

  /** "catalog.schema.table". */
  std::string table_name() const { return checked_string(zb_schema_table_name(handle())); }

  /** The serialized DescriptorProto; the bytes live as long as this Schema. */
  Bytes descriptor() const {
    zb_error *err = nullptr;
    const void *data = nullptr;
    std::size_t size = 0;
    const Status status = zb_schema_descriptor(handle(), &data, &size, &err);
    detail::check(status, err);
    return Bytes(data, size);
  }

  /** The descriptor's proto2 source, as protoc would compile it. */
  std::string proto_source() const { return checked_string(zb_schema_proto_source(handle())); }

  /** The table's Avro writer schema (zb_schema_avro). Throws ZB_ERR_INVALID_SCHEMA for a
   *  table with no Avro form. */
  std::string avro() const {
    zb_error *err = nullptr;
    const char *text = nullptr;
    const Status status = zb_schema_avro(handle(), &text, &err);
    detail::check(status, err);
    return text;
  }

  /** The JSON object `json` encoded as a protobuf record of this schema
   *  (zb_schema_encode_json). Throws ZB_ERR_INVALID_RECORD naming the column. */
  std::string encode_json(std::string_view json) const {
    zb_error *err = nullptr;
    std::size_t size = 0;
    Status status = zb_schema_encode_json(handle(), json.data(), json.size(), nullptr, &size, &err);
    detail::check(status, err);
    std::string record(size, '\0');
    status = zb_schema_encode_json(handle(), json.data(), json.size(), record.data(), &size, &err);
    detail::check(status, err);
    return record;
  }

  /** Owns `schema`, from zb_schema_from_ddl(), zb_schema_from_table_json() or
   *  zb_schema_fetch(), and destroys it with zb_schema_destroy(). */
  static Schema adopt(zb_schema *schema) noexcept { return Schema(schema); }

  /** The C handle, still owned by this object. */
  zb_schema *get() const noexcept { return handle_.get(); }

 private:
  friend class Sdk;
  explicit Schema(zb_schema *adopted) noexcept : handle_(adopted) {}
  const zb_schema *handle() const noexcept { return handle_.get(); }
  // The C getters answer NULL only for a NULL schema, i.e. a moved-from one.
  static std::string checked_string(const char *text) {
    if (text == nullptr) throw Error(ZB_ERR_INVALID_ARG, "the Schema was moved from", false, -1);
    return text;
  }
  struct Free {
    void operator()(zb_schema *schema) const noexcept { zb_schema_destroy(schema); }
  };
  std::unique_ptr<zb_schema, Free> handle_;
};

/* ----------------------------------------------------------------------------------------- */
/* Stream                                                                                    */
/* ----------------------------------------------------------------------------------------- */

/** A stream of records into one table (zb_stream), opened with Sdk::json_stream(),
 *  Sdk::proto_stream() or Sdk::stream(). Every method may be called from any number of
 *  threads at once; the destructor and move assignment may not run concurrently with
 *  anything else on the same Stream.
 *
 *  The destructor is zb_stream_destroy(): a barrier after which no callback of the stream
 *  runs. A stream that was not closed is closed at once, abandoning unacknowledged records:
 *  call close() first to wait for them. */
class Stream {
 public:
  /** Accepts one protobuf record; returns its offset (zb_stream_ingest_proto). The bytes are
   *  copied. Throws ZB_ERR_QUEUE_FULL, ZB_ERR_CLOSED, ZB_ERR_RECORD_TYPE on a JSON stream,
   *  the stream's error after it failed, ... */
  uint64_t ingest_proto(Bytes record) {
    uint64_t offset = 0;
    zb_error *err = nullptr;
    const Status status =
        zb_stream_ingest_proto(handle_.get(), record.data(), record.size(), &offset, &err);
    detail::check(status, err);
    return offset;
  }

  /** Accepts one JSON object; returns its offset (zb_stream_ingest_json). On a stream of
   *  Sdk::stream(schema) it is encoded to protobuf first (ZB_ERR_INVALID_RECORD when the
   *  schema does not take it). */
  uint64_t ingest_json(std::string_view json) {
    uint64_t offset = 0;
    zb_error *err = nullptr;
    const Status status =
        zb_stream_ingest_json(handle_.get(), json.data(), json.size(), &offset, &err);
    detail::check(status, err);
    return offset;
  }

  /** Accepts every protobuf record of `records` (a container of byte ranges, such as
   *  std::vector<std::string>) as one unit, all or none, in one request; returns the offset of
   *  the last (zb_stream_ingest_proto_batch). Throws ZB_ERR_EMPTY_BATCH for none. */
  template <class Container>
  uint64_t ingest_proto_batch(const Container &records) {
    return ingest_bytes_batch(records, zb_stream_ingest_proto_batch);
  }

  /** Accepts one Avro datum of the stream's writer schema on a ZB_RECORD_AVRO stream; returns
   *  its offset (zb_stream_ingest_avro). The bytes are copied. */
  uint64_t ingest_avro(Bytes datum) {
    uint64_t offset = 0;
    zb_error *err = nullptr;
    const Status status =
        zb_stream_ingest_avro(handle_.get(), datum.data(), datum.size(), &offset, &err);
    detail::check(status, err);
    return offset;
  }

  /** Accepts every Avro datum of `datums` as one unit, as ingest_proto_batch() does
   *  (zb_stream_ingest_avro_batch). */
  template <class Container>
  uint64_t ingest_avro_batch(const Container &datums) {
    return ingest_bytes_batch(datums, zb_stream_ingest_avro_batch);
  }

  /** Accepts every JSON object of `records` (a container of anything that converts to
   *  std::string_view) as one unit, as ingest_proto_batch() does
   *  (zb_stream_ingest_json_batch). */
  template <class Container>
  uint64_t ingest_json_batch(const Container &records) {
    std::vector<const char *> data;
    std::vector<std::size_t> sizes;
    data.reserve(std::size(records));
    sizes.reserve(std::size(records));
    for (const auto &record : records) {
      const std::string_view json(record);
      data.push_back(json.data());
      sizes.push_back(json.size());
    }
    uint64_t last_offset = 0;
    zb_error *err = nullptr;
    const Status status = zb_stream_ingest_json_batch(handle_.get(), data.data(), sizes.data(),
                                                      data.size(), &last_offset, &err);
    detail::check(status, err);
    return last_offset;
  }
  uint64_t ingest_json_batch(std::initializer_list<std::string_view> records) {
    return ingest_json_batch<std::initializer_list<std::string_view>>(records);
  }

  /** Waits until every record accepted so far is durable (zb_stream_flush). Throws
   *  ZB_ERR_TIMEOUT (the stream keeps going) or the stream's error if it failed. Runs no
   *  callback. */
  void flush() { flush_ms(ZB_TIMEOUT_INFINITE); }
  template <class Rep, class Period>
  void flush(std::chrono::duration<Rep, Period> timeout) {
    flush_ms(detail::timeout_ms(timeout));
  }

  /** Waits until `offset` is durable (zb_stream_wait_for_offset); throws as flush(). */
  void wait_for_offset(uint64_t offset) { wait_for_offset_ms(offset, ZB_TIMEOUT_INFINITE); }
  template <class Rep, class Period>
  void wait_for_offset(uint64_t offset, std::chrono::duration<Rep, Period> timeout) {
    wait_for_offset_ms(offset, detail::timeout_ms(timeout));
  }

  /** Stops accepting records and waits for the acknowledgement of every accepted one and for
   *  the event callback to have seen the events so far (zb_stream_close). Idempotent. Throws
   *  ZB_ERR_TIMEOUT or the stream's error when records were left unacknowledged: unacked()
   *  has them, and recreate() sends them again. */
  void close() { close_ms(ZB_TIMEOUT_INFINITE); }
  template <class Rep, class Period>
  void close(std::chrono::duration<Rep, Period> timeout) {
    close_ms(detail::timeout_ms(timeout));
  }

  /** Copies of the records accepted and not acknowledged, in offset order
   *  (zb_stream_unacked). After a failure or a timed-out close, exactly the records of the
   *  error events. */
  std::vector<Record> unacked() const {
    zb_records *list = nullptr;
    zb_error *err = nullptr;
    Status status = zb_stream_unacked(handle_.get(), &list, &err);
    detail::check(status, err);
    std::unique_ptr<zb_records, RecordsFree> owned(list);
    std::vector<Record> records(zb_records_count(list));
    for (std::size_t i = 0; i < records.size(); ++i) {
      const void *data = nullptr;
      std::size_t size = 0;
      status = zb_records_get(list, i, &data, &size, &records[i].offset, &err);
      detail::check(status, err);
      records[i].data.assign(static_cast<const char *>(data), size);
    }
    return records;
  }

  /** Takes up to `max_events` (at least 1) events, oldest first, waiting up to `timeout` for
   *  the first (zb_stream_poll); empty when none came. Throws ZB_ERR_STATE on a stream with an
   *  event callback. */
  template <class Rep, class Period>
  std::vector<Event> poll(std::size_t max_events, std::chrono::duration<Rep, Period> timeout) {
    std::vector<zb_event> raw(max_events, zb_event ZB_EVENT_INIT);
    std::size_t count = 0;
    zb_error *err = nullptr;
    const Status status = zb_stream_poll(handle_.get(), raw.data(), sizeof(zb_event), raw.size(),
                                         detail::timeout_ms(timeout), &count, &err);
    detail::check(status, err);
    // Polled events own their errors: free each, even if a copy below throws.
    struct FreeErrors {
      std::vector<zb_event> &events;
      std::size_t count;
      ~FreeErrors() {
        for (std::size_t i = 0; i < count; ++i) zb_error_free(events[i].error);
      }
    } free_errors{raw, count};
    std::vector<Event> events;
    events.reserve(count);
    for (std::size_t i = 0; i < count; ++i) events.push_back(Event::from_c(raw[i]));
    return events;
  }

  /** The stream's state and counters (zb_stream_get_info). */
  StreamInfo info() const {
    StreamInfo info = ZB_STREAM_INFO_INIT;
    zb_error *err = nullptr;
    const Status status = zb_stream_get_info(handle_.get(), &info, &err);
    detail::check(status, err);
    return info;
  }

  /** The stream's statistics as a JSON object (zb_stream_stats_json): state, offsets issued,
   *  sent and acked, what is in flight, recoveries, errors, wire counters and ack latency
   *  percentiles; docs/STATISTICS.md describes every field. */
  std::string statistics_json() const {
    char *json = nullptr;
    std::size_t size = 0;
    zb_error *err = nullptr;
    const Status status = zb_stream_stats_json(handle_.get(), &json, &size, &err);
    detail::check(status, err);
    return detail::take_string(json, size);
  }

  /** A new stream like this one into which every record this one did not get acknowledged has
   *  been ingested again, in order (zb_stream_recreate): the way to carry on after a failure
   *  or a timed-out close. Throws ZB_ERR_STATE while this stream is neither failed nor
   *  closed. */
  Stream recreate() {
    zb_stream *stream = nullptr;
    zb_error *err = nullptr;
    const Status status = zb_stream_recreate(handle_.get(), &stream, &err);
    detail::check(status, err);
    return Stream(stream);
  }

  /** Owns `stream`, from zb_stream_new(), zb_stream_new_from_schema() or
   *  zb_stream_recreate(), and destroys it with zb_stream_destroy(). */
  static Stream adopt(zb_stream *stream) noexcept { return Stream(stream); }

  /** The C handle, still owned by this object. */
  zb_stream *get() const noexcept { return handle_.get(); }

 private:
  friend class Sdk;
  explicit Stream(zb_stream *adopted) noexcept : handle_(adopted) {}

  void flush_ms(int32_t timeout_ms) {
    zb_error *err = nullptr;
    const Status status = zb_stream_flush(handle_.get(), timeout_ms, &err);
    detail::check(status, err);
  }
  void wait_for_offset_ms(uint64_t offset, int32_t timeout_ms) {
    zb_error *err = nullptr;
    const Status status = zb_stream_wait_for_offset(handle_.get(), offset, timeout_ms, &err);
    detail::check(status, err);
  }
  void close_ms(int32_t timeout_ms) {
    zb_error *err = nullptr;
    const Status status = zb_stream_close(handle_.get(), timeout_ms, &err);
    detail::check(status, err);
  }

  struct RecordsFree {
    void operator()(zb_records *records) const noexcept { zb_records_free(records); }
  };
  // A batch of byte records through `ingest` (zb_stream_ingest_proto_batch or _avro_batch,
  // which take the same arguments).
  template <class Container, class Ingest>
  uint64_t ingest_bytes_batch(const Container &records, Ingest ingest) {
    std::vector<const void *> data;
    std::vector<std::size_t> sizes;
    data.reserve(std::size(records));
    sizes.reserve(std::size(records));
    for (const auto &record : records) {
      const Bytes bytes(record);
      data.push_back(bytes.data());
      sizes.push_back(bytes.size());
    }
    uint64_t last_offset = 0;
    zb_error *err = nullptr;
    const Status status =
        ingest(handle_.get(), data.data(), sizes.data(), data.size(), &last_offset, &err);
    detail::check(status, err);
    return last_offset;
  }

  struct Free {
    void operator()(zb_stream *stream) const noexcept { zb_stream_destroy(stream); }
  };
  std::unique_ptr<zb_stream, Free> handle_;
};

/* ----------------------------------------------------------------------------------------- */
/* Sdk                                                                                       */
/* ----------------------------------------------------------------------------------------- */

/** One Zerobus endpoint, whose streams share one connection (zb_sdk). Thread-safe. Streams
 *  keep working after their Sdk is destroyed. */
class Sdk {
 public:
  /** An SDK for `endpoint`: "https://host[:port]" with TLS, or "http://host:port" with
   *  transport.plaintext=true for a local server (zb_sdk_new). No network I/O happens here.
   *  Throws ZB_ERR_INVALID_TARGET for a malformed endpoint, ZB_ERR_INVALID_VALUE for an
   *  unreadable tls.ca.file. */
  explicit Sdk(const std::string &endpoint) { create(endpoint, nullptr); }
  Sdk(const std::string &endpoint, const Config &config) { create(endpoint, config.get()); }

  /** Opens a stream of JSON records into `table` ("catalog.schema.table") once the server
   *  accepted it (zb_stream_new). `config` supplies the stream's options and callbacks. */
  Stream json_stream(const std::string &table) const {
    return open(table, ZB_RECORD_JSON, Bytes(), nullptr);
  }
  Stream json_stream(const std::string &table, const Config &config) const {
    return open(table, ZB_RECORD_JSON, Bytes(), config.get());
  }

  /** Opens a stream of protobuf records of `descriptor`, a serialized
   *  google.protobuf.DescriptorProto (zb_stream_new). */
  Stream proto_stream(const std::string &table, Bytes descriptor) const {
    return open(table, ZB_RECORD_PROTO, descriptor, nullptr);
  }
  Stream proto_stream(const std::string &table, Bytes descriptor, const Config &config) const {
    return open(table, ZB_RECORD_PROTO, descriptor, config.get());
  }

  /** Opens a stream of Avro datums of the writer schema `avro_schema` (Avro JSON), sent in
   *  avro_schema_json (zb_stream_new with ZB_RECORD_AVRO). */
  Stream avro_stream(const std::string &table, std::string_view avro_schema) const {
    return open(table, ZB_RECORD_AVRO, Bytes(avro_schema), nullptr);
  }
  Stream avro_stream(const std::string &table, std::string_view avro_schema,
                     const Config &config) const {
    return open(table, ZB_RECORD_AVRO, Bytes(avro_schema), config.get());
  }

  /** Opens a protobuf stream into the schema's table, which also takes JSON records, encoded
   *  before they are accepted (zb_stream_new_from_schema). The stream keeps what it needs of
   *  `schema`. */
  Stream stream(const Schema &schema) const { return open_from(schema, nullptr); }
  Stream stream(const Schema &schema, const Config &config) const {
    return open_from(schema, config.get());
  }

  /** `table`'s schema from the workspace's Unity Catalog (zb_schema_fetch); needs an Sdk
   *  created with workspace.url, and credentials in `config` as for a stream. Blocks. */
  Schema fetch_schema(const std::string &table, const Config &config) const {
    zb_schema *schema = nullptr;
    zb_error *err = nullptr;
    const Status status =
        zb_schema_fetch(handle_.get(), table.c_str(), config.get(), &schema, &err);
    detail::check(status, err);
    return Schema(schema);
  }

  /** The statistics of the SDK and of every live stream created from it, as a JSON object
   *  (zb_sdk_stats_json): "streams" lists one object per stream, as Stream::statistics_json()
   *  gives it. */
  std::string statistics_json() const {
    char *json = nullptr;
    std::size_t size = 0;
    zb_error *err = nullptr;
    const Status status = zb_sdk_stats_json(handle_.get(), &json, &size, &err);
    detail::check(status, err);
    return detail::take_string(json, size);
  }

  /** Owns `sdk`, from zb_sdk_new(), and destroys it with zb_sdk_destroy(). */
  static Sdk adopt(zb_sdk *sdk) noexcept { return Sdk(sdk); }

  /** The C handle, still owned by this object. */
  zb_sdk *get() const noexcept { return handle_.get(); }

 private:
  explicit Sdk(zb_sdk *adopted) noexcept : handle_(adopted) {}
  void create(const std::string &endpoint, const zb_config *config) {
    zb_sdk *sdk = nullptr;
    zb_error *err = nullptr;
    const Status status = zb_sdk_new(endpoint.c_str(), config, &sdk, &err);
    detail::check(status, err);
    handle_.reset(sdk);
  }

  Stream open(const std::string &table, zb_record_type type, Bytes descriptor,
              const zb_config *config) const {
    zb_stream *stream = nullptr;
    zb_error *err = nullptr;
    const Status status = zb_stream_new(handle_.get(), table.c_str(), type, descriptor.data(),
                                        descriptor.size(), config, &stream, &err);
    detail::check(status, err);
    return Stream(stream);
  }

  Stream open_from(const Schema &schema, const zb_config *config) const {
    zb_stream *stream = nullptr;
    zb_error *err = nullptr;
    const Status status =
        zb_stream_new_from_schema(handle_.get(), schema.get(), config, &stream, &err);
    detail::check(status, err);
    return Stream(stream);
  }

  struct Free {
    void operator()(zb_sdk *sdk) const noexcept { zb_sdk_destroy(sdk); }
  };
  std::unique_ptr<zb_sdk, Free> handle_;
};

/** The version of the library loaded at run time, "MAJOR.MINOR.PATCH" (zb_version_str). */
inline const char *version() noexcept {
  return zb_version_str();
}

}  // namespace zerobus

#endif  // ZEROBUS_ZEROBUS_HPP
