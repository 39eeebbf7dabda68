#!/usr/bin/env python3
"""Runs one example against a fresh local server and checks the rows it stored.

    run_example.py --zerobus PATH/TO/zerobus --records N [--table DDL] -- COMMAND [ARG...]

Starts `zerobus serve` on a free loopback port with the table declared (so that every record
is checked against its columns; by default the examples' main.default.events (id BIGINT,
payload STRING)) and a scratch data directory, runs COMMAND with the endpoint in
ZEROBUS_ENDPOINT (and in place of any argument spelled {endpoint}), then reads the table back
with `zerobus rows` and expects exactly N rows, with ids 0..N-1 and every column set. Exits
non-zero, saying why, on any difference. CTest runs the C and C++
examples through it, and each binding's test.sh its own examples.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests",
                                "support"))
import zerobus_serve  # noqa: E402  (found through the line above)

EVENTS_DDL = "main.default.events (id BIGINT, payload STRING)"
ROWS_SECONDS = 30
EXAMPLE_SECONDS = 120


def fail(message):
    print(f"run_example: FAILED: {message}", file=sys.stderr)
    sys.exit(1)


def check_rows(zerobus, data_dir, table, expected):
    listing = subprocess.run(
        [zerobus, "rows", table, "--data-dir", data_dir],
        capture_output=True,
        text=True,
        timeout=ROWS_SECONDS,
        check=False,
    )
    if listing.returncode != 0:
        fail(f"zerobus rows failed: {listing.stderr.strip()}")
    rows = [json.loads(line) for line in listing.stdout.splitlines() if line]
    # At-least-once delivery may store a record twice after a reconnection; these runs have
    # no faults, so any duplicate is a defect.
    ids = sorted(row.get("id") for row in rows)
    if ids != list(range(expected)):
        fail(f"{len(rows)} rows stored, expected ids 0..{expected - 1}; first rows: {rows[:3]}")
    columns = set().union(*(row.keys() for row in rows)) if rows else set()
    incomplete = [row for row in rows if any(row.get(column) in (None, "") for column in columns)]
    if incomplete:
        fail(f"{len(incomplete)} rows with an empty column, e.g. {incomplete[0]}")
    print(f"run_example: {len(rows)} rows stored in {table}, ids 0..{expected - 1}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--zerobus", required=True, help="the zerobus command")
    parser.add_argument("--records", required=True, type=int, help="rows the example stores")
    parser.add_argument("--table", default=EVENTS_DDL, help="the table to declare, as DDL")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- COMMAND [ARG...]")
    arguments = parser.parse_args()
    command = arguments.command[1:] if arguments.command[:1] == ["--"] else arguments.command
    if not command:
        parser.error("no example command given")
    if not os.access(arguments.zerobus, os.X_OK):
        fail(f"{arguments.zerobus} is not an executable")

    data_dir = tempfile.mkdtemp(prefix="zerobus-example-")
    try:
        with zerobus_serve.start(arguments.zerobus, "--listen", "127.0.0.1:0", "--data-dir",
                                 data_dir, "--table", arguments.table) as server:
            endpoint = server.grpc_url
            environment = dict(os.environ, ZEROBUS_ENDPOINT=endpoint)
            command = [part.replace("{endpoint}", endpoint) for part in command]
            print(f"run_example: {' '.join(command)}  (ZEROBUS_ENDPOINT={endpoint})", flush=True)
            try:
                example = subprocess.run(command, env=environment, timeout=EXAMPLE_SECONDS,
                                         check=False)
            except subprocess.TimeoutExpired:
                fail(f"the example ran longer than {EXAMPLE_SECONDS} s")
            if example.returncode != 0:
                fail(f"the example exited with status {example.returncode}")
        table = arguments.table.split()[0]
        check_rows(arguments.zerobus, data_dir, table, arguments.records)
    except zerobus_serve.ServeError as error:
        fail(str(error))
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
