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


def _close_quietly(stream: libzerobus.Stream) -> None:
    with pytest.raises(libzerobus.TimeoutError):
        stream.close(timeout=0.1)
