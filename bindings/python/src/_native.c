/* libzerobus._native: the CPython extension over zerobus.h that the libzerobus package wraps.
 *
 * Plain C API, within the stable ABI of Python 3.11 when built with Py_LIMITED_API (README.md
 * says why and what it costs). Every call that may wait (opening, flushing, waiting, polling,
 * closing, destroying) releases the GIL: the library's dispatch threads take the GIL to call
 * Python's event callbacks and loggers, so a caller that held it through a wait for those
 * threads would deadlock with them. Long waits run in slices of WAIT_SLICE_MS and check for
 * signals between them, so that Ctrl-C interrupts them.
 *
 * Errors are raised as the exceptions of libzerobus.errors: the package hands this module a
 * factory at import (_set_error_factory), which builds the right subclass from a code, a
 * message, the retryable flag and the gRPC status. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <errno.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Persistent streams, which the package exposes as libzerobus.experimental. */
#define ZB_EXPERIMENTAL_PERSISTENT
#include <zerobus/arrow_c_data.h>
#include <zerobus/zerobus.h>

/* How long one slice of a wait lasts before signals are checked: short enough for Ctrl-C to
 * feel immediate, long enough to cost nothing next to the wait itself. */
#define WAIT_SLICE_MS 50
/* Events taken from the library per crossing by poll(). */
#define POLL_CAPACITY 64
/* Records of a batch held on the C stack; larger batches allocate their arrays. */
#define BATCH_ON_STACK 128

/* ------------------------------------------------------------------------------------------ */
/* Module state: the error factory. A single-phase module: one interpreter, one state. */

static PyObject *error_factory; /* callable(code, message, retryable, grpc_status) -> exception */
/* Set by the package's atexit hook: from then on the library's threads no longer take the GIL
 * (a thread that asks for it while the interpreter finalizes would hang the library's exit). */
static atomic_int interpreter_exiting;

/* Builds the exception object for an error; NULL with an exception set when that fails. */
static PyObject *exception_from(zb_status code, const char *message, int retryable,
                                int grpc_status) {
  if (error_factory == NULL) {
    PyErr_Format(PyExc_RuntimeError, "libzerobus: %s: %s", zb_status_name(code), message);
    return NULL;
  }
  return PyObject_CallFunction(error_factory, "isii", (int)code, message, retryable, grpc_status);
}

static PyObject *exception_from_error(zb_status status, const zb_error *err) {
  /* A NULL error is the one the library could not allocate; its accessors read it as such,
   * but the call's own status is the better code. */
  zb_status code = err != NULL ? zb_error_code(err) : status;
  return exception_from(code, zb_error_message(err), zb_error_is_retryable(err),
                        zb_error_grpc_status(err));
}

/* Raises the error of a failed call and frees it; returns NULL for the caller to return. */
static PyObject *raise_error(zb_status status, zb_error *err) {
  PyObject *exception = exception_from_error(status, err);
  zb_error_free(err);
  if (exception != NULL) {
    PyErr_SetObject((PyObject *)Py_TYPE(exception), exception);
    Py_DECREF(exception);
  }
  return NULL;
}

/* Milliseconds for a timeout in seconds; None means without limit. -2 with an exception set
 * on a bad argument. */
static int64_t timeout_ms_of(PyObject *timeout) {
  if (timeout == NULL || timeout == Py_None) {
    return ZB_TIMEOUT_INFINITE;
  }
  double seconds = PyFloat_AsDouble(timeout);
  if (seconds == -1.0 && PyErr_Occurred()) {
    return -2;
  }
  if (!(seconds >= 0.0)) { /* NaN included */
    PyErr_SetString(PyExc_ValueError, "timeout must be None or a number of seconds >= 0");
    return -2;
  }
  if (seconds > (double)INT32_MAX / 1000.0) {
    return ZB_TIMEOUT_INFINITE;
  }
  return (int64_t)(seconds * 1000.0 + 0.5);
}

/* ------------------------------------------------------------------------------------------ */
/* Callbacks: each holds a strong reference to a Python callable as its user_data. */

static void release_callable(void *user_data) {
  if (atomic_load(&interpreter_exiting)) {
    return; /* the interpreter is going away; its objects with it */
  }
  PyGILState_STATE gil = PyGILState_Ensure();
  Py_DECREF((PyObject *)user_data);
  PyGILState_Release(gil);
}

/* The object an event hands Python: (type, first_offset, last_offset, exception or None). */
static PyObject *event_tuple(const zb_event *event) {
  PyObject *error = Py_None;
  Py_INCREF(error);
  if (event->type == ZB_EVENT_ERROR) {
    Py_DECREF(error);
    error = exception_from_error(ZB_ERR_INTERNAL, event->error);
    if (error == NULL) {
      return NULL;
    }
  }
  PyObject *tuple = Py_BuildValue("iKKN", (int)event->type, (unsigned long long)event->first_offset,
                                  (unsigned long long)event->last_offset, error);
  return tuple;
}

static void on_event(zb_stream *stream, const zb_event *event, void *user_data) {
  (void)stream;
  if (atomic_load(&interpreter_exiting)) {
    return;
  }
  PyGILState_STATE gil = PyGILState_Ensure();
  PyObject *tuple = event_tuple(event);
  PyObject *result =
      tuple != NULL ? PyObject_CallFunctionObjArgs((PyObject *)user_data, tuple, NULL) : NULL;
  Py_XDECREF(tuple);
  if (result == NULL) {
    /* Nobody to raise it to on the dispatch thread: Python's hook reports it. */
    PyErr_WriteUnraisable((PyObject *)user_data);
  }
  Py_XDECREF(result);
  PyGILState_Release(gil);
}

static void on_log(zb_log_level level, const char *component, const char *message,
                   void *user_data) {
  if (atomic_load(&interpreter_exiting)) {
    return;
  }
  PyGILState_STATE gil = PyGILState_Ensure();
  PyObject *result =
      PyObject_CallFunction((PyObject *)user_data, "iss", (int)level, component, message);
  if (result == NULL) {
    PyErr_WriteUnraisable((PyObject *)user_data);
  }
  Py_XDECREF(result);
  PyGILState_Release(gil);
}

static void on_stats(zb_sdk *sdk, const char *json, size_t len, void *user_data) {
  (void)sdk;
  if (atomic_load(&interpreter_exiting)) {
    return;
  }
  PyGILState_STATE gil = PyGILState_Ensure();
  PyObject *result = PyObject_CallFunction((PyObject *)user_data, "s#", json, (Py_ssize_t)len);
  if (result == NULL) {
    PyErr_WriteUnraisable((PyObject *)user_data);
  }
  Py_XDECREF(result);
  PyGILState_Release(gil);
}

/* Adds the headers a Python provider returns, an iterable of (name, value) string pairs. An
 * exception, reported through sys.unraisablehook, fails the connection attempt (ZB_ERR_AUTH);
 * so does a header the library cannot send, with a message naming it (zb_headers_add()). */
static zb_status on_headers(zb_headers *headers, void *user_data) {
  if (atomic_load(&interpreter_exiting)) {
    return ZB_ERR_AUTH;
  }
  PyGILState_STATE gil = PyGILState_Ensure();
  PyObject *pairs = PyObject_CallObject((PyObject *)user_data, NULL);
  PyObject *iterator = pairs != NULL ? PyObject_GetIter(pairs) : NULL;
  PyObject *pair = NULL;
  while (iterator != NULL && (pair = PyIter_Next(iterator)) != NULL) {
    const char *name = NULL;
    const char *value = NULL;
    int parsed = PyArg_ParseTuple(pair, "ss", &name, &value);
    Py_DECREF(pair);
    if (!parsed) {
      break;
    }
    /* A refused header is remembered by the library, which fails the attempt with it. */
    zb_headers_add(headers, name, value, NULL);
  }
  zb_status status = ZB_OK;
  if (PyErr_Occurred()) {
    PyErr_WriteUnraisable((PyObject *)user_data);
    status = ZB_ERR_AUTH;
  }
  Py_XDECREF(iterator);
  Py_XDECREF(pairs);
  PyGILState_Release(gil);
  return status;
}

/* Calls the token federation callable, a Python callable returning the subject JWT as a str,
 * and gives its result to the sink. An exception, or a result that is not a str, fails the
 * attempt with ZB_ERR_AUTH (the exception goes to sys.unraisablehook, as the headers
 * provider's does); so does a token the library refuses. */
static zb_status on_subject_token(zb_token_sink *sink, void *user_data) {
  if (atomic_load(&interpreter_exiting)) {
    return ZB_ERR_AUTH;
  }
  PyGILState_STATE gil = PyGILState_Ensure();
  PyObject *token = PyObject_CallObject((PyObject *)user_data, NULL);
  zb_status status = ZB_ERR_AUTH;
  if (token != NULL && !PyUnicode_Check(token)) {
    PyErr_SetString(PyExc_TypeError, "a subject token provider must return a str");
  }
  const char *text =
      token != NULL && PyUnicode_Check(token) ? PyUnicode_AsUTF8AndSize(token, NULL) : NULL;
  if (text != NULL) {
    status = zb_token_sink_set(sink, text, NULL);
  }
  if (PyErr_Occurred()) {
    PyErr_WriteUnraisable((PyObject *)user_data);
  }
  Py_XDECREF(token);
  PyGILState_Release(gil);
  return status;
}

/* Item `i` of what PySequence_Fast() returned, a list or a tuple; borrowed. The limited API
 * has no PySequence_Fast_GET_ITEM. */
static PyObject *fast_item(PyObject *items, Py_ssize_t i) {
  return PyList_Check(items) ? PyList_GetItem(items, i) : PyTuple_GetItem(items, i);
}

/* ------------------------------------------------------------------------------------------ */
/* Configs, built from a sequence of (key, value) string pairs: the library checks each key
 * and value, so this module knows none of them. */

static zb_config *config_from(PyObject *options) {
  zb_config *cfg = NULL;
  zb_error *err = NULL;
  zb_status status = zb_config_new(&cfg, &err);
  if (status != ZB_OK) {
    raise_error(status, err);
    return NULL;
  }
  PyObject *items = PySequence_Fast(options, "options must be a sequence of (key, value) pairs");
  if (items == NULL) {
    zb_config_destroy(cfg);
    return NULL;
  }
  Py_ssize_t count = PySequence_Size(items);
  for (Py_ssize_t i = 0; i < count; ++i) {
    const char *key = NULL;
    const char *value = NULL;
    if (!PyArg_ParseTuple(fast_item(items, i), "ss", &key, &value)) {
      Py_DECREF(items);
      zb_config_destroy(cfg);
      return NULL;
    }
    status = zb_config_set(cfg, key, value, &err);
    if (status != ZB_OK) {
      Py_DECREF(items);
      zb_config_destroy(cfg);
      raise_error(status, err);
      return NULL;
    }
  }
  Py_DECREF(items);
  return cfg;
}

/* The setters of the callbacks this module registers, each with its trampoline; `callable`
 * is a new reference that the library releases with release_callable. */
typedef zb_status (*callable_setter)(zb_config *cfg, PyObject *callable, zb_error **err);

static zb_status set_event_callable(zb_config *cfg, PyObject *callable, zb_error **err) {
  return zb_config_set_event_callback(cfg, on_event, callable, release_callable, err);
}
static zb_status set_log_callable(zb_config *cfg, PyObject *callable, zb_error **err) {
  return zb_config_set_log_callback(cfg, on_log, callable, release_callable, err);
}
static zb_status set_headers_callable(zb_config *cfg, PyObject *callable, zb_error **err) {
  return zb_config_set_headers_provider(cfg, on_headers, callable, release_callable, err);
}
static zb_status set_subject_token_callable(zb_config *cfg, PyObject *callable, zb_error **err) {
  return zb_config_set_token_federation(cfg, on_subject_token, callable, release_callable, err);
}
static zb_status set_stats_callable(zb_config *cfg, PyObject *callable, zb_error **err) {
  return zb_config_set_stats_callback(cfg, on_stats, callable, release_callable, err);
}

/* Registers `callable` with `set`, unless it is None. 0, or -1 with an exception set. */
static int register_callable(zb_config *cfg, PyObject *callable, callable_setter set) {
  if (callable == Py_None) {
    return 0;
  }
  if (!PyCallable_Check(callable)) {
    PyErr_SetString(PyExc_TypeError, "a callback must be callable");
    return -1;
  }
  zb_error *err = NULL;
  Py_INCREF(callable);
  zb_status status = set(cfg, callable, &err);
  if (status != ZB_OK) {
    /* Only ZB_ERR_NO_MEMORY, after release_callable has run. */
    raise_error(status, err);
    return -1;
  }
  return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Schema */

typedef struct {
  PyObject_HEAD zb_schema *schema;
} SchemaObject;

static PyTypeObject *SchemaType;

static PyObject *schema_wrap(zb_schema *schema) {
  SchemaObject *self = PyObject_New(SchemaObject, SchemaType);
  if (self == NULL) {
    zb_schema_destroy(schema);
    return NULL;
  }
  self->schema = schema;
  return (PyObject *)self;
}

static PyObject *schema_from_ddl(PyObject *module, PyObject *arg) {
  (void)module;
  const char *ddl = PyUnicode_AsUTF8AndSize(arg, NULL);
  if (ddl == NULL) {
    return NULL;
  }
  zb_schema *schema = NULL;
  zb_error *err = NULL;
  zb_status status = zb_schema_from_ddl(ddl, &schema, &err);
  return status == ZB_OK ? schema_wrap(schema) : raise_error(status, err);
}

static PyObject *schema_from_table_json(PyObject *module, PyObject *arg) {
  (void)module;
  Py_ssize_t len = 0;
  const char *json = PyUnicode_AsUTF8AndSize(arg, &len);
  if (json == NULL) {
    return NULL;
  }
  zb_schema *schema = NULL;
  zb_error *err = NULL;
  zb_status status = zb_schema_from_table_json(json, (size_t)len, &schema, &err);
  return status == ZB_OK ? schema_wrap(schema) : raise_error(status, err);
}

static void schema_dealloc(PyObject *object) {
  SchemaObject *self = (SchemaObject *)object;
  zb_schema_destroy(self->schema);
  PyTypeObject *type = Py_TYPE(object);
  PyObject_Free(object);
  Py_DECREF(type);
}

static PyObject *schema_table_name(PyObject *object, void *closure) {
  (void)closure;
  return PyUnicode_FromString(zb_schema_table_name(((SchemaObject *)object)->schema));
}

static PyObject *schema_proto_source(PyObject *object, void *closure) {
  (void)closure;
  return PyUnicode_FromString(zb_schema_proto_source(((SchemaObject *)object)->schema));
}

static PyObject *schema_descriptor(PyObject *object, void *closure) {
  (void)closure;
  const void *data = NULL;
  size_t len = 0;
  zb_error *err = NULL;
  zb_status status = zb_schema_descriptor(((SchemaObject *)object)->schema, &data, &len, &err);
  if (status != ZB_OK) {
    return raise_error(status, err);
  }
  return PyBytes_FromStringAndSize(data, (Py_ssize_t)len);
}

static PyObject *schema_avro(PyObject *object, void *closure) {
  (void)closure;
  const char *text = NULL;
  zb_error *err = NULL;
  zb_status status = zb_schema_avro(((SchemaObject *)object)->schema, &text, &err);
  if (status != ZB_OK) {
    return raise_error(status, err);
  }
  return PyUnicode_FromString(text);
}

static PyObject *schema_encode_json(PyObject *object, PyObject *arg) {
  const zb_schema *schema = ((SchemaObject *)object)->schema;
  Py_ssize_t json_len = 0;
  const char *json = PyUnicode_AsUTF8AndSize(arg, &json_len);
  if (json == NULL) {
    return NULL;
  }
  size_t size = 0;
  zb_error *err = NULL;
  zb_status status = zb_schema_encode_json(schema, json, (size_t)json_len, NULL, &size, &err);
  if (status != ZB_OK) {
    return raise_error(status, err);
  }
  PyObject *record = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)size);
  if (record == NULL) {
    return NULL;
  }
  status =
      zb_schema_encode_json(schema, json, (size_t)json_len, PyBytes_AsString(record), &size, &err);
  if (status != ZB_OK) {
    Py_DECREF(record);
    return raise_error(status, err);
  }
  return record;
}

static PyGetSetDef schema_getset[] = {
    {"table_name", schema_table_name, NULL, NULL, NULL},
    {"proto_source", schema_proto_source, NULL, NULL, NULL},
    {"descriptor", schema_descriptor, NULL, NULL, NULL},
    {"avro", schema_avro, NULL, NULL, NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyMethodDef schema_methods[] = {
    {"encode_json", schema_encode_json, METH_O, NULL},
    {NULL, NULL, 0, NULL},
};

static PyType_Slot schema_slots[] = {
    {Py_tp_dealloc, schema_dealloc},
    {Py_tp_getset, schema_getset},
    {Py_tp_methods, schema_methods},
    {0, NULL},
};

static PyType_Spec schema_spec = {"libzerobus._native.Schema", sizeof(SchemaObject), 0,
                                  Py_TPFLAGS_DEFAULT, schema_slots};

/* ------------------------------------------------------------------------------------------ */
/* Stream */

typedef struct {
  PyObject_HEAD zb_stream *stream;
  zb_record_type record_type;
  /* stream.ingest.timeout.ms as the caller set it: the binding waits for room itself, without
   * the GIL, and opens the stream with 0 so that the library never waits holding it. */
  int64_t ingest_timeout_ms;
  /* Calls under way that may release the GIL, and a destroy() put off until they are back:
   * zb_stream_destroy() must not run while another call on the stream does. Read and written
   * with the GIL held. */
  int busy;
  int destroy_pending;
} StreamObject;

static PyTypeObject *StreamType;

static PyObject *stream_wrap(PyTypeObject *type, zb_stream *stream) {
  StreamObject *self = (StreamObject *)PyType_GenericAlloc(type, 0);
  if (self == NULL) {
    PyThreadState *saved = PyEval_SaveThread();
    zb_stream_destroy(stream);
    PyEval_RestoreThread(saved);
    return NULL;
  }
  self->stream = stream;
  return (PyObject *)self;
}

static int stream_open(StreamObject *self) {
  if (self->stream == NULL || self->destroy_pending) {
    PyErr_SetString(PyExc_ValueError, "the stream was destroyed");
    return 0;
  }
  return 1;
}

/* The bytes of a record: a str's UTF-8 (cached by the str, so no copy), or the contiguous
 * buffer of a bytes-like object, which the caller releases. */
typedef struct {
  const char *data;
  size_t len;
  int is_text;
  Py_buffer view;
  int has_view;
} record_bytes;

static int record_bytes_get(PyObject *record, record_bytes *out) {
  out->has_view = 0;
  if (PyUnicode_Check(record)) {
    Py_ssize_t len = 0;
    out->data = PyUnicode_AsUTF8AndSize(record, &len);
    out->len = (size_t)len;
    out->is_text = 1;
    return out->data != NULL ? 0 : -1;
  }
  out->is_text = 0;
  if (PyBytes_CheckExact(record)) { /* the common case, without the buffer protocol's cost */
    out->data = PyBytes_AsString(record);
    out->len = (size_t)PyBytes_Size(record);
    return 0;
  }
  if (PyObject_GetBuffer(record, &out->view, PyBUF_SIMPLE) != 0) {
    PyErr_Format(PyExc_TypeError,
                 "a record is bytes, bytearray, memoryview or another contiguous buffer, or str "
                 "for JSON; not %R",
                 (PyObject *)Py_TYPE(record));
    return -1;
  }
  out->has_view = 1;
  out->data = out->view.buf;
  out->len = (size_t)out->view.len;
  return 0;
}

static void record_bytes_release(record_bytes *record) {
  if (record->has_view) {
    PyBuffer_Release(&record->view);
  }
}

/* What a record is sent as: str is JSON on any stream (a schema's stream encodes it); bytes
 * are of the stream's type. */
static zb_record_type record_kind(const StreamObject *self, const record_bytes *record) {
  return record->is_text ? ZB_RECORD_JSON : self->record_type;
}

/* One ingest call, tried again while the window is full: a single record when `count` is 0. */
typedef struct {
  zb_record_type kind;
  const void *const *records;
  const size_t *lens;
  size_t count;
} ingest_call;

static zb_status ingest_once(zb_stream *stream, const ingest_call *call, uint64_t *offset,
                             zb_error **err) {
  const void *first = call->records[0];
  const size_t len = call->lens[0];
  switch (call->kind) {
    case ZB_RECORD_JSON:
      return call->count == 0
                 ? zb_stream_ingest_json(stream, first, len, offset, err)
                 : zb_stream_ingest_json_batch(stream, (const char *const *)call->records,
                                               call->lens, call->count, offset, err);
    case ZB_RECORD_AVRO:
      return call->count == 0 ? zb_stream_ingest_avro(stream, first, len, offset, err)
                              : zb_stream_ingest_avro_batch(stream, call->records, call->lens,
                                                            call->count, offset, err);
    default:
      return call->count == 0 ? zb_stream_ingest_proto(stream, first, len, offset, err)
                              : zb_stream_ingest_proto_batch(stream, call->records, call->lens,
                                                             call->count, offset, err);
  }
}

static int64_t monotonic_ms(void) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

/* Ingests with the GIL held, which costs nothing more in the common case (releasing it around
 * every call costs about 40 ns, a third of a call: README.md). The library never waits for
 * room (its stream.ingest.timeout.ms is 0): a full window is waited out here, without the GIL
 * and in slices that check for signals, for up to the stream's ingest timeout, each slice
 * until the oldest record in flight is acknowledged. Returns the last status (its error in
 * *err), or -1 with an exception set when a signal handler raised. */
static zb_status ingest_with_room(StreamObject *self, const ingest_call *call, uint64_t *offset,
                                  zb_error **err) {
  zb_status status = ingest_once(self->stream, call, offset, err);
  if (status != ZB_ERR_QUEUE_FULL || self->ingest_timeout_ms == 0) {
    return status; /* the common case: no clock read, no GIL released */
  }
  int64_t deadline = self->ingest_timeout_ms == ZB_TIMEOUT_INFINITE
                         ? INT64_MAX
                         : monotonic_ms() + self->ingest_timeout_ms;
  for (;;) {
    int64_t left = deadline == INT64_MAX ? WAIT_SLICE_MS : deadline - monotonic_ms();
    zb_stream_info info = ZB_STREAM_INFO_INIT;
    if (left <= 0 || zb_stream_get_info(self->stream, &info, NULL) != ZB_OK) {
      return status;
    }
    zb_error_free(*err);
    *err = NULL;
    /* With nothing in flight any more (the ack came after the attempt), there is room now. */
    if (info.records_acked < info.records_accepted) {
      int32_t slice = left > WAIT_SLICE_MS ? WAIT_SLICE_MS : (int32_t)left;
      PyThreadState *saved = PyEval_SaveThread();
      /* A stream that failed ends this wait at once, and the next attempt reports its error. */
      zb_stream_wait_for_offset(self->stream, info.records_acked, slice, NULL);
      PyEval_RestoreThread(saved);
      if (PyErr_CheckSignals() != 0) {
        return -1;
      }
    }
    status = ingest_once(self->stream, call, offset, err);
    if (status != ZB_ERR_QUEUE_FULL) {
      return status;
    }
  }
}

/* ingest(record) -> offset. */
static PyObject *stream_ingest_busy(PyObject *object, PyObject *arg) {
  StreamObject *self = (StreamObject *)object;
  if (!stream_open(self)) {
    return NULL;
  }
  record_bytes record;
  if (record_bytes_get(arg, &record) != 0) {
    return NULL;
  }
  const void *data = record.data;
  ingest_call call = {record_kind(self, &record), &data, &record.len, 0};
  uint64_t offset = 0;
  zb_error *err = NULL;
  zb_status status = ingest_with_room(self, &call, &offset, &err);
  record_bytes_release(&record);
  if (status == -1) {
    return NULL;
  }
  if (status != ZB_OK) {
    return raise_error(status, err);
  }
  return PyLong_FromUnsignedLongLong(offset);
}

/* ingest_batch(records) -> last offset: every record of the list, all accepted or none. */
static PyObject *stream_ingest_batch_busy(PyObject *object, PyObject *arg) {
  StreamObject *self = (StreamObject *)object;
  if (!stream_open(self)) {
    return NULL;
  }
  PyObject *items = PySequence_Fast(arg, "a batch is a list of records");
  if (items == NULL) {
    return NULL;
  }
  Py_ssize_t count = PySequence_Size(items);
  record_bytes stack_records[BATCH_ON_STACK];
  const void *stack_pointers[BATCH_ON_STACK];
  size_t stack_lens[BATCH_ON_STACK];
  record_bytes *records = stack_records;
  const void **pointers = stack_pointers;
  size_t *lens = stack_lens;
  PyObject *result = NULL;
  Py_ssize_t got = 0;
  if (count > BATCH_ON_STACK) {
    records = PyMem_Malloc((size_t)count * sizeof(*records));
    pointers = PyMem_Malloc((size_t)count * sizeof(*pointers));
    lens = PyMem_Malloc((size_t)count * sizeof(*lens));
    if (records == NULL || pointers == NULL || lens == NULL) {
      PyErr_NoMemory();
      goto done;
    }
  }
  zb_record_type kind = self->record_type; /* every record of a batch is of one kind */
  for (; got < count; ++got) {
    if (record_bytes_get(fast_item(items, got), &records[got]) != 0) {
      goto done;
    }
    zb_record_type record = record_kind(self, &records[got]);
    if (got > 0 && record != kind) {
      record_bytes_release(&records[got]);
      PyErr_SetString(PyExc_TypeError, "a batch mixes str (JSON) and bytes records");
      goto done;
    }
    kind = record;
    pointers[got] = records[got].data;
    lens[got] = records[got].len;
  }
  uint64_t last_offset = 0;
  zb_error *err = NULL;
  /* An empty batch goes to the library too, which refuses it (ZB_ERR_EMPTY_BATCH). */
  ingest_call call = {kind, pointers, lens, (size_t)count};
  zb_status status =
      count == 0 ? zb_stream_ingest_proto_batch(self->stream, pointers, lens, 0, &last_offset, &err)
                 : ingest_with_room(self, &call, &last_offset, &err);
  if (status == -1) {
    goto done;
  }
  result = status == ZB_OK ? PyLong_FromUnsignedLongLong(last_offset) : raise_error(status, err);
done:
  for (Py_ssize_t i = 0; i < got; ++i) {
    record_bytes_release(&records[i]);
  }
  if (records != stack_records) {
    PyMem_Free(records);
    PyMem_Free(pointers);
    PyMem_Free(lens);
  }
  Py_DECREF(items);
  return result;
}

/* ------------------------------------------------------------------------------------------ */
/* Arrow: batches and C streams taken from the capsules of the Arrow PyCapsule interface. The
 * library moves each struct out of its capsule (leaving release NULL there, so the capsule's
 * destructor only frees the struct) and owns the data from then on (zerobus.h). Every call
 * runs without the GIL: the library releases acknowledged batches on its own threads, where
 * pyarrow's release takes the GIL to let go of Python buffers, and a call waiting for room in
 * the window while holding the GIL would wait for acks those threads could not get past. */

/* The struct a capsule of the interface holds, or NULL with an exception set. */
static void *arrow_capsule_struct(PyObject *capsule, const char *name) {
  if (!PyCapsule_IsValid(capsule, name)) {
    PyErr_Format(PyExc_TypeError, "expected a PyCapsule named '%s', not %R", name,
                 (PyObject *)Py_TYPE(capsule));
    return NULL;
  }
  return PyCapsule_GetPointer(capsule, name);
}

/* One record batch as a C stream of one batch, so that the library checks its schema against
 * the stream's as it does every C stream's (zb_stream_ingest_arrow() reads only the array).
 * It lives on the caller's stack for the call: the library releases it before returning. */
typedef struct {
  struct ArrowSchema *schema; /* the capsules' structs, moved out when the library asks */
  struct ArrowArray *batch;
} one_batch;

static int one_batch_get_schema(struct ArrowArrayStream *stream, struct ArrowSchema *out) {
  one_batch *source = stream->private_data;
  if (source->schema->release == NULL) {
    return EINVAL; /* asked twice: moved already */
  }
  *out = *source->schema;
  source->schema->release = NULL;
  return 0;
}

static int one_batch_get_next(struct ArrowArrayStream *stream, struct ArrowArray *out) {
  one_batch *source = stream->private_data;
  *out = *source->batch;
  source->batch->release = NULL; /* the second call gives the end of the stream */
  return 0;
}

static const char *one_batch_get_last_error(struct ArrowArrayStream *stream) {
  (void)stream;
  return "the batch's schema was asked for twice";
}

/* What was not moved stays in its capsule, whose destructor releases it. */
static void one_batch_release(struct ArrowArrayStream *stream) {
  stream->release = NULL;
}

/* Returns the result of an Arrow call that accepted `count` batches up to `last_offset`: the
 * offset, or an EmptyBatchError when the batches held no rows (as the library says of a single
 * batch or IPC bytes). */
static PyObject *arrow_result(zb_status status, zb_error *err, uint64_t last_offset, size_t count) {
  if (status != ZB_OK) {
    return raise_error(status, err);
  }
  if (count == 0) {
    PyObject *exception = exception_from(ZB_ERR_EMPTY_BATCH, "the Arrow data holds no rows", 0, 0);
    if (exception != NULL) {
      PyErr_SetObject((PyObject *)Py_TYPE(exception), exception);
      Py_DECREF(exception);
    }
    return NULL;
  }
  return PyLong_FromUnsignedLongLong(last_offset);
}

/* ingest_arrow_array((schema_capsule, array_capsule)) -> offset: what __arrow_c_array__
 * returns, one batch under one offset. */
static PyObject *stream_ingest_arrow_array_busy(PyObject *object, PyObject *arg) {
  StreamObject *self = (StreamObject *)object;
  PyObject *schema_capsule = NULL;
  PyObject *array_capsule = NULL;
  if (!stream_open(self) || !PyArg_ParseTuple(arg, "OO;__arrow_c_array__ returns (schema, array)",
                                              &schema_capsule, &array_capsule)) {
    return NULL;
  }
  one_batch source = {arrow_capsule_struct(schema_capsule, "arrow_schema"),
                      arrow_capsule_struct(array_capsule, "arrow_array")};
  if (source.schema == NULL || source.batch == NULL) {
    return NULL;
  }
  struct ArrowArrayStream stream = {one_batch_get_schema, one_batch_get_next,
                                    one_batch_get_last_error, one_batch_release, &source};
  uint64_t offset = 0;
  size_t count = 0;
  zb_error *err = NULL;
  PyThreadState *saved = PyEval_SaveThread();
  zb_status status = zb_stream_ingest_arrow_stream(self->stream, &stream, &offset, &count, &err);
  PyEval_RestoreThread(saved);
  return arrow_result(status, err, offset, count);
}

/* ingest_arrow_stream(stream_capsule) -> last offset: what __arrow_c_stream__ returns, every
 * batch under an offset of its own. */
static PyObject *stream_ingest_arrow_stream_busy(PyObject *object, PyObject *arg) {
  StreamObject *self = (StreamObject *)object;
  struct ArrowArrayStream *batches = NULL;
  if (!stream_open(self) || (batches = arrow_capsule_struct(arg, "arrow_array_stream")) == NULL) {
    return NULL;
  }
  uint64_t offset = 0;
  size_t count = 0;
  zb_error *err = NULL;
  PyThreadState *saved = PyEval_SaveThread();
  zb_status status = zb_stream_ingest_arrow_stream(self->stream, batches, &offset, &count, &err);
  PyEval_RestoreThread(saved);
  return arrow_result(status, err, offset, count);
}

/* ingest_arrow_ipc(bytes-like) -> last offset: an IPC stream's batches, copied by the library. */
static PyObject *stream_ingest_arrow_ipc_busy(PyObject *object, PyObject *arg) {
  StreamObject *self = (StreamObject *)object;
  Py_buffer view;
  if (!stream_open(self) || PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) != 0) {
    return NULL;
  }
  uint64_t offset = 0;
  size_t count = 0;
  zb_error *err = NULL;
  PyThreadState *saved = PyEval_SaveThread();
  zb_status status =
      zb_stream_ingest_arrow_ipc(self->stream, view.buf, (size_t)view.len, &offset, &count, &err);
  PyEval_RestoreThread(saved);
  PyBuffer_Release(&view);
  return arrow_result(status, err, offset, count);
}

/* Waits for `offset` in slices, without the GIL between signal checks. Returns the last status
 * (its error in *err), or -1 with an exception set when a signal handler raised. */
static zb_status wait_sliced(zb_stream *stream, uint64_t offset, int64_t timeout_ms,
                             zb_error **err) {
  int64_t left = timeout_ms;
  for (;;) {
    int32_t slice =
        (left == ZB_TIMEOUT_INFINITE || left > WAIT_SLICE_MS) ? WAIT_SLICE_MS : (int32_t)left;
    PyThreadState *saved = PyEval_SaveThread();
    zb_status status = zb_stream_wait_for_offset(stream, offset, slice, err);
    PyEval_RestoreThread(saved);
    if (status != ZB_ERR_TIMEOUT) {
      return status;
    }
    if (left != ZB_TIMEOUT_INFINITE) {
      left -= slice;
      if (left <= 0) {
        return status; /* the library's own timeout error, in *err */
      }
    }
    zb_error_free(*err);
    *err = NULL;
    if (PyErr_CheckSignals() != 0) {
      return -1;
    }
  }
}

/* The offset a flush waits for: the last record accepted so far; 0 with *none when nothing
 * was. */
static int last_accepted(zb_stream *stream, uint64_t *offset, int *none) {
  zb_stream_info info = ZB_STREAM_INFO_INIT;
  zb_error *err = NULL;
  zb_status status = zb_stream_get_info(stream, &info, &err);
  if (status != ZB_OK) {
    raise_error(status, err);
    return -1;
  }
  *none = info.records_accepted == 0;
  *offset = *none ? 0 : info.records_accepted - 1;
  return 0;
}

/* Waits for what a flush waits for, interruptibly; returns the status or -1 as wait_sliced. */
static zb_status flush_sliced(zb_stream *stream, int64_t timeout_ms, zb_error **err) {
  uint64_t offset = 0;
  int none = 0;
  if (last_accepted(stream, &offset, &none) != 0) {
    return -1;
  }
  if (none) {
    /* Nothing to wait for, but a failed stream still reports its failure. */
    PyThreadState *saved = PyEval_SaveThread();
    zb_status status = zb_stream_flush(stream, 0, err);
    PyEval_RestoreThread(saved);
    return status;
  }
  return wait_sliced(stream, offset, timeout_ms, err);
}

static PyObject *status_result(zb_status status, zb_error *err) {
  if (status == -1) {
    return NULL; /* a signal handler's exception */
  }
  if (status != ZB_OK) {
    return raise_error(status, err);
  }
  Py_RETURN_NONE;
}

static PyObject *stream_flush_busy(PyObject *object, PyObject *arg) {
  StreamObject *self = (StreamObject *)object;
  int64_t timeout_ms = timeout_ms_of(arg);
  if (timeout_ms == -2 || !stream_open(self)) {
    return NULL;
  }
  zb_error *err = NULL;
  /* Two statements: C leaves the order of a call's arguments open, and `err` must be read
   * after the wait has set it. */
  zb_status status = flush_sliced(self->stream, timeout_ms, &err);
  return status_result(status, err);
}

static PyObject *stream_wait_for_offset_busy(PyObject *object, PyObject *args) {
  StreamObject *self = (StreamObject *)object;
  unsigned long long offset = 0;
  PyObject *timeout = Py_None;
  if (!PyArg_ParseTuple(args, "K|O", &offset, &timeout)) {
    return NULL;
  }
  int64_t timeout_ms = timeout_ms_of(timeout);
  if (timeout_ms == -2 || !stream_open(self)) {
    return NULL;
  }
  zb_error *err = NULL;
  zb_status status = wait_sliced(self->stream, offset, timeout_ms, &err); /* as in flush */
  return status_result(status, err);
}

/* close(timeout): flushes in interruptible slices, then closes, which is then quick: every
 * record is acknowledged. An interrupted close leaves the stream open, to close again. */
static PyObject *stream_close_busy(PyObject *object, PyObject *arg) {
  StreamObject *self = (StreamObject *)object;
  int64_t timeout_ms = timeout_ms_of(arg);
  if (timeout_ms == -2 || !stream_open(self)) {
    return NULL;
  }
  zb_error *err = NULL;
  zb_status status = flush_sliced(self->stream, timeout_ms, &err);
  if (status == -1) {
    return NULL;
  }
  /* A flush that failed or timed out is said again, with more detail, by the close. */
  zb_error_free(err);
  err = NULL;
  int32_t close_ms = status == ZB_OK ? (timeout_ms == ZB_TIMEOUT_INFINITE ? WAIT_SLICE_MS * 20
                                                                          : (int32_t)timeout_ms)
                                     : 0;
  PyThreadState *saved = PyEval_SaveThread();
  status = zb_stream_close(self->stream, close_ms, &err);
  PyEval_RestoreThread(saved);
  return status_result(status, err);
}

/* Frees the stream; a later call on it raises ValueError. A barrier for the callbacks, which
 * need the GIL: so it runs without it. While calls of other threads are under way, it closes
 * the stream at once, which ends their waits, and leaves the freeing to the last of them. */
static void stream_destroy_now(StreamObject *self) {
  if (self->stream == NULL) {
    return;
  }
  if (self->busy > 0) {
    self->destroy_pending = 1;
    ++self->busy; /* the close is a call under way too */
    PyThreadState *saved = PyEval_SaveThread();
    zb_stream_close(self->stream, 0, NULL);
    PyEval_RestoreThread(saved);
    if (--self->busy > 0) {
      return;
    }
  }
  zb_stream *stream = self->stream;
  self->stream = NULL;
  self->destroy_pending = 0;
  PyThreadState *saved = PyEval_SaveThread();
  zb_stream_destroy(stream);
  PyEval_RestoreThread(saved);
}

/* Ends a call that marked the stream busy: frees it if a destroy() came meanwhile. */
static PyObject *stream_leave(StreamObject *self, PyObject *result) {
  if (--self->busy == 0 && self->destroy_pending) {
    stream_destroy_now(self);
  }
  return result;
}

/* Defines the method NAME, which runs NAME_busy with the stream marked busy. */
#define STREAM_BUSY_METHOD(name)                           \
  static PyObject *name(PyObject *object, PyObject *arg) { \
    StreamObject *self = (StreamObject *)object;           \
    ++self->busy;                                          \
    return stream_leave(self, name##_busy(object, arg));   \
  }
STREAM_BUSY_METHOD(stream_ingest)
STREAM_BUSY_METHOD(stream_ingest_batch)
STREAM_BUSY_METHOD(stream_ingest_arrow_array)
STREAM_BUSY_METHOD(stream_ingest_arrow_stream)
STREAM_BUSY_METHOD(stream_ingest_arrow_ipc)
STREAM_BUSY_METHOD(stream_flush)
STREAM_BUSY_METHOD(stream_wait_for_offset)
STREAM_BUSY_METHOD(stream_close)

static PyObject *stream_destroy(PyObject *object, PyObject *unused) {
  (void)unused;
  stream_destroy_now((StreamObject *)object);
  Py_RETURN_NONE;
}

static void stream_dealloc(PyObject *object) {
  PyObject_GC_UnTrack(object);
  stream_destroy_now((StreamObject *)object);
  PyTypeObject *type = Py_TYPE(object);
  PyObject_GC_Del(object);
  Py_DECREF(type);
}

static int stream_traverse(PyObject *object, visitproc visit, void *arg) {
  Py_VISIT(Py_TYPE(object));
  return 0;
}

/* Appends the tuples of `count` polled events to `list` and frees their errors, which the
 * poller owns, whatever happens. Returns `list`, or NULL with an exception set (the list
 * released) when `list` is NULL or a tuple could not be made. */
static PyObject *append_events(PyObject *list, zb_event *events, size_t count) {
  for (size_t i = 0; i < count; ++i) {
    PyObject *tuple = list != NULL ? event_tuple(&events[i]) : NULL;
    zb_error_free(events[i].error);
    if (tuple == NULL || PyList_Append(list, tuple) != 0) {
      Py_CLEAR(list);
    }
    Py_XDECREF(tuple);
  }
  return list;
}

/* poll_raw(max_events, timeout) -> list of event tuples: waits up to `timeout` for the first. */
static PyObject *stream_poll_busy(PyObject *object, PyObject *args) {
  StreamObject *self = (StreamObject *)object;
  Py_ssize_t max_events = POLL_CAPACITY;
  PyObject *timeout = Py_None;
  if (!PyArg_ParseTuple(args, "|nO", &max_events, &timeout)) {
    return NULL;
  }
  int64_t timeout_ms = timeout_ms_of(timeout);
  if (timeout_ms == -2 || !stream_open(self)) {
    return NULL;
  }
  if (max_events < 1 || max_events > POLL_CAPACITY) {
    PyErr_Format(PyExc_ValueError, "max_events must be 1 .. %d", POLL_CAPACITY);
    return NULL;
  }
  zb_event events[POLL_CAPACITY];
  size_t count = 0;
  int64_t left = timeout_ms;
  for (;;) {
    int32_t slice =
        (left == ZB_TIMEOUT_INFINITE || left > WAIT_SLICE_MS) ? WAIT_SLICE_MS : (int32_t)left;
    zb_error *err = NULL;
    PyThreadState *saved = PyEval_SaveThread();
    zb_status status = zb_stream_poll(self->stream, events, sizeof(zb_event), (size_t)max_events,
                                      slice, &count, &err);
    PyEval_RestoreThread(saved);
    if (status != ZB_OK) {
      return raise_error(status, err);
    }
    if (count > 0) {
      break;
    }
    if (left != ZB_TIMEOUT_INFINITE) {
      left -= slice;
      if (left <= 0) {
        break;
      }
    }
    if (PyErr_CheckSignals() != 0) {
      return NULL;
    }
  }
  return append_events(PyList_New(0), events, count);
}

/* Reads what a non-blocking wakeup descriptor holds (an eventfd's counter, a pipe's bytes):
 * a read that fills the buffer may leave more. Nothing to read (EAGAIN) is no error: a
 * wakeup can be read by an earlier call than the one it woke. */
static void drain_wakeup(int fd) {
  char buffer[256];
  ssize_t got;
  do {
    got = read(fd, buffer, sizeof buffer);
  } while (got == (ssize_t)sizeof buffer || (got < 0 && errno == EINTR));
}

/* take_raw(wakeup_fd) -> list of event tuples: every event queued, without waiting, after
 * reading the stream's wakeup descriptor (-1: none). What an event loop runs when the
 * descriptor turns readable (libzerobus.aio), in one crossing. Keeps the GIL: nothing in it
 * waits, and a poll that does not wait only takes the queue's lock, which no thread holds
 * while it waits for the GIL. */
static PyObject *stream_take_raw(PyObject *object, PyObject *arg) {
  StreamObject *self = (StreamObject *)object;
  long fd = PyLong_AsLong(arg);
  if ((fd == -1 && PyErr_Occurred()) || !stream_open(self)) {
    return NULL;
  }
  if (fd > INT_MAX) {
    PyErr_SetString(PyExc_OverflowError, "not a file descriptor");
    return NULL;
  }
  if (fd >= 0) {
    drain_wakeup((int)fd);
  }
  PyObject *list = PyList_New(0);
  zb_event events[POLL_CAPACITY];
  size_t count = POLL_CAPACITY;
  while (list != NULL && count == POLL_CAPACITY) {
    zb_error *err = NULL;
    zb_status status =
        zb_stream_poll(self->stream, events, sizeof(zb_event), POLL_CAPACITY, 0, &count, &err);
    if (status != ZB_OK) {
      Py_DECREF(list);
      return raise_error(status, err);
    }
    list = append_events(list, events, count);
  }
  return list;
}

/* is_durable(offset) -> bool: whether `offset` is acknowledged, without waiting. Raises what
 * wait_for_offset() raises when it never will be (the stream's error; an offset never
 * issued), but answers "not yet" with False, not with the TimeoutError that a wait of 0 ms
 * raises, which costs more than the question. Keeps the GIL, as info_raw() does: a wait of
 * 0 ms returns at once. */
static PyObject *stream_is_durable(PyObject *object, PyObject *arg) {
  StreamObject *self = (StreamObject *)object;
  unsigned long long offset = PyLong_AsUnsignedLongLong(arg);
  if ((offset == (unsigned long long)-1 && PyErr_Occurred()) || !stream_open(self)) {
    return NULL;
  }
  /* Without an error object first: "not yet" then costs no message. */
  zb_status status = zb_stream_wait_for_offset(self->stream, offset, 0, NULL);
  if (status == ZB_OK) {
    Py_RETURN_TRUE;
  }
  if (status == ZB_ERR_TIMEOUT) {
    Py_RETURN_FALSE;
  }
  /* Asked again for the error object: the outcome is settled, so it is the same. */
  zb_error *err = NULL;
  status = zb_stream_wait_for_offset(self->stream, offset, 0, &err);
  if (status == ZB_OK) {
    Py_RETURN_TRUE;
  }
  return raise_error(status, err);
}

static PyObject *stream_unacked(PyObject *object, PyObject *unused) {
  (void)unused;
  StreamObject *self = (StreamObject *)object;
  if (!stream_open(self)) {
    return NULL;
  }
  zb_records *records = NULL;
  zb_error *err = NULL;
  zb_status status = zb_stream_unacked(self->stream, &records, &err);
  if (status != ZB_OK) {
    return raise_error(status, err);
  }
  size_t count = zb_records_count(records);
  PyObject *list = PyList_New((Py_ssize_t)count);
  for (size_t i = 0; list != NULL && i < count; ++i) {
    const void *data = NULL;
    size_t len = 0;
    uint64_t offset = 0;
    zb_records_get(records, i, &data, &len, &offset, NULL); /* index in range: cannot fail */
    PyObject *item =
        Py_BuildValue("Ky#", (unsigned long long)offset, (const char *)data, (Py_ssize_t)len);
    if (item == NULL) {
      Py_CLEAR(list);
      break;
    }
    PyList_SetItem(list, (Py_ssize_t)i, item);
  }
  zb_records_free(records);
  return list;
}

/* info_raw() -> (state, accepted, acked, in_flight, bytes_in_flight, recoveries, replayed). */
static PyObject *stream_info(PyObject *object, PyObject *unused) {
  (void)unused;
  StreamObject *self = (StreamObject *)object;
  if (!stream_open(self)) {
    return NULL;
  }
  zb_stream_info info = ZB_STREAM_INFO_INIT;
  zb_error *err = NULL;
  zb_status status = zb_stream_get_info(self->stream, &info, &err);
  if (status != ZB_OK) {
    return raise_error(status, err);
  }
  return Py_BuildValue(
      "sKKKKKK", zb_stream_state_name(info.state), (unsigned long long)info.records_accepted,
      (unsigned long long)info.records_acked, (unsigned long long)info.records_in_flight,
      (unsigned long long)info.bytes_in_flight, (unsigned long long)info.recoveries,
      (unsigned long long)info.records_replayed);
}

static PyObject *string_result(zb_status status, char *json, size_t len, zb_error *err) {
  if (status != ZB_OK) {
    return raise_error(status, err);
  }
  PyObject *text = PyUnicode_FromStringAndSize(json, (Py_ssize_t)len);
  zb_string_free(json);
  return text;
}

static PyObject *stream_stats_json(PyObject *object, PyObject *unused) {
  (void)unused;
  StreamObject *self = (StreamObject *)object;
  if (!stream_open(self)) {
    return NULL;
  }
  char *json = NULL;
  size_t len = 0;
  zb_error *err = NULL;
  zb_status status = zb_stream_stats_json(self->stream, &json, &len, &err);
  return string_result(status, json, len, err);
}

static PyObject *stream_recreate_busy(PyObject *object, PyObject *unused) {
  (void)unused;
  StreamObject *self = (StreamObject *)object;
  if (!stream_open(self)) {
    return NULL;
  }
  zb_stream *fresh = NULL;
  zb_error *err = NULL;
  PyThreadState *saved = PyEval_SaveThread();
  zb_status status = zb_stream_recreate(self->stream, &fresh, &err);
  PyEval_RestoreThread(saved);
  if (status != ZB_OK) {
    return raise_error(status, err);
  }
  PyObject *wrapped = stream_wrap(Py_TYPE(object), fresh);
  if (wrapped != NULL) {
    ((StreamObject *)wrapped)->record_type = self->record_type;
    ((StreamObject *)wrapped)->ingest_timeout_ms = self->ingest_timeout_ms;
  }
  return wrapped;
}

/* persistent_id_raw() -> str: the durable id of a persistent stream (StateError otherwise). */
static PyObject *stream_persistent_id(PyObject *object, PyObject *unused) {
  (void)unused;
  StreamObject *self = (StreamObject *)object;
  if (!stream_open(self)) {
    return NULL;
  }
  char *id = NULL;
  size_t len = 0;
  zb_error *err = NULL;
  zb_status status = zb_stream_persistent_id(self->stream, &id, &len, &err);
  return string_result(status, id, len, err);
}

/* resume_watermark_raw() -> int or None: the last offset the server had committed when the stream
 * was resumed, None when it had committed none (or the stream was created). */
static PyObject *stream_resume_watermark(PyObject *object, PyObject *unused) {
  (void)unused;
  StreamObject *self = (StreamObject *)object;
  if (!stream_open(self)) {
    return NULL;
  }
  int32_t has_committed = 0;
  uint64_t last_committed = 0;
  zb_error *err = NULL;
  zb_status status =
      zb_stream_resume_watermark(self->stream, &has_committed, &last_committed, &err);
  if (status != ZB_OK) {
    return raise_error(status, err);
  }
  if (!has_committed) {
    Py_RETURN_NONE;
  }
  return PyLong_FromUnsignedLongLong(last_committed);
}

static PyObject *stream_is_json(PyObject *object, void *closure) {
  (void)closure;
  return PyBool_FromLong(((StreamObject *)object)->record_type == ZB_RECORD_JSON);
}

STREAM_BUSY_METHOD(stream_poll)
STREAM_BUSY_METHOD(stream_recreate)

static PyMethodDef stream_methods[] = {
    {"ingest", stream_ingest, METH_O, NULL},
    {"ingest_batch", stream_ingest_batch, METH_O, NULL},
    {"ingest_arrow_array", stream_ingest_arrow_array, METH_O, NULL},
    {"ingest_arrow_stream", stream_ingest_arrow_stream, METH_O, NULL},
    {"ingest_arrow_ipc", stream_ingest_arrow_ipc, METH_O, NULL},
    {"flush", stream_flush, METH_O, NULL},
    {"wait_for_offset", stream_wait_for_offset, METH_VARARGS, NULL},
    {"close", stream_close, METH_O, NULL},
    {"destroy", stream_destroy, METH_NOARGS, NULL},
    {"poll_raw", stream_poll, METH_VARARGS, NULL},
    {"take_raw", stream_take_raw, METH_O, NULL},
    {"is_durable", stream_is_durable, METH_O, NULL},
    {"unacked", stream_unacked, METH_NOARGS, NULL},
    {"info_raw", stream_info, METH_NOARGS, NULL},
    {"stats_json", stream_stats_json, METH_NOARGS, NULL},
    {"recreate", stream_recreate, METH_NOARGS, NULL},
    {"persistent_id_raw", stream_persistent_id, METH_NOARGS, NULL},
    {"resume_watermark_raw", stream_resume_watermark, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL},
};

/* The calls under way on other threads that may release the GIL, for tests to know that one
 * waits. */
static PyObject *stream_calls_under_way(PyObject *object, void *closure) {
  (void)closure;
  return PyLong_FromLong(((StreamObject *)object)->busy);
}

static PyGetSetDef stream_getset[] = {
    {"is_json", stream_is_json, NULL, NULL, NULL},
    {"_calls_under_way", stream_calls_under_way, NULL, NULL, NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyType_Slot stream_slots[] = {
    {Py_tp_dealloc, stream_dealloc},
    {Py_tp_traverse, stream_traverse},
    {Py_tp_methods, stream_methods},
    {Py_tp_getset, stream_getset},
    {0, NULL},
};

/* Subclassable: the package's Stream adds the context manager and the iterators. */
static PyType_Spec stream_spec = {"libzerobus._native.Stream", sizeof(StreamObject), 0,
                                  Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
                                  stream_slots};

/* ------------------------------------------------------------------------------------------ */
/* Sdk */

typedef struct {
  PyObject_HEAD zb_sdk *sdk;
  /* As StreamObject's: streams being opened, and a destroy() put off until they are. */
  int busy;
  int destroy_pending;
} SdkObject;

static PyTypeObject *SdkType;

/* Sdk(endpoint, options, log, stats): `log` and `stats` are callables or None. */
static PyObject *sdk_new(PyTypeObject *type, PyObject *args, PyObject *kwargs) {
  static char *keywords[] = {"endpoint", "options", "log", "stats", NULL};
  const char *endpoint = NULL;
  PyObject *options = NULL;
  PyObject *log = Py_None;
  PyObject *stats = Py_None;
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "sO|OO", keywords, &endpoint, &options, &log,
                                   &stats)) {
    return NULL;
  }
  zb_config *cfg = config_from(options);
  if (cfg == NULL) {
    return NULL;
  }
  if (register_callable(cfg, log, set_log_callable) != 0 ||
      register_callable(cfg, stats, set_stats_callable) != 0) {
    zb_config_destroy(cfg);
    return NULL;
  }
  zb_sdk *sdk = NULL;
  zb_error *err = NULL;
  PyThreadState *saved = PyEval_SaveThread();
  zb_status status = zb_sdk_new(endpoint, cfg, &sdk, &err);
  zb_config_destroy(cfg); /* may release the callables: they take the GIL themselves */
  PyEval_RestoreThread(saved);
  if (status != ZB_OK) {
    return raise_error(status, err);
  }
  SdkObject *self = (SdkObject *)PyType_GenericAlloc(type, 0);
  if (self == NULL) {
    PyThreadState *saved = PyEval_SaveThread();
    zb_sdk_destroy(sdk);
    PyEval_RestoreThread(saved);
    return NULL;
  }
  self->sdk = sdk;
  return (PyObject *)self;
}

static void sdk_destroy_now(SdkObject *self) {
  if (self->sdk == NULL) {
    return;
  }
  if (self->busy > 0) {
    self->destroy_pending = 1; /* the last opening under way destroys it */
    return;
  }
  zb_sdk *sdk = self->sdk;
  self->sdk = NULL;
  self->destroy_pending = 0;
  /* Waits for a statistics callback that may be waiting for the GIL. */
  PyThreadState *saved = PyEval_SaveThread();
  zb_sdk_destroy(sdk);
  PyEval_RestoreThread(saved);
}

static void sdk_dealloc(PyObject *object) {
  PyObject_GC_UnTrack(object);
  sdk_destroy_now((SdkObject *)object);
  PyTypeObject *type = Py_TYPE(object);
  PyObject_GC_Del(object);
  Py_DECREF(type);
}

static int sdk_traverse(PyObject *object, visitproc visit, void *arg) {
  Py_VISIT(Py_TYPE(object));
  return 0;
}

static PyObject *sdk_destroy(PyObject *object, PyObject *unused) {
  (void)unused;
  sdk_destroy_now((SdkObject *)object);
  Py_RETURN_NONE;
}

static int sdk_open(SdkObject *self) {
  if (self->sdk == NULL || self->destroy_pending) {
    PyErr_SetString(PyExc_ValueError, "the SDK was closed");
    return 0;
  }
  return 1;
}

/* The key whose wait the binding does itself (ingest_with_room()). */
#define INGEST_TIMEOUT_KEY "stream.ingest.timeout.ms"

/* Reads the ingest timeout `cfg` holds (checked by the library when it was set) into *out,
 * and sets it to 0 there. 0, or -1 with an exception set. */
static int take_ingest_timeout(zb_config *cfg, int64_t *out) {
  char text[32];
  size_t size = sizeof(text);
  zb_error *err = NULL;
  zb_status status = zb_config_get(cfg, INGEST_TIMEOUT_KEY, text, &size, &err);
  if (status == ZB_OK && size <= sizeof(text)) {
    *out = strtoll(text, NULL, 10);
    status = zb_config_set(cfg, INGEST_TIMEOUT_KEY, "0", &err);
  } else if (status == ZB_OK) {
    status = ZB_ERR_INTERNAL; /* a number of the library's that does not fit: cannot be */
  }
  if (status != ZB_OK) {
    raise_error(status, err);
    return -1;
  }
  return 0;
}

/* open_stream(stream_type, table or schema, record_type, descriptor, options, on_event,
 * headers_provider, wakeup_fd[, subject_token]) -> stream_type instance. A schema opens a
 * schema stream, of Avro datums when record_type is RECORD_AVRO, else of protobuf records
 * (descriptor then unused); for a table, descriptor (None or bytes-like) is the
 * DescriptorProto of RECORD_PROTO or the writer schema of RECORD_AVRO, and the Arrow schema of
 * RECORD_ARROW: an "arrow_schema" capsule or IPC bytes. on_event None means events
 * are polled; headers_provider None, no provider; wakeup_fd >= 0 is the write
 * end of a pipe the library then owns, written at each wakeup and closed with the stream;
 * subject_token, the token federation callable, None (the default) for none. persistent true
 * opens a persistent stream of a table (not a schema, not Arrow): created anew when resume_id
 * is None, else resumed by that id. */
static PyObject *sdk_open_stream_busy(PyObject *object, PyObject *args) {
  SdkObject *self = (SdkObject *)object;
  PyTypeObject *stream_type = NULL;
  PyObject *target = NULL;
  int record_type = ZB_RECORD_PROTO;
  PyObject *descriptor_object = Py_None;
  Py_buffer descriptor = {0};
  PyObject *options = NULL;
  PyObject *on_event_callable = Py_None;
  PyObject *headers_callable = Py_None;
  int wakeup_fd = -1;
  PyObject *subject_token_callable = Py_None;
  int persistent = 0;
  const char *resume_id = NULL;
  if (!PyArg_ParseTuple(args, "O!OiOOOOi|Opz", &PyType_Type, &stream_type, &target, &record_type,
                        &descriptor_object, &options, &on_event_callable, &headers_callable,
                        &wakeup_fd, &subject_token_callable, &persistent, &resume_id)) {
    return NULL;
  }
  /* An Arrow stream's schema may be a capsule of the Arrow PyCapsule interface, borrowed for
   * the opening; any other descriptor is bytes-like (IPC bytes for an Arrow stream). */
  const struct ArrowSchema *arrow_schema =
      record_type == ZB_RECORD_ARROW && PyCapsule_IsValid(descriptor_object, "arrow_schema")
          ? PyCapsule_GetPointer(descriptor_object, "arrow_schema")
          : NULL;
  if (arrow_schema == NULL && descriptor_object != Py_None &&
      PyObject_GetBuffer(descriptor_object, &descriptor, PyBUF_SIMPLE) != 0) {
    return NULL;
  }
  PyObject *result = NULL;
  zb_config *cfg = NULL;
  if (!PyType_IsSubtype(stream_type, StreamType)) {
    PyErr_SetString(PyExc_TypeError, "stream_type must derive from _native.Stream");
    goto done;
  }
  if (persistent && (record_type == ZB_RECORD_ARROW || !PyUnicode_Check(target))) {
    PyErr_SetString(PyExc_ValueError,
                    "a persistent stream is of a table named by a str, "
                    "with JSON, protobuf or Avro records");
    goto done;
  }
  if (!sdk_open(self) || (cfg = config_from(options)) == NULL ||
      register_callable(cfg, on_event_callable, set_event_callable) != 0 ||
      register_callable(cfg, headers_callable, set_headers_callable) != 0 ||
      register_callable(cfg, subject_token_callable, set_subject_token_callable) != 0) {
    goto done;
  }
  /* An Arrow call moves its batch into the library, which releases it when the call fails:
   * it cannot be tried again, so the library waits for room itself, without the GIL. */
  int64_t ingest_timeout_ms = 0;
  if (record_type != ZB_RECORD_ARROW && take_ingest_timeout(cfg, &ingest_timeout_ms) != 0) {
    goto done;
  }
  if (wakeup_fd >= 0) {
    zb_error *err = NULL;
    /* Written by the library from the thread that queues an event: no hop through its
     * dispatch threads, and no Python code. */
    zb_status status = zb_config_set_wakeup_fd(cfg, wakeup_fd, 1, &err);
    wakeup_fd = -1; /* the library owns it now, whatever the status */
    if (status != ZB_OK) {
      raise_error(status, err);
      goto done;
    }
  }
  zb_stream *stream = NULL;
  zb_error *err = NULL;
  int from_schema = PyObject_TypeCheck(target, SchemaType);
  const char *table = NULL;
  if (!from_schema && (table = PyUnicode_AsUTF8AndSize(target, NULL)) == NULL) {
    goto done;
  }
  const zb_schema *schema = from_schema ? ((SchemaObject *)target)->schema : NULL;
  if (from_schema && record_type != ZB_RECORD_AVRO) {
    record_type = ZB_RECORD_PROTO;
  }
  PyThreadState *saved = PyEval_SaveThread();
  zb_status status =
      persistent && resume_id != NULL
          ? zb_stream_resume(self->sdk, table, resume_id, record_type, descriptor.buf,
                             (size_t)descriptor.len, cfg, &stream, &err)
      : persistent ? zb_stream_new_persistent(self->sdk, table, record_type, descriptor.buf,
                                              (size_t)descriptor.len, cfg, &stream, &err)
      : arrow_schema != NULL
          ? zb_stream_new_arrow(self->sdk, table, arrow_schema, cfg, &stream, &err)
      : record_type == ZB_RECORD_ARROW
          ? zb_stream_new_arrow_ipc(self->sdk, table, descriptor.buf, (size_t)descriptor.len, cfg,
                                    &stream, &err)
      : !from_schema ? zb_stream_new(self->sdk, table, record_type, descriptor.buf,
                                     (size_t)descriptor.len, cfg, &stream, &err)
      : record_type == ZB_RECORD_AVRO
          ? zb_stream_new_avro_from_schema(self->sdk, schema, cfg, &stream, &err)
          : zb_stream_new_from_schema(self->sdk, schema, cfg, &stream, &err);
  zb_config_destroy(cfg);
  PyEval_RestoreThread(saved);
  cfg = NULL;
  if (status != ZB_OK) {
    raise_error(status, err);
    goto done;
  }
  result = stream_wrap(stream_type, stream);
  if (result != NULL) {
    ((StreamObject *)result)->record_type = record_type;
    ((StreamObject *)result)->ingest_timeout_ms = ingest_timeout_ms;
  }
done:
  if (wakeup_fd >= 0) {
    close(wakeup_fd);
  }
  zb_config_destroy(cfg); /* a callable it releases takes the GIL again, on this thread */
  PyBuffer_Release(&descriptor);
  return result;
}

/* open_stream with the SDK marked busy: a close() meanwhile waits for the opening. */
static PyObject *sdk_open_stream(PyObject *object, PyObject *args) {
  SdkObject *self = (SdkObject *)object;
  ++self->busy;
  PyObject *result = sdk_open_stream_busy(object, args);
  if (--self->busy == 0 && self->destroy_pending) {
    sdk_destroy_now(self);
  }
  return result;
}

/* retire_stream(table, stream_id, options, headers_provider): retires a persistent stream,
 * one call without the GIL. */
static PyObject *sdk_retire_stream(PyObject *object, PyObject *args) {
  SdkObject *self = (SdkObject *)object;
  const char *table = NULL;
  const char *stream_id = NULL;
  PyObject *options = NULL;
  PyObject *headers_callable = Py_None;
  if (!PyArg_ParseTuple(args, "ssOO", &table, &stream_id, &options, &headers_callable)) {
    return NULL;
  }
  zb_config *cfg = NULL;
  if (!sdk_open(self) || (cfg = config_from(options)) == NULL ||
      register_callable(cfg, headers_callable, set_headers_callable) != 0) {
    zb_config_destroy(cfg);
    return NULL;
  }
  ++self->busy; /* a close() meanwhile waits for the call */
  zb_error *err = NULL;
  PyThreadState *saved = PyEval_SaveThread();
  zb_status status = zb_stream_retire(self->sdk, table, stream_id, cfg, &err);
  PyEval_RestoreThread(saved);
  zb_config_destroy(cfg); /* a callable it releases takes the GIL again, on this thread */
  if (--self->busy == 0 && self->destroy_pending) {
    sdk_destroy_now(self);
  }
  return status_result(status, err);
}

static PyObject *sdk_stats_json(PyObject *object, PyObject *unused) {
  (void)unused;
  SdkObject *self = (SdkObject *)object;
  if (!sdk_open(self)) {
    return NULL;
  }
  char *json = NULL;
  size_t len = 0;
  zb_error *err = NULL;
  zb_status status = zb_sdk_stats_json(self->sdk, &json, &len, &err);
  return string_result(status, json, len, err);
}

static PyMethodDef sdk_methods[] = {
    {"open_stream", sdk_open_stream, METH_VARARGS, NULL},
    {"retire_stream", sdk_retire_stream, METH_VARARGS, NULL},
    {"stats_json", sdk_stats_json, METH_NOARGS, NULL},
    {"destroy", sdk_destroy, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static PyType_Slot sdk_slots[] = {
    {Py_tp_new, sdk_new},
    {Py_tp_dealloc, sdk_dealloc},
    {Py_tp_traverse, sdk_traverse},
    {Py_tp_methods, sdk_methods},
    {0, NULL},
};

static PyType_Spec sdk_spec = {"libzerobus._native.Sdk", sizeof(SdkObject), 0,
                               Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
                               sdk_slots};

/* ------------------------------------------------------------------------------------------ */
/* Module functions: what the library says about itself, enumerated, never copied. */

static PyObject *module_version(PyObject *module, PyObject *unused) {
  (void)module;
  (void)unused;
  return PyUnicode_FromString(zb_version_str());
}

/* status_codes() -> [(code, name, description)], counting up until the library knows no more. */
static PyObject *module_status_codes(PyObject *module, PyObject *unused) {
  (void)module;
  (void)unused;
  PyObject *list = PyList_New(0);
  for (zb_status code = ZB_OK; list != NULL && zb_status_name(code) != NULL; ++code) {
    PyObject *item =
        Py_BuildValue("iss", (int)code, zb_status_name(code), zb_status_describe(code));
    if (item == NULL || PyList_Append(list, item) != 0) {
      Py_CLEAR(list);
    }
    Py_XDECREF(item);
  }
  return list;
}

/* config_properties() -> [(name, type, default, range, scope, description)]. */
static PyObject *module_config_properties(PyObject *module, PyObject *unused) {
  (void)module;
  (void)unused;
  PyObject *list = PyList_New(0);
  for (size_t index = 0; list != NULL; ++index) {
    zb_config_property property = ZB_CONFIG_PROPERTY_INIT;
    zb_error *err = NULL;
    if (zb_config_describe(index, &property, &err) != ZB_OK) {
      zb_error_free(err); /* past the last key */
      break;
    }
    PyObject *item = Py_BuildValue("ssssss", property.name, property.type, property.default_value,
                                   property.range, property.scope, property.description);
    if (item == NULL || PyList_Append(list, item) != 0) {
      Py_CLEAR(list);
    }
    Py_XDECREF(item);
  }
  return list;
}

/* log_levels() -> [(level, name)], from ZB_LOG_ERROR on. */
static PyObject *module_log_levels(PyObject *module, PyObject *unused) {
  (void)module;
  (void)unused;
  PyObject *list = PyList_New(0);
  for (zb_log_level level = ZB_LOG_ERROR; list != NULL && zb_log_level_name(level) != NULL;
       ++level) {
    PyObject *item = Py_BuildValue("is", (int)level, zb_log_level_name(level));
    if (item == NULL || PyList_Append(list, item) != 0) {
      Py_CLEAR(list);
    }
    Py_XDECREF(item);
  }
  return list;
}

static PyObject *module_set_error_factory(PyObject *module, PyObject *factory) {
  (void)module;
  if (!PyCallable_Check(factory)) {
    PyErr_SetString(PyExc_TypeError, "the error factory must be callable");
    return NULL;
  }
  PyObject *previous = error_factory;
  Py_INCREF(factory);
  error_factory = factory;
  Py_XDECREF(previous);
  Py_RETURN_NONE;
}

static PyObject *module_interpreter_exiting(PyObject *module, PyObject *unused) {
  (void)module;
  (void)unused;
  atomic_store(&interpreter_exiting, 1);
  Py_RETURN_NONE;
}

static PyMethodDef module_methods[] = {
    {"version", module_version, METH_NOARGS, NULL},
    {"status_codes", module_status_codes, METH_NOARGS, NULL},
    {"config_properties", module_config_properties, METH_NOARGS, NULL},
    {"log_levels", module_log_levels, METH_NOARGS, NULL},
    {"schema_from_ddl", schema_from_ddl, METH_O, NULL},
    {"schema_from_table_json", schema_from_table_json, METH_O, NULL},
    {"_set_error_factory", module_set_error_factory, METH_O, NULL},
    {"_interpreter_exiting", module_interpreter_exiting, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT, "libzerobus._native", NULL, -1, module_methods, NULL, NULL, NULL, NULL,
};

static int add_type(PyObject *module, PyType_Spec *spec, PyTypeObject **out) {
  *out = (PyTypeObject *)PyType_FromSpec(spec);
  if (*out == NULL) {
    return -1;
  }
  const char *name = strrchr(spec->name, '.') + 1;
  Py_INCREF((PyObject *)*out);
  if (PyModule_AddObject(module, name, (PyObject *)*out) != 0) {
    Py_DECREF((PyObject *)*out);
    return -1;
  }
  return 0;
}

PyMODINIT_FUNC PyInit__native(void) {
  PyObject *module = PyModule_Create(&module_def);
  if (module == NULL) {
    return NULL;
  }
  if (add_type(module, &schema_spec, &SchemaType) != 0 ||
      add_type(module, &stream_spec, &StreamType) != 0 ||
      add_type(module, &sdk_spec, &SdkType) != 0 ||
      PyModule_AddIntConstant(module, "RECORD_PROTO", ZB_RECORD_PROTO) != 0 ||
      PyModule_AddIntConstant(module, "RECORD_JSON", ZB_RECORD_JSON) != 0 ||
      PyModule_AddIntConstant(module, "RECORD_AVRO", ZB_RECORD_AVRO) != 0 ||
      PyModule_AddIntConstant(module, "RECORD_ARROW", ZB_RECORD_ARROW) != 0 ||
      PyModule_AddIntConstant(module, "EVENT_ACK", ZB_EVENT_ACK) != 0 ||
      PyModule_AddIntConstant(module, "EVENT_ERROR", ZB_EVENT_ERROR) != 0) {
    Py_DECREF(module);
    return NULL;
  }
  /* A library older than the header lacks what this module calls. */
  if ((zb_version() >> 16) != ZB_VERSION_MAJOR || zb_version() < ZB_VERSION_NUM) {
    PyErr_Format(PyExc_ImportError, "libzerobus %s is loaded; this module needs %d.%d or newer",
                 zb_version_str(), ZB_VERSION_MAJOR, ZB_VERSION_MINOR);
    Py_DECREF(module);
    return NULL;
  }
  return module;
}
