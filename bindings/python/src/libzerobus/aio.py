"""asyncio for libzerobus: awaitable flush, wait_for_offset and close, and an async iterator of
a stream's events, all driven by the library's wakeup. The library writes to a pipe from the
thread that queues an event, when the stream's event queue turns non-empty
(zb_config_set_wakeup_fd); the event loop reads the pipe (add_reader),
takes the queued events without waiting, and resolves the futures they satisfy. No thread
waits on anyone's behalf.

    async with await libzerobus.aio.open_stream(sdk, "main.default.events") as stream:
        offset = stream.ingest('{"id": 1}')
        await stream.wait_for_offset(offset)
"""

from __future__ import annotations

import asyncio
import os
from collections import deque
from collections.abc import AsyncIterator
from types import TracebackType
from typing import Callable, Optional, Union

from . import (
    AckEvent,
    ArrowSchemaSource,
    ErrorEvent,
    Event,
    HeadersProvider,
    Options,
    OptionValue,
    Sdk,
    Stream,
    SubjectTokenProvider,
    _native,
)
from .errors import TimeoutError as LibraryTimeoutError


async def open_stream(
    sdk: Sdk,
    table: Union[str, _native.Schema],
    descriptor: Optional[bytes] = None,
    *,
    avro: Union[str, bool] = False,
    arrow: Optional[ArrowSchemaSource] = None,
    headers_provider: Optional[HeadersProvider] = None,
    subject_token: Optional[SubjectTokenProvider] = None,
    on_event: Optional[Callable[[Event], None]] = None,
    options: Optional[Options] = None,
    **keywords: OptionValue,
) -> AsyncStream:
    """Opens a stream as Sdk.stream() does, with its events for asyncio. The opening itself
    (a connection and the server's answer) runs in the loop's default executor. `on_event`
    is called on the event loop with each event as it is taken, before the waits it settles
    are resolved; it must not raise."""
    return await _open_with_wakeup(
        lambda write_fd: sdk._open(
            table,
            descriptor,
            None,
            headers_provider,
            write_fd,
            options,
            keywords,
            avro=avro,
            arrow=arrow,
            subject_token=subject_token,
        ),
        on_event,
    )


class AsyncStream:
    """A stream whose waits are awaitables. ingest(), ingest_batch() and ingest_arrow() do not
    wait (unless the in-flight window is full) and are the Stream's own. Used from one event
    loop."""

    def __init__(
        self,
        stream: Stream,
        wakeup_fd: int,
        loop: asyncio.AbstractEventLoop,
        on_event: Optional[Callable[[Event], None]] = None,
    ) -> None:
        self.stream = stream
        self._on_event = on_event
        self.ingest = stream.ingest
        self.ingest_batch = stream.ingest_batch
        self.ingest_arrow = stream.ingest_arrow
        self._loop = loop
        self._wakeup_fd: Optional[int] = wakeup_fd
        self._acked_through = -1  # the highest offset acknowledged
        self._waiters: list[tuple[int, asyncio.Future[None]]] = []
        self._events: deque[Event] = deque()
        self._event_ready: Optional[asyncio.Future[None]] = None
        self._finished = False  # closed or destroyed: no event will come
        loop.add_reader(wakeup_fd, self._on_wakeup)
        self._take_events()  # events queued before the reader was there come with no wakeup

    def _on_wakeup(self) -> None:
        assert self._wakeup_fd is not None
        try:
            while os.read(self._wakeup_fd, 256):
                pass
        except BlockingIOError:
            pass  # drained: every wakeup so far coalesces into this one
        self._take_events()

    def _take_events(self) -> None:
        while True:
            taken = self.stream.poll(64, 0)
            for event in taken:
                self._deliver(event)
            if len(taken) < 64:
                return

    def _deliver(self, event: Event) -> None:
        if self._on_event is not None:
            self._on_event(event)
        if isinstance(event, AckEvent):
            self._acked_through = max(self._acked_through, event.last_offset)
            self._settle(lambda offset: offset <= self._acked_through, None)
            last = self._events[-1] if self._events else None
            if isinstance(last, AckEvent):  # acks merge, so an unread queue stays small
                self._events[-1] = AckEvent(last.first_offset, event.last_offset)
            else:
                self._events.append(event)
        else:
            error_event: ErrorEvent = event
            self._settle(lambda offset: offset <= error_event.last_offset, error_event.error)
            self._events.append(event)
        if self._event_ready is not None and not self._event_ready.done():
            self._event_ready.set_result(None)

    def _settle(self, settled: Callable[[int], bool], error: Optional[BaseException]) -> None:
        """Resolves the waiters whose offset `settled` says is done: with `error`, or None."""
        waiting = []
        for offset, future in self._waiters:
            if future.done():
                continue  # cancelled
            if settled(offset):
                if error is None:
                    future.set_result(None)
                else:
                    future.set_exception(error)
            else:
                waiting.append((offset, future))
        self._waiters = waiting

    async def wait_for_offset(self, offset: int) -> None:
        """Returns once `offset` is durable; raises the stream's error if it never will be.
        Bound it with asyncio.wait_for() or asyncio.timeout()."""
        try:
            self.stream.wait_for_offset(offset, 0)  # the library's answer, if it has one now
            return
        except LibraryTimeoutError:
            pass
        future: asyncio.Future[None] = self._loop.create_future()
        self._waiters.append((offset, future))
        self._take_events()  # an ack between the check and now came with no wakeup of ours
        await future

    async def flush(self) -> None:
        """Returns once every record accepted before the call is durable."""
        accepted = self.stream.info().records_accepted
        if accepted == 0:
            self.stream.flush(0)  # nothing to wait for; a failed stream still says so
            return
        await self.wait_for_offset(accepted - 1)

    async def close(self, timeout: Optional[float] = None) -> None:
        """Flushes, then closes the stream (the end of the call runs in the default executor:
        every record being acknowledged, it is short)."""
        if self._finished:
            return
        await asyncio.wait_for(self.flush(), timeout)
        await self._loop.run_in_executor(None, self.stream.close, 10.0)
        self._take_events()
        self._finish()

    def destroy(self) -> None:
        """Frees the stream at once, abandoning records not yet acknowledged."""
        self._finish()
        self.stream.destroy()

    def _finish(self) -> None:
        self._finished = True
        if self._wakeup_fd is not None:
            self._loop.remove_reader(self._wakeup_fd)
            os.close(self._wakeup_fd)
            self._wakeup_fd = None
        if self._event_ready is not None and not self._event_ready.done():
            self._event_ready.set_result(None)

    async def events(self) -> AsyncIterator[Event]:
        """The stream's events as they come; ends once the stream is closed and they are all
        read. Consecutive acks not yet read are merged into one."""
        while True:
            while self._events:
                yield self._events.popleft()
            if self._finished:
                return
            self._event_ready = self._loop.create_future()
            await self._event_ready
            self._event_ready = None

    async def __aenter__(self) -> AsyncStream:
        return self

    async def __aexit__(
        self,
        kind: Optional[type[BaseException]],
        value: Optional[BaseException],
        traceback: Optional[TracebackType],
    ) -> None:
        try:
            if kind is None:
                await self.close()
        finally:
            self.destroy()


async def _open_with_wakeup(
    opener: Callable[[int], Stream],
    on_event: Optional[Callable[[Event], None]],
    wrapper: type[AsyncStream] = AsyncStream,
) -> AsyncStream:
    """Runs `opener` with the write end of a new wakeup pipe in the loop's default executor,
    and wraps the stream it opens in `wrapper` for asyncio."""
    loop = asyncio.get_running_loop()
    read_fd, write_fd = os.pipe()
    os.set_blocking(read_fd, False)
    os.set_blocking(write_fd, False)  # the library's thread must never wait on a full pipe
    try:
        stream: Stream = await loop.run_in_executor(None, opener, write_fd)
    except BaseException:
        os.close(read_fd)
        raise  # the library closed write_fd, as it does whatever the outcome
    return wrapper(stream, read_fd, loop, on_event)


__all__ = ["AsyncStream", "open_stream"]
