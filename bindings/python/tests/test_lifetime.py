"""Lifetimes across the library's threads: callbacks released, streams dropped while events
flow, an SDK closed before its streams, a callback that raises."""

from __future__ import annotations

import gc
import sys
import threading
import weakref
from typing import Any

import pytest
from conftest import EVENTS, Server

import libzerobus


class Counter:
    def __init__(self) -> None:
        self.acked_through = -1
        self.lock = threading.Lock()

    def on_event(self, event: libzerobus.Event) -> None:
        with self.lock:
            self.acked_through = max(self.acked_through, event.last_offset)


def test_the_library_releases_the_callback_with_the_stream(server: Server) -> None:
    counter = Counter()
    alive = weakref.ref(counter)
    with libzerobus.Sdk(server.endpoint, transport_plaintext=True) as sdk:
        stream = sdk.stream(EVENTS, on_event=counter.on_event)
        for i in range(2000):
            stream.ingest(f'{{"id": {i}}}')
        # Dropped without a close while acks still come: the destroy waits for the callbacks,
        # without the GIL they need, then releases the bound method.
        del stream, counter
        gc.collect()
        assert alive() is None


def test_streams_outlive_their_sdk(server: Server) -> None:
    sdk = libzerobus.Sdk(server.endpoint, transport_plaintext=True)
    stream = sdk.stream(EVENTS)
    sdk.close()
    with pytest.raises(ValueError):
        sdk.stats()
    with stream:
        assert stream.ingest('{"id": 1}') == 0
        stream.flush(timeout=10)
    assert [row["id"] for row in server.rows()] == [1]


def test_a_callback_that_raises_is_reported_and_the_stream_goes_on(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    reported: list[Any] = []
    monkeypatch.setattr(sys, "unraisablehook", reported.append)

    def on_event(event: libzerobus.Event) -> None:
        raise RuntimeError("a bug in the callback")

    with libzerobus.Sdk(server.endpoint, transport_plaintext=True) as sdk:
        with sdk.stream(EVENTS, on_event=on_event) as stream:
            stream.ingest('{"id": 1}')
            stream.flush(timeout=10)
            stream.ingest('{"id": 2}')
    assert reported and isinstance(reported[0].exc_value, RuntimeError)
    assert len(server.rows()) == 2


def test_a_callback_may_call_its_stream(server: Server) -> None:
    states: list[str] = []
    holder: dict[str, libzerobus.Stream] = {}

    def on_event(event: libzerobus.Event) -> None:
        states.append(holder["stream"].info().state)

    with libzerobus.Sdk(server.endpoint, transport_plaintext=True) as sdk:
        with sdk.stream(EVENTS, on_event=on_event) as stream:
            holder["stream"] = stream
            stream.ingest('{"id": 1}')
            stream.flush(timeout=10)
    assert states and states[0] in ("open", "closed")


def test_destroy_while_another_thread_waits_ends_the_wait(server: Server) -> None:
    from conftest import HELD

    with libzerobus.Sdk(server.endpoint, transport_plaintext=True) as sdk:
        stream = sdk.stream(HELD)  # the server withholds its acks
        offset = stream.ingest('{"id": 1}')
        outcome: list[BaseException] = []

        def wait() -> None:
            try:
                stream.wait_for_offset(offset)  # without limit
            except BaseException as error:
                outcome.append(error)

        waiter = threading.Thread(target=wait)
        waiter.start()
        while stream._calls_under_way == 0:  # until the waiter waits
            waiter.join(0.001)
            assert waiter.is_alive()
        stream.destroy()  # closes at once; the waiter's return frees the stream
        waiter.join(10)
        assert not waiter.is_alive()
        assert isinstance(outcome[0], libzerobus.ZerobusError), outcome
        with pytest.raises(ValueError):
            stream.info()
