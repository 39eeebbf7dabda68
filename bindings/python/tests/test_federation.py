"""Token federation against `zerobus serve --federation-key`: the stream's subject_token
callable returns a JWT that `zerobus idp` signs (no crypto code here), and the library exchanges
it for the stream's token."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from conftest import EVENTS, start_serve, stored_rows, zerobus_bin

import libzerobus
from libzerobus import errors


@dataclass
class IdentityProvider:
    """`zerobus idp`: a key pair in a directory of the test's."""

    directory: Path

    @property
    def public_key(self) -> str:
        return str(self.directory / "idp.pem")

    def sign(self) -> str:
        """A JWT signed with the provider's key, good for ten minutes."""
        signed = subprocess.run(
            [zerobus_bin(), "idp", "sign", str(self.directory / "idp-key.pem")],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        )
        return signed.stdout.strip()


def identity_provider(directory: str) -> IdentityProvider:
    subprocess.run([zerobus_bin(), "idp", "keygen", directory], check=True, timeout=30)
    return IdentityProvider(Path(directory))


@dataclass
class FederationServer:
    trusted: IdentityProvider
    other: IdentityProvider
    sdk: libzerobus.Sdk
    data_dir: str


@pytest.fixture
def federation() -> Iterator[FederationServer]:
    with tempfile.TemporaryDirectory(prefix="zerobus-python-idp-") as keys:
        trusted = identity_provider(f"{keys}/trusted")
        other = identity_provider(f"{keys}/other")
        with tempfile.TemporaryDirectory(prefix="zerobus-python-") as data_dir:
            serve = start_serve(data_dir, "--federation-key", trusted.public_key)
            with serve:
                sdk = libzerobus.Sdk(
                    serve.grpc_url,
                    transport_plaintext=True,
                    workspace_url=serve.ready["http"]["url"],
                )
                yield FederationServer(trusted, other, sdk, data_dir)
                sdk.close()


def stored_ids(data_dir: str) -> list[int]:
    return [int(str(row["id"])) for row in stored_rows(data_dir)]


def test_a_jwt_of_the_trusted_identity_provider_opens_the_stream(
    federation: FederationServer,
) -> None:
    calls: list[int] = []

    def subject_token() -> str:
        calls.append(1)
        return federation.trusted.sign()

    stream = federation.sdk.stream(EVENTS, subject_token=subject_token)
    for record_id in range(10):
        stream.ingest(f'{{"id": {record_id}, "payload": "federated"}}')
    stream.close()
    assert len(calls) == 1
    assert sorted(stored_ids(federation.data_dir)) == list(range(10))


def _raise() -> str:
    raise RuntimeError("no token today")


def _not_a_str() -> str:
    return 42  # type: ignore[return-value]  # what a careless provider returns


def test_a_wrong_token_an_exception_or_no_str_fails_with_auth_error(
    federation: FederationServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    reported: list[Any] = []
    monkeypatch.setattr(sys, "unraisablehook", reported.append)
    refusals: dict[str, Callable[[], str]] = {
        "another provider's JWT": federation.other.sign,
        "an exception": _raise,
        "no str": _not_a_str,
    }
    for what, provider in refusals.items():
        with pytest.raises(errors.AuthError):
            federation.sdk.stream(EVENTS, subject_token=provider, recovery_retries=0)
        assert stored_ids(federation.data_dir) == [], what
    # The exception and the wrong type went to sys.unraisablehook; a refused JWT is no Python
    # exception.
    assert [type(report.exc_value) for report in reported] == [RuntimeError, TypeError]
