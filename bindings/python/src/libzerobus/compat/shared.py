"""The types the official SDK's sync and asyncio APIs share (its zerobus.sdk.shared), over
libzerobus: TableProperties, StreamConfigurationOptions, RecordType, AckCallback,
HeadersProvider and the exceptions, with the official names, arguments and defaults.

Offsets follow the official SDK's meaning: one per ingest call (a batch has one offset), 0, 1,
2, ... on each stream. libzerobus numbers records instead; `Submissions` keeps the mapping
for the calls not yet acknowledged."""

from __future__ import annotations

import enum
import json
import logging
import threading
from collections import deque
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Optional, Union

from ..errors import ZerobusError

_logger = logging.getLogger("libzerobus.compat")


class ZerobusException(Exception):
    """A failure the same call may get past if tried again (the official SDK's base class of
    its exceptions). Raised from a libzerobus error, it carries the library's `code`, `name`,
    `retryable` and `grpc_status` too (None otherwise)."""

    code: Optional[int] = None
    name: Optional[str] = None
    retryable: bool = True
    grpc_status: Optional[int] = None


class NonRetriableException(ZerobusException):
    """A failure that trying again will not cure."""

    retryable = False


# gRPC statuses of passing trouble (UNAVAILABLE, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED,
# ABORTED): the official SDK raises ZerobusException for a failure they caused, even where the
# call that reports it cannot be repeated (a failed stream's flush), which libzerobus marks not
# retryable.
_PASSING_GRPC_STATUSES = frozenset({14, 4, 8, 10})


def exception_for(error: ZerobusError) -> ZerobusException:
    """The official SDK's exception for a libzerobus error, keeping the library's details."""
    passing = error.retryable or error.grpc_status in _PASSING_GRPC_STATUSES
    cls = ZerobusException if passing else NonRetriableException
    translated = cls(str(error))
    translated.code = error.code
    translated.name = error.name
    translated.grpc_status = error.grpc_status
    translated.retryable = passing
    return translated


@contextmanager
def translated_errors() -> Iterator[None]:
    """Raises the official SDK's exception in place of a libzerobus error."""
    try:
        yield
    except ZerobusError as error:
        raise exception_for(error) from error


class RecordType(enum.IntEnum):
    """The record format of a stream, with the wire protocol's numbers."""

    UNSPECIFIED = 0
    PROTO = 1
    JSON = 2
    AVRO = 4


def _descriptor_bytes(descriptor_proto: Union[bytes, Any]) -> bytes:
    """A serialized google.protobuf.DescriptorProto (what libzerobus takes) from what the
    official SDK takes: a protobuf Descriptor (e.g. MyMessage.DESCRIPTOR), or a serialized
    FileDescriptorProto, whose first message is the record's. Bytes that hold no
    FileDescriptorProto with a message are taken to be a DescriptorProto already."""
    if hasattr(descriptor_proto, "CopyToProto"):
        from google.protobuf import descriptor_pb2  # type: ignore[import-untyped]

        message = descriptor_pb2.DescriptorProto()
        descriptor_proto.CopyToProto(message)
        serialized: bytes = message.SerializeToString()
        return serialized
    if not isinstance(descriptor_proto, (bytes, bytearray, memoryview)):
        raise TypeError(
            "descriptor_proto must be a protobuf Descriptor or serialized FileDescriptorProto "
            f"bytes, not {type(descriptor_proto).__name__}"
        )
    raw = bytes(descriptor_proto)
    from google.protobuf import descriptor_pb2
    from google.protobuf.message import DecodeError  # type: ignore[import-untyped]

    file = descriptor_pb2.FileDescriptorProto()
    try:
        file.ParseFromString(raw)
    except DecodeError:
        return raw
    if not file.message_type:
        return raw
    first: bytes = file.message_type[0].SerializeToString()
    return first


class TableProperties:
    """The table a stream writes to, and its record format: JSON without a descriptor,
    protobuf with `descriptor_proto`, Avro with `avro_schema` (which this libzerobus does not
    take yet: opening such a stream raises NonRetriableException)."""

    def __init__(
        self,
        table_name: str,
        descriptor_proto: Optional[Union[bytes, Any]] = None,
        avro_schema: Optional[str] = None,
    ) -> None:
        if descriptor_proto is not None and avro_schema is not None:
            raise ValueError("descriptor_proto and avro_schema are mutually exclusive")
        self.table_name = table_name
        self.avro_schema = avro_schema
        self.descriptor: Optional[bytes] = (
            None if descriptor_proto is None else _descriptor_bytes(descriptor_proto)
        )
        if avro_schema is not None:
            self.record_format = "avro"
        elif self.descriptor is not None:
            self.record_format = "proto"
        else:
            self.record_format = "json"

    def __repr__(self) -> str:
        return f"TableProperties(table_name={self.table_name!r}, format={self.record_format!r})"


class AckCallback:
    """Told of each ingest call once it is acknowledged (on_ack) or has failed (on_error),
    with the call's offset. A batch is one call. Subclass it and override either method.
    Called on one of libzerobus's dispatch threads (sync) or on the event loop (asyncio);
    an exception it raises is logged and dropped."""

    def on_ack(self, offset: int) -> None:
        """The call at `offset` is durable."""

    def on_error(self, offset: int, error_message: str) -> None:
        """The call at `offset` will never be acknowledged."""


class HeadersProvider:
    """Supplies the gRPC headers of each connection attempt, in place of OAuth client
    credentials: subclass it and return [("authorization", "Bearer <token>"), ...] from
    get_headers(). The table name header is added when it is missing."""

    def get_headers(self) -> list[tuple[str, str]]:
        """The headers of the next connection attempt."""
        return []

    def invalidate(self) -> None:
        """Drops cached credentials; libzerobus asks get_headers() again for every attempt,
        so a refused token is never presented twice unless get_headers() returns it again."""


class _DeliveryOptions:
    """What the official SDK's record and Arrow stream options share: recovery, the ack timeout,
    flush_timeout_ms (which bounds flush() and close()) and the close-signal pause."""

    def __init__(
        self,
        recovery: bool,
        recovery_timeout_ms: int,
        recovery_backoff_ms: int,
        recovery_retries: int,
        server_lack_of_ack_timeout_ms: int,
        flush_timeout_ms: int,
        stream_paused_max_wait_time_ms: Optional[int],
    ) -> None:
        self.recovery = recovery
        self.recovery_timeout_ms = recovery_timeout_ms
        self.recovery_backoff_ms = recovery_backoff_ms
        self.recovery_retries = recovery_retries
        self.server_lack_of_ack_timeout_ms = server_lack_of_ack_timeout_ms
        self.flush_timeout_ms = flush_timeout_ms
        self.stream_paused_max_wait_time_ms = stream_paused_max_wait_time_ms

    def delivery_options(self) -> dict[str, Union[str, int, bool]]:
        """These options as libzerobus's configuration keys."""
        paused = self.stream_paused_max_wait_time_ms
        return {
            "recovery.enable": self.recovery,
            "recovery.timeout.ms": self.recovery_timeout_ms,
            "recovery.backoff.ms": self.recovery_backoff_ms,
            "recovery.retries": self.recovery_retries,
            "stream.ack.timeout.ms": self.server_lack_of_ack_timeout_ms,
            # None: as long as the server grants.
            "stream.paused.max.wait.ms": -1 if paused is None else paused,
        }

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={value!r}" for name, value in vars(self).items())
        return f"{type(self).__name__}({fields})"


class StreamConfigurationOptions(_DeliveryOptions):
    """The official SDK's stream options, with its defaults. Each maps onto a libzerobus
    configuration key; flush_timeout_ms bounds flush() and close(). callback_max_wait_time_ms
    is accepted and has no effect: libzerobus delivers every callback before a stream is freed."""

    def __init__(
        self,
        max_inflight_records: int = 1000000,
        recovery: bool = True,
        recovery_timeout_ms: int = 15000,
        recovery_backoff_ms: int = 2000,
        recovery_retries: int = 4,
        server_lack_of_ack_timeout_ms: int = 60000,
        flush_timeout_ms: int = 300000,
        record_type: RecordType = RecordType.UNSPECIFIED,
        stream_paused_max_wait_time_ms: Optional[int] = None,
        callback_max_wait_time_ms: Optional[int] = 5000,
        ack_callback: Optional[AckCallback] = None,
    ) -> None:
        super().__init__(
            recovery,
            recovery_timeout_ms,
            recovery_backoff_ms,
            recovery_retries,
            server_lack_of_ack_timeout_ms,
            flush_timeout_ms,
            stream_paused_max_wait_time_ms,
        )
        self.max_inflight_records = max_inflight_records
        self.record_type = record_type
        self.callback_max_wait_time_ms = callback_max_wait_time_ms
        self.ack_callback = ack_callback

    def library_options(self) -> dict[str, Union[str, int, bool]]:
        """These options as libzerobus's configuration keys."""
        return {
            **self.delivery_options(),
            "stream.max.inflight.records": self.max_inflight_records,
        }


class IPCCompression(enum.Enum):
    """The IPC body compression of an Arrow stream (arrow.compression)."""

    NONE = "none"
    LZ4_FRAME = "lz4_frame"
    ZSTD = "zstd"


class ArrowStreamConfigurationOptions(_DeliveryOptions):
    """The official SDK's Arrow stream options, with its defaults. max_inflight_batches bounds
    the batches in flight (stream.max.inflight.records counts batches on an Arrow stream),
    flush_timeout_ms bounds flush() and close(); connection_timeout_ms is accepted and has no
    effect of its own: each attempt to open, ready signal included, is bounded by
    recovery_timeout_ms."""

    def __init__(
        self,
        *,
        max_inflight_batches: int = 1000,
        recovery: bool = True,
        recovery_timeout_ms: int = 15000,
        recovery_backoff_ms: int = 2000,
        recovery_retries: int = 4,
        server_lack_of_ack_timeout_ms: int = 60000,
        flush_timeout_ms: int = 300000,
        connection_timeout_ms: int = 30000,
        ipc_compression: IPCCompression = IPCCompression.NONE,
        stream_paused_max_wait_time_ms: Optional[int] = None,
    ) -> None:
        super().__init__(
            recovery,
            recovery_timeout_ms,
            recovery_backoff_ms,
            recovery_retries,
            server_lack_of_ack_timeout_ms,
            flush_timeout_ms,
            stream_paused_max_wait_time_ms,
        )
        self.max_inflight_batches = max_inflight_batches
        self.connection_timeout_ms = connection_timeout_ms
        self.ipc_compression = ipc_compression

    def library_options(self) -> dict[str, Union[str, int, bool]]:
        """These options as libzerobus's configuration keys."""
        return {
            **self.delivery_options(),
            "stream.max.inflight.records": self.max_inflight_batches,
            "arrow.compression": self.ipc_compression.value,
        }


def arrow_batch_of(data: Any) -> Any:
    """A pyarrow.RecordBatch or Table as the one batch the official SDK makes of it (its
    ingest_batch() gives a Table one offset): a Table's batches concatenated."""
    import pyarrow  # type: ignore[import-untyped]

    if isinstance(data, pyarrow.Table):
        if data.num_rows == 0:
            raise ValueError("Cannot ingest an empty pyarrow.Table")
        batches = data.to_batches()
        return batches[0] if len(batches) == 1 else pyarrow.concat_batches(batches)
    if not isinstance(data, pyarrow.RecordBatch):
        raise TypeError(f"Expected pyarrow.RecordBatch or pyarrow.Table, got {type(data).__name__}")
    if data.num_rows == 0:
        raise ValueError("Cannot ingest an empty RecordBatch")
    return data


def arrow_batches_of(unacked: Sequence[tuple[int, bytes]]) -> list[Any]:
    """Unacknowledged batches (IPC stream bytes each) as pyarrow.RecordBatches."""
    import pyarrow.ipc  # type: ignore[import-untyped]

    return [pyarrow.ipc.open_stream(ipc).read_next_batch() for _, ipc in unacked]


def check_record_type(table: TableProperties, options: StreamConfigurationOptions) -> None:
    """Refuses a record_type that contradicts the table's format, and Avro, as the official
    SDK refuses a mismatch before it connects."""
    if table.record_format == "avro":
        raise NonRetriableException("Avro streams are not supported by this libzerobus")
    wanted = options.record_type
    inferred = RecordType.PROTO if table.record_format == "proto" else RecordType.JSON
    if wanted not in (RecordType.UNSPECIFIED, inferred):
        raise NonRetriableException(
            f"record_type {wanted.name} does not match the table properties ({inferred.name})"
        )


#: A record as the official SDK takes it: bytes of the stream's format, str JSON, a dict
#: (written as JSON) or a protobuf message (serialized).
Payload = Union[bytes, str, dict[str, Any], Any]


def record_of(payload: Payload) -> Union[bytes, str]:
    """The bytes or JSON text libzerobus takes for `payload`."""
    if isinstance(payload, (bytes, str)):
        return payload
    if isinstance(payload, dict):
        return json.dumps(payload)
    if hasattr(payload, "SerializeToString"):
        serialized: bytes = payload.SerializeToString()
        return serialized
    if isinstance(payload, (bytearray, memoryview)):
        return bytes(payload)
    raise TypeError(f"a record is bytes, str, a dict or a protobuf message, not {type(payload)}")


class Submissions:
    """The ingest calls of one stream that are not yet acknowledged: the official offset of
    each (one per call) and the libzerobus offset of its last record. Thread-safe; `lock` is
    also held by the stream around each ingest, so that calls and record offsets keep one
    order."""

    def __init__(self, callback: Optional[AckCallback], next_offset: int = 0) -> None:
        self.lock = threading.Lock()
        self.callback = callback
        self._first = next_offset  # the official offset of _lasts[0]
        self._lasts: deque[int] = deque()  # each pending call's last record offset
        self._failed_through = -1  # the last record offset an error event reported

    def add(self, last_record: int) -> int:
        """With `lock` held: records a call whose last record has `last_record`; returns its
        official offset."""
        self._lasts.append(last_record)
        return self._first + len(self._lasts) - 1

    @property
    def pending(self) -> int:
        return len(self._lasts)

    @property
    def next_offset(self) -> int:
        return self._first + len(self._lasts)

    def record_offset(self, offset: int) -> Optional[int]:
        """The record offset to wait for to have call `offset` acknowledged; None when it is
        already. Raises NonRetriableException for a call that was never made."""
        with self.lock:
            if offset < self._first:
                return None
            if offset >= self._first + len(self._lasts):
                raise NonRetriableException(f"offset {offset} has not been ingested")
            return self._lasts[offset - self._first]

    def acked(self, through_record: int) -> None:
        """Every record up to `through_record` is durable: tells the callback of the calls
        that are now acknowledged, outside the lock."""
        offsets = []
        with self.lock:
            while self._lasts and self._lasts[0] <= through_record:
                self._lasts.popleft()
                offsets.append(self._first)
                self._first += 1
        if self.callback is not None:
            for offset in offsets:
                self._call(self.callback.on_ack, offset)

    def failed(self, through_record: int, message: str) -> None:
        """Records up to `through_record` will not be acknowledged: tells the callback of each
        call with a record among them, once."""
        offsets = []
        with self.lock:
            first_record = -1  # of the call at hand; the first pending one's is not kept
            for index, last in enumerate(self._lasts):
                if first_record > through_record:
                    break
                if last > self._failed_through:
                    offsets.append(self._first + index)
                first_record = last + 1
            self._failed_through = max(self._failed_through, through_record)
        if self.callback is not None:
            for offset in offsets:
                self._call(self.callback.on_error, offset, message)

    def group(self, records: Sequence[tuple[int, bytes]]) -> list[list[bytes]]:
        """Unacknowledged `records` (record offset, bytes; in order), grouped by ingest call."""
        with self.lock:
            lasts = list(self._lasts)
        batches: list[list[bytes]] = []
        calls = iter(lasts)
        end = next(calls, None)  # the last record of the call `offset` belongs to
        current: Optional[int] = -1
        for offset, record in records:
            while end is not None and end < offset:
                end = next(calls, None)
            if not batches or end != current:
                batches.append([])
                current = end
            batches[-1].append(record)
        return batches

    @staticmethod
    def _call(method: Any, *args: Any) -> None:
        try:
            method(*args)
        except Exception:
            _logger.exception("the ack callback raised")


__all__ = [
    "AckCallback",
    "HeadersProvider",
    "NonRetriableException",
    "RecordType",
    "StreamConfigurationOptions",
    "TableProperties",
    "ZerobusException",
]
