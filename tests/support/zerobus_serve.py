"""`zerobus serve` as a child process for the project's Python scripts, found by the ready file
(--ready-file) it writes with its addresses once it listens, never by its log.

    server = zerobus_serve.start(ZEROBUS, "--listen", "127.0.0.1:0", ...)
    ... server.grpc_url, server.ready["http"]["url"], server.process.pid ...
    status = server.stop()

or `with zerobus_serve.start(...) as server:`. Every failure (the process exits before it is
ready, no ready file in time, no stop on SIGTERM) raises ServeError saying what happened.

Run as a script, it serves one command and says how it ended:

    zerobus_serve.py [--own-cpu] ZEROBUS [SERVE OPTION...] -- COMMAND [ARG...]

starts `ZEROBUS serve SERVE OPTION...`, runs COMMAND with {endpoint} in its arguments replaced
by the gRPC URL, stops the server and exits with COMMAND's status. With --own-cpu the server
runs on a CPU of its own and COMMAND on the others (split_cpus()).
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from typing import NamedTuple, Set

READY_SECONDS = 30
STOP_SECONDS = 30
# An absent file is cheap to look for again; the server writes it whole by a rename, so a file
# that exists is complete.
POLL_SECONDS = 0.01


class CpuSplit(NamedTuple):
    """Which CPUs (sets of numbers) the server and its clients run on."""

    server: Set[int]
    client: Set[int]


def split_cpus():
    """The CPUs this process may use, split so that a server on this machine stands where a
    remote one would: the last for the server, the others for its clients; None when there is
    only one. The paced latency benches run so. A server that shares its client's CPUs is woken
    by the client's write onto the writer's CPU and preempts the writer there, so an ack's
    latency comes to depend on what the client's thread does after its write (an event loop
    that goes on running, a caller that sleeps at once), and on a VM on the wake of the other
    CPU from its halt (40 to 50 us each here): interference that a server on another machine
    never causes."""
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        return None
    return CpuSplit(server={cpus[-1]}, client=set(cpus[:-1]))


def pinned(command, cpus):
    """`command` run on `cpus` (util-linux taskset), or as it is for None."""
    if cpus is None:
        return list(command)
    return ["taskset", "--cpu-list", ",".join(map(str, sorted(cpus))), *command]


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


def start(zerobus, *args, timeout=READY_SECONDS, stdout=subprocess.DEVNULL, stderr=None,
          cpus=None):
    """Starts `zerobus serve *args --ready-file PATH` (stdout and stderr as subprocess.Popen
    takes them; on the set `cpus` only, when given) and returns it once the ready file is
    there."""
    ready_dir = tempfile.mkdtemp(prefix="zerobus-serve-")
    ready_file = os.path.join(ready_dir, "ready.json")
    try:
        process = subprocess.Popen(
            pinned([zerobus, "serve", *args, "--ready-file", ready_file], cpus),
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
    own_cpu = argv[:1] == ["--own-cpu"]
    argv = argv[1:] if own_cpu else argv
    if "--" not in argv or argv.index("--") in (0, len(argv) - 1):
        sys.exit("usage: zerobus_serve.py [--own-cpu] ZEROBUS [SERVE OPTION...] -- COMMAND "
                 "[ARG...]")
    split = argv.index("--")
    zerobus, serve_args, command = argv[0], argv[1:split], argv[split + 1:]
    cpus = split_cpus() if own_cpu else None
    try:
        with start(zerobus, *serve_args, cpus=cpus and cpus.server) as server:
            command = [part.replace("{endpoint}", server.grpc_url) for part in command]
            return subprocess.run(pinned(command, cpus and cpus.client),
                                  check=False).returncode
    except ServeError as error:
        sys.exit(f"zerobus_serve.py: {error}")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
