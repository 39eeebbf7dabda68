"""libzerobus for Python: a native client for Databricks Zerobus Ingest.

    import libzerobus

    with libzerobus.Sdk("http://127.0.0.1:50051", transport_plaintext=True) as sdk:
        with sdk.stream("main.default.events") as stream:  # a JSON stream
            offset = stream.ingest('{"id": 1, "payload": "x"}')
            stream.wait_for_offset(offset)

Options are the library's configuration keys (docs/CONFIGURATION.md), given as keyword
arguments with their dots spelled as underscores (recovery_retries=4) or as a mapping of the
keys themselves ({"recovery.retries": 4}); the library checks every key and value. Options of
an Sdk apply to it and are the defaults of every stream it opens.
"""

from __future__ import annotations

import atexit
import json
import logging
import sys
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any, Callable, Optional, Protocol, Union

from . import _native
from .errors import ZerobusError, error_classes

__all__ = [
    "AckEvent",
    "ArrowArrayExporter",
    "ArrowData",
    "ArrowSchemaExporter",
    "ArrowSchemaSource",
    "ArrowStreamExporter",
    "ErrorEvent",
    "Event",
    "Schema",
    "Sdk",
    "Stream",
    "StreamInfo",
    "ZerobusError",
    "config_keys",
    "library_version",
    *error_classes(),
]
globals().update(error_classes())
if TYPE_CHECKING:
    from .errors import *  # noqa: F403  (the classes made at run time, as errors.pyi types them)

#: A record: bytes-like (protobuf, or JSON text on a JSON stream), or str (JSON on any stream).
Record = Union[bytes, bytearray, memoryview, str]
#: An option's value; booleans and integers are spelled as the library reads them.
OptionValue = Union[str, int, bool]
Options = Mapping[str, OptionValue]
#: Returns the gRPC headers of one connection attempt, as (name, value) pairs.
HeadersProvider = Callable[[], Iterable[tuple[str, str]]]
#: Returns the subject token of token federation: a JWT from an external identity provider.
SubjectTokenProvider = Callable[[], str]

Schema = _native.Schema


class ArrowSchemaExporter(Protocol):
    """An Arrow schema of the Arrow PyCapsule interface (a pyarrow.Schema, say)."""

    def __arrow_c_schema__(self) -> object: ...


class ArrowArrayExporter(Protocol):
    """A record batch of the Arrow PyCapsule interface (a pyarrow.RecordBatch, say)."""

    def __arrow_c_array__(self, requested_schema: Any = None) -> tuple[object, object]: ...


class ArrowStreamExporter(Protocol):
    """A stream of record batches of the Arrow PyCapsule interface (a pyarrow.Table or
    RecordBatchReader, say)."""

    def __arrow_c_stream__(self, requested_schema: Any = None) -> object: ...


#: The schema of an Arrow stream: an exporter, or Arrow IPC bytes of the schema alone.
ArrowSchemaSource = Union[ArrowSchemaExporter, bytes, bytearray, memoryview]
#: What Stream.ingest_arrow() takes: a batch, a stream of batches, or Arrow IPC stream bytes.
ArrowData = Union[ArrowArrayExporter, ArrowStreamExporter, bytes, bytearray, memoryview]

_logger = logging.getLogger("libzerobus")

# Keyword spelling -> configuration key, from the library's own list of keys.
_KEYWORD_KEYS: dict[str, str] = {
    name.replace(".", "_"): name for name, *_ in _native.config_properties()
}
# The library's level names, as log.level spells them, to Python's levels.
_PYTHON_LEVELS = {
    "error": logging.ERROR,
    "warn": logging.WARNING,
    "info": logging.INFO,
    "debug": logging.DEBUG,
}
_LEVEL_NAMES = dict(_native.log_levels())
# The binding's part of the user-agent, before the application's name (sdk.application.name):
# "libzerobus/0.1.0 python/3.11.2 my-app/1.0".
_BINDING_NAME = "python/{}.{}.{}".format(*sys.version_info[:3])


def library_version() -> str:
    """The version of the libzerobus loaded, "MAJOR.MINOR.PATCH"."""
    return _native.version()


def config_keys() -> dict[str, str]:
    """Every configuration key the library knows, by its keyword spelling."""
    return dict(_KEYWORD_KEYS)


def _option_text(value: OptionValue) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _merge_options(
    base: Mapping[str, str], options: Optional[Options], keywords: Mapping[str, OptionValue]
) -> dict[str, str]:
    """`base` with `options` (keys as they are) and `keywords` (spelled with underscores) over
    it. A keyword the library does not know is passed on as it is, for the library to refuse
    with UnknownKeyError."""
    merged = dict(base)
    for key, value in (options or {}).items():
        merged[key] = _option_text(value)
    for keyword, value in keywords.items():
        merged[_KEYWORD_KEYS.get(keyword, keyword)] = _option_text(value)
    return merged


def _log_from_library(level: int, component: str, message: str) -> None:
    python_level = _PYTHON_LEVELS.get(_LEVEL_NAMES.get(level, ""), logging.DEBUG)
    logging.getLogger(f"libzerobus.{component}").log(python_level, "%s", message)


def _library_level_for(logger: logging.Logger) -> str:
    """The log.level that sends the library's messages the logger would keep, and no more."""
    effective = logger.getEffectiveLevel()
    kept = [name for name, python_level in _PYTHON_LEVELS.items() if python_level >= effective]
    return kept[-1] if kept else "error"


@dataclass(frozen=True)
class AckEvent:
    """Records first_offset..last_offset are durable; last_offset is the new watermark."""

    first_offset: int
    last_offset: int


@dataclass(frozen=True)
class ErrorEvent:
    """Records first_offset..last_offset will never be acknowledged, for `error`; they stay in
    Stream.unacked() until the stream is destroyed."""

    first_offset: int
    last_offset: int
    error: ZerobusError


Event = Union[AckEvent, ErrorEvent]


def _event(raw: tuple[int, int, int, Optional[ZerobusError]]) -> Optional[Event]:
    """The event, or None for a kind a newer library may add and this binding does not know."""
    kind, first, last, error = raw
    if kind == _native.EVENT_ACK:
        return AckEvent(first, last)
    if kind == _native.EVENT_ERROR and error is not None:
        return ErrorEvent(first, last, error)
    return None


@dataclass(frozen=True)
class StreamInfo:
    """A snapshot of a stream: its state ("open", "recovering", "paused", "failed", "closed")
    and counters."""

    state: str
    records_accepted: int
    records_acked: int
    records_in_flight: int
    bytes_in_flight: int
    recoveries: int
    records_replayed: int


class Stream(_native.Stream):
    """A stream of records into one table, opened by Sdk.stream(). Every method may be called
    from any number of threads at once. As a context manager it closes on exit.

    ingest() and ingest_batch() take records without copying them on the Python side (the
    library copies them before returning) and return offsets; flush(), wait_for_offset() and
    close() release the GIL while they wait and are interrupted by Ctrl-C."""

    def flush(self, timeout: Optional[float] = None) -> None:
        """Waits until every record accepted before the call is durable; timeout in seconds,
        None without limit. Raises TimeoutError (a ZerobusError) or the stream's error."""
        super().flush(timeout)

    def wait_for_offset(self, offset: int, timeout: Optional[float] = None) -> None:
        """Waits until `offset` is durable."""
        super().wait_for_offset(offset, timeout)

    def close(self, timeout: Optional[float] = None) -> None:
        """Stops accepting records and waits until every accepted one is durable, then ends the
        call. Records left unacknowledged get error events and stay in unacked(). Interrupted
        by Ctrl-C, it leaves the stream open, to be closed again."""
        super().close(timeout)

    def poll(self, max_events: int = 64, timeout: Optional[float] = 0) -> list[Event]:
        """Takes up to max_events queued events, waiting up to `timeout` seconds for the first
        (None: without limit). Not on a stream with an on_event callback (StateError)."""
        events = (_event(raw) for raw in self.poll_raw(max_events, timeout))
        return [event for event in events if event is not None]

    def events(self, timeout: Optional[float] = None) -> Iterator[Event]:
        """The stream's events as they come. Ends once no event came within `timeout` seconds
        (None: never for that reason), or once the stream is closed or failed and its events
        are all taken."""
        while True:
            taken = self.poll(64, timeout if timeout is not None else 0.25)
            yield from taken
            if taken:
                continue
            if timeout is not None or self.info().state in ("closed", "failed"):
                return

    def info(self) -> StreamInfo:
        """The stream's state and counters."""
        return StreamInfo(*self.info_raw())

    def stats(self) -> dict[str, Any]:
        """The stream's statistics (docs/STATISTICS.md)."""
        result: dict[str, Any] = json.loads(self.stats_json())
        return result

    def unacked(self) -> list[tuple[int, bytes]]:
        """Every accepted record not yet acknowledged, as (offset, bytes), in offset order. On
        an Arrow stream, each batch as Arrow IPC stream bytes (its schema, the batch cut to its
        unacknowledged rows, the end-of-stream marker), for pyarrow.ipc.open_stream()."""
        return super().unacked()

    def ingest_arrow(self, data: ArrowData) -> int:
        """Accepts Arrow record batches on an Arrow stream (Sdk.stream(table, arrow=schema)),
        each under an offset of its own, and returns the last one's offset.

        `data` is a record batch (anything with __arrow_c_array__, as pyarrow.RecordBatch), one
        offset; a stream of batches (__arrow_c_stream__: pyarrow.Table, RecordBatchReader),
        the batches with rows taken in order; or Arrow IPC stream bytes, copied. A batch or C
        stream is not copied: the library takes its C Data structs and releases them once the
        server has acknowledged every row (or the stream is destroyed first), so their memory
        stays alive until then. Its schema must equal the stream's (InvalidSchemaError, naming
        the column); data without rows raises EmptyBatchError. Waits for room in the window up
        to stream_ingest_timeout_ms, without the GIL."""
        if hasattr(data, "__arrow_c_array__"):
            return self.ingest_arrow_array(data.__arrow_c_array__())
        if hasattr(data, "__arrow_c_stream__"):
            return self.ingest_arrow_stream(data.__arrow_c_stream__())
        return self.ingest_arrow_ipc(data)

    def recreate(self) -> Stream:
        """A new stream like this failed or closed one, into which every record this one did
        not get acknowledged has been ingested again, in order (at-least-once)."""
        fresh: Stream = super().recreate()
        return fresh

    def __enter__(self) -> Stream:
        return self

    def __exit__(
        self,
        kind: Optional[type[BaseException]],
        value: Optional[BaseException],
        traceback: Optional[TracebackType],
    ) -> None:
        try:
            self.close()
        except ZerobusError:
            if kind is None:
                raise
            # The body's exception says more; the close's is logged, not lost.
            _logger.warning("closing the stream after an exception failed", exc_info=True)
        finally:
            self.destroy()


class Sdk:
    """A Zerobus endpoint: its streams, each on a connection of its own unless
    stream_own_connection=False shares one.

    Sdk(endpoint, options=None, *, on_stats=None, **keywords): `endpoint` is "https://host" (or
    "http://host:port" with transport_plaintext=True for a local server). The library's log
    goes to the logger "libzerobus" (a child per component, "libzerobus.stream" and so on), at
    the level that logger keeps unless log_level is given. With statistics_interval_ms, the
    statistics go to `on_stats` as a dict, or without it to the logger "libzerobus.stats" at
    INFO, as JSON."""

    def __init__(
        self,
        endpoint: str,
        options: Optional[Options] = None,
        *,
        on_stats: Optional[Callable[[dict[str, Any]], None]] = None,
        **keywords: OptionValue,
    ) -> None:
        self._options = _merge_options({}, options, keywords)
        sdk_options = dict(self._options)
        sdk_options.setdefault("log.level", _library_level_for(_logger))
        application = sdk_options.get("sdk.application.name")
        sdk_options["sdk.application.name"] = (
            f"{_BINDING_NAME} {application}" if application else _BINDING_NAME
        )
        stats = None
        if "statistics.interval.ms" in sdk_options:
            stats = _stats_sink(on_stats)
        self._native = _native.Sdk(endpoint, list(sdk_options.items()), _log_from_library, stats)

    def stream(
        self,
        table: Union[str, _native.Schema],
        descriptor: Optional[bytes] = None,
        *,
        avro: Union[str, bool] = False,
        arrow: Optional[ArrowSchemaSource] = None,
        on_event: Optional[Callable[[Event], None]] = None,
        headers_provider: Optional[HeadersProvider] = None,
        subject_token: Optional[SubjectTokenProvider] = None,
        options: Optional[Options] = None,
        **keywords: OptionValue,
    ) -> Stream:
        """Opens a stream and returns once the server has accepted it.

        stream("catalog.schema.table") is a JSON stream; with `descriptor` (a serialized
        google.protobuf.DescriptorProto) a protobuf stream; with `avro` (an Avro writer schema,
        the JSON text of a record) a stream of raw Avro datums of it, as bytes; stream(schema)
        a protobuf stream of the schema's table, and stream(schema, avro=True) an Avro stream
        of its writer schema (schema.avro), either of which also takes str records as JSON and
        encodes them. With `arrow`, an Arrow stream of record batches of that schema (anything
        with __arrow_c_schema__, as a pyarrow.Schema, or Arrow IPC bytes of it, as
        schema.serialize() gives), sent over Arrow Flight and taken by Stream.ingest_arrow(),
        one offset per batch; a table given as a Schema is its table_name. Events go to
        `on_event`, called on one of the library's dispatch threads with the GIL held only for
        the call, or else are taken with Stream.poll() or Stream.events().

        `headers_provider`, in place of auth_token or OAuth client credentials, returns the
        gRPC headers of each connection attempt (a token fetched on demand, say): called on
        this thread for the first, on one of the library's supervision threads for every
        reconnection. An exception it raises fails the attempt with AuthError.

        `subject_token`, token federation in place of a client secret, returns a JWT from an
        external identity provider (str), which the stream exchanges at the SDK's workspace_url
        for a token scoped to its table (auth_federation_client_id names the service principal
        of workload identity federation; without it, account-level federation). Called, on the
        same threads, whenever the stream needs a new token; an exception, a result that is
        not a str, or a token that is not printable ASCII fails the attempt with AuthError."""
        return self._open(
            table,
            descriptor,
            on_event,
            headers_provider,
            -1,
            options,
            keywords,
            avro=avro,
            arrow=arrow,
            subject_token=subject_token,
        )

    def _open(
        self,
        table: Union[str, _native.Schema],
        descriptor: Optional[bytes],
        on_event: Optional[Callable[[Event], None]],
        headers_provider: Optional[HeadersProvider],
        wakeup_fd: int,
        options: Optional[Options],
        keywords: Mapping[str, OptionValue],
        *,
        avro: Union[str, bool] = False,
        arrow: Optional[ArrowSchemaSource] = None,
        subject_token: Optional[SubjectTokenProvider] = None,
        stream_type: type[Stream] = Stream,
        persistent: bool = False,
        resume_id: Optional[str] = None,
    ) -> Stream:
        """Opens a stream of `stream_type`. With `persistent`, a persistent stream
        (libzerobus.experimental): created anew, or resumed when `resume_id` is given."""
        record_type = _native.RECORD_JSON if descriptor is None else _native.RECORD_PROTO
        schema_source: object = descriptor
        if arrow is not None:
            if descriptor is not None or avro is not False:
                raise ValueError("an Arrow stream takes its schema alone, no descriptor or avro")
            record_type = _native.RECORD_ARROW
            if isinstance(table, _native.Schema):
                table = table.table_name
            # A capsule the library reads while the stream opens, or the IPC bytes as they are.
            exporter = getattr(arrow, "__arrow_c_schema__", None)
            schema_source = exporter() if exporter is not None else arrow
        if avro is not False:
            if descriptor is not None:
                raise ValueError("a stream takes a descriptor or an Avro writer schema, not both")
            if avro is True and not isinstance(table, _native.Schema):
                raise ValueError("avro=True takes a Schema's writer schema: give a table's as text")
            record_type = _native.RECORD_AVRO
            schema_source = avro.encode() if isinstance(avro, str) else None
        merged = _merge_options(self._options, options, keywords)
        callback = None if on_event is None else _event_adapter(on_event)
        return self._native.open_stream(
            stream_type,
            table,
            record_type,
            schema_source,
            list(merged.items()),
            callback,
            headers_provider,
            wakeup_fd,
            subject_token,
            persistent,
            resume_id,
        )

    def stats(self) -> dict[str, Any]:
        """The statistics of the SDK and its live streams (docs/STATISTICS.md)."""
        result: dict[str, Any] = json.loads(self._native.stats_json())
        return result

    def close(self) -> None:
        """Lets go of the SDK; its streams keep working until they are destroyed."""
        self._native.destroy()

    def __enter__(self) -> Sdk:
        return self

    def __exit__(
        self,
        kind: Optional[type[BaseException]],
        value: Optional[BaseException],
        traceback: Optional[TracebackType],
    ) -> None:
        self.close()


def schema_from_ddl(ddl: str) -> _native.Schema:
    """A table's schema from one Delta DDL statement, such as
    "main.default.events (id BIGINT, payload STRING)"."""
    return _native.schema_from_ddl(ddl)


def schema_from_table_json(table_json: str) -> _native.Schema:
    """A table's schema from its Unity Catalog description (the JSON of GET
    /api/2.1/unity-catalog/tables/{name})."""
    return _native.schema_from_table_json(table_json)


def _event_adapter(
    on_event: Callable[[Event], None],
) -> Callable[[tuple[int, int, int, Optional[ZerobusError]]], None]:
    def deliver(raw: tuple[int, int, int, Optional[ZerobusError]]) -> None:
        event = _event(raw)
        if event is not None:
            on_event(event)

    return deliver


def _stats_sink(on_stats: Optional[Callable[[dict[str, Any]], None]]) -> Callable[[str], None]:
    stats_logger = logging.getLogger("libzerobus.stats")

    def deliver(text: str) -> None:
        if on_stats is None:
            stats_logger.info("%s", text)
        else:
            on_stats(json.loads(text))

    return deliver


# From interpreter exit on, the library's threads stop calling into Python.
atexit.register(_native._interpreter_exiting)
