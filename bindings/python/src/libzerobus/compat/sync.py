"""The official SDK's synchronous API (zerobus.sdk.sync) over libzerobus: a producer written
for it switches by importing from libzerobus.compat.sync instead.

    from libzerobus.compat.sync import ZerobusSdk, TableProperties

    sdk = ZerobusSdk(host, unity_catalog_url)
    stream = sdk.create_stream(client_id, client_secret, TableProperties("main.default.t"))
    offset = stream.ingest_record_offset('{"id": 1}')
    stream.flush()
    stream.close()

Unlike the official SDK, a record taken by ingest_record_nowait() is never dropped: flush()
and close() wait for it like any other."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, Optional

from .. import Event, Stream
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

# Without an ack callback, events are taken from the stream's queue once this many calls are
# pending (and then at twice the count that is left), so that the mapping stays small.
_TAKE_EVENTS_AT = 1024


class RecordAcknowledgment:
    """The acknowledgement of one ingest_record() call (the official SDK's legacy API)."""

    def __init__(self, stream: ZerobusStream, offset: int) -> None:
        self._stream = stream
        self._offset = offset
        self._waited = False

    def wait_for_ack(self, timeout_sec: Optional[float] = None) -> int:
        """Waits until the record is durable and returns its offset. Once only."""
        if self._waited:
            raise RuntimeError("wait_for_ack() was already called")
        self._waited = True
        self._stream.wait_for_offset(self._offset, timeout_sec)
        return self._offset

    def is_done(self) -> bool:
        """Whether the record is durable already."""
        return self._stream._submissions.record_offset(self._offset) is None


class ZerobusStream:
    """A stream of records into one table. Every method may be called from any thread."""

    def __init__(
        self, stream: Stream, recipe: _common.StreamRecipe, submissions: Submissions
    ) -> None:
        self._stream = stream
        self._recipe = recipe
        self._submissions = submissions
        self._take_events_at = _TAKE_EVENTS_AT

    def _ingested(self, records: Sequence[Payload]) -> int:
        """Ingests `records` as one call; returns the call's offset."""
        offset = _common.ingest_call(self._stream, self._submissions, records)
        if self._submissions.callback is None and self._submissions.pending >= self._take_events_at:
            self._take_events()
        return offset

    def _take_events(self) -> None:
        """Hands the queued events to the calls they settle (streams without a callback)."""
        while True:
            with translated_errors():
                taken: list[Event] = self._stream.poll(64, 0)
            for event in taken:
                _common.route(event, self._submissions)
            if len(taken) < 64:
                break
        self._take_events_at = max(_TAKE_EVENTS_AT, 2 * self._submissions.pending)

    def ingest_record_offset(self, payload: Payload) -> int:
        """Ingests one record (bytes of the stream's format, or str JSON) and returns its
        offset at once, without waiting for the acknowledgement."""
        return self._ingested((payload,))

    def ingest_record_nowait(self, payload: Payload) -> None:
        """As ingest_record_offset(), without the offset."""
        self._ingested((payload,))

    def ingest_record(self, payload: Payload) -> RecordAcknowledgment:
        """As ingest_record_offset(), with an object to wait on (the official legacy API)."""
        return RecordAcknowledgment(self, self._ingested((payload,)))

    def ingest_records_offset(self, payloads: Sequence[Payload]) -> Optional[int]:
        """Ingests the records as one call with one offset, returned; None for no records."""
        return self._ingested(payloads) if payloads else None

    def ingest_records_nowait(self, payloads: Sequence[Payload]) -> None:
        """As ingest_records_offset(), without the offset."""
        if payloads:
            self._ingested(payloads)

    def wait_for_offset(self, offset: int, timeout_sec: Optional[float] = None) -> None:
        """Waits until the call at `offset`, and every one before it, is durable."""
        record = self._submissions.record_offset(offset)
        if record is not None:
            with translated_errors():
                self._stream.wait_for_offset(record, timeout_sec)

    def flush(self) -> None:
        """Waits until every record ingested so far is durable (at most flush_timeout_ms)."""
        with translated_errors():
            self._stream.flush(self._recipe.flush_timeout())

    def close(self) -> None:
        """Flushes and ends the stream. Records it could not deliver stay in
        get_unacked_records() for recreate_stream()."""
        with translated_errors():
            self._stream.close(self._recipe.flush_timeout())

    def get_unacked_records(self) -> Iterator[bytes]:
        """The records not acknowledged, in order."""
        with translated_errors():
            return iter([record for _, record in self._stream.unacked()])

    def get_unacked_batches(self) -> Iterator[list[bytes]]:
        """The records not acknowledged, grouped as they were ingested, in order."""
        if self._submissions.callback is None:
            self._take_events()
        with translated_errors():
            unacked = self._stream.unacked()
        return iter(self._submissions.group(unacked))


class ZerobusArrowStream(_common.ArrowStreamProperties):
    """An Arrow Flight stream of pyarrow record batches, one offset per ingest_batch() call.
    Every method may be called from any thread."""

    def __init__(self, stream: Stream, recipe: _common.ArrowRecipe) -> None:
        super().__init__(recipe)
        self._stream = stream

    def ingest_batch(self, batch: Any) -> int:
        """Ingests a pyarrow.RecordBatch, or a pyarrow.Table as one batch; returns its offset.
        The batch is handed to libzerobus without a copy."""
        with translated_errors():
            return self._stream.ingest_arrow(arrow_batch_of(batch))

    def wait_for_offset(self, offset: int) -> None:
        """Waits until the batch at `offset`, and every one before it, is durable."""
        with translated_errors():
            self._stream.wait_for_offset(offset)

    def flush(self) -> None:
        """Waits until every batch ingested so far is durable (at most flush_timeout_ms)."""
        with translated_errors():
            self._stream.flush(self._recipe.flush_timeout())

    def close(self) -> None:
        """Flushes and ends the stream; batches it could not deliver stay in
        get_unacked_batches()."""
        self._closed = True
        with translated_errors():
            self._stream.close(self._recipe.flush_timeout())

    def get_unacked_batches(self) -> list[Any]:
        """The batches not acknowledged, as pyarrow.RecordBatches cut to their unacknowledged
        rows, in order."""
        with translated_errors():
            return arrow_batches_of(self._stream.unacked())


class ZerobusSdk:
    """The entry point: the Zerobus endpoint (`host`) and the workspace (`unity_catalog_url`),
    where OAuth tokens are requested. A host given as http:// is spoken to without TLS."""

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

    def set_use_tls(self, use_tls: bool) -> None:
        """TLS (the default) or not, for the streams opened from now on."""
        self._sdk.set_use_tls(use_tls)

    def create_stream(
        self,
        client_id: Optional[str] = None,
        client_secret: Optional[str] = None,
        table_properties: Optional[TableProperties] = None,
        options: Optional[StreamConfigurationOptions] = None,
        headers_provider: Optional[HeadersProvider] = None,
        *,
        auth: Any = None,
    ) -> ZerobusStream:
        """Opens a stream with OAuth client credentials, or with a headers provider, and
        returns once the server has accepted it."""
        recipe = _common.StreamRecipe.of(
            client_id, client_secret, table_properties, options, headers_provider, auth
        )
        return self._open(recipe)

    def _open(self, recipe: _common.StreamRecipe) -> ZerobusStream:
        callback = recipe.options.ack_callback
        submissions = Submissions(callback)
        on_event = None
        if callback is not None:

            def on_event(event: Event) -> None:
                _common.route(event, submissions)

        with translated_errors():
            stream = self._sdk.get().stream(
                recipe.table.table_name,
                recipe.table.descriptor,
                on_event=on_event,
                headers_provider=recipe.headers(),
                options=recipe.library_options(self._sdk),
            )
        return ZerobusStream(stream, recipe, submissions)

    def create_arrow_stream(
        self,
        table_name: str,
        schema: Any,
        client_id: str,
        client_secret: str,
        options: Optional[ArrowStreamConfigurationOptions] = None,
    ) -> ZerobusArrowStream:
        """Opens an Arrow Flight stream of batches of `schema` (a pyarrow.Schema) with OAuth
        client credentials, and returns once the server is ready for it."""
        return self._open_arrow(
            _common.ArrowRecipe.of(table_name, schema, options, client_id, client_secret)
        )

    def create_arrow_stream_with_headers_provider(
        self,
        table_name: str,
        schema: Any,
        headers_provider: HeadersProvider,
        options: Optional[ArrowStreamConfigurationOptions] = None,
    ) -> ZerobusArrowStream:
        """As create_arrow_stream(), authenticated by the headers `headers_provider` gives."""
        return self._open_arrow(
            _common.ArrowRecipe.of(table_name, schema, options, headers_provider=headers_provider)
        )

    def recreate_arrow_stream(self, old_stream: ZerobusArrowStream) -> ZerobusArrowStream:
        """A new Arrow stream like `old_stream` (closed or failed), into which its
        unacknowledged batches have been ingested again, in order."""
        batches = old_stream.get_unacked_batches()
        fresh = self._open_arrow(old_stream._recipe)
        for batch in batches:
            fresh.ingest_batch(batch)
        return fresh

    def _open_arrow(self, recipe: _common.ArrowRecipe) -> ZerobusArrowStream:
        with translated_errors():
            stream = self._sdk.get().stream(
                recipe.table_name,
                arrow=recipe.schema,
                headers_provider=recipe.headers(),
                options=recipe.library_options(),
            )
        return ZerobusArrowStream(stream, recipe)

    def recreate_stream(self, old_stream: ZerobusStream) -> ZerobusStream:
        """A new stream like `old_stream` (closed or failed), into which its unacknowledged
        records have been ingested again, in their calls and in order."""
        batches = list(old_stream.get_unacked_batches())
        fresh = self._open(old_stream._recipe)
        for batch in batches:
            fresh.ingest_records_nowait(batch)
        return fresh


__all__ = [
    "AckCallback",
    "ArrowStreamConfigurationOptions",
    "HeadersProvider",
    "NonRetriableException",
    "RecordAcknowledgment",
    "RecordType",
    "StreamConfigurationOptions",
    "TableProperties",
    "ZerobusArrowStream",
    "ZerobusException",
    "ZerobusSdk",
    "ZerobusStream",
]
