"""asyncio: awaits resolved by the library's wakeup through a pipe the event loop reads."""

from __future__ import annotations

import asyncio
import json
import threading

import pytest
from conftest import EVENTS, HELD, Server

import libzerobus
import libzerobus.aio


def event_json(i: int) -> str:
    return json.dumps({"id": i, "payload": f"event {i}"})


@pytest.mark.asyncio
async def test_awaits_and_async_events(server: Server) -> None:
    threads_before = threading.active_count()
    with libzerobus.Sdk(server.endpoint, transport_plaintext=True) as sdk:
        stream = await libzerobus.aio.open_stream(sdk, EVENTS)
        async with stream:
            first = stream.ingest(event_json(0))
            await asyncio.wait_for(stream.wait_for_offset(first), 10)
            last = stream.ingest_batch([event_json(i) for i in range(1, 200)])
            assert last == 199
            await asyncio.wait_for(stream.flush(), 10)
            # Many waits at once take no thread each.
            await asyncio.wait_for(
                asyncio.gather(*(stream.wait_for_offset(o) for o in range(0, 200, 10))), 10
            )
            assert threading.active_count() <= threads_before + 1  # the default executor's
            acked_through = -1
            async for event in stream.events():
                assert isinstance(event, libzerobus.AckEvent)
                acked_through = event.last_offset
                if acked_through == last:
                    break
            assert acked_through == last
    assert sorted(int(str(row["id"])) for row in server.rows()) == list(range(200))


@pytest.mark.asyncio
async def test_events_end_after_close(server: Server) -> None:
    with libzerobus.Sdk(server.endpoint, transport_plaintext=True) as sdk:
        stream = await libzerobus.aio.open_stream(sdk, EVENTS)
        stream.ingest_batch([event_json(i) for i in range(10)])
        await stream.close(timeout=10)
        seen = [event async for event in stream.events()]
        assert seen and isinstance(seen[-1], libzerobus.AckEvent)
        assert seen[-1].last_offset == 9
        stream.destroy()


@pytest.mark.asyncio
async def test_a_withheld_ack_times_out_and_errors_reach_waiters(server: Server) -> None:
    with libzerobus.Sdk(server.endpoint, transport_plaintext=True) as sdk:
        stream = await libzerobus.aio.open_stream(sdk, HELD)
        offset = stream.ingest(event_json(0))
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(stream.wait_for_offset(offset), 0.2)
        waiter = asyncio.ensure_future(stream.wait_for_offset(offset))
        # A close that times out gives the record an error event, which fails the waiter.
        await asyncio.get_running_loop().run_in_executor(None, _close_quietly, stream.stream)
        with pytest.raises(libzerobus.ZerobusError):
            await asyncio.wait_for(waiter, 10)
        stream.destroy()


@pytest.mark.asyncio
async def test_a_wait_begun_after_the_stream_failed_for_want_of_acks_raises(
    server: Server,
) -> None:
    # The failure was once ZB_ERR_TIMEOUT, a wait's own code: read as "not yet", the await
    # begun after it would wait for an event that never comes.
    with libzerobus.Sdk(server.endpoint, transport_plaintext=True) as sdk:
        stream = await libzerobus.aio.open_stream(
            sdk, HELD, stream_ack_timeout_ms=200, recovery_enable=False
        )
        offset = stream.ingest(event_json(0))
        with pytest.raises(libzerobus.TransportError, match="no acknowledgement"):
            await asyncio.wait_for(stream.wait_for_offset(offset), 10)
        assert stream.stream.info().state == "failed"
        with pytest.raises(libzerobus.TransportError, match="no acknowledgement"):
            await asyncio.wait_for(stream.wait_for_offset(offset), 10)
        stream.destroy()


@pytest.mark.asyncio
async def test_acks_read_late_come_merged_before_the_error_that_followed(server: Server) -> None:
    with libzerobus.Sdk(server.endpoint, transport_plaintext=True) as sdk:
        stream = await libzerobus.aio.open_stream(sdk, EVENTS)
        native = stream.stream
        for i in range(5):
            await asyncio.wait_for(stream.wait_for_offset(stream.ingest(event_json(i))), 10)
        server.set_faults(EVENTS, {"withhold_acks": True})
        held = stream.ingest(event_json(5))
        # Whether an offset is durable, answered without waiting and without an exception.
        assert native.is_durable(4) is True
        assert native.is_durable(held) is False
        with pytest.raises(libzerobus.ZerobusError):
            native.is_durable(held + 1)  # never issued
        waiter = asyncio.ensure_future(stream.wait_for_offset(held))
        await asyncio.get_running_loop().run_in_executor(None, _close_quietly, native)
        with pytest.raises(libzerobus.ZerobusError):
            await asyncio.wait_for(waiter, 10)
        # Five acks nobody read, then the error event of the record whose ack never came.
        seen = await asyncio.wait_for(_first_events(stream, 2), 10)
        assert seen[0] == libzerobus.AckEvent(0, 4)
        assert [type(event) for event in seen[1:]] == [libzerobus.ErrorEvent]
        assert (seen[1].first_offset, seen[1].last_offset) == (held, held)
        stream.destroy()


async def _first_events(stream: libzerobus.aio.AsyncStream, count: int) -> list[libzerobus.Event]:
    taken: list[libzerobus.Event] = []
    async for event in stream.events():
        taken.append(event)
        if len(taken) == count:
            break
    return taken


def _close_quietly(stream: libzerobus.Stream) -> None:
    with pytest.raises(libzerobus.TimeoutError):
        stream.close(timeout=0.1)
