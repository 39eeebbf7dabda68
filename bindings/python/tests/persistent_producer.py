"""The producer test_persistent.py kills: creates a persistent JSON stream, saves its id
durably to ID_FILE before any record is sent, then ingests {"id": offset} for offsets
0 .. COUNT-1 and flushes.

    persistent_producer.py ENDPOINT TABLE ID_FILE COUNT
"""

import json
import os
import sys

import libzerobus
import libzerobus.experimental as persistent


def save(path: str, text: str) -> None:
    """Writes `text` to `path` so that a crash leaves it whole or absent."""
    scratch = f"{path}.tmp"
    with open(scratch, "w") as out:
        out.write(text)
        out.flush()
        os.fsync(out.fileno())
    os.replace(scratch, path)


def main(endpoint: str, table: str, id_file: str, count: int) -> None:
    with libzerobus.Sdk(endpoint, transport_plaintext=True) as sdk:
        with persistent.create_stream(sdk, table) as stream:
            save(id_file, stream.stream_id)
            for i in range(count):
                offset = stream.ingest(json.dumps({"id": i, "payload": f"event {i}"}))
                assert offset == i
            stream.flush(timeout=120)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]))
