"""Streams JSON records through a persistent stream (EXPERIMENTAL): half of them, then, as a
process restarted after a crash would, resumes the stream by its id and sends only what the
server has not committed; finally retires the stream.

Against a local server:

    zerobus serve --data-dir /tmp/zb --table 'main.default.events (id BIGINT, payload STRING)'
    python examples/ingest_persistent.py http://127.0.0.1:50051 1000
    zerobus rows main.default.events --data-dir /tmp/zb
"""

import json
import sys

import libzerobus
import libzerobus.experimental as persistent

TABLE = "main.default.events"


def event(i: int) -> str:
    return json.dumps({"id": i, "payload": f"event {i}"})


def main(endpoint: str, records: int) -> None:
    plaintext = endpoint.startswith("http://")
    with libzerobus.Sdk(endpoint, transport_plaintext=plaintext) as sdk:
        # Offsets are the records' own numbering: record i goes at offset i.
        with persistent.create_stream(sdk, TABLE) as stream:
            # A real producer saves the id durably here, before sending what it covers.
            stream_id = stream.stream_id
            for i in range(records // 2):
                stream.ingest(event(i))
        print(f"stream {stream_id}: {records // 2} records sent, stream closed")

        # What a restarted process does: resume by the id, ask where the server stands.
        with persistent.resume_stream(sdk, TABLE, stream_id) as stream:
            watermark = stream.resume_watermark
            first = 0 if watermark is None else watermark + 1
            print(f"resumed at committed offset {watermark}: sending {first}..{records - 1}")
            stream.ingest_batch([event(i) for i in range(first, records)])
            stream.flush(timeout=30)
            print(f"{stream.info().records_acked} records durable in this stream")
        # Nothing more goes into this stream: the server refuses every resume from now on.
        persistent.retire_stream(sdk, TABLE, stream_id)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
