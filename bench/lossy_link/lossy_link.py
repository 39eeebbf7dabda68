"""The link emulator (lossy_link, beside this file) as a child process, for bench/lossy and the
emulator's test: start it, run work inside either namespace, ping across, stop it and read its
counts.

    with lossy_link.start(PROGRAM, "--delay", "10", "--loss", "1") as link:
        with lossy_link.inside(link.a["path"]):
            server = subprocess.Popen(...)      # runs in namespace a
        rtts = lossy_link.ping(link.b["path"], link.a["address"], count=50)
    link.counts["a_to_b"]["lost"], ...           # after the `with`
"""

import contextlib
import ctypes
import json
import os
import select
import shutil
import socket
import struct
import subprocess
import tempfile
import time

CLONE_NEWNET = 0x40000000
READY_SECONDS = 10
STOP_SECONDS = 10
_libc = ctypes.CDLL(None, use_errno=True)


class LinkError(RuntimeError):
    """The emulator did not start or stop as it should."""


def _setns(fd):
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"setns: {os.strerror(errno)}")


@contextlib.contextmanager
def inside(netns_path):
    """Moves the calling thread into the network namespace at `netns_path` for the block: the
    sockets it makes and the processes it starts there stay there."""
    own = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    target = os.open(netns_path, os.O_RDONLY)
    try:
        _setns(target)
        yield
    finally:
        _setns(own)
        os.close(target)
        os.close(own)


class Link:
    """A running lossy_link: `a` and `b` are the ready file's sides (netns, path, address);
    `counts` is its closing line of JSON, once stopped."""

    def __init__(self, process, ready, ready_dir):
        self.process, self._ready_dir = process, ready_dir
        self.a, self.b = ready["a"], ready["b"]
        self.counts = None

    def stop(self):
        """Sends SIGTERM, waits for the emulator to clean up, and returns its counts."""
        try:
            self.process.terminate()
            try:
                out, err = self.process.communicate(timeout=STOP_SECONDS)
            except subprocess.TimeoutExpired as timeout:
                self.process.kill()
                self.process.communicate()
                raise LinkError(
                    f"lossy_link did not stop within {STOP_SECONDS} s of SIGTERM") from timeout
            if self.process.returncode != 0:
                raise LinkError(f"lossy_link failed ({self.process.returncode}): {err.strip()}")
            self.counts = json.loads(out.strip().splitlines()[-1])
            return self.counts
        finally:
            shutil.rmtree(self._ready_dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exception):
        self.stop()


def start(program, *args, name=None, duration=600):
    """Starts `program --duration DURATION --name NAME *args` (NAME unique to this process by
    default) and returns it once both namespaces are up."""
    name = name or f"zblossy{os.getpid()}"
    ready_dir = tempfile.mkdtemp(prefix="lossy-link-")
    ready_file = os.path.join(ready_dir, "ready.json")
    process = subprocess.Popen(
        [program, "--duration", str(duration), "--name", name, "--ready-file", ready_file, *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + READY_SECONDS
    while not os.path.exists(ready_file):
        if process.poll() is not None:
            shutil.rmtree(ready_dir, ignore_errors=True)
            raise LinkError(f"lossy_link exited ({process.returncode}): "
                            f"{process.stderr.read().strip()}")
        if time.monotonic() > deadline:
            process.kill()
            process.communicate()
            shutil.rmtree(ready_dir, ignore_errors=True)
            raise LinkError(f"lossy_link wrote no ready file within {READY_SECONDS} s")
        time.sleep(0.01)
    with open(ready_file) as ready:
        return Link(process, json.load(ready), ready_dir)


def _checksum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def ping(netns_path, address, count, interval=0.01, wait=1.0):
    """Sends `count` ICMP echo requests to `address` from the namespace at `netns_path`, one per
    `interval` seconds, and waits `wait` seconds after the last for late replies; returns each
    request's round trip in seconds, or None for those without a reply."""
    with inside(netns_path):
        sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    identifier = os.getpid() & 0xFFFF
    sent, rtts = {}, [None] * count
    next_send, deadline = time.monotonic(), None
    with sock:
        while deadline is None or time.monotonic() < deadline:
            now = time.monotonic()
            if len(sent) < count and now >= next_send:
                sequence = len(sent)
                header = struct.pack("!BBHHH", 8, 0, 0, identifier, sequence)
                payload = b"lossy_link" * 5
                packet = struct.pack("!BBHHH", 8, 0, _checksum(header + payload), identifier,
                                     sequence) + payload
                sock.sendto(packet, (address, 0))
                sent[sequence] = now
                next_send += interval
                if len(sent) == count:
                    deadline = now + wait
            until = deadline if len(sent) == count else next_send
            readable, _, _ = select.select([sock], [], [], max(0.0, until - time.monotonic()))
            if not readable:
                continue
            reply = sock.recv(2048)
            icmp = reply[(reply[0] & 0x0F) * 4:]
            kind, _, _, reply_id, sequence = struct.unpack("!BBHHH", icmp[:8])
            if kind == 0 and reply_id == identifier and sequence in sent:
                rtts[sequence] = time.monotonic() - sent[sequence]
    return rtts


def tcp_transfer(link, size, congestion_control=None):
    """Sends `size` bytes over TCP from namespace b to a listener in namespace a, with the
    sender's `congestion_control` (the namespace's default when None); returns the sender's
    (smoothed round trip in seconds, total retransmitted segments) from TCP_INFO."""
    with inside(link.a["path"]):
        listener = socket.create_server((link.a["address"], 0))
    port = listener.getsockname()[1]
    with inside(link.b["path"]):
        sender = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if congestion_control:
        sender.setsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, congestion_control.encode())
    with listener, sender:
        listener.settimeout(READY_SECONDS)
        sender.settimeout(30)
        sender.connect((link.a["address"], port))
        receiver, _ = listener.accept()
        with receiver:
            receiver.settimeout(30)
            chunk, received = b"x" * 65536, 0
            remaining = size
            while received < size:
                if remaining > 0:
                    readable, writable, _ = select.select([receiver], [sender], [], 30)
                else:
                    readable, writable, _ = select.select([receiver], [], [], 30)
                if not readable and not writable:
                    raise LinkError(f"the TCP transfer stalled at {received} of {size} bytes")
                if writable:
                    remaining -= sender.send(chunk[:remaining], socket.MSG_DONTWAIT)
                if readable:
                    received += len(receiver.recv(1 << 20))
        # struct tcp_info: 8 bytes of u8 fields, then u32s; tcpi_rtt (µs) is the 16th,
        # tcpi_total_retrans the 24th.
        info = sender.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 104)
        rtt_us = struct.unpack_from("I", info, 8 + 15 * 4)[0]
        total_retrans = struct.unpack_from("I", info, 8 + 23 * 4)[0]
    return rtt_us / 1e6, total_retrans
