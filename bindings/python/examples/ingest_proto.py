"""Streams protobuf records into a table, one call per record, and waits until they are
durable.

The stream is opened with the table's schema, from which the library derives the record's
protobuf descriptor: no .proto file, no protoc. A program with generated message classes
passes their descriptor instead (sdk.stream(table, descriptor_bytes)) and ingests
message.SerializeToString().

    zerobus serve --data-dir /tmp/zb --table 'main.default.events (id BIGINT, payload STRING)'
    python examples/ingest_proto.py http://127.0.0.1:50051 1000
"""

import sys

import libzerobus

TABLE_DDL = "main.default.events (id BIGINT, payload STRING)"


def varint(value: int) -> bytes:
    out = bytearray()
    while True:
        low, value = value & 0x7F, value >> 7
        out.append(low | (0x80 if value else 0))
        if not value:
            return bytes(out)


def encode_event(event_id: int, payload: str) -> bytes:
    """message Event { optional int64 id = 1; optional string payload = 2; }"""
    text = payload.encode()
    return b"\x08" + varint(event_id) + b"\x12" + varint(len(text)) + text


def main(endpoint: str, records: int) -> None:
    schema = libzerobus.schema_from_ddl(TABLE_DDL)
    plaintext = endpoint.startswith("http://")
    acked: list[libzerobus.Event] = []
    with libzerobus.Sdk(endpoint, transport_plaintext=plaintext) as sdk:
        # Acks come to the callback, on one of the library's threads.
        stream = sdk.stream(schema.table_name, schema.descriptor, on_event=acked.append)
        with stream:
            last = -1
            for i in range(records):
                last = stream.ingest(encode_event(i, f"event {i}"))
            stream.wait_for_offset(last, timeout=30)
    # The with-block closed the stream, which delivered every event before it returned.
    print(f"{records} records durable; {len(acked)} ack events, the last {acked[-1]}")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
