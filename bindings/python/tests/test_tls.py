"""Mutual TLS: a `zerobus serve --tls` that requires client certificates signed by its own
authority accepts the client certificate it made, given as tls_* options, and refuses a stream
without one, saying that none is configured."""

from __future__ import annotations

import json
import tempfile

import pytest
from conftest import EVENTS, start_serve, stored_rows

import libzerobus
from libzerobus import errors


def test_a_client_certificate_opens_a_stream_and_none_is_refused() -> None:
    with tempfile.TemporaryDirectory(prefix="zerobus-python-tls-") as data_dir:
        with start_serve(data_dir, "--tls", "--tls-client-ca", f"{data_dir}/ca.pem") as serve:
            ca_file = f"{data_dir}/ca.pem"
            with libzerobus.Sdk(
                serve.grpc_url,
                tls_cert_file=f"{data_dir}/client.pem",
                tls_key_file=f"{data_dir}/client-key.pem",
                tls_ca_file=ca_file,
            ) as sdk:
                with sdk.stream(EVENTS) as stream:
                    for record_id in range(10):
                        stream.ingest(json.dumps({"id": record_id, "payload": "tls"}))
            stored = sorted(int(str(row["id"])) for row in stored_rows(data_dir))
            assert stored == list(range(10))

            with libzerobus.Sdk(serve.grpc_url, tls_ca_file=ca_file) as without:
                with pytest.raises(errors.TransportError) as refused:
                    without.stream(EVENTS, recovery_retries=0)
                assert "no client certificate is configured" in refused.value.message
