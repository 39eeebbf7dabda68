"""Persistent streams: EXPERIMENTAL. The service marks the calls behind them "in development:
may change or be removed", and so everything in this module may change or go in any release;
the rest of libzerobus does not depend on it.

A persistent stream has a durable id with which any process can resume it from the last
offset the server committed, so that nothing is stored twice and nothing is lost, across a
dropped connection or a crashed process:

    import libzerobus.experimental as persistent

    with persistent.create_stream(sdk, "main.default.events") as stream:
        save(stream.stream_id)  # before the records it covers are sent
        stream.ingest('{"id": 0}')  # offsets 0, 1, 2, ...
    ...
    with persistent.resume_stream(sdk, "main.default.events", saved_id) as stream:
        first = 0 if stream.resume_watermark is None else stream.resume_watermark + 1
        # records at offsets up to resume_watermark are durable, none above it: send the rest
    persistent.retire_stream(sdk, "main.default.events", saved_id)  # ends it for good

Each wire request carries exactly one record, so the offset ingest returns is the durable
offset the server commits; a resumed stream continues the offsets of the processes before it.
Everything else is a Stream's: ingest, batches (one request per record), events, flush,
wait_for_offset, close, unacked, recreate (which resumes by the same id), and the asyncio forms
below. A connection that breaks resumes by the same id and sends again only what the server had
not committed. Closing leaves the stream resumable; retire_stream() ends it.

Refusals raise TransportError with the gRPC status in grpc_status: 5 (NOT_FOUND) for an id the
server does not know, 9 (FAILED_PRECONDITION) for a retired stream, 3 (INVALID_ARGUMENT) for a
resume with another record type or descriptor, all final; 10 (ABORTED) while another call
holds the stream, retried within recovery_retries first. stream_lanes must be 1
(InvalidArgError).
"""

from __future__ import annotations

import asyncio
import functools
from typing import Callable, Optional

from . import (
    Event,
    HeadersProvider,
    Options,
    OptionValue,
    Sdk,
    Stream,
    SubjectTokenProvider,
    _merge_options,
)
from .aio import AsyncStream, _open_with_wakeup

__all__ = [
    "AsyncPersistentStream",
    "PersistentStream",
    "create_stream",
    "create_stream_async",
    "resume_stream",
    "resume_stream_async",
    "retire_stream",
    "retire_stream_async",
]


class PersistentStream(Stream):
    """A Stream with a durable identity (create_stream(), resume_stream()). EXPERIMENTAL."""

    _stream_id: str
    _resume_watermark: Optional[int]

    def _remember_identity(self) -> PersistentStream:
        """Reads the id and the watermark while the stream is open: both stay readable once it
        is closed and destroyed, when the id is what a caller keeps."""
        self._stream_id = self.persistent_id_raw()
        self._resume_watermark = self.resume_watermark_raw()
        return self

    @property
    def stream_id(self) -> str:
        """The durable id, to keep for resume_stream() and retire_stream()."""
        return self._stream_id

    @property
    def resume_watermark(self) -> Optional[int]:
        """The last offset the server had committed when resume_stream() opened the stream:
        the first offset ingest returns is this + 1. None when nothing was committed (and for
        a stream create_stream() made), when the first offset is 0."""
        return self._resume_watermark

    def recreate(self) -> PersistentStream:
        """A new stream like this failed or closed one, resumed by the same id, into which the
        records the server had not committed have been ingested again: none twice."""
        fresh = super().recreate()
        assert isinstance(fresh, PersistentStream)  # the native recreate keeps the type
        return fresh._remember_identity()

    def __enter__(self) -> PersistentStream:
        return self


class AsyncPersistentStream(AsyncStream):
    """An AsyncStream over a PersistentStream. EXPERIMENTAL."""

    stream: PersistentStream

    @property
    def stream_id(self) -> str:
        """As PersistentStream.stream_id."""
        return self.stream.stream_id

    @property
    def resume_watermark(self) -> Optional[int]:
        """As PersistentStream.resume_watermark."""
        return self.stream.resume_watermark


def _open(
    sdk: Sdk,
    table: str,
    descriptor: Optional[bytes],
    avro: Optional[str],
    on_event: Optional[Callable[[Event], None]],
    headers_provider: Optional[HeadersProvider],
    subject_token: Optional[SubjectTokenProvider],
    wakeup_fd: int,
    options: Optional[Options],
    keywords: dict[str, OptionValue],
    resume_id: Optional[str],
) -> PersistentStream:
    opened = sdk._open(
        table,
        descriptor,
        on_event,
        headers_provider,
        wakeup_fd,
        options,
        keywords,
        avro=False if avro is None else avro,
        subject_token=subject_token,
        stream_type=PersistentStream,
        persistent=True,
        resume_id=resume_id,
    )
    assert isinstance(opened, PersistentStream)
    return opened._remember_identity()


def create_stream(
    sdk: Sdk,
    table: str,
    descriptor: Optional[bytes] = None,
    *,
    avro: Optional[str] = None,
    on_event: Optional[Callable[[Event], None]] = None,
    headers_provider: Optional[HeadersProvider] = None,
    subject_token: Optional[SubjectTokenProvider] = None,
    options: Optional[Options] = None,
    **keywords: OptionValue,
) -> PersistentStream:
    """Creates a persistent stream into `table` and returns once the server has created it.
    JSON records without `descriptor` or `avro`; protobuf records with `descriptor` (a
    serialized DescriptorProto); raw Avro datums with `avro` (the writer schema's JSON text).
    The other arguments are Sdk.stream()'s. Raises as Sdk.stream() does, and TransportError
    (grpc_status 9) from a server that cannot keep persistent streams."""
    return _open(
        sdk,
        table,
        descriptor,
        avro,
        on_event,
        headers_provider,
        subject_token,
        -1,
        options,
        keywords,
        None,
    )


def resume_stream(
    sdk: Sdk,
    table: str,
    stream_id: str,
    descriptor: Optional[bytes] = None,
    *,
    avro: Optional[str] = None,
    on_event: Optional[Callable[[Event], None]] = None,
    headers_provider: Optional[HeadersProvider] = None,
    subject_token: Optional[SubjectTokenProvider] = None,
    options: Optional[Options] = None,
    **keywords: OptionValue,
) -> PersistentStream:
    """Resumes persistent stream `stream_id` of `table`, with the record type and descriptor
    (or Avro writer schema) it was created with, and returns once the server has resumed it:
    resume_watermark then says what it had committed. Raises the refusals the module lists."""
    return _open(
        sdk,
        table,
        descriptor,
        avro,
        on_event,
        headers_provider,
        subject_token,
        -1,
        options,
        keywords,
        stream_id,
    )


def retire_stream(
    sdk: Sdk,
    table: str,
    stream_id: str,
    *,
    headers_provider: Optional[HeadersProvider] = None,
    options: Optional[Options] = None,
    **keywords: OptionValue,
) -> None:
    """Retires persistent stream `stream_id` of `table` for good: every later resume of it
    raises TransportError (grpc_status 9). Idempotent. One call within recovery_timeout_ms,
    authenticated as a stream with these options would be, not retried; it releases the GIL.
    Raises TransportError with grpc_status 5 for an id the server does not know."""
    merged = _merge_options(sdk._options, options, keywords)
    sdk._native.retire_stream(table, stream_id, list(merged.items()), headers_provider)


async def create_stream_async(
    sdk: Sdk,
    table: str,
    descriptor: Optional[bytes] = None,
    *,
    avro: Optional[str] = None,
    on_event: Optional[Callable[[Event], None]] = None,
    headers_provider: Optional[HeadersProvider] = None,
    subject_token: Optional[SubjectTokenProvider] = None,
    options: Optional[Options] = None,
    **keywords: OptionValue,
) -> AsyncPersistentStream:
    """create_stream() for asyncio, as libzerobus.aio.open_stream() opens a stream: `on_event`
    is called on the event loop."""
    opened = await _open_with_wakeup(
        lambda write_fd: _open(
            sdk,
            table,
            descriptor,
            avro,
            None,
            headers_provider,
            subject_token,
            write_fd,
            options,
            keywords,
            None,
        ),
        on_event,
        AsyncPersistentStream,
    )
    assert isinstance(opened, AsyncPersistentStream)
    return opened


async def resume_stream_async(
    sdk: Sdk,
    table: str,
    stream_id: str,
    descriptor: Optional[bytes] = None,
    *,
    avro: Optional[str] = None,
    on_event: Optional[Callable[[Event], None]] = None,
    headers_provider: Optional[HeadersProvider] = None,
    subject_token: Optional[SubjectTokenProvider] = None,
    options: Optional[Options] = None,
    **keywords: OptionValue,
) -> AsyncPersistentStream:
    """resume_stream() for asyncio, as create_stream_async() is create_stream()'s."""
    opened = await _open_with_wakeup(
        lambda write_fd: _open(
            sdk,
            table,
            descriptor,
            avro,
            None,
            headers_provider,
            subject_token,
            write_fd,
            options,
            keywords,
            stream_id,
        ),
        on_event,
        AsyncPersistentStream,
    )
    assert isinstance(opened, AsyncPersistentStream)
    return opened


async def retire_stream_async(
    sdk: Sdk,
    table: str,
    stream_id: str,
    *,
    headers_provider: Optional[HeadersProvider] = None,
    options: Optional[Options] = None,
    **keywords: OptionValue,
) -> None:
    """retire_stream() for asyncio: the call runs in the loop's default executor, as
    create_stream_async() opens a stream (the library has no retire that does not block)."""
    retire = functools.partial(
        retire_stream,
        sdk,
        table,
        stream_id,
        headers_provider=headers_provider,
        options=options,
        **keywords,
    )
    await asyncio.get_running_loop().run_in_executor(None, retire)
