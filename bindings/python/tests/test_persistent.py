"""Persistent streams (libzerobus.experimental) against the tests' own zerobus serve: offsets
continue after the watermark across streams and processes, a broken call resumes without
storing a record twice (where an ephemeral stream stores the lost acks' records again), the
refusals carry their gRPC status, and a producer killed with SIGKILL is completed by another
process resuming its stream by id, every record exactly once."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from conftest import EVENTS, Server

import libzerobus
import libzerobus.experimental as persistent

GRPC_INVALID_ARGUMENT = 3
GRPC_NOT_FOUND = 5
GRPC_FAILED_PRECONDITION = 9


def sdk_for(server: Server) -> libzerobus.Sdk:
    return libzerobus.Sdk(server.endpoint, transport_plaintext=True)


def event_json(i: int) -> str:
    return json.dumps({"id": i, "payload": f"event {i}"})


def stored_ids(server: Server) -> list[int]:
    return sorted(int(str(row["id"])) for row in server.rows(EVENTS))


def test_resume_continues_after_the_watermark(server: Server) -> None:
    with sdk_for(server) as sdk:
        with persistent.create_stream(sdk, EVENTS) as created:
            assert created.resume_watermark is None
            stream_id = created.stream_id
            assert isinstance(stream_id, str) and stream_id
            assert created.ingest_batch([event_json(i) for i in range(40)]) == 39
            created.flush(timeout=30)

        with persistent.resume_stream(sdk, EVENTS, stream_id) as resumed:
            assert resumed.stream_id == stream_id
            assert resumed.resume_watermark == 39
            assert resumed.ingest(event_json(40)) == 40  # the watermark + 1
            assert resumed.ingest_batch([event_json(i) for i in range(41, 50)]) == 49
            resumed.flush(timeout=30)
            assert resumed.info().records_acked == 50
    assert stored_ids(server) == list(range(50))
    # One wire request per record, batches included.
    assert server.table_counters(EVENTS)["requests"] == 50


def stored_after_lost_acks(server: Server, make_persistent: bool) -> list[int]:
    """The server stores 60 records, withholding their acks, and fails the call at the next
    request; the stream reconnects. A persistent stream learns from the resume that the 60 are
    committed and sends again only the refused record; an ephemeral one replays all 61."""
    server.set_faults(EVENTS, {"withhold_acks": True, "fail_after_records": 60})
    with sdk_for(server) as sdk:
        options = {"recovery.backoff.ms": 1}
        stream = (
            persistent.create_stream(sdk, EVENTS, options=options)
            if make_persistent
            else sdk.stream(EVENTS, options=options)
        )
        with stream:
            for i in range(60):
                stream.ingest(event_json(i))
            server.wait_stored(EVENTS, 60)
            stream.ingest(event_json(60))  # the request that breaks the call
            server.wait_stored(EVENTS, 61 if make_persistent else 121)
            server.clear_faults(EVENTS)
            # Withheld acks go out with the next request's.
            assert stream.ingest(event_json(61)) == 61
            stream.flush(timeout=30)
            info = stream.info()
            assert info.recoveries == 1
            if make_persistent:
                assert info.records_replayed == 1
    return stored_ids(server)


def test_a_broken_call_resumes_without_storing_twice(server: Server) -> None:
    assert stored_after_lost_acks(server, make_persistent=True) == list(range(62))


def test_an_ephemeral_stream_stores_the_lost_acks_records_twice(server: Server) -> None:
    ids = stored_after_lost_acks(server, make_persistent=False)
    assert ids == sorted(list(range(60)) * 2 + [60, 61])  # the refused record stored once


def test_refusals_carry_their_grpc_status(server: Server) -> None:
    options = {"recovery.retries": 1, "recovery.backoff.ms": 1}
    with sdk_for(server) as sdk:
        with persistent.create_stream(sdk, EVENTS, options=options) as created:
            created.ingest(event_json(0))
            created.flush(timeout=30)
            stream_id = created.stream_id

        # Another record type than the creating one.
        descriptor = libzerobus.schema_from_ddl(f"{EVENTS} (id BIGINT, payload STRING)").descriptor
        with pytest.raises(libzerobus.TransportError) as refused:
            persistent.resume_stream(sdk, EVENTS, stream_id, descriptor, options=options)
        assert refused.value.grpc_status == GRPC_INVALID_ARGUMENT

        with pytest.raises(libzerobus.TransportError) as unknown:
            persistent.resume_stream(sdk, EVENTS, "no-such-stream", options=options)
        assert unknown.value.grpc_status == GRPC_NOT_FOUND
        assert not unknown.value.retryable
        with pytest.raises(libzerobus.TransportError) as unknown:
            persistent.retire_stream(sdk, EVENTS, "no-such-stream", options=options)
        assert unknown.value.grpc_status == GRPC_NOT_FOUND

        persistent.retire_stream(sdk, EVENTS, stream_id, options=options)
        persistent.retire_stream(sdk, EVENTS, stream_id, options=options)  # idempotent
        with pytest.raises(libzerobus.TransportError) as retired:
            persistent.resume_stream(sdk, EVENTS, stream_id, options=options)
        assert retired.value.grpc_status == GRPC_FAILED_PRECONDITION
        assert not retired.value.retryable

        with pytest.raises(libzerobus.InvalidArgError):
            persistent.create_stream(sdk, EVENTS, stream_lanes=2)
        schema = libzerobus.schema_from_ddl(f"{EVENTS} (id BIGINT)")
        with pytest.raises(ValueError):  # a table named by a str only
            persistent.create_stream(sdk, schema)  # type: ignore[arg-type]
    assert stored_ids(server) == [0]


def test_recreate_resumes_by_the_same_id(server: Server) -> None:
    with sdk_for(server) as sdk:
        stream = persistent.create_stream(sdk, EVENTS)
        stream.ingest_batch([event_json(i) for i in range(10)])
        stream.close(timeout=30)
        with stream.recreate() as fresh:
            assert isinstance(fresh, persistent.PersistentStream)
            assert fresh.stream_id == stream.stream_id
            assert fresh.resume_watermark == 9
            assert fresh.ingest(event_json(10)) == 10
            fresh.flush(timeout=30)
        stream.destroy()
    assert stored_ids(server) == list(range(11))


@pytest.mark.asyncio
async def test_asyncio_forms(server: Server) -> None:
    with sdk_for(server) as sdk:
        created = await persistent.create_stream_async(sdk, EVENTS)
        async with created:
            assert created.resume_watermark is None
            last = created.ingest_batch([event_json(i) for i in range(20)])
            await asyncio.wait_for(created.wait_for_offset(last), 30)
        resumed = await persistent.resume_stream_async(sdk, EVENTS, created.stream_id)
        async with resumed:
            assert resumed.resume_watermark == 19
            assert resumed.ingest(event_json(20)) == 20
            await asyncio.wait_for(resumed.flush(), 30)
            acks = [e async for e in _acks_through(resumed, 20)]
            assert acks[-1].last_offset == 20
        await persistent.retire_stream_async(sdk, EVENTS, created.stream_id)
        with pytest.raises(libzerobus.TransportError) as retired:
            await persistent.resume_stream_async(sdk, EVENTS, created.stream_id)
        assert retired.value.grpc_status == GRPC_FAILED_PRECONDITION
        with pytest.raises(libzerobus.TransportError) as unknown:
            await persistent.retire_stream_async(sdk, EVENTS, "no-such-stream")
        assert unknown.value.grpc_status == GRPC_NOT_FOUND
    assert stored_ids(server) == list(range(21))


async def _acks_through(
    stream: persistent.AsyncPersistentStream, offset: int
) -> AsyncIterator[libzerobus.AckEvent]:
    async for event in stream.events():
        assert isinstance(event, libzerobus.AckEvent)
        yield event
        if event.last_offset >= offset:
            return


# The producer ingests PRODUCED records and is killed once the server stored BEFORE_KILL.
PRODUCED = 20000
BEFORE_KILL = 2000


def test_a_killed_producer_is_completed_by_another_process(server: Server, tmp_path: Path) -> None:
    id_file = tmp_path / "stream-id"
    producer = subprocess.Popen(
        [
            sys.executable,
            str(Path(__file__).with_name("persistent_producer.py")),
            server.endpoint,
            EVENTS,
            str(id_file),
            str(PRODUCED),
        ]
    )
    try:
        server.wait_stored(EVENTS, BEFORE_KILL)
    finally:
        os.kill(producer.pid, signal.SIGKILL)
        assert producer.wait(timeout=30) == -signal.SIGKILL
    stream_id = id_file.read_text()
    with sdk_for(server) as sdk:
        # The server may not have ended the killed producer's call yet: ABORTED, retried.
        with persistent.resume_stream(
            sdk, EVENTS, stream_id, recovery_backoff_ms=20, recovery_retries=100
        ) as resumed:
            watermark = resumed.resume_watermark
            stored = len(server.rows(EVENTS))
            print(f"producer killed after {stored} records stored; resumed at {watermark}")
            assert BEFORE_KILL <= stored < PRODUCED
            assert watermark == stored - 1
            resumed.ingest_batch([event_json(i) for i in range(stored, PRODUCED)])
            resumed.flush(timeout=60)
    assert stored_ids(server) == list(range(PRODUCED))
