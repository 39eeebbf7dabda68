"""The official Rust core (bench/official-rs --mode arrow: crates.io
databricks-zerobus-ingest-sdk 3.1.1, its ZerobusArrowStream over Flight's DoPut) ingests Arrow
record batches into `zerobus serve`, and the rows `zerobus rows` prints are the batches' rows,
value for value, each batch once: the server's Flight path against the official client.

    official_rs_arrow_test.py ZEROBUS OFFICIAL_RS_BENCH SUPPORT_DIR

Prints one line per check and exits 1 on the first failure.
"""

import json
import shutil
import subprocess
import sys
import tempfile

ZEROBUS, OFFICIAL_RS = sys.argv[1], sys.argv[2]
sys.path.insert(0, sys.argv[3])
import zerobus_serve  # noqa: E402  (found through SUPPORT_DIR)

# bench/include/bench/arrow_batch.h's table, and the values its batches hold (official-rs's
# arrow_batch() builds them): row r of column c.
TABLE = "bench.default.arrow_events"
DDL = (TABLE + " (c0 BIGINT, c1 BIGINT, c2 BIGINT, c3 BIGINT, c4 DOUBLE, c5 DOUBLE, c6 DOUBLE,"
       " c7 STRING, c8 STRING, c9 TIMESTAMP)")
FIRST_TIMESTAMP_US = 1767225600000000  # 2026-01-01T00:00:00Z


def expected_row(r):
    row = {f"c{c}": r * 10 + c for c in range(4)}
    row.update({f"c{c}": (r * 10 + c) * 0.5 for c in range(4, 7)})
    row.update({f"c{c}": f"value-{(r * 7919 + c) % 100000}" for c in (7, 8)})
    row["c9"] = FIRST_TIMESTAMP_US + r * 1000
    return row


def fail(message):
    print("official-rs arrow: FAILED: " + message, file=sys.stderr)
    sys.exit(1)


def main():
    data_dir = tempfile.mkdtemp(prefix="zerobus-official-rs-arrow-")
    try:
        with zerobus_serve.start(ZEROBUS, "--listen", "127.0.0.1:0", "--data-dir", data_dir,
                                 "--table", DDL) as server:
            # Batches of 250 rows from 2 tasks at once: 8 batches, their order the core's.
            batches, rows_per_batch = 8, 250
            run = subprocess.run(
                [OFFICIAL_RS, "--endpoint", server.grpc_url, "--mode", "arrow",
                 "--records", str(batches * rows_per_batch), "--batch", str(rows_per_batch),
                 "--tasks", "2"],
                capture_output=True, text=True, timeout=120)
            if run.returncode != 0:
                fail(f"the official core failed ({run.returncode}):\n{run.stderr}")
            figures = json.loads(run.stdout.strip().splitlines()[-1])
            if figures["records"] != batches * rows_per_batch:
                fail(f"the core reports {figures['records']} rows acknowledged")
            print(f"official-rs arrow: {figures['records']} rows in {batches} batches "
                  f"acknowledged (the core's flush() returned), {figures['version']}")
        stored = subprocess.run([ZEROBUS, "rows", TABLE, "--data-dir", data_dir], check=True,
                                capture_output=True, text=True, timeout=60).stdout
        rows = [json.loads(line) for line in stored.splitlines()]
        if len(rows) != batches * rows_per_batch:
            fail(f"{len(rows)} rows stored, the core sent {batches * rows_per_batch}")
        # Every batch is the same 250 rows: each stored batch, in whatever order, must be them.
        wanted = [expected_row(r) for r in range(rows_per_batch)]
        for first in range(0, len(rows), rows_per_batch):
            got = rows[first:first + rows_per_batch]
            for r, (row, want) in enumerate(zip(got, wanted)):
                if row != want:
                    fail(f"stored row {first + r}: {json.dumps(row)}\n  sent {json.dumps(want)}")
        print(f"official-rs arrow: {len(rows)} rows stored, each as the core sent it")
        print("official-rs arrow: 2 passed, 0 failed")
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
