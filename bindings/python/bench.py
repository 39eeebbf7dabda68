"""Records/s of the Python binding: 100-byte protobuf records, one ingest() call each from a
Python loop, then in batches of 100 (ingest_batch()), into `zerobus serve --null-sink` with the
table declared (as bench/bindings.sh runs every binding), each run ending when every record is
acknowledged. Prints the rate and the CPU this process spent per record (the library's
threads included, the server's not).

    python bench.py ZEROBUS [RECORDS]
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests" / "support"))
import zerobus_serve  # type: ignore[import-not-found]

import libzerobus

TABLE_DDL = "bench.default.events (id BIGINT, payload STRING)"
RECORD_BYTES = 100


def record_of(schema: libzerobus.Schema) -> bytes:
    """A record of RECORD_BYTES bytes: an id, and a payload long enough."""
    fixed = len(schema.encode_json('{"id": 1, "payload": ""}'))
    record = schema.encode_json('{"id": 1, "payload": "%s"}' % ("x" * (RECORD_BYTES - fixed)))
    assert len(record) == RECORD_BYTES, len(record)
    return record


def measure(label: str, records: int, send: Callable[[], None], flush: Callable[[], None]) -> None:
    wall, cpu = time.perf_counter(), time.process_time()
    send()
    flush()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(
        f"python {label:<20} {records / wall:.0f} records/s  "
        f"{cpu / records * 1e6:.2f} us CPU/record  ({records} records in {wall:.2f} s)"
    )


def main(zerobus: str, records: int) -> None:
    schema = libzerobus.schema_from_ddl(TABLE_DDL)
    record = record_of(schema)
    serve_args = ("--listen", "127.0.0.1:0", "--null-sink", "--table", TABLE_DDL)
    with zerobus_serve.start(zerobus, *serve_args) as server:
        with libzerobus.Sdk(server.grpc_url, transport_plaintext=True) as sdk:
            with sdk.stream(schema.table_name, schema.descriptor) as stream:
                ingest = stream.ingest

                def one_call_each() -> None:
                    for _ in range(records):
                        ingest(record)

                measure("one call per record", records, one_call_each, stream.flush)
                batch = [record] * 100

                def batches() -> None:
                    for _ in range(records // 100):
                        stream.ingest_batch(batch)

                measure("batches of 100", records, batches, stream.flush)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000)
