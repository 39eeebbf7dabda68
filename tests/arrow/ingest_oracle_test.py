"""`zerobus ingest` of Arrow IPC inputs, with pyarrow as the oracle: pyarrow writes IPC files
(.arrow) and streams (.arrows, also through standard input) of every Arrow type a Delta column
maps to, with nulls, several batches (one of no rows, one a slice), with and without body
compression; `zerobus ingest` (its embedded server, --table-ddl) stores rows equal to what
pyarrow reads from the same inputs. A batch the server refuses goes to the dead-letter file as
an IPC stream that pyarrow reads back into that batch; a truncated file, a schema that does not
fit the table and two inputs of different schemas end the run with status 1, saying why.

    ingest_oracle_test.py ZEROBUS SUPPORT_DIR

Prints one line per check and exits 1 on the first failure.
"""

import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile

import pyarrow as pa

# The table, the data and the expected rows are the Flight oracle's (same arguments).
from flight_oracle_test import DDL, SCHEMA, ZEROBUS, batch, expected_rows, stored_rows


def fail(message):
    print("ingest oracle: FAILED: " + message, file=sys.stderr)
    sys.exit(1)


def write_file(path, batches, compression=None):
    options = pa.ipc.IpcWriteOptions(compression=compression)
    with pa.ipc.new_file(path, SCHEMA if not batches else batches[0].schema,
                         options=options) as writer:
        for b in batches:
            writer.write_batch(b)


def write_stream(path, batches, compression=None, schema=SCHEMA):
    options = pa.ipc.IpcWriteOptions(compression=compression)
    with pa.ipc.new_stream(path, schema, options=options) as writer:
        for b in batches:
            writer.write_batch(b)


def read_back(path):
    """The batches pyarrow reads from an IPC file or stream."""
    with open(path, "rb") as f:
        is_file = f.read(6) == b"ARROW1"
    reader = pa.ipc.open_file(path) if is_file else pa.ipc.open_stream(path)
    if is_file:
        return [reader.get_batch(i) for i in range(reader.num_record_batches)]
    return list(reader)


def ingest(data_dir, *args, stdin=None):
    """Runs `zerobus ingest` on the embedded server; returns (status, standard error)."""
    run = subprocess.run([ZEROBUS, "ingest", "--quiet", "--data-dir", data_dir, "--table-ddl",
                          DDL, *args], stdin=stdin, capture_output=True, text=True, timeout=120)
    return run.returncode, run.stderr


def fails_saying(data_dir, args, must_say, stdin=None):
    status, stderr = ingest(data_dir, *args, stdin=stdin)
    if status != 1:
        fail(f"ingest {args}: status {status}, expected 1\n{stderr}")
    for words in must_say:
        if words not in stderr:
            fail(f"ingest {args}: does not say {words!r}:\n{stderr}")
    return stderr.strip().splitlines()[-1]


def main():
    work = tempfile.mkdtemp(prefix="zerobus-ingest-oracle-")
    checks = 0
    data_dir = os.path.join(work, "data")
    os.mkdir(data_dir)
    path = lambda name: os.path.join(work, name)  # noqa: E731

    whole = batch(0, 12)
    write_file(path("plain.arrow"), [batch(0, 5), batch(5, 0), whole.slice(3, 6)])
    write_stream(path("zstd.arrows"), [batch(10, 7), batch(17, 1)], compression="zstd")
    write_stream(path("lz4.arrows"), [batch(20, 4), batch(24, 9)], compression="lz4")
    write_file(path("lz4.arrow"), [batch(33, 3)], compression="lz4")

    status, stderr = ingest(data_dir, path("plain.arrow"), path("zstd.arrows"),
                            path("lz4.arrow"))
    if status != 0:
        fail(f"ingest of .arrow and .arrows files: status {status}\n{stderr}")
    with open(path("lz4.arrows"), "rb") as stdin:
        status, stderr = ingest(data_dir, "--format", "arrow", stdin=stdin)
    if status != 0:
        fail(f"ingest of an IPC stream on standard input: status {status}\n{stderr}")
    checks += 2
    inputs = ["plain.arrow", "zstd.arrows", "lz4.arrow", "lz4.arrows"]
    expected = expected_rows([b for name in inputs for b in read_back(path(name))])
    rows = stored_rows(data_dir)
    if len(rows) != len(expected):
        fail(f"{len(rows)} rows stored, pyarrow reads {len(expected)}")
    for i, (got, wanted) in enumerate(zip(rows, expected)):
        if got != wanted:
            fail(f"row {i}: stored {json.dumps(got)}\n  pyarrow reads {json.dumps(wanted)}")
    checks += 1
    print(f"ingest oracle: {len(rows)} rows of {len(SCHEMA)} columns from {len(inputs)} inputs "
          "(IPC files and streams, uncompressed, zstd, lz4, standard input) stored as pyarrow "
          "reads them")

    # (Row numbers stay under 60, which row() takes.)
    # A batch the server refuses (a string that is not UTF-8) between two good ones. The server
    # ends the stream at it, so the window is one batch: the first is acknowledged before the
    # refused one goes, and the third goes on a new stream (a wider window would dead-letter
    # what was in flight with it too, as for any format).
    not_utf8 = pa.array([b"ok", b"\xc3\x28"], pa.binary()).view(pa.string())
    bad = batch(43, 2).set_column(SCHEMA.get_field_index("s"), "s", not_utf8)
    sent = [batch(40, 3), bad, batch(50, 4)]
    write_stream(path("bad.arrows"), sent)
    dead_path = path("dead.jsonl")
    before = len(stored_rows(data_dir))
    status, stderr = ingest(data_dir, "--dead-letter", dead_path, "--config",
                            "stream.max.inflight.records=1", path("bad.arrows"))
    if status != 3:
        fail(f"ingest with a refused batch: status {status}, expected 3\n{stderr}")
    with open(dead_path) as f:
        letters = [json.loads(line) for line in f]
    dead_batches = []
    for letter in letters:
        if letter["file"] != path("bad.arrows"):
            fail(f"dead letter of another file: {letter}")
        reader = pa.ipc.open_stream(base64.b64decode(letter["record_base64"]))
        got = list(reader)
        if reader.schema != SCHEMA or len(got) != 1:
            fail(f"dead letter {letter['record_number']} is not one batch of the schema")
        if not got[0].equals(sent[letter["record_number"] - 1]):
            fail(f"dead letter {letter['record_number']} is not the batch sent there")
        dead_batches.append(letter["record_number"])
    if dead_batches != [2] or "column 's': not valid UTF-8" not in letters[0]["message"]:
        fail(f"not the refused batch alone dead-lettered with its reason: {letters}")
    stored = stored_rows(data_dir)[before:]
    if stored != expected_rows([sent[0], sent[2]]):
        fail(f"the good batches around the refused one are not what was stored: {stored}")
    checks += 1
    print("ingest oracle: refused batch dead-lettered as an IPC stream pyarrow reads back, the "
          "batches around it stored: " + letters[0]["message"])

    # A truncated file ends the run, naming it, before anything is sent.
    with open(path("plain.arrow"), "rb") as f:
        data = f.read()
    with open(path("cut.arrow"), "wb") as f:
        f.write(data[:len(data) // 2])
    print("ingest oracle: truncated: " +
          fails_saying(data_dir, [path("cut.arrow")], ["cut.arrow", "Arrow IPC file"]))
    checks += 1
    # A truncated input after a good one: the good one's rows stay, the run says where it broke.
    before = len(stored_rows(data_dir))
    print("ingest oracle: truncated second input: " +
          fails_saying(data_dir, [path("lz4.arrow"), path("cut.arrow")], ["cut.arrow"]))
    if stored_rows(data_dir)[before:] != expected_rows(read_back(path("lz4.arrow"))):
        fail("the rows of the input before the truncated one are not stored")
    checks += 1
    # A stream cut inside a batch, on standard input.
    with open(path("zstd.arrows"), "rb") as f:
        data = f.read()
    with open(path("cut.arrows"), "wb") as f:
        f.write(data[:len(data) - 100])
    with open(path("cut.arrows"), "rb") as stdin:
        print("ingest oracle: truncated stream: " +
              fails_saying(data_dir, ["--format", "arrow"], ["cannot read -", "IPC stream"],
                           stdin=stdin))
    checks += 1
    # A schema that does not fit the table: refused by the server naming the column and types.
    wrong = SCHEMA.set(SCHEMA.get_field_index("s"), pa.field("s", pa.int64()))
    write_stream(path("wrong.arrows"), [], schema=wrong)
    print("ingest oracle: unfit schema: " +
          fails_saying(data_dir, [path("wrong.arrows")], ["column 's'", "string", "int64"]))
    checks += 1
    # Two inputs of different schemas.
    print("ingest oracle: two schemas: " +
          fails_saying(data_dir, [path("plain.arrow"), path("wrong.arrows")],
                       ["wrong.arrows's schema is not", "plain.arrow"]))
    checks += 1
    shutil.rmtree(work)  # kept when a check fails, to look into
    print(f"ingest oracle: {checks} checks agree")


if __name__ == "__main__":
    main()
