"""What the compatibility module's sync and asyncio SDKs share: the libzerobus Sdk behind a
ZerobusSdk, and how a create_stream() call becomes the options of a libzerobus stream."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Callable, Optional, Union

from .. import AckEvent, ErrorEvent, Event, Sdk
from .shared import (
    ArrowStreamConfigurationOptions,
    HeadersProvider,
    Payload,
    StreamConfigurationOptions,
    Submissions,
    TableProperties,
    check_record_type,
    record_of,
    translated_errors,
)


def _with_scheme(url: str, use_tls: bool) -> str:
    """`url` with the scheme `use_tls` calls for: the official SDK takes hosts with or without
    one and switches TLS separately; libzerobus reads the choice from the scheme."""
    _, separator, rest = url.partition("://")
    return ("https://" if use_tls else "http://") + (rest if separator else url)


class LibrarySdk:
    """The libzerobus Sdk of one ZerobusSdk, made when its first stream opens, so that
    set_use_tls() may come after the constructor, as with the official SDK. Thread-safe."""

    def __init__(
        self,
        host: str,
        unity_catalog_url: str,
        application_name: Optional[str],
        connection_per_stream: bool,
    ) -> None:
        self._host = host
        self._workspace = unity_catalog_url
        self._application_name = application_name
        self.connection_per_stream = connection_per_stream
        # An http:// host means plaintext without asking; the official SDK needs
        # set_use_tls(False) as well.
        self._use_tls = not host.startswith("http://")
        self._lock = threading.Lock()
        self._sdk: Optional[Sdk] = None

    def set_use_tls(self, use_tls: bool) -> None:
        """Streams opened from now on use TLS or not; open ones keep their connection."""
        with self._lock:
            if use_tls != self._use_tls and self._sdk is not None:
                self._sdk.close()
                self._sdk = None
            self._use_tls = use_tls

    def get(self) -> Sdk:
        with self._lock:
            if self._sdk is None:
                options: dict[str, Union[str, int, bool]] = {
                    "transport.plaintext": not self._use_tls,
                    "workspace.url": _with_scheme(self._workspace, self._use_tls),
                }
                if self._application_name:
                    options["sdk.application.name"] = self._application_name
                self._sdk = Sdk(_with_scheme(self._host, self._use_tls), options)
            return self._sdk


class _Recipe:
    """What a record stream's and an Arrow stream's recipes share."""

    headers_provider: Optional[HeadersProvider]
    options: Union[StreamConfigurationOptions, ArrowStreamConfigurationOptions]

    def headers(self) -> Optional[Callable[[], list[tuple[str, str]]]]:
        return None if self.headers_provider is None else self.headers_provider.get_headers

    def flush_timeout(self) -> float:
        """flush_timeout_ms, in seconds."""
        return self.options.flush_timeout_ms / 1000


@dataclass(frozen=True)
class StreamRecipe(_Recipe):
    """Everything create_stream() was given, kept for recreate_stream()."""

    table: TableProperties
    options: StreamConfigurationOptions
    client_id: Optional[str]
    client_secret: Optional[str]
    headers_provider: Optional[HeadersProvider]

    @staticmethod
    def of(
        client_id: Optional[str],
        client_secret: Optional[str],
        table_properties: Optional[TableProperties],
        options: Optional[StreamConfigurationOptions],
        headers_provider: Optional[HeadersProvider],
        auth: Any,
    ) -> StreamRecipe:
        """Checks create_stream()'s arguments as the official SDK does."""
        if auth is not None:
            raise ValueError(
                "auth= (token federation) is not supported by this compatibility layer"
            )
        if table_properties is None:
            raise ValueError("table_properties is required")
        if headers_provider is None and (client_id is None or client_secret is None):
            raise ValueError(
                "client_id and client_secret are required unless auth= or headers_provider= "
                "is given"
            )
        chosen = options if options is not None else StreamConfigurationOptions()
        check_record_type(table_properties, chosen)
        return StreamRecipe(table_properties, chosen, client_id, client_secret, headers_provider)

    def library_options(self, sdk: LibrarySdk) -> dict[str, Union[str, int, bool]]:
        """The libzerobus options of the stream."""
        options = self.options.library_options()
        options["stream.own.connection"] = sdk.connection_per_stream
        return _with_credentials(options, self.client_id, self.client_secret, self.headers_provider)


def _with_credentials(
    options: dict[str, Union[str, int, bool]],
    client_id: Optional[str],
    client_secret: Optional[str],
    headers_provider: Optional[HeadersProvider],
) -> dict[str, Union[str, int, bool]]:
    """`options` with the OAuth client credentials, unless a headers provider authenticates."""
    if headers_provider is None:
        assert client_id is not None and client_secret is not None
        options["auth.client.id"] = client_id
        options["auth.client.secret"] = client_secret
    return options


@dataclass(frozen=True)
class ArrowRecipe(_Recipe):
    """Everything create_arrow_stream() was given, kept for recreate_arrow_stream()."""

    table_name: str
    schema: Any  # a pyarrow.Schema
    options: ArrowStreamConfigurationOptions
    client_id: Optional[str]
    client_secret: Optional[str]
    headers_provider: Optional[HeadersProvider]

    @staticmethod
    def of(
        table_name: str,
        schema: Any,
        options: Optional[ArrowStreamConfigurationOptions],
        client_id: Optional[str] = None,
        client_secret: Optional[str] = None,
        headers_provider: Optional[HeadersProvider] = None,
    ) -> ArrowRecipe:
        """A create_arrow_stream() call's recipe, its options defaulted."""
        chosen = options if options is not None else ArrowStreamConfigurationOptions()
        return ArrowRecipe(table_name, schema, chosen, client_id, client_secret, headers_provider)

    def library_options(self) -> dict[str, Union[str, int, bool]]:
        """The libzerobus options of the stream (an Arrow stream has a connection of its own)."""
        options = self.options.library_options()
        return _with_credentials(options, self.client_id, self.client_secret, self.headers_provider)


def ingest_call(stream: Any, submissions: Submissions, records: Sequence[Payload]) -> int:
    """Ingests `records` into `stream` (a Stream or an AsyncStream) as one call; returns the
    call's offset."""
    with translated_errors(), submissions.lock:
        last = (
            stream.ingest(record_of(records[0]))
            if len(records) == 1
            else stream.ingest_batch([record_of(record) for record in records])
        )
        return submissions.add(last)


def route(event: Event, submissions: Submissions) -> None:
    """Hands a libzerobus event to the calls it settles."""
    if isinstance(event, AckEvent):
        submissions.acked(event.last_offset)
    elif isinstance(event, ErrorEvent):
        submissions.failed(event.last_offset, event.error.message)


class ArrowStreamProperties:
    """What the sync and asyncio Arrow streams share: their recipe, and the official SDK's
    is_closed and table_name."""

    def __init__(self, recipe: ArrowRecipe) -> None:
        self._recipe = recipe
        self._closed = False

    @property
    def is_closed(self) -> bool:
        return self._closed

    @property
    def table_name(self) -> str:
        return self._recipe.table_name
