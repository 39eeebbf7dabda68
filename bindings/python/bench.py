"""Records/s of the Python binding: 100-byte protobuf records, one ingest() call each from a
Python loop, then in batches of 100 (ingest_batch()), into `zerobus serve --null-sink`, each run
ending when every record is acknowledged. The table is undeclared, so that the server
acknowledges without reading a record and the figure is the client's (against the official SDK,
a server that decodes every record is what limits both at about 1.7 million records/s here);
--declared declares it, as bench/bindings.sh runs every binding. Prints the rate and the CPU
this process spent per record (the library's threads included, the server's not). Then, when
the official Python SDK
(databricks-zerobus-ingest-sdk) is installed, the same two runs through it
(ingest_record_offset() and ingest_records_offset(), then flush()), against a server of the
same binary, and how many times faster libzerobus was. Last, ack latency at 1,000 records/s
through the asyncio API: from each ingest() call to the coroutine awaiting that record's
wait_for_offset() resuming, beside the C library's (`zerobus bench --rate`, from each ingest
to its ack callback, and with --wait to the return of a wait for its offset on the thread that
ingested) against the same server, in alternating one-second rounds; the server on a CPU of
its own and every client on the others, as bench/run times its paced runs.

    python bench.py ZEROBUS [RECORDS] [--declared]
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests" / "support"))
import zerobus_serve  # type: ignore[import-not-found]

import libzerobus
import libzerobus.aio

TABLE_DDL = "bench.default.events (id BIGINT, payload STRING)"
RECORD_BYTES = 100


def record_of(schema: libzerobus.Schema) -> bytes:
    """A record of RECORD_BYTES bytes: an id, and a payload long enough."""
    fixed = len(schema.encode_json('{"id": 1, "payload": ""}'))
    record = schema.encode_json('{"id": 1, "payload": "%s"}' % ("x" * (RECORD_BYTES - fixed)))
    assert len(record) == RECORD_BYTES, len(record)
    return record


def measure(label: str, records: int, send: Callable[[], None], flush: Callable[[], None]) -> float:
    """Runs send() then flush(), prints the figures and returns the rate."""
    wall, cpu = time.perf_counter(), time.process_time()
    send()
    flush()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(
        f"{label:<29} {records / wall:.0f} records/s  "
        f"{cpu / records * 1e6:.2f} us CPU/record  ({records} records in {wall:.2f} s)"
    )
    return records / wall


def libzerobus_rates(server_url: str, schema: libzerobus.Schema, records: int) -> list[float]:
    record = record_of(schema)
    with libzerobus.Sdk(server_url, transport_plaintext=True) as sdk:
        with sdk.stream(schema.table_name, schema.descriptor) as stream:
            ingest = stream.ingest

            def one_call_each() -> None:
                for _ in range(records):
                    ingest(record)

            single = measure("python one call per record", records, one_call_each, stream.flush)
            batch = [record] * 100

            def batches() -> None:
                for _ in range(records // 100):
                    stream.ingest_batch(batch)

            return [single, measure("python batches of 100", records, batches, stream.flush)]


def official_rates(server: Any, schema: libzerobus.Schema, records: int) -> list[float]:
    """The same runs through the official SDK; [] when it is not installed."""
    try:
        from google.protobuf import descriptor_pb2  # type: ignore[import-untyped]
        from zerobus.sdk.shared import (  # type: ignore[import-untyped]
            HeadersProvider,
            StreamConfigurationOptions,
            TableProperties,
        )
        from zerobus.sdk.sync import ZerobusSdk  # type: ignore[import-untyped]
    except ImportError:
        return []

    class NoCredentials(HeadersProvider):  # type: ignore[misc]
        def get_headers(self) -> list[tuple[str, str]]:
            return [("authorization", "Bearer unchecked")]

    record = record_of(schema)
    file = descriptor_pb2.FileDescriptorProto(name="bench.proto")
    file.message_type.add().ParseFromString(schema.descriptor)
    sdk = ZerobusSdk(server.grpc_url, unity_catalog_url=server.ready["http"]["url"])
    sdk._inner.set_use_tls(False)  # the core's switch, for local servers
    properties = TableProperties(schema.table_name, file.SerializeToString())
    # 1,000 requests in flight, as bench/official-rs drives the core: against zerobus serve,
    # whose acks come one per request, its cost per ack grows with what is in flight, and a
    # call per record crawls with more (3,265 records/s with its default of a million, 26,211
    # with 10,000; 99,014 with 100, 148,285 with 300 and 149,345 with 1,000, on this machine).
    options = StreamConfigurationOptions(max_inflight_records=1000)
    stream = sdk.create_stream(
        table_properties=properties, options=options, headers_provider=NoCredentials()
    )

    def one_call_each() -> None:
        for _ in range(records):
            stream.ingest_record_offset(record)

    single = measure("official one call per record", records, one_call_each, stream.flush)
    batch = [record] * 100

    def batches() -> None:
        for _ in range(records // 100):
            stream.ingest_records_offset(batch)

    rates = [single, measure("official batches of 100", records, batches, stream.flush)]
    stream.close()
    return rates


LATENCY_RATE = 1000
# The asyncio and C runs alternate, a round of each at a time, and each side's p50 is the median
# of its rounds' p50s: one 5-second run of each, one after the other, left the ratio to
# whatever load the machine's other work put on one run and not on the other (the C p50 moved
# from 132 to 180 us between runs of the same build, minutes apart, and the ratio with it).
LATENCY_ROUNDS = 5
LATENCY_ROUND_SECONDS = 1


async def asyncio_latencies(server_url: str, schema: libzerobus.Schema) -> list[float]:
    """Seconds from each ingest() to the coroutine awaiting its ack resuming, at LATENCY_RATE,
    through libzerobus.aio: as `zerobus bench --rate` measures the C library, one record in
    flight at a time at this rate (an ack takes a fraction of a tick), each timed from its own
    ingest().

    Record n is due n / LATENCY_RATE s after the start. The C run sleeps to each tick with
    nanosecond precision; asyncio's timers wake the loop no sooner than the next whole
    millisecond (epoll), a little late each time, so at a third of the ticks a record falls
    due while the loop sleeps. This bench used to send it together with the next one, timed
    both from before the first ingest and awaited them in a Task per tick: the pair charged
    one ingest to the other record and put it ahead of the first record's ack on the loop's
    one thread, and the Task added its creation and a pass of the loop between the ingest
    and the loop's sleep, while the server and the library's threads waited for the CPU
    (1.8x to 2.3x the C figure where this pacing gave 1.2x to 1.4x, same library, same
    runs). Here a record that fell due while the loop slept goes out as soon as the loop
    wakes, and the coroutine that sent it awaits its ack."""
    record = record_of(schema)
    total = LATENCY_RATE * LATENCY_ROUND_SECONDS
    latencies: list[float] = []
    with libzerobus.Sdk(server_url, transport_plaintext=True) as sdk:
        stream = await libzerobus.aio.open_stream(sdk, schema.table_name, schema.descriptor)
        async with stream:
            loop = asyncio.get_running_loop()
            start = loop.time()
            for sent in range(total):
                await asyncio.sleep(max(0.0, start + sent / LATENCY_RATE - loop.time()))
                sent_at = time.perf_counter()
                await stream.wait_for_offset(stream.ingest(record))
                latencies.append(time.perf_counter() - sent_at)
    return latencies


def c_library_p50_us(zerobus: str, server_url: str, wait: bool = False) -> float:
    """The C library's p50 ack latency at the same rate and pacing (zerobus bench --rate): to
    its ack event's callback, on the library's dispatch thread; with `wait`, to the return of
    zb_stream_wait_for_offset() on the thread that ingested (--wait), the C form of awaiting
    wait_for_offset()."""
    pacing = ["--rate", str(LATENCY_RATE), "--seconds", str(LATENCY_ROUND_SECONDS)]
    pacing += ["--wait"] if wait else []
    run = subprocess.run(
        [zerobus, "bench", "--endpoint", server_url, *pacing, "--json"],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    figures: dict[str, Any] = json.loads(run.stdout.splitlines()[-1])
    return float(figures["p50_us"])


def ack_latency(zerobus: str, serve_args: tuple[str, ...], schema: libzerobus.Schema) -> None:
    """Prints the asyncio ack latency beside the C library's, in alternating rounds: issue 24's
    ratio is to the C callback's; the ratio to a C caller waiting for its own offset on its
    thread follows it. The server runs on a CPU of its own (zerobus_serve.split_cpus() says
    why); this thread, and so the library's threads it starts and the C runs, on the others."""
    latencies: list[float] = []
    p50s: list[float] = []
    c_p50s: list[float] = []
    c_wait_p50s: list[float] = []
    cpus = zerobus_serve.split_cpus()
    everywhere = os.sched_getaffinity(0)
    with zerobus_serve.start(zerobus, *serve_args, cpus=cpus and cpus.server) as server:
        if cpus:
            os.sched_setaffinity(0, cpus.client)
        try:
            for _ in range(LATENCY_ROUNDS):
                round_latencies = asyncio.run(asyncio_latencies(server.grpc_url, schema))
                latencies += round_latencies
                p50s.append(statistics.median(round_latencies) * 1e6)
                c_p50s.append(c_library_p50_us(zerobus, server.grpc_url))
                c_wait_p50s.append(c_library_p50_us(zerobus, server.grpc_url, wait=True))
        finally:
            os.sched_setaffinity(0, everywhere)
    p50, c_p50 = statistics.median(p50s), statistics.median(c_p50s)
    c_wait_p50 = statistics.median(c_wait_p50s)
    p99 = sorted(latencies)[int(len(latencies) * 0.99)] * 1e6
    print(
        f"ack latency at {LATENCY_RATE} records/s, asyncio: p50 {p50:.0f} us, p99 {p99:.0f} us; "
        f"C library p50 {c_p50:.0f} us: {p50 / c_p50:.2f}x (target 1.2x; rounds: "
        + " ".join(f"{ours:.0f}/{theirs:.0f}" for ours, theirs in zip(p50s, c_p50s))
        + f"); C wait_for_offset p50 {c_wait_p50:.0f} us: {p50 / c_wait_p50:.2f}x"
    )


def main(zerobus: str, records: int, declared: bool) -> None:
    schema = libzerobus.schema_from_ddl(TABLE_DDL)
    serve_args: tuple[str, ...] = ("--listen", "127.0.0.1:0", "--null-sink")
    if declared:
        serve_args += ("--table", TABLE_DDL)
    with zerobus_serve.start(zerobus, *serve_args) as server:
        ours = libzerobus_rates(server.grpc_url, schema, records)
    with zerobus_serve.start(zerobus, *serve_args) as server:
        theirs = official_rates(server, schema, records)
    for label, mine, official in zip(("one call per record", "batches of 100"), ours, theirs):
        print(f"libzerobus / official, {label}: {mine / official:.2f}x")
    ack_latency(zerobus, serve_args, schema)


if __name__ == "__main__":
    arguments = [argument for argument in sys.argv[1:] if argument != "--declared"]
    main(
        arguments[0],
        int(arguments[1]) if len(arguments) > 1 else 1_000_000,
        "--declared" in sys.argv[1:],
    )
