"""Avro streams, with fastavro (an independent Avro implementation) as the oracle: datums it
writes, for every type a Delta column maps to and with nulls, go through libzerobus into
zerobus serve, and the stored rows are what fastavro reads back from the same datums."""

from __future__ import annotations

import base64
import datetime
import decimal
import io
import json
import os
import subprocess
import tempfile
from collections.abc import Iterator
from typing import Any

import fastavro
import pytest
from conftest import Server, start_serve, zerobus_bin

import libzerobus

TABLE = "main.default.avro_all"
DDL = (
    f"{TABLE} (id BIGINT NOT NULL, s STRING, b BOOLEAN, t TINYINT, i INT, f FLOAT, d DOUBLE, "
    "dec DECIMAL(10,2), day DATE, ts TIMESTAMP, ntz TIMESTAMP_NTZ, raw BINARY, v VARIANT, "
    "tags ARRAY<STRING>, attrs MAP<STRING,BIGINT>, loc STRUCT<lat: DOUBLE NOT NULL, lon: DOUBLE>)"
)
UTC = datetime.timezone.utc

RECORDS: list[dict[str, Any]] = [
    {
        "id": 1,
        "s": "héllo",
        "b": True,
        "t": -128,
        "i": 2147483647,
        "f": 1.5,
        "d": -2.25,
        "dec": decimal.Decimal("-12345678.90"),
        "day": datetime.date(2024, 2, 29),
        "ts": datetime.datetime(2026, 11, 24, 9, 30, 0, 250000, tzinfo=UTC),
        "ntz": datetime.datetime(2026, 11, 24, 9, 30, 0, 1),
        "raw": b"\x00\x01\xff",
        "v": '{"a":[1,2]}',
        "tags": ["x", ""],
        "attrs": {"k": 7, "j": -1},
        "loc": {"lat": 1.5, "lon": None},
    },
    {"id": 2, **dict.fromkeys(["s", "b", "t", "i", "f", "d", "dec", "day", "ts", "ntz"])},
    {"id": -3, "tags": [], "attrs": {}, "loc": {"lat": -0.5, "lon": 3.0}},
]


@pytest.fixture
def avro_server() -> Iterator[Server]:
    with tempfile.TemporaryDirectory(prefix="zerobus-avro-") as data_dir:
        with start_serve(data_dir, "--table", DDL) as serve:
            admin_url = serve.ready["admin"]["url"].rstrip("/")
            yield Server(serve.grpc_url, data_dir, serve.process.pid, admin_url)


def writer_schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(libzerobus.schema_from_ddl(DDL).avro)
    return schema


def datum(schema: Any, record: dict[str, Any]) -> bytes:
    out = io.BytesIO()
    fastavro.schemaless_writer(out, schema, record)
    return out.getvalue()


def stored(value: Any) -> Any:
    """A value fastavro read, as `zerobus rows` prints it: DATE as days, TIMESTAMP as
    microseconds, BINARY as base64, DECIMAL as its text at the column's scale."""
    if isinstance(value, datetime.datetime):
        epoch = datetime.datetime(1970, 1, 1, tzinfo=value.tzinfo)
        return (value - epoch) // datetime.timedelta(microseconds=1)
    if isinstance(value, datetime.date):
        return (value - datetime.date(1970, 1, 1)).days
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, dict):
        return {key: stored(item) for key, item in value.items()}
    if isinstance(value, list):
        return [stored(item) for item in value]
    return value


def expected_rows(schema: Any, datums: list[bytes]) -> list[dict[str, Any]]:
    """What fastavro reads from each datum, in the form the server stores."""
    parsed = fastavro.parse_schema(schema)
    rows = []
    for raw in datums:
        read: Any = fastavro.schemaless_reader(io.BytesIO(raw), parsed, parsed)
        rows.append({column: stored(value) for column, value in read.items()})
    return rows


def test_datums_fastavro_writes_are_stored_as_fastavro_reads_them(avro_server: Server) -> None:
    schema = writer_schema()
    parsed = fastavro.parse_schema(schema)
    datums = [datum(parsed, record) for record in RECORDS]
    with libzerobus.Sdk(avro_server.endpoint, transport_plaintext=True) as sdk:
        with sdk.stream(TABLE, avro=json.dumps(schema)) as stream:
            assert stream.ingest(datums[0]) == 0
            assert stream.ingest_batch(datums[1:]) == 2
            stream.flush(timeout=30)
    rows = avro_server.rows(TABLE)
    expected = expected_rows(schema, datums)
    assert rows == expected


def test_a_writer_schema_of_the_producers_own_is_read_where_it_is_unambiguous(
    avro_server: Server,
) -> None:
    # Another shape than the table's: millisecond timestamps, null second in unions, an enum
    # for a STRING column, int for BIGINT, fields in another order, columns left out.
    schema = {
        "type": "record",
        "name": "Event",
        "namespace": "producer",
        "fields": [
            {"name": "ts", "type": [{"type": "long", "logicalType": "timestamp-millis"}, "null"]},
            {"name": "s", "type": {"type": "enum", "name": "Kind", "symbols": ["A", "B"]}},
            {"name": "id", "type": "int"},
        ],
    }
    moment = datetime.datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)
    records: list[dict[str, Any]] = [
        {"ts": moment, "s": "B", "id": 10},
        {"ts": None, "s": "A", "id": 11},
    ]
    datums = [datum(fastavro.parse_schema(schema), record) for record in records]
    with libzerobus.Sdk(avro_server.endpoint, transport_plaintext=True) as sdk:
        with sdk.stream(TABLE, avro=json.dumps(schema)) as stream:
            stream.ingest_batch(datums)
            stream.flush(timeout=30)
    rows = avro_server.rows(TABLE)
    assert [(row["id"], row["s"], row["ts"]) for row in rows] == [
        (10, "B", stored(moment)),
        (11, "A", None),
    ]
    assert rows[0]["d"] is None  # a column the writer left out


def test_a_writer_schema_that_does_not_fit_the_table_is_refused_naming_the_column(
    avro_server: Server,
) -> None:
    schema = {"type": "record", "name": "E", "fields": [{"name": "id", "type": "string"}]}
    with libzerobus.Sdk(avro_server.endpoint, transport_plaintext=True) as sdk:
        with pytest.raises(libzerobus.TransportError) as refused:
            sdk.stream(TABLE, avro=json.dumps(schema), recovery_enable=False)
        assert "column 'id': the writer's type is string, the column is bigint" in str(
            refused.value
        )
        with pytest.raises(libzerobus.InvalidTargetError):
            sdk.stream(TABLE, avro='"string"')


def test_a_schema_stream_encodes_json_records_to_avro(avro_server: Server) -> None:
    schema = libzerobus.schema_from_ddl(DDL)
    with libzerobus.Sdk(avro_server.endpoint, transport_plaintext=True) as sdk:
        with sdk.stream(schema, avro=True) as stream:
            stream.ingest('{"id": 5, "dec": "1.5", "day": "2024-02-29", "tags": ["a"]}')
            # Datums of the schema's own writer schema go in as bytes beside them.
            stream.ingest(datum(fastavro.parse_schema(json.loads(schema.avro)), {"id": 6}))
            stream.flush(timeout=30)
            assert [offset for offset, _ in stream.unacked()] == []
    rows = avro_server.rows(TABLE)
    assert [(row["id"], row["dec"], row["day"], row["tags"]) for row in rows] == [
        (5, "1.50", 19782, ["a"]),
        (6, None, None, None),
    ]


def ingest_files(
    server: Server, *files: str, table: str = TABLE
) -> subprocess.CompletedProcess[str]:
    """`zerobus ingest` of Avro container files into `server`."""
    dead_letters = os.path.join(server.data_dir, "dead.jsonl")
    command = [zerobus_bin(), "ingest", "--quiet", "--endpoint", server.endpoint]
    return subprocess.run(
        [*command, "--table", table, "--dead-letter", dead_letters, *files],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def many_records(count: int) -> list[dict[str, Any]]:
    """`count` records cycling through RECORDS, with ids of their own."""
    return [{**RECORDS[i % len(RECORDS)], "id": i} for i in range(count)]


@pytest.mark.parametrize("codec", ["null", "deflate", "snappy", "zstandard"])
def test_container_files_fastavro_writes_are_ingested_as_fastavro_reads_them(
    avro_server: Server, codec: str
) -> None:
    schema = fastavro.parse_schema(writer_schema())
    path = os.path.join(avro_server.data_dir, f"events-{codec}.avro")
    with open(path, "wb") as out:
        # Small blocks: many of them, each checked against the sync marker.
        fastavro.writer(out, schema, many_records(3000), codec=codec, sync_interval=4000)
    done = ingest_files(avro_server, path)
    assert done.returncode == 0, done.stderr
    with open(path, "rb") as container:
        expected = [
            {column: stored(value) for column, value in record.items()}
            for record in fastavro.reader(container)
            if isinstance(record, dict)
        ]
    assert len(expected) == 3000
    assert avro_server.rows(TABLE) == expected


def test_a_datum_that_does_not_walk_its_schema_is_dead_lettered_and_the_rest_is_stored(
    avro_server: Server,
) -> None:
    schema = fastavro.parse_schema(
        {
            "type": "record",
            "name": "E",
            "fields": [{"name": "id", "type": "long"}, {"name": "s", "type": "string"}],
        }
    )
    records = [{"id": i, "s": "MARKERMARKER" if i == 4 else "x"} for i in range(10)]
    out = io.BytesIO()
    # sync_interval=1: a block per datum.
    fastavro.writer(out, schema, records, sync_interval=1)
    # Datum 5's string length (12, zig-zag 0x18) becomes -1 (0x01): it no longer walks.
    content = out.getvalue().replace(b"\x18MARKERMARKER", b"\x01MARKERMARKER")
    path = os.path.join(avro_server.data_dir, "broken-datum.avro")
    with open(path, "wb") as file:
        file.write(content)
    done = ingest_files(avro_server, path)
    assert done.returncode == 3, done.stderr
    assert [row["id"] for row in avro_server.rows(TABLE)] == [0, 1, 2, 3, 5, 6, 7, 8, 9]
    with open(os.path.join(avro_server.data_dir, "dead.jsonl")) as dead:
        [letter] = [json.loads(line) for line in dead]
    assert letter["code"] == "ZB_ERR_INVALID_RECORD" and letter["record_number"] == 5
    assert "datum 5 (in the block at byte" in letter["message"]
    assert base64.b64decode(letter["record_base64"]).endswith(b"\x01MARKERMARKER")


def test_broken_container_files_end_the_run_saying_where(avro_server: Server) -> None:
    schema = fastavro.parse_schema(writer_schema())
    good = io.BytesIO()
    fastavro.writer(good, schema, many_records(200), sync_interval=2000)
    whole = good.getvalue()
    other = io.BytesIO()
    fastavro.writer(
        other,
        {"type": "record", "name": "E", "fields": [{"name": "id", "type": "long"}]},
        [{"id": 1}],
    )
    cases = {
        "truncated": (whole[:-100], "ends inside the block at byte"),
        "sync": (whole[:-1] + bytes([whole[-1] ^ 1]), "does not end with the header's sync marker"),
        "magic": (b"Obj\x02" + whole[4:], "not an Avro object container file"),
    }
    for name, (content, message) in cases.items():
        path = os.path.join(avro_server.data_dir, f"{name}.avro")
        with open(path, "wb") as out:
            out.write(content)
        done = ingest_files(avro_server, path)
        assert done.returncode == 1, (name, done.stderr)
        assert message in done.stderr, (name, done.stderr)
    first = os.path.join(avro_server.data_dir, "first.avro")
    second = os.path.join(avro_server.data_dir, "second.avro")
    with open(first, "wb") as out:
        out.write(whole)
    with open(second, "wb") as out:
        out.write(other.getvalue())
    done = ingest_files(avro_server, first, second)
    assert done.returncode == 1
    assert "second.avro's schema is not" in done.stderr, done.stderr
