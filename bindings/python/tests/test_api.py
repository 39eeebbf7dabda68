"""What the binding takes from the library rather than copying: error classes, option keys;
and its options, logging, GIL release and interruption."""

from __future__ import annotations

import ast
import contextlib
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import EVENTS, HELD, Server

import libzerobus
import libzerobus.errors
from libzerobus import _native


def test_error_stub_lists_exactly_the_library_codes() -> None:
    stub = Path(libzerobus.errors.__file__).with_suffix(".pyi")
    tree = ast.parse(stub.read_text())
    stub_classes = [node.name for node in tree.body if isinstance(node, ast.ClassDef)]
    assert stub_classes == ["ZerobusError", *libzerobus.errors.error_classes()]
    names = [name for code, name, _ in _native.status_codes() if code != 0]
    assert [cls.__name__ for cls in libzerobus.errors.error_classes().values()] == [
        "".join(word.capitalize() for word in name[len("ZB_ERR_") :].split("_")) + "Error"
        for name in names
    ]


def test_error_classes_map_codes() -> None:
    error = libzerobus.errors.error_from(4, "window full", 1, -1)
    assert isinstance(error, libzerobus.QueueFullError)
    assert (error.code, error.name, error.retryable, error.grpc_status) == (
        4,
        "ZB_ERR_QUEUE_FULL",
        True,
        None,
    )
    unknown = libzerobus.errors.error_from(10_000, "new", 0, 14)
    assert type(unknown) is libzerobus.ZerobusError and unknown.grpc_status == 14


def test_option_keywords_come_from_the_library() -> None:
    keys = libzerobus.config_keys()
    assert keys["recovery_retries"] == "recovery.retries"
    assert keys["dispatch_threads"] == "dispatch.threads"
    assert len(keys) == len(_native.config_properties())


def test_options_are_checked_by_the_library(server: Server) -> None:
    with pytest.raises(libzerobus.UnknownKeyError) as unknown:
        libzerobus.Sdk(server.endpoint, transport_plaintext=True, no_such_option=1)
    assert "no_such_option" in unknown.value.message
    with pytest.raises(libzerobus.InvalidValueError):
        libzerobus.Sdk(server.endpoint, {"recovery.retries": "many"}, transport_plaintext=True)
    with libzerobus.Sdk(server.endpoint, transport_plaintext=True, dispatch_threads=2) as sdk:
        with pytest.raises(libzerobus.InvalidValueError):
            sdk.stream(EVENTS, stream_max_inflight_records=-5)
        # An SDK's options are its streams' defaults: a bad one fails the stream too.
    with pytest.raises(libzerobus.InvalidTargetError):
        libzerobus.Sdk("http://127.0.0.1:1")  # plaintext needs transport_plaintext


def test_library_log_goes_to_python_logging(
    server: Server, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="libzerobus")
    with libzerobus.Sdk(server.endpoint, transport_plaintext=True) as sdk:
        with sdk.stream(EVENTS) as stream:
            stream.ingest('{"id": 1}')
    opened = [r for r in caplog.records if r.name.startswith("libzerobus.")]
    assert opened, "no message from the library"
    assert any(EVENTS in r.getMessage() for r in opened)
    assert all(r.levelno >= logging.INFO for r in opened)


def test_statistics_reach_the_callback(server: Server) -> None:
    reports: list[dict[str, object]] = []
    got = threading.Event()

    def on_stats(report: dict[str, object]) -> None:
        reports.append(report)
        got.set()

    with libzerobus.Sdk(
        server.endpoint, transport_plaintext=True, statistics_interval_ms=20, on_stats=on_stats
    ) as sdk:
        with sdk.stream(EVENTS) as stream:
            stream.ingest('{"id": 1}')
            assert got.wait(10)
    assert "streams" in reports[-1]


@contextlib.contextmanager
def ctrl_c_in(seconds: float) -> Iterator[None]:
    """SIGINT to this process in `seconds`, which raises KeyboardInterrupt in the main thread as
    Ctrl-C does. Python's own SIGINT handler is installed meanwhile: a process that a shell
    without job control started in the background inherits SIGINT ignored, and Python then
    installs none, so that the wait under test would never end."""
    previous_int = signal.signal(signal.SIGINT, signal.default_int_handler)
    previous_alarm = signal.signal(signal.SIGALRM, lambda *_: os.kill(os.getpid(), signal.SIGINT))
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous_alarm)
        signal.signal(signal.SIGINT, previous_int)


@contextlib.contextmanager
def ends_by_itself_within(seconds: float) -> Iterator[None]:
    """Fails the test, rather than hanging it, when the block still runs after `seconds`."""
    try:
        with ctrl_c_in(seconds):
            yield
    except KeyboardInterrupt:
        pytest.fail(f"still running after {seconds} s")


def test_waits_release_the_gil_and_yield_to_ctrl_c(server: Server) -> None:
    with libzerobus.Sdk(server.endpoint, transport_plaintext=True) as sdk:
        stream = sdk.stream(HELD)  # the server withholds its acks
        offset = stream.ingest('{"id": 1}')
        ticks = 0
        done = threading.Event()

        def count() -> None:
            nonlocal ticks
            while not done.is_set():
                ticks += 1
                time.sleep(0.001)

        counter = threading.Thread(target=count)
        counter.start()
        started = time.monotonic()
        try:
            with ctrl_c_in(0.3), pytest.raises(KeyboardInterrupt):
                stream.wait_for_offset(offset)  # without limit
        finally:
            done.set()
            counter.join()
        waited = time.monotonic() - started
        assert 0.25 < waited < 2.0
        assert ticks > 10, "the other thread did not run while the wait went on"
        for interruptible in (stream.flush, stream.close):
            with ctrl_c_in(0.1), pytest.raises(KeyboardInterrupt):
                interruptible()
        assert stream.info().state == "open"  # an interrupted close closed nothing
        stream.destroy()


# The message of a stream that failed for want of acknowledgements (stream.ack.timeout.ms).
NO_ACK = "no acknowledgement from the server"
# The gRPC status of a call the library gave up on.
DEADLINE_EXCEEDED = 4


def test_a_stream_failed_for_want_of_acks_ends_every_wait(server: Server) -> None:
    # A wait without limit waits in slices, and goes on after each slice's TimeoutError: the
    # stream's failure must never be one, or the wait would go on forever.
    with libzerobus.Sdk(server.endpoint, transport_plaintext=True) as sdk:
        stream = sdk.stream(HELD, stream_ack_timeout_ms=200, recovery_enable=False)
        offset = stream.ingest('{"id": 1}')
        with ends_by_itself_within(10):
            with pytest.raises(libzerobus.TransportError, match=NO_ACK) as failure:
                stream.wait_for_offset(offset)  # without limit
        assert failure.value.grpc_status == DEADLINE_EXCEEDED
        assert stream.info().state == "failed"
        with pytest.raises(libzerobus.TransportError, match=NO_ACK):
            stream.is_durable(offset)
        with ends_by_itself_within(10), pytest.raises(libzerobus.TransportError, match=NO_ACK):
            stream.flush()
        stream.destroy()


def test_a_full_window_is_waited_out_without_the_gil(server: Server) -> None:
    with libzerobus.Sdk(server.endpoint, transport_plaintext=True) as sdk:
        stream = sdk.stream(HELD, stream_max_inflight_records=1, stream_ingest_timeout_ms=300)
        stream.ingest('{"id": 0}')
        ticks = 0
        done = threading.Event()

        def count() -> None:
            nonlocal ticks
            while not done.is_set():
                ticks += 1
                time.sleep(0.001)

        counter = threading.Thread(target=count)
        counter.start()
        started = time.monotonic()
        try:
            with pytest.raises(libzerobus.QueueFullError):
                stream.ingest('{"id": 1}')  # the server acknowledges nothing: no room comes
        finally:
            done.set()
            counter.join()
        assert 0.25 < time.monotonic() - started < 2.0
        assert ticks > 10, "the other thread did not run while the ingest waited for room"
        assert stream.info().records_accepted == 1
        stream.destroy()

        never = sdk.stream(HELD, stream_max_inflight_records=1, stream_ingest_timeout_ms=0)
        never.ingest('{"id": 0}')
        started = time.monotonic()
        with pytest.raises(libzerobus.QueueFullError):
            never.ingest('{"id": 1}')
        assert time.monotonic() - started < 0.2
        never.destroy()

        forever = sdk.stream(HELD, stream_max_inflight_records=1, stream_ingest_timeout_ms=-1)
        forever.ingest('{"id": 0}')
        with ctrl_c_in(0.2), pytest.raises(KeyboardInterrupt):
            forever.ingest_batch(['{"id": 1}', '{"id": 2}'])
        forever.destroy()


def test_a_headers_provider_supplies_the_connection_headers(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int] = []

    def headers() -> list[tuple[str, str]]:
        calls.append(threading.get_ident())
        return [("x-request-source", "python-tests")]

    with libzerobus.Sdk(server.endpoint, transport_plaintext=True) as sdk:
        with sdk.stream(EVENTS, headers_provider=headers) as stream:
            stream.ingest('{"id": 1}')
        assert calls == [threading.get_ident()]  # the first, on the opening thread

        reported: list[Any] = []
        monkeypatch.setattr(sys, "unraisablehook", reported.append)

        def failing() -> list[tuple[str, str]]:
            raise RuntimeError("no token today")

        with pytest.raises(libzerobus.AuthError):
            sdk.stream(EVENTS, headers_provider=failing, recovery_retries=0)
        assert isinstance(reported[0].exc_value, RuntimeError)

        with pytest.raises(libzerobus.AuthError) as refused:
            sdk.stream(EVENTS, headers_provider=lambda: [("Not A Name", "x")], recovery_retries=0)
        assert "Not A Name" in refused.value.message
        assert len(reported) == 1  # the library's refusal is no Python exception


def test_statistics_without_a_callback_go_to_the_stats_logger(server: Server) -> None:
    reports: list[logging.LogRecord] = []
    got = threading.Event()

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            reports.append(record)
            got.set()

    stats_logger = logging.getLogger("libzerobus.stats")
    handler = Collect()
    stats_logger.addHandler(handler)
    stats_logger.setLevel(logging.INFO)
    try:
        options = {"statistics.interval.ms": 20}
        with libzerobus.Sdk(server.endpoint, options, transport_plaintext=True) as sdk:
            with sdk.stream(EVENTS) as stream:
                stream.ingest('{"id": 1}')
                assert got.wait(10)
    finally:
        stats_logger.removeHandler(handler)
        stats_logger.setLevel(logging.NOTSET)
    assert reports[0].levelno == logging.INFO
    assert '"streams"' in reports[0].getMessage()


def test_the_server_sees_the_library_the_binding_and_the_application(server: Server) -> None:
    python = "python/{}.{}.{}".format(*sys.version_info[:3])
    library = f"libzerobus/{libzerobus.library_version()} {python}"
    # What follows is the HTTP/2 client's own name, which depends on transport.engine and which
    # the library's own tests check.
    for table, application, expected in [
        (EVENTS, None, f"{library} "),
        (HELD, "py-test/1.0", f"{library} py-test/1.0 "),
    ]:
        options = {} if application is None else {"sdk.application.name": application}
        with libzerobus.Sdk(server.endpoint, options, transport_plaintext=True) as sdk:
            sdk.stream(table).destroy()
        agents = server.user_agents(table)
        assert len(agents) == 1 and next(iter(agents)).startswith(expected), agents
    with pytest.raises(libzerobus.InvalidValueError):
        libzerobus.Sdk(server.endpoint, transport_plaintext=True, sdk_application_name="a\nb")
