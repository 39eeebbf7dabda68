"""Fixtures: a zerobus serve of the tests' own (PREFIX/bin/zerobus, from $ZEROBUS_SERVE_BIN),
started by the repository's tests/support/zerobus_serve.py and found by its ready file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(REPO / "tests" / "support"))
import zerobus_serve  # type: ignore[import-not-found]  # noqa: E402

EVENTS = "main.default.events"
EVENTS_DDL = f"{EVENTS} (id BIGINT, payload STRING)"
# A table whose acks the server withholds: waits on it end only by timeout or interruption.
HELD = "main.default.held"
HELD_DDL = f"{HELD} (id BIGINT, payload STRING)"
# A table whose acks are withheld until a test lifts the fault (Server.clear_faults).
LIFTED = "main.default.lifted"
# A table whose call the server fails (UNAVAILABLE) at the request that takes it beyond 5
# records, once: the client reconnects.
CLOSING = "main.default.closing"


def zerobus_bin() -> str:
    path = os.environ.get("ZEROBUS_SERVE_BIN")
    if not path:
        pytest.fail("ZEROBUS_SERVE_BIN is not set: run bindings/python/test.sh PREFIX")
    return path


def stored_rows(data_dir: str, table: str = EVENTS) -> list[dict[str, object]]:
    """The rows a server with the data directory `data_dir` stored in `table` (zerobus rows)."""
    listing = subprocess.run(
        [zerobus_bin(), "rows", table, "--data-dir", data_dir],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return [json.loads(line) for line in listing.stdout.splitlines() if line]


@dataclass
class Server:
    endpoint: str
    data_dir: str
    pid: int
    admin_url: str

    def clear_faults(self, table: str) -> None:
        """Removes the fault plan of `table` (the admin endpoint's DELETE /admin/faults/T)."""
        request = urllib.request.Request(f"{self.admin_url}/admin/faults/{table}", method="DELETE")
        with urllib.request.urlopen(request, timeout=10) as answer:
            assert answer.status in (200, 204), answer.status

    def set_faults(self, table: str, plan: dict[str, object]) -> None:
        """Sets the fault plan of `table` (the admin endpoint's PUT /admin/faults/T)."""
        request = urllib.request.Request(
            f"{self.admin_url}/admin/faults/{table}", data=json.dumps(plan).encode(), method="PUT"
        )
        with urllib.request.urlopen(request, timeout=10) as answer:
            assert answer.status == 200, answer.status

    def table_counters(self, table: str) -> dict[str, Any]:
        """The server's counters of `table` (/admin/stats): "records" stored, "requests"..."""
        with urllib.request.urlopen(f"{self.admin_url}/admin/stats", timeout=10) as answer:
            counters: dict[str, Any] = json.load(answer)["tables"].get(table, {})
        return counters

    def wait_stored(self, table: str, records: int, timeout: float = 60) -> int:
        """Waits until the server has stored at least `records` records in `table` (counted
        once they are ready to acknowledge), and returns the count; fails after `timeout`."""
        deadline = time.monotonic() + timeout
        while True:
            stored = int(self.table_counters(table).get("records", 0))
            if stored >= records:
                return stored
            if time.monotonic() > deadline:
                pytest.fail(f"{table}: {stored} records stored after {timeout} s, not {records}")
            time.sleep(0.01)  # a poll of the server's own count, bounded by the deadline

    def user_agents(self, table: str) -> dict[str, int]:
        """The user-agents the server saw on `table`'s streams, with their stream counts."""
        with urllib.request.urlopen(f"{self.admin_url}/admin/stats", timeout=10) as answer:
            agents: dict[str, int] = json.load(answer)["tables"][table]["user_agents"]
        return agents

    def rows(self, table: str = EVENTS) -> list[dict[str, object]]:
        """The rows the server stored in `table`."""
        return stored_rows(self.data_dir, table)


def start_serve(data_dir: str, *args: str) -> Any:
    """`zerobus serve` on loopback storing into `data_dir`, with the events table and `args`:
    a tests/support/zerobus_serve.py Server, to use in a with statement."""
    return zerobus_serve.start(
        zerobus_bin(),
        "--listen",
        "127.0.0.1:0",
        "--data-dir",
        data_dir,
        "--table",
        EVENTS_DDL,
        *args,
    )


@pytest.fixture
def server() -> Iterator[Server]:
    with tempfile.TemporaryDirectory(prefix="zerobus-python-") as data_dir:
        serve = start_serve(
            data_dir,
            "--table",
            HELD_DDL,
            "--fault",
            f"{HELD}:withhold_acks=true",
            "--table",
            f"{LIFTED} (id BIGINT, payload STRING)",
            "--fault",
            f"{LIFTED}:withhold_acks=true",
            "--table",
            f"{CLOSING} (id BIGINT, payload STRING)",
            "--fault",
            f"{CLOSING}:fail_after_records=5",
        )
        with serve:
            admin_url = serve.ready["admin"]["url"].rstrip("/")
            yield Server(serve.grpc_url, data_dir, serve.process.pid, admin_url)
