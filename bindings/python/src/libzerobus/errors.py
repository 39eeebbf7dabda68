"""The exceptions of libzerobus: ZerobusError, and one subclass per status code of the loaded
library, named from the code's symbolic name (ZB_ERR_QUEUE_FULL: QueueFullError), so that a
code the library adds gets its class without a change here. errors.pyi lists the classes for
type checkers; the tests check that it lists exactly these."""

from __future__ import annotations

import builtins
from typing import Optional

from . import _native


class ZerobusError(Exception):
    """A failed call of libzerobus: its status code and symbolic name, the library's message,
    whether the same call may succeed if tried again, and the gRPC status it came from (None
    when it did not come from gRPC)."""

    code: int
    name: str
    message: str
    retryable: bool
    grpc_status: Optional[int]

    def __init__(
        self, code: int, name: str, message: str, retryable: bool, grpc_status: Optional[int]
    ) -> None:
        super().__init__(f"{name}: {message}" if message else name)
        self.code = code
        self.name = name
        self.message = message
        self.retryable = retryable
        self.grpc_status = grpc_status


def _class_name(status_name: str) -> str:
    words = status_name.removeprefix("ZB_ERR_").split("_")
    return "".join(word.capitalize() for word in words) + "Error"


# code -> (class, symbolic name, description), for every code but ZB_OK.
_BY_CODE: dict[int, tuple[type[ZerobusError], str, str]] = {}
for _code, _name, _description in _native.status_codes():
    if _code == 0:
        continue
    _class_bases: tuple[type[Exception], ...] = (ZerobusError,)
    if _name == "ZB_ERR_TIMEOUT":  # also caught where a builtin TimeoutError is
        _class_bases = (ZerobusError, builtins.TimeoutError)
    _class = type(
        _class_name(_name),
        _class_bases,
        {"__doc__": f"{_name}: {_description}", "__module__": __name__},
    )
    globals()[_class.__name__] = _class
    _BY_CODE[_code] = (_class, _name, _description)


def error_from(code: int, message: str, retryable: int, grpc_status: int) -> ZerobusError:
    """The exception for an error of the library (the extension calls this)."""
    known = _BY_CODE.get(code)
    cls, name = (known[0], known[1]) if known else (ZerobusError, f"ZB_ERR({code})")
    return cls(code, name, message, bool(retryable), None if grpc_status < 0 else grpc_status)


def error_classes() -> dict[str, type[ZerobusError]]:
    """Every subclass, by class name, in the order of the codes."""
    return {cls.__name__: cls for cls, _, _ in _BY_CODE.values()}


_native._set_error_factory(error_from)
