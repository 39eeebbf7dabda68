"""`zerobus serve` as a child process for the project's Python scripts, found by the ready file
(--ready-file) it writes with its addresses once it listens, never by its log.

    server = zerobus_serve.start(ZEROBUS, "--listen", "127.0.0.1:0", ...)
    ... server.grpc_url, server.ready["http"]["url"], server.process.pid ...
    status = server.stop()

or `with zerobus_serve.start(...) as server:`. Every failure (the process exits before it is
ready, no ready file in time, no stop on SIGTERM) raises ServeError saying what happened.

Run as a script, it serves one command and says how it ended:

    zerobus_serve.py ZEROBUS [SERVE OPTION...] -- COMMAND [ARG...]

starts `ZEROBUS serve SERVE OPTION...`, runs COMMAND with {endpoint} in its arguments replaced
by the gRPC URL, stops the server and exits with COMMAND's status.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

READY_SECONDS = 30
STOP_SECONDS = 30
# An absent file is cheap to look for again; the server writes it whole by a rename, so a file
# that exists is complete.
POLL_SECONDS = 0.01


class ServeError(RuntimeError):
    """zerobus serve did not start or stop as it should."""


class Server:
    """A running `zerobus serve`: its process and the ready file's object (pid, grpc, http,
    admin, each {url, host, port}, and data_dir)."""

    def __init__(self, process, ready, ready_dir):
        self.process = process
        self.ready = ready
        self._ready_dir = ready_dir

    @property
    def grpc_url(self):
        return self.ready["grpc"]["url"]

    def stop(self, timeout=STOP_SECONDS):
        """Sends SIGTERM and returns the exit status; kills the server and raises ServeError
        when it is still running after `timeout` seconds."""
        try:
            self.process.terminate()
            try:
                return self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
                raise ServeError(f"zerobus serve did not stop within {timeout} s of SIGTERM")
        finally:
            shutil.rmtree(self._ready_dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exception):
        self.stop()


def start(zerobus, *args, timeout=READY_SECONDS, stdout=subprocess.DEVNULL, stderr=None):
    """Starts `zerobus serve *args --ready-file PATH` (stdout and stderr as subprocess.Popen
    takes them) and returns it once the ready file is there."""
    ready_dir = tempfile.mkdtemp(prefix="zerobus-serve-")
    ready_file = os.path.join(ready_dir, "ready.json")
    try:
        process = subprocess.Popen([zerobus, "serve", *args, "--ready-file", ready_file],
                                   stdout=stdout, stderr=stderr)
    except OSError as error:
        shutil.rmtree(ready_dir, ignore_errors=True)
        raise ServeError(f"cannot start {zerobus}: {error}") from error
    server = Server(process, None, ready_dir)
    try:
        server.ready = _wait_for_ready_file(process, ready_file, timeout)
    except ServeError:
        server.stop()
        raise
    return server


def _wait_for_ready_file(process, path, timeout):
    deadline = time.monotonic() + timeout
    while True:
        try:
            with open(path, encoding="utf-8") as ready_file:
                text = ready_file.read()
        except FileNotFoundError:
            pass
        else:
            try:
                ready = json.loads(text)
            except ValueError as error:
                raise ServeError(f"the ready file {path} is not JSON: {error}: {text!r}")
            if not isinstance(ready, dict):
                raise ServeError(f"the ready file {path} is not a JSON object: {text!r}")
            return ready
        if process.poll() is not None:
            raise ServeError(
                f"zerobus serve exited with status {process.returncode} before it was ready")
        if time.monotonic() > deadline:
            raise ServeError(f"zerobus serve wrote no ready file within {timeout} s")
        time.sleep(POLL_SECONDS)


def main(argv):
    if "--" not in argv or argv.index("--") in (0, len(argv) - 1):
        sys.exit("usage: zerobus_serve.py ZEROBUS [SERVE OPTION...] -- COMMAND [ARG...]")
    split = argv.index("--")
    zerobus, serve_args, command = argv[0], argv[1:split], argv[split + 1:]
    try:
        with start(zerobus, *serve_args) as server:
            command = [part.replace("{endpoint}", server.grpc_url) for part in command]
            return subprocess.run(command, check=False).returncode
    except ServeError as error:
        sys.exit(f"zerobus_serve.py: {error}")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
