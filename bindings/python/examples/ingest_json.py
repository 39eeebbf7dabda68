"""Streams JSON records into a table and waits until they are durable.

Against a local server:

    zerobus serve --data-dir /tmp/zb --table 'main.default.events (id BIGINT, payload STRING)'
    python examples/ingest_json.py http://127.0.0.1:50051 1000
    zerobus rows main.default.events --data-dir /tmp/zb
"""

import json
import sys

import libzerobus


def main(endpoint: str, records: int) -> None:
    # A local server speaks plaintext, which the SDK only does when told to; a workspace needs
    # credentials instead (auth_client_id=..., auth_client_secret=..., workspace_url=...).
    plaintext = endpoint.startswith("http://")
    with libzerobus.Sdk(endpoint, transport_plaintext=plaintext) as sdk:
        with sdk.stream("main.default.events") as stream:
            # Batches of 100: one call and one request each. A str is a JSON record.
            for start in range(0, records, 100):
                batch = [
                    json.dumps({"id": i, "payload": f"event {i}"})
                    for i in range(start, min(start + 100, records))
                ]
                stream.ingest_batch(batch)
            stream.flush(timeout=30)
            acked = stream.info().records_acked
            print(f"{records} records durable, offsets 0..{acked - 1}")
    # Leaving the with-blocks closed the stream (every record acknowledged) and the SDK.


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
