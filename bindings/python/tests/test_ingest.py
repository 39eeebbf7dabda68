"""Records into zerobus serve through the sync API, checked by the rows the server stored and
the offsets it acknowledged."""

from __future__ import annotations

import json
import threading

import pytest
from conftest import EVENTS, Server

import libzerobus


def sdk_for(server: Server, options: libzerobus.Options | None = None) -> libzerobus.Sdk:
    return libzerobus.Sdk(server.endpoint, options, transport_plaintext=True)


def event_json(i: int) -> str:
    return json.dumps({"id": i, "payload": f"event {i}"})


def test_json_records_of_every_kind_are_stored_with_their_offsets(server: Server) -> None:
    text = event_json(3).encode()
    records: list[libzerobus.Record] = [
        event_json(0),
        event_json(1).encode(),
        bytearray(event_json(2).encode()),
        memoryview(b"xx" + text)[2:],  # a slice of a buffer, taken without a copy
    ]
    with sdk_for(server) as sdk, sdk.stream(EVENTS) as stream:
        offsets = [stream.ingest(record) for record in records]
        assert offsets == [0, 1, 2, 3]
        assert stream.ingest_batch([event_json(i) for i in range(4, 10)]) == 9
        stream.flush(timeout=30)
        info = stream.info()
        assert (info.state, info.records_accepted, info.records_acked) == ("open", 10, 10)
    assert sorted(int(str(row["id"])) for row in server.rows()) == list(range(10))


def test_schema_stream_takes_protobuf_and_json(server: Server) -> None:
    schema = libzerobus.schema_from_ddl(f"{EVENTS} (id BIGINT, payload STRING)")
    assert schema.table_name == EVENTS
    assert "optional int64 id = 1;" in schema.proto_source
    with sdk_for(server) as sdk, sdk.stream(schema) as stream:
        assert stream.ingest(schema.encode_json(event_json(0))) == 0  # protobuf bytes
        assert stream.ingest(event_json(1)) == 1  # JSON, encoded by the library
        stream.wait_for_offset(1, timeout=30)
    rows = sorted(server.rows(), key=lambda row: int(str(row["id"])))
    assert rows == [{"id": 0, "payload": "event 0"}, {"id": 1, "payload": "event 1"}]


def test_descriptor_stream(server: Server) -> None:
    schema = libzerobus.schema_from_ddl(f"{EVENTS} (id BIGINT, payload STRING)")
    with sdk_for(server) as sdk, sdk.stream(EVENTS, schema.descriptor) as stream:
        assert not stream.is_json
        records = [schema.encode_json(event_json(i)) for i in range(5)]
        assert stream.ingest_batch(records) == 4
        with pytest.raises(libzerobus.RecordTypeError):
            stream.ingest(event_json(5))  # JSON on a stream without a schema
        with pytest.raises(TypeError, match="mixes"):
            stream.ingest_batch([records[0], event_json(6)])
    assert len(server.rows()) == 5


def test_acks_reach_the_callback_on_a_library_thread(server: Server) -> None:
    events: list[libzerobus.Event] = []
    threads: set[int] = set()

    def on_event(event: libzerobus.Event) -> None:
        events.append(event)
        threads.add(threading.get_ident())

    with sdk_for(server) as sdk:
        with sdk.stream(EVENTS, on_event=on_event) as stream:
            for i in range(100):
                stream.ingest(event_json(i))
        # close() delivered every event queued before it returned.
    assert all(isinstance(event, libzerobus.AckEvent) for event in events)
    assert events[-1].last_offset == 99
    firsts = [event.first_offset for event in events]
    assert firsts[0] == 0 and firsts == sorted(firsts)
    assert threading.get_ident() not in threads


def test_lanes_keep_one_offset_space_and_cumulative_acks(server: Server) -> None:
    events: list[libzerobus.Event] = []
    with sdk_for(server) as sdk:
        with sdk.stream(EVENTS, on_event=events.append, stream_lanes=8) as stream:
            offsets = [stream.ingest(event_json(i)) for i in range(1000)]
            assert offsets == list(range(1000))
    # Each ack starts where the last one's watermark ended, across the lanes.
    next_offset = 0
    for event in events:
        assert isinstance(event, libzerobus.AckEvent)
        assert event.first_offset == next_offset
        next_offset = event.last_offset + 1
    assert next_offset == 1000
    # Rows of different lanes land in no particular order: every id once.
    assert sorted(int(str(row["id"])) for row in server.rows()) == list(range(1000))


def test_events_by_iteration(server: Server) -> None:
    with sdk_for(server) as sdk, sdk.stream(EVENTS) as stream:
        last = stream.ingest_batch([event_json(i) for i in range(50)])
        acked_through = -1
        for event in stream.events(timeout=10):
            assert isinstance(event, libzerobus.AckEvent)
            acked_through = event.last_offset
            if acked_through == last:
                break
        assert acked_through == last


def test_errors_carry_the_library_code_name_and_message(server: Server) -> None:
    with sdk_for(server) as sdk, sdk.stream(EVENTS) as stream:
        with pytest.raises(libzerobus.EmptyRecordError) as empty:
            stream.ingest(b"")
        assert empty.value.name == "ZB_ERR_EMPTY_RECORD"
        assert empty.value.code == 7 and not empty.value.retryable
        assert empty.value.grpc_status is None
        with pytest.raises(libzerobus.EmptyBatchError):
            stream.ingest_batch([])
        with pytest.raises(TypeError):
            stream.ingest(12)  # type: ignore[arg-type]
        with pytest.raises(libzerobus.InvalidRecordError, match="id"):
            libzerobus.schema_from_ddl(f"{EVENTS} (id BIGINT)").encode_json('{"id": "x"}')
        stream.close()
        with pytest.raises(libzerobus.ClosedError) as closed:
            stream.ingest(event_json(0))
        assert isinstance(closed.value, libzerobus.ZerobusError)


def test_a_refused_stream_raises_with_the_grpc_status(server: Server) -> None:
    with sdk_for(server, {"recovery.retries": 0}) as sdk:
        with pytest.raises(libzerobus.ZerobusError) as refused:
            sdk.stream("main.default.undeclared")
        assert refused.value.grpc_status is not None and refused.value.grpc_status > 0


def test_unacked_after_a_timed_out_close(server: Server) -> None:
    from conftest import HELD

    with sdk_for(server) as sdk:
        stream = sdk.stream(HELD)
        stream.ingest_batch([event_json(i) for i in range(3)])
        with pytest.raises(TimeoutError):  # the builtin catches it too
            stream.flush(timeout=0.1)
        with pytest.raises(libzerobus.TimeoutError) as timed_out:
            stream.close(timeout=0.2)
        assert "3 records unacknowledged" in timed_out.value.message
        assert stream.info().state == "closed"
        unacked = stream.unacked()
        assert [offset for offset, _ in unacked] == [0, 1, 2]
        assert json.loads(unacked[2][1]) == {"id": 2, "payload": "event 2"}
        stream.destroy()
        with pytest.raises(ValueError):
            stream.info()


def test_recreate_replays_what_was_not_acknowledged(server: Server) -> None:
    from conftest import LIFTED

    with sdk_for(server) as sdk:
        stream = sdk.stream(LIFTED)
        stream.ingest_batch([event_json(i) for i in range(5)])
        with pytest.raises(libzerobus.TimeoutError):
            stream.close(timeout=0.2)  # the server withholds every ack
        assert len(stream.unacked()) == 5
        server.clear_faults(LIFTED)
        with stream.recreate() as fresh:
            assert fresh.info().records_accepted == 5  # replayed, offsets from 0
            assert fresh.ingest(event_json(5)) == 5
            fresh.flush(timeout=30)
        stream.destroy()
    # The server had stored what it did not acknowledge: the replay stores it again, as
    # zb_stream_recreate() says (at-least-once).
    ids = sorted(int(str(row["id"])) for row in server.rows(LIFTED))
    assert ids == [0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5]


def test_reconnections_ask_the_headers_provider_again(server: Server) -> None:
    from conftest import CLOSING

    threads: list[int] = []

    def headers() -> list[tuple[str, str]]:
        threads.append(threading.get_ident())
        return []

    with sdk_for(server) as sdk:
        stream = sdk.stream(CLOSING, headers_provider=headers, recovery_backoff_ms=10)
    with stream:
        stream.ingest_batch([event_json(i) for i in range(5)])
        stream.flush(timeout=30)
        stream.ingest_batch([event_json(i) for i in range(5, 12)])  # refused: the call ends
        stream.flush(timeout=30)
        assert stream.info().recoveries == 1
    assert len(threads) == 2
    assert threads[0] == threading.get_ident() and threads[-1] != threads[0]
    # A failed request stores nothing, so each record is stored once.
    assert sorted(int(str(row["id"])) for row in server.rows(CLOSING)) == list(range(12))


def test_waits_on_a_failed_stream_raise_the_failure_with_its_message_and_grpc_status(
    server: Server,
) -> None:
    from conftest import CLOSING

    with sdk_for(server) as sdk:
        stream = sdk.stream(CLOSING, recovery_enable=False)
    stream.ingest_batch([event_json(i) for i in range(10)])  # the server fails the call
    for waits_for_offset in (False, True):
        with pytest.raises(libzerobus.TransportError) as failure:
            if waits_for_offset:
                stream.wait_for_offset(9, 30)
            else:
                stream.flush(timeout=30)
        assert failure.value.grpc_status == 14  # UNAVAILABLE
        assert "injected failure" in failure.value.message
    stream.destroy()
