"""`zerobus serve` speaks Arrow Flight, with pyarrow.flight as the independent client: DoPut
with the Zerobus headers for batches of every Arrow type a Delta column maps to, with nulls,
slices and nesting; the rows `zerobus rows` prints equal what pyarrow says the batches hold; a
schema that does not fit the table and bad batches are refused naming the column; acks count
rows.

    flight_oracle_test.py ZEROBUS SUPPORT_DIR

Prints one line per check and exits 1 on the first failure.
"""

import base64
import datetime
import decimal
import json
import os
import subprocess
import sys
import tempfile

import pyarrow as pa
import pyarrow.flight as flight

ZEROBUS = sys.argv[1]
sys.path.insert(0, sys.argv[2])
import zerobus_serve  # noqa: E402  (found through SUPPORT_DIR)

TABLE = "main.default.arrow_types"
DDL = (TABLE + " (id BIGINT NOT NULL, b BOOLEAN, i8 TINYINT, i16 SMALLINT, i32 INT, f FLOAT,"
       " d DOUBLE, s STRING, ls STRING, bin BINARY, lbin BINARY, day DATE, ts TIMESTAMP,"
       " ntz TIMESTAMP_NTZ, dec DECIMAL(10,2), tags ARRAY<STRING>,"
       " loc STRUCT<lat: DOUBLE, lon: DOUBLE>, attrs MAP<STRING, BIGINT>,"
       " parts ARRAY<STRUCT<k: INT, v: ARRAY<BINARY>>>)")
SCHEMA = pa.schema([
    pa.field("id", pa.int64(), nullable=False),
    ("b", pa.bool_()), ("i8", pa.int8()), ("i16", pa.int16()), ("i32", pa.int32()),
    ("f", pa.float32()), ("d", pa.float64()), ("s", pa.string()), ("ls", pa.large_string()),
    ("bin", pa.binary()), ("lbin", pa.large_binary()), ("day", pa.date32()),
    ("ts", pa.timestamp("us", tz="UTC")), ("ntz", pa.timestamp("us")),
    ("dec", pa.decimal128(10, 2)), ("tags", pa.list_(pa.string())),
    ("loc", pa.struct([("lat", pa.float64()), ("lon", pa.float64())])),
    ("attrs", pa.map_(pa.string(), pa.int64())),
    ("parts", pa.list_(pa.struct([("k", pa.int32()), ("v", pa.list_(pa.binary()))]))),
])
EPOCH = datetime.datetime(1970, 1, 1)


def fail(message):
    print("flight oracle: FAILED: " + message, file=sys.stderr)
    sys.exit(1)


def row(i):
    """Row i of the test data: every column a value, or null on some rows (never id)."""
    null = i % 4 == 3
    return {
        "id": i,
        "b": None if null else i % 2 == 0,
        "i8": None if null else -128 + i,
        "i16": None if null else -32768 + i,
        "i32": None if null else 2**31 - 1 - i,
        "f": None if null else 1.5 * i,
        "d": None if null else -2.25e10 / (i + 1),
        "s": None if null else f"s{i} Grüße ✓",
        "ls": None if null else "large " * i,
        "bin": None if null else bytes([0, 255, i % 256]),
        "lbin": None if null else b"\x01" * i,
        "day": None if null else datetime.date(2026, 12, 6) - datetime.timedelta(days=400 * i),
        "ts": None if null else datetime.datetime(2026, 12, 6, 23, 0, i, 123456,
                                                  tzinfo=datetime.timezone.utc),
        "ntz": None if null else datetime.datetime(1999, 1, 1, 0, 0, 0, i),
        "dec": None if null else decimal.Decimal(f"{-1 if i % 2 else 1}{i}.0{i % 10}"),
        "tags": None if null else [f"t{j}" for j in range(i % 3)],
        "loc": None if null else {"lat": 52.5 + i, "lon": None if i % 2 else 13.4},
        "attrs": None if null else [(f"k{j}", j * i) for j in range(i % 3)],
        "parts": None if null else [{"k": j, "v": [bytes([j])] * j} for j in range(i % 3)],
    }


def batch(first, count):
    return pa.RecordBatch.from_pylist([row(i) for i in range(first, first + count)], SCHEMA)


def expected_json(value, arrow_type):
    """What `zerobus rows` prints for a pyarrow value of `arrow_type`."""
    if value is None:
        return None
    if pa.types.is_binary(arrow_type) or pa.types.is_large_binary(arrow_type):
        return base64.b64encode(value).decode()
    if pa.types.is_date32(arrow_type):
        return (value - EPOCH.date()).days
    if pa.types.is_timestamp(arrow_type):
        naive = value.replace(tzinfo=None)
        delta = naive - EPOCH
        return (delta.days * 86400 + delta.seconds) * 1000000 + delta.microseconds
    if pa.types.is_decimal(arrow_type):
        return str(value)
    if pa.types.is_map(arrow_type):
        return {str(k): expected_json(v, arrow_type.item_type) for k, v in value}
    if pa.types.is_list(arrow_type):
        return [expected_json(v, arrow_type.value_type) for v in value]
    if pa.types.is_struct(arrow_type):
        return {arrow_type.field(i).name: expected_json(value[arrow_type.field(i).name],
                                                        arrow_type.field(i).type)
                for i in range(arrow_type.num_fields)}
    return value


def expected_rows(batches):
    rows = []
    for b in batches:
        for r in b.to_pylist():
            rows.append({name: expected_json(r[name], SCHEMA.field(name).type)
                         for name in SCHEMA.names})
    return rows


def put(client, schema, batches):
    """DoPut of `batches`; returns the acks (app_metadata as JSON), the ready signal first.
    Raises what pyarrow raises for the call's status."""
    options = flight.FlightCallOptions(
        timeout=30, headers=[(b"x-databricks-zerobus-table-name", TABLE.encode())])
    writer, reader = client.do_put(flight.FlightDescriptor.for_path(TABLE), schema,
                                   options=options)

    def next_ack():
        metadata = reader.read()
        if metadata is None:
            writer.close()  # raises the call's status
            fail("the call ended with OK before its acks")
        return json.loads(metadata.to_pybytes())

    acks = [next_ack()]
    for offset, b in enumerate(batches):
        writer.write_with_metadata(b, pa.py_buffer(json.dumps({"offset_id": offset}).encode()))
        acks.append(next_ack())
    writer.done_writing()
    writer.close()
    return acks


def refused(client, schema, batches, must_say):
    try:
        put(client, schema, batches)
    except (flight.FlightError, pa.ArrowException) as error:
        text = str(error)
        for words in must_say:
            if words not in text:
                fail(f"the refusal does not say {words!r}: {text}")
        # pyarrow repeats the message with gRPC's debug context: the message is enough.
        return text.split(". gRPC client debug context")[0]
    fail("the server accepted what it should refuse: " + ", ".join(must_say))


def stored_rows(data_dir):
    out = subprocess.run([ZEROBUS, "rows", TABLE, "--data-dir", data_dir], check=True,
                         capture_output=True, text=True, timeout=60).stdout
    return [json.loads(line) for line in out.splitlines()]


def main():
    data_dir = tempfile.mkdtemp(prefix="zerobus-flight-oracle-")
    checks = 0
    with zerobus_serve.start(ZEROBUS, "--listen", "127.0.0.1:0", "--data-dir", data_dir,
                             "--table", DDL) as server:
        client = flight.FlightClient("grpc://127.0.0.1:%d" % server.ready["grpc"]["port"])
        whole = batch(0, 12)
        batches = [batch(12, 5), whole.slice(3, 6), batch(17, 0), batch(20, 1)]
        acks = put(client, SCHEMA, batches)
        total = 0
        want = [{"ack_up_to_offset": -1, "ack_up_to_records": 0}]
        for offset, b in enumerate(batches):
            total += b.num_rows
            want.append({"ack_up_to_offset": offset, "ack_up_to_records": total})
        if acks != want:
            fail(f"acks {acks}, expected {want}")
        checks += 1
        rows = stored_rows(data_dir)
        expected = expected_rows(batches)
        if len(rows) != len(expected):
            fail(f"{len(rows)} rows stored, pyarrow sent {len(expected)}")
        for i, (got, wanted) in enumerate(zip(rows, expected)):
            if got != wanted:
                fail(f"row {i}: stored {json.dumps(got)}\n  pyarrow says {json.dumps(wanted)}")
        checks += 1
        print(f"flight oracle: {len(rows)} rows of {len(SCHEMA)} columns stored as pyarrow "
              f"says, acks {acks[1:]}")

        wrong = SCHEMA.set(SCHEMA.get_field_index("s"), pa.field("s", pa.int64()))
        print("flight oracle: refused: " +
              refused(client, wrong, [], ["column 's'", "string", "int64"]))
        checks += 1
        not_utf8 = pa.array([b"ok", b"\xc3\x28"], pa.binary()).view(pa.string())
        bad = batch(0, 2).set_column(SCHEMA.get_field_index("s"), "s", not_utf8)
        print("flight oracle: refused: " +
              refused(client, SCHEMA, [bad], ["row 1", "column 's'", "UTF-8"]))
        checks += 1
        bad_nested = batch(1, 1).set_column(
            SCHEMA.get_field_index("tags"), "tags",
            pa.array([["a", None]], pa.list_(pa.string())))
        print("flight oracle: refused: " +
              refused(client, SCHEMA, [bad_nested], ["column 'tags[1]'", "null"]))
        checks += 1
        if len(stored_rows(data_dir)) != len(expected):
            fail("a refused batch left rows behind")
        checks += 1
    print(f"flight oracle: {checks} checks agree")


if __name__ == "__main__":
    main()
