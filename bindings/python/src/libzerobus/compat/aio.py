"""The official SDK's asyncio API (zerobus.sdk.aio) over libzerobus (libzerobus.aio): a
producer written for it switches by importing from libzerobus.compat.aio instead.

    from libzerobus.compat.aio import ZerobusSdk, TableProperties

    sdk = ZerobusSdk(host, unity_catalog_url)
    stream = await sdk.create_stream(client_id, client_secret, TableProperties("main.default.t"))
    offset = await stream.ingest_record_offset('{"id": 1}')
    await stream.flush()
    await stream.close()

Waits are driven by the library's wakeup on the event loop (no thread per wait); ack
callbacks run on the event loop."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Iterator, Sequence
from typing import Any, Optional, TypeVar

from .. import Event
from .. import aio as library_aio
from . import _common
from .shared import (
    AckCallback,
    ArrowStreamConfigurationOptions,
    HeadersProvider,
    NonRetriableException,
    Payload,
    RecordType,
    StreamConfigurationOptions,
    Submissions,
    TableProperties,
    ZerobusException,
    arrow_batch_of,
    arrow_batches_of,
    translated_errors,
)

_T = TypeVar("_T")


async def _bounded(waited: Awaitable[_T], timeout: Optional[float], what: str) -> _T:
    """`waited`, raising ZerobusException after `timeout` seconds (None: without limit)."""
    try:
        with translated_errors():
            return await asyncio.wait_for(waited, timeout)
    except asyncio.TimeoutError:
        raise ZerobusException(f"{what} timed out after {timeout} s") from None


class ZerobusStream:
    """A stream of records into one table, used from one event loop."""

    def __init__(
        self,
        stream: library_aio.AsyncStream,
        recipe: _common.StreamRecipe,
        submissions: Submissions,
    ) -> None:
        self._stream = stream
        self._recipe = recipe
        self._submissions = submissions

    def _ingested(self, records: Sequence[Payload]) -> int:
        return _common.ingest_call(self._stream, self._submissions, records)

    async def ingest_record_offset(self, payload: Payload) -> int:
        """Ingests one record and returns its offset, without waiting for the
        acknowledgement."""
        return self._ingested((payload,))

    async def ingest_record(self, payload: Payload) -> Awaitable[int]:
        """Ingests one record and returns an awaitable of its offset, done once the record is
        durable (the official legacy API)."""
        offset = self._ingested((payload,))

        async def acknowledged() -> int:
            await self.wait_for_offset(offset)
            return offset

        return acknowledged()

    def ingest_record_nowait(self, payload: Payload) -> None:
        """As ingest_record_offset(), without the offset."""
        self._ingested((payload,))

    async def ingest_records_offset(self, payloads: Sequence[Payload]) -> Optional[int]:
        """Ingests the records as one call with one offset, returned; None for no records."""
        return self._ingested(payloads) if payloads else None

    def ingest_records_nowait(self, payloads: Sequence[Payload]) -> None:
        """As ingest_records_offset(), without the offset."""
        if payloads:
            self._ingested(payloads)

    async def wait_for_offset(self, offset: int, timeout_sec: Optional[float] = None) -> None:
        """Returns once the call at `offset`, and every one before it, is durable."""
        record = self._submissions.record_offset(offset)
        if record is not None:
            await _bounded(self._stream.wait_for_offset(record), timeout_sec, "wait_for_offset")

    async def flush(self) -> None:
        """Returns once every record ingested so far is durable (at most flush_timeout_ms)."""
        await _bounded(self._stream.flush(), self._recipe.flush_timeout(), "flush")

    async def close(self) -> None:
        """Flushes and ends the stream. Records it could not deliver stay in
        get_unacked_records() for recreate_stream()."""
        await _bounded(self._stream.close(), self._recipe.flush_timeout(), "close")

    async def get_unacked_records(self) -> Iterator[bytes]:
        """The records not acknowledged, in order."""
        with translated_errors():
            return iter([record for _, record in self._stream.stream.unacked()])

    async def get_unacked_batches(self) -> Iterator[list[bytes]]:
        """The records not acknowledged, grouped as they were ingested, in order."""
        with translated_errors():
            unacked = self._stream.stream.unacked()
        return iter(self._submissions.group(unacked))


class ZerobusArrowStream(_common.ArrowStreamProperties):
    """An Arrow Flight stream of pyarrow record batches, one offset per ingest_batch() call,
    used from one event loop."""

    def __init__(self, stream: library_aio.AsyncStream, recipe: _common.ArrowRecipe) -> None:
        super().__init__(recipe)
        self._stream = stream

    async def ingest_batch(self, batch: Any) -> int:
        """Ingests a pyarrow.RecordBatch, or a pyarrow.Table as one batch; returns its offset
        without waiting for the acknowledgement."""
        with translated_errors():
            return self._stream.ingest_arrow(arrow_batch_of(batch))

    async def wait_for_offset(self, offset: int) -> None:
        """Returns once the batch at `offset`, and every one before it, is durable."""
        await _bounded(self._stream.wait_for_offset(offset), None, "wait_for_offset")

    async def flush(self) -> None:
        """Returns once every batch ingested so far is durable (at most flush_timeout_ms)."""
        await _bounded(self._stream.flush(), self._recipe.flush_timeout(), "flush")

    async def close(self) -> None:
        """Flushes and ends the stream; batches it could not deliver stay in
        get_unacked_batches()."""
        self._closed = True
        await _bounded(self._stream.close(), self._recipe.flush_timeout(), "close")

    async def get_unacked_batches(self) -> list[Any]:
        """The batches not acknowledged, as pyarrow.RecordBatches, in order."""
        with translated_errors():
            return arrow_batches_of(self._stream.stream.unacked())


class ZerobusSdk:
    """The entry point, as zerobus.sdk.sync.ZerobusSdk, with coroutines."""

    def __init__(
        self,
        host: str,
        unity_catalog_url: str,
        application_name: Optional[str] = None,
        connection_per_stream: bool = True,
    ) -> None:
        self._sdk = _common.LibrarySdk(
            host, unity_catalog_url, application_name, connection_per_stream
        )

    async def set_use_tls(self, use_tls: bool) -> None:
        """TLS (the default) or not, for the streams opened from now on."""
        self._sdk.set_use_tls(use_tls)

    async def create_stream(
        self,
        client_id: Optional[str] = None,
        client_secret: Optional[str] = None,
        table_properties: Optional[TableProperties] = None,
        options: Optional[StreamConfigurationOptions] = None,
        headers_provider: Optional[HeadersProvider] = None,
        *,
        auth: Any = None,
    ) -> ZerobusStream:
        """Opens a stream with OAuth client credentials, or with a headers provider; the
        opening runs in the loop's default executor."""
        recipe = _common.StreamRecipe.of(
            client_id, client_secret, table_properties, options, headers_provider, auth
        )
        return await self._open(recipe)

    async def _open(self, recipe: _common.StreamRecipe) -> ZerobusStream:
        submissions = Submissions(recipe.options.ack_callback)

        def on_event(event: Event) -> None:
            _common.route(event, submissions)

        with translated_errors():
            stream = await library_aio.open_stream(
                self._sdk.get(),
                recipe.table.table_name,
                recipe.table.descriptor,
                headers_provider=recipe.headers(),
                on_event=on_event,
                options=recipe.library_options(self._sdk),
            )
        return ZerobusStream(stream, recipe, submissions)

    async def create_arrow_stream(
        self,
        table_name: str,
        schema: Any,
        client_id: str,
        client_secret: str,
        options: Optional[ArrowStreamConfigurationOptions] = None,
    ) -> ZerobusArrowStream:
        """As zerobus.sdk.sync's create_arrow_stream(); the opening runs in the loop's default
        executor."""
        return await self._open_arrow(
            _common.ArrowRecipe.of(table_name, schema, options, client_id, client_secret)
        )

    async def create_arrow_stream_with_headers_provider(
        self,
        table_name: str,
        schema: Any,
        headers_provider: HeadersProvider,
        options: Optional[ArrowStreamConfigurationOptions] = None,
    ) -> ZerobusArrowStream:
        """As create_arrow_stream(), authenticated by the headers `headers_provider` gives."""
        return await self._open_arrow(
            _common.ArrowRecipe.of(table_name, schema, options, headers_provider=headers_provider)
        )

    async def recreate_arrow_stream(self, old_stream: ZerobusArrowStream) -> ZerobusArrowStream:
        """A new Arrow stream like `old_stream` (closed or failed), into which its
        unacknowledged batches have been ingested again, in order."""
        batches = await old_stream.get_unacked_batches()
        fresh = await self._open_arrow(old_stream._recipe)
        for batch in batches:
            await fresh.ingest_batch(batch)
        return fresh

    async def _open_arrow(self, recipe: _common.ArrowRecipe) -> ZerobusArrowStream:
        with translated_errors():
            stream = await library_aio.open_stream(
                self._sdk.get(),
                recipe.table_name,
                arrow=recipe.schema,
                headers_provider=recipe.headers(),
                options=recipe.library_options(),
            )
        return ZerobusArrowStream(stream, recipe)

    async def recreate_stream(self, old_stream: ZerobusStream) -> ZerobusStream:
        """A new stream like `old_stream` (closed or failed), into which its unacknowledged
        records have been ingested again, in their calls and in order."""
        batches = list(await old_stream.get_unacked_batches())
        fresh = await self._open(old_stream._recipe)
        for batch in batches:
            fresh.ingest_records_nowait(batch)
        return fresh


__all__ = [
    "AckCallback",
    "ArrowStreamConfigurationOptions",
    "HeadersProvider",
    "NonRetriableException",
    "RecordType",
    "StreamConfigurationOptions",
    "TableProperties",
    "ZerobusArrowStream",
    "ZerobusException",
    "ZerobusSdk",
    "ZerobusStream",
]
