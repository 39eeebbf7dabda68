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
import time

EVENTS_DDL = "main.default.events (id BIGINT, payload STRING)"
SERVER_START_SECONDS = 30
EXAMPLE_SECONDS = 120


def fail(message):
    print(f"run_example: FAILED: {message}", file=sys.stderr)
    sys.exit(1)


def start_server(zerobus, data_dir, ddl):
    """Starts zerobus serve and returns it with its endpoint, read from its ready file."""
    ready_file = os.path.join(data_dir, "ready.json")
    server = subprocess.Popen(
        [zerobus, "serve", "--listen", "127.0.0.1:0", "--data-dir", data_dir, "--table", ddl,
         "--ready-file", ready_file],
        stdout=subprocess.DEVNULL,
    )
    # The server writes the file whole by a rename once it listens: once it exists, it is
    # complete; an absent file is cheap to look for again.
    deadline = time.monotonic() + SERVER_START_SECONDS
    while time.monotonic() < deadline:
        try:
            with open(ready_file, encoding="utf-8") as ready:
                return server, json.load(ready)["grpc"]["url"]
        except FileNotFoundError:
            pass
        try:
            server.wait(timeout=0.01)
            fail(f"zerobus serve exited with status {server.returncode} before it listened")
        except subprocess.TimeoutExpired:
            pass
    server.kill()
    server.wait()
    fail(f"zerobus serve wrote no ready file within {SERVER_START_SECONDS} s")


def stop_server(server):
    server.terminate()
    try:
        server.wait(timeout=SERVER_START_SECONDS)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()
        fail("zerobus serve did not stop on SIGTERM")


def check_rows(zerobus, data_dir, table, expected):
    listing = subprocess.run(
        [zerobus, "rows", table, "--data-dir", data_dir],
        capture_output=True,
        text=True,
        timeout=SERVER_START_SECONDS,
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
        server, endpoint = start_server(arguments.zerobus, data_dir, arguments.table)
        try:
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
        finally:
            stop_server(server)
        table = arguments.table.split()[0]
        check_rows(arguments.zerobus, data_dir, table, arguments.records)
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
