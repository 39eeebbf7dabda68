"""asyncio for libzerobus: awaitable flush, wait_for_offset and close, and an async iterator of
a stream's events, all driven by the library's wakeup. The library writes to an eventfd (a
pipe where there is none) from the thread that queues an event, when the stream's event queue
turns non-empty (zb_config_set_wakeup_fd); the event loop reads it (add_reader),
takes the queued events without waiting, and resolves the futures they satisfy. No thread
waits on anyone's behalf.

    async with await libzerobus.aio.open_stream(sdk, "main.default.events") as stream:
        offset = stream.ingest('{"id": 1}')
        await stream.wait_for_offset(offset)
"""

from __future__ import annotations

import asyncio
import heapq
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
        # Waits not yet settled, a heap by offset; the middle number orders equal offsets,
        # futures having no order of their own.
        self._waiters: list[tuple[int, int, asyncio.Future[None]]] = []
        self._waits_begun = 0
        # Events that events() has not yielded yet: _events, then the acks taken after them,
        # merged (first and last offset), which become an AckEvent only if they are read.
        self._events: deque[Event] = deque()
        self._unread_acks: Optional[tuple[int, int]] = None
        self._event_ready: Optional[asyncio.Future[None]] = None
        self._finished = False  # closed or destroyed: no event will come
        loop.add_reader(wakeup_fd, self._take_events, wakeup_fd)
        self._take_events(-1)  # events queued before the reader was there come with no wakeup

    def _take_events(self, wakeup_fd: int) -> None:
        """Reads `wakeup_fd` (-1: none), takes every queued event and resolves what they
        settle: one call into the extension, then only what each event needs. The loop's
        reader: what it runs between an ack and the resumption of the task waiting for it
        is kept short (no event object unless one is asked for, one waiter checked)."""
        for kind, first, last, error in self.stream.take_raw(wakeup_fd):
            if kind == _native.EVENT_ACK:
                if self._on_event is not None:
                    self._on_event(AckEvent(first, last))
                self._acked_through = last  # acks come in offset order
                if self._waiters and self._waiters[0][0] <= last:
                    self._settle(last, None)
                unread = self._unread_acks
                self._unread_acks = (first if unread is None else unread[0], last)
            elif kind == _native.EVENT_ERROR and error is not None:
                event = ErrorEvent(first, last, error)
                if self._on_event is not None:
                    self._on_event(event)
                self._settle(last, error)
                if self._unread_acks is not None:
                    self._events.append(AckEvent(*self._unread_acks))
                    self._unread_acks = None
                self._events.append(event)
            else:
                continue  # a kind a newer library may add
            ready = self._event_ready
            if ready is not None and not ready.done():
                ready.set_result(None)

    def _settle(self, through: int, error: Optional[BaseException]) -> None:
        """Resolves the waits for offsets up to `through`: with `error`, or None."""
        waiters = self._waiters
        while waiters and waiters[0][0] <= through:
            future = heapq.heappop(waiters)[2]
            if future.done():
                continue  # cancelled
            if error is None:
                future.set_result(None)
            else:
                future.set_exception(error)

    async def wait_for_offset(self, offset: int) -> None:
        """Returns once `offset` is durable; raises the stream's error if it never will be.
        Bound it with asyncio.wait_for() or asyncio.timeout()."""
        if 0 <= offset <= self._acked_through or self.stream.is_durable(offset):
            return
        # Not durable when the library answered: its ack has not been queued yet, or is
        # queued with a wakeup that the loop has still to read; _take_events settles it.
        future: asyncio.Future[None] = self._loop.create_future()
        self._waits_begun += 1
        heapq.heappush(self._waiters, (offset, self._waits_begun, future))
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
        self._take_events(-1)
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
            if self._unread_acks is not None:
                unread, self._unread_acks = self._unread_acks, None
                yield AckEvent(*unread)
                continue
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


def _wakeup_descriptor() -> tuple[int, int]:
    """A non-blocking descriptor for the library to write and the loop to read, as (read end,
    write end): an eventfd where there is one (Linux), its write end a duplicate that the
    library owns and closes; else a pipe. The library's thread must never wait on it. An
    eventfd, because the library's thread goes on with its work after the write that wakes
    the loop, and a pipe's write wakes the reader as one the kernel expects the writer to
    sleep after (a "sync" wakeup, which may queue the reader behind the writer on its CPU):
    in six runs of bench.py's ack latency at 1,000 records/s alternating with a pipe's, the
    p50 with an eventfd was lower in five, by 9 us at the median of the six differences."""
    if hasattr(os, "eventfd"):
        event_fd = os.eventfd(0, os.EFD_NONBLOCK | os.EFD_CLOEXEC)
        try:
            return event_fd, os.dup(event_fd)
        except BaseException:
            os.close(event_fd)
            raise
    read_fd, write_fd = os.pipe()
    os.set_blocking(read_fd, False)
    os.set_blocking(write_fd, False)
    return read_fd, write_fd


async def _open_with_wakeup(
    opener: Callable[[int], Stream],
    on_event: Optional[Callable[[Event], None]],
    wrapper: type[AsyncStream] = AsyncStream,
) -> AsyncStream:
    """Runs `opener` with the write end of a new wakeup descriptor in the loop's default
    executor, and wraps the stream it opens in `wrapper` for asyncio."""
    loop = asyncio.get_running_loop()
    read_fd, write_fd = _wakeup_descriptor()
    try:
        stream: Stream = await loop.run_in_executor(None, opener, write_fd)
    except BaseException:
        os.close(read_fd)
        raise  # the library closed write_fd, as it does whatever the outcome
    return wrapper(stream, read_fd, loop, on_event)


__all__ = ["AsyncStream", "open_stream"]
