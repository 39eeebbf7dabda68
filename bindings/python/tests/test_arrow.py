"""Arrow streams, with pyarrow as the oracle: record batches it makes, of every type a Delta
column maps to (docs/SCHEMAS.md, "Delta → Arrow"), with nulls and slices, go through the Arrow
PyCapsule interface into libzerobus and over Flight into zerobus serve, and the stored rows are
what pyarrow says the batches hold; what the library gives back (unacked) pyarrow reads."""

from __future__ import annotations

import asyncio
import base64
import datetime
import decimal
import gc
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from typing import Any

import pyarrow as pa  # type: ignore[import-untyped]  # pyarrow has no stubs
import pyarrow.ipc  # type: ignore[import-untyped]
import pytest
from conftest import Server, start_serve

import libzerobus
import libzerobus.aio

TABLE = "main.default.arrow_types"
DDL = (
    f"{TABLE} (id BIGINT NOT NULL, b BOOLEAN, i8 TINYINT, i16 SMALLINT, i32 INT, f FLOAT, "
    "d DOUBLE, s STRING, ls STRING, bin BINARY, lbin BINARY, day DATE, ts TIMESTAMP, "
    "ntz TIMESTAMP_NTZ, dec DECIMAL(10,2), tags ARRAY<STRING>, "
    "loc STRUCT<lat: DOUBLE, lon: DOUBLE>, attrs MAP<STRING, BIGINT>)"
)
# Tables whose acks the server withholds: one for good, one until a test lifts the fault.
HELD = "main.default.arrow_held"
LIFTED = "main.default.arrow_lifted"
SCHEMA = pa.schema(
    [
        pa.field("id", pa.int64(), nullable=False),
        ("b", pa.bool_()),
        ("i8", pa.int8()),
        ("i16", pa.int16()),
        ("i32", pa.int32()),
        ("f", pa.float32()),
        ("d", pa.float64()),
        ("s", pa.string()),
        ("ls", pa.large_string()),
        ("bin", pa.binary()),
        ("lbin", pa.large_binary()),
        ("day", pa.date32()),
        ("ts", pa.timestamp("us", tz="UTC")),
        ("ntz", pa.timestamp("us")),
        ("dec", pa.decimal128(10, 2)),
        ("tags", pa.list_(pa.string())),
        ("loc", pa.struct([("lat", pa.float64()), ("lon", pa.float64())])),
        ("attrs", pa.map_(pa.string(), pa.int64())),
    ]
)
EPOCH = datetime.datetime(1970, 1, 1)


@pytest.fixture
def arrow_server() -> Iterator[Server]:
    with tempfile.TemporaryDirectory(prefix="zerobus-arrow-") as data_dir:
        held = [
            arg
            for table in (HELD, LIFTED)
            for arg in (
                "--table",
                DDL.replace(TABLE, table),
                "--fault",
                f"{table}:withhold_acks=true",
            )
        ]
        with start_serve(data_dir, "--table", DDL, *held) as serve:
            admin_url = serve.ready["admin"]["url"].rstrip("/")
            yield Server(serve.grpc_url, data_dir, serve.process.pid, admin_url)


def row(i: int) -> dict[str, Any]:
    """Row i: every column a value, or null on every fourth row (never id)."""
    null = i % 4 == 3
    values: dict[str, Any] = {
        "b": i % 2 == 0,
        "i8": -128 + i % 256,
        "i16": -32768 + i,
        "i32": 2**31 - 1 - i,
        "f": 1.5 * i,
        "d": -2.25e10 / (i + 1),
        "s": f"s{i} Grüße ✓",
        "ls": "large " * i,
        "bin": bytes([0, 255, i % 256]),
        "lbin": b"\x01" * i,
        "day": datetime.date(2026, 12, 6) - datetime.timedelta(days=400 * (i % 20)),
        "ts": datetime.datetime(2026, 12, 6, 23, 0, i % 60, 123456, tzinfo=datetime.timezone.utc),
        "ntz": datetime.datetime(1999, 1, 1, 0, 0, 0, i),
        "dec": decimal.Decimal(f"{-1 if i % 2 else 1}{i}.0{i % 10}"),
        "tags": [f"t{j}" for j in range(i % 3)],
        "loc": {"lat": 52.5 + i, "lon": None if i % 2 else 13.4},
        "attrs": [(f"k{j}", j * i) for j in range(i % 3)],
    }
    return {"id": i, **{name: None if null else value for name, value in values.items()}}


def batch(first: int, count: int) -> pa.RecordBatch:
    return pa.RecordBatch.from_pylist([row(i) for i in range(first, first + count)], SCHEMA)


def stored(value: Any, arrow_type: pa.DataType) -> Any:
    """What `zerobus rows` prints for a pyarrow value of `arrow_type`."""
    if value is None:
        return None
    if pa.types.is_binary(arrow_type) or pa.types.is_large_binary(arrow_type):
        return base64.b64encode(value).decode()
    if pa.types.is_date32(arrow_type):
        return (value - EPOCH.date()).days
    if pa.types.is_timestamp(arrow_type):
        return (value.replace(tzinfo=None) - EPOCH) // datetime.timedelta(microseconds=1)
    if pa.types.is_decimal(arrow_type):
        return str(value)
    if pa.types.is_map(arrow_type):
        return {str(key): stored(item, arrow_type.item_type) for key, item in value}
    if pa.types.is_list(arrow_type):
        return [stored(item, arrow_type.value_type) for item in value]
    if pa.types.is_struct(arrow_type):
        return {field.name: stored(value[field.name], field.type) for field in arrow_type}
    return value


def expected_rows(*batches: Any) -> list[dict[str, Any]]:
    """What pyarrow says the batches (or tables) hold, as the server stores it."""
    return [
        {field.name: stored(values[field.name], field.type) for field in SCHEMA}
        for data in batches
        for values in data.to_pylist()
    ]


def ipc_bytes(*batches: pa.RecordBatch) -> bytes:
    sink = pa.BufferOutputStream()
    with pyarrow.ipc.new_stream(sink, SCHEMA) as writer:
        for each in batches:
            writer.write_batch(each)
    return bytes(sink.getvalue().to_pybytes())


def sdk_for(server: Server) -> libzerobus.Sdk:
    return libzerobus.Sdk(server.endpoint, transport_plaintext=True)


def test_batches_tables_readers_and_ipc_are_stored_as_pyarrow_says(arrow_server: Server) -> None:
    whole = batch(100, 12)
    table = pa.Table.from_batches([batch(20, 3), batch(0, 0), batch(23, 4)])
    read = [batch(30, 2), batch(32, 1)]
    reader = pa.RecordBatchReader.from_batches(SCHEMA, read)
    in_ipc = [batch(40, 2), batch(42, 5)]
    with sdk_for(arrow_server) as sdk:
        with sdk.stream(TABLE, arrow=SCHEMA) as stream:
            assert stream.ingest_arrow(batch(0, 8)) == 0
            assert stream.ingest_arrow(whole.slice(3, 6)) == 1  # a slice: non-zero offsets
            assert stream.ingest_arrow(table) == 3  # two batches with rows, an offset each
            assert stream.ingest_arrow(reader) == 5
            assert stream.ingest_arrow(memoryview(ipc_bytes(*in_ipc))) == 7
            stream.flush(timeout=30)
            assert stream.info().records_acked == 8
    expected = expected_rows(batch(0, 8), whole.slice(3, 6), table, *read, *in_ipc)
    assert arrow_server.rows(TABLE) == expected


def test_a_stream_opened_from_ipc_bytes_takes_batches_and_ipc(arrow_server: Server) -> None:
    with sdk_for(arrow_server) as sdk:
        schema = libzerobus.schema_from_ddl(DDL)
        with sdk.stream(schema, arrow=SCHEMA.serialize().to_pybytes()) as stream:
            assert stream.ingest_arrow(batch(0, 3)) == 0
            assert stream.ingest_arrow(ipc_bytes(batch(3, 2))) == 1
            with pytest.raises(libzerobus.EmptyBatchError):
                stream.ingest_arrow(batch(5, 0))
            with pytest.raises(libzerobus.EmptyBatchError):
                stream.ingest_arrow(pa.Table.from_batches([], SCHEMA))
            stream.flush(timeout=30)
    assert arrow_server.rows(TABLE) == expected_rows(batch(0, 5))


def test_a_schema_that_does_not_fit_the_table_is_refused_naming_the_column(
    arrow_server: Server,
) -> None:
    wrong = SCHEMA.set(SCHEMA.get_field_index("s"), pa.field("s", pa.int64()))
    with sdk_for(arrow_server) as sdk:
        with pytest.raises(libzerobus.ZerobusError) as refused:
            sdk.stream(TABLE, arrow=wrong, recovery_retries=0)
        assert "column 's'" in refused.value.message, refused.value.message
        with sdk.stream(TABLE, arrow=SCHEMA) as stream:
            other = batch(0, 2).set_column(1, "b", pa.array([1, 2], pa.int64()))
            with pytest.raises(libzerobus.InvalidSchemaError) as differs:
                stream.ingest_arrow(other)
            assert "'b'" in differs.value.message, differs.value.message
            with pytest.raises(libzerobus.RecordTypeError):
                stream.ingest('{"id": 1}')
            assert stream.ingest_arrow(batch(0, 1)) == 0  # the stream goes on
        with sdk.stream(TABLE) as json_stream:  # a record stream takes no Arrow
            with pytest.raises(libzerobus.RecordTypeError):
                json_stream.ingest_arrow(batch(0, 1))
    assert len(arrow_server.rows(TABLE)) == 1


def test_unacked_batches_are_ipc_that_pyarrow_reads_back(arrow_server: Server) -> None:
    sent = [batch(0, 4), batch(10, 12).slice(5, 3)]
    with sdk_for(arrow_server) as sdk:
        stream = sdk.stream(LIFTED, arrow=SCHEMA)
        assert [stream.ingest_arrow(each) for each in sent] == [0, 1]
        with pytest.raises(libzerobus.TimeoutError):
            stream.close(timeout=0.2)  # the server withholds every ack
        unacked = stream.unacked()
        assert [offset for offset, _ in unacked] == [0, 1]
        for (_, ipc), each in zip(unacked, sent):
            read = pyarrow.ipc.open_stream(ipc).read_all()
            assert read.schema.equals(SCHEMA)
            assert read.to_batches() == [each]
        arrow_server.clear_faults(LIFTED)
        with stream.recreate() as fresh:
            assert fresh.info().records_accepted == 2  # replayed, offsets from 0
            assert fresh.ingest_arrow(batch(20, 1)) == 2
            fresh.flush(timeout=30)
        stream.destroy()
    # The server stored what it did not acknowledge: the replay stores it again.
    ids = sorted(int(str(stored_row["id"])) for stored_row in arrow_server.rows(LIFTED))
    assert ids == sorted([0, 1, 2, 3, 15, 16, 17] * 2 + [20])


def test_the_library_releases_each_batch_it_took(arrow_server: Server) -> None:
    gc.collect()
    before = pa.total_allocated_bytes()
    with sdk_for(arrow_server) as sdk:
        held = sdk.stream(HELD, arrow=SCHEMA)
        held.ingest_arrow(batch(0, 200))
        held.ingest_arrow(pa.Table.from_batches([batch(200, 100), batch(300, 100)]))
        gc.collect()  # pyarrow's objects are gone; the library's references are not
        assert pa.total_allocated_bytes() > before
        held.destroy()  # never acknowledged: released with the stream
        assert pa.total_allocated_bytes() == before
        with sdk.stream(LIFTED, arrow=SCHEMA) as stream:
            stream.ingest_arrow(batch(0, 200))
            gc.collect()
            assert pa.total_allocated_bytes() > before  # held until its ack
            arrow_server.clear_faults(LIFTED)
            stream.flush(timeout=30)
        assert pa.total_allocated_bytes() == before


def test_asyncio_waits_for_arrow_batches(arrow_server: Server) -> None:
    sent = [batch(i * 10, 10) for i in range(3)]

    async def produce() -> list[libzerobus.Event]:
        with sdk_for(arrow_server) as sdk:
            stream = await libzerobus.aio.open_stream(sdk, TABLE, arrow=SCHEMA)
            async with stream:
                offsets = [stream.ingest_arrow(each) for each in sent]
                await asyncio.wait_for(stream.wait_for_offset(offsets[-1]), 30)
            return [event async for event in stream.events()]

    events = asyncio.run(produce())
    assert events == [libzerobus.AckEvent(0, 2)]  # acks not yet read merge
    assert arrow_server.rows(TABLE) == expected_rows(*sent)


def test_the_interpreter_exits_while_the_library_holds_batches(arrow_server: Server) -> None:
    # The stream, never acknowledged, is still alive at exit: its batches' release, pyarrow's,
    # runs while the interpreter finalizes, and must neither hang nor crash it.
    program = f"""
import pyarrow as pa, libzerobus
sdk = libzerobus.Sdk({arrow_server.endpoint!r}, transport_plaintext=True)
schema = pa.schema([pa.field("id", pa.int64(), nullable=False)])
stream = sdk.stream({HELD!r}, arrow=schema)
stream.ingest_arrow(pa.RecordBatch.from_pydict({{"id": list(range(1000))}}, schema))
print(stream.info().records_accepted)
"""
    done = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, timeout=60
    )
    assert (done.returncode, done.stdout) == (0, "1\n"), done.stderr


def test_a_full_window_is_waited_out_without_the_gil(arrow_server: Server) -> None:
    with sdk_for(arrow_server) as sdk:
        stream = sdk.stream(
            HELD, arrow=SCHEMA, stream_max_inflight_records=1, stream_ingest_timeout_ms=500
        )
        assert stream.ingest_arrow(batch(0, 1)) == 0  # the window is full: never acknowledged
        gc.collect()
        held = pa.total_allocated_bytes()
        outcome: list[BaseException] = []

        def ingest() -> None:
            try:
                stream.ingest_arrow(batch(1, 100))
            except BaseException as error:
                outcome.append(error.with_traceback(None))  # its frames hold the batch

        waiter = threading.Thread(target=ingest)
        waiter.start()
        while stream._calls_under_way == 0:  # this thread runs while the other one waits
            waiter.join(0.001)
            assert waiter.is_alive()
        waiter.join(10)
        assert isinstance(outcome[0], libzerobus.QueueFullError), outcome
        gc.collect()
        assert pa.total_allocated_bytes() == held  # the refused batch was released
        stream.destroy()
