"""Runs a producer written for the official SDK, with the official SDK or through
libzerobus.compat:

    run_producer.py official PRODUCER ARGS...   as written (the official SDK over plaintext)
    run_producer.py compat PRODUCER ARGS...     its imports changed to libzerobus.compat

With `compat`, only the import statements change: each `zerobus...` module becomes its
libzerobus.compat counterpart, and the run fails if any other line would differ. The
official SDK speaks TLS unless told otherwise through its core (set_use_tls, which its
Python API does not re-export), so for `official` this sets it off for the local server."""

from __future__ import annotations

import os
import re
import runpy
import sys
import tempfile
from pathlib import Path
from typing import Any

# Official module -> its libzerobus counterpart.
MODULES = {
    "zerobus": "libzerobus.compat",
    "zerobus.sdk": "libzerobus.compat",
    "zerobus.sdk.sync": "libzerobus.compat.sync",
    "zerobus.sdk.aio": "libzerobus.compat.aio",
    "zerobus.sdk.shared": "libzerobus.compat.shared",
}
IMPORT = re.compile(r"^(\s*)(from|import)\s+(zerobus(?:\.[a-z_.]+)?)(\s|$)")


def with_compat_imports(source: str) -> str:
    lines = []
    for line in source.splitlines(keepends=True):
        match = IMPORT.match(line)
        if match:
            module = match.group(3)
            if module not in MODULES:
                raise SystemExit(f"run_producer: no counterpart for the module {module}")
            line = line[: match.start(3)] + MODULES[module] + line[match.end(3) :]
        lines.append(line)
    return "".join(lines)


def official_over_plaintext() -> None:
    import zerobus.sdk.aio as official_aio  # type: ignore[import-untyped]
    import zerobus.sdk.sync as official_sync  # type: ignore[import-untyped]

    def plaintext(cls: Any) -> None:
        original = cls.__init__

        def init(self: Any, *args: Any, **kwargs: Any) -> None:
            original(self, *args, **kwargs)
            result = self._inner.set_use_tls(False)
            if hasattr(result, "close"):  # the asyncio core's is a coroutine: not needed
                result.close()

        cls.__init__ = init

    plaintext(official_sync.ZerobusSdk)
    plaintext(official_aio.ZerobusSdk)


def main() -> None:
    implementation, producer, *args = sys.argv[1:]
    path = Path(producer)
    if implementation == "official":
        official_over_plaintext()
        sys.argv = [str(path), *args]
        runpy.run_path(str(path), run_name="__main__")
        # The official SDK 1.10.0 can abort the interpreter's finalization from one of its
        # threads ("PyGILState_Release: thread state ... must be current"): its producer has
        # finished, so end without finalizing.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)
    if implementation != "compat":
        raise SystemExit(f"run_producer: unknown implementation {implementation}")
    with tempfile.TemporaryDirectory() as scratch:
        rewritten = Path(scratch) / path.name
        rewritten.write_text(with_compat_imports(path.read_text()))
        sys.argv = [str(rewritten), *args]
        runpy.run_path(str(rewritten), run_name="__main__")


if __name__ == "__main__":
    main()
