"""Ingests records into `zerobus serve` through the official Python SDK, as a producer would.

    ingest.py GRPC_URL WORKSPACE_URL TABLE {json|proto} COUNT CLIENT_ID CLIENT_SECRET

Plain http:// URLs switch the SDK's TLS off; for https:// the caller points SSL_CERT_FILE at the
server's ca.pem, which the SDK's TLS stack (rustls with the system's roots) honours. Exits 0 once
every record is acknowledged (flush), non-zero with the SDK's error otherwise.
"""
import json
import sys

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from zerobus.sdk.shared import RecordType, StreamConfigurationOptions, TableProperties
from zerobus.sdk.sync import ZerobusSdk


def event_class():
    """The message the table's columns map to (proto2, `required` for NOT NULL)."""
    file = descriptor_pb2.FileDescriptorProto(name="interop_event.proto", syntax="proto2")
    message = file.message_type.add(name="Event")
    fields = descriptor_pb2.FieldDescriptorProto
    for number, (name, label, kind) in enumerate(
        [
            ("id", fields.LABEL_REQUIRED, fields.TYPE_INT64),
            ("device", fields.LABEL_OPTIONAL, fields.TYPE_STRING),
            ("temp", fields.LABEL_OPTIONAL, fields.TYPE_DOUBLE),
            ("tags", fields.LABEL_REPEATED, fields.TYPE_STRING),
        ],
        start=1,
    ):
        message.field.add(name=name, number=number, label=label, type=kind)
    pool = descriptor_pool.DescriptorPool()
    pool.Add(file)
    descriptor = pool.FindMessageTypeByName("Event")
    return descriptor, message_factory.GetMessageClass(descriptor)


def main():
    grpc_url, workspace_url, table, kind, count, client_id, secret = sys.argv[1:8]
    count = int(count)
    sdk = ZerobusSdk(grpc_url, unity_catalog_url=workspace_url)
    if grpc_url.startswith("http://"):
        # The wrapper does not re-export the core's switch; the core documents it "for testing
        # with local mock servers".
        sdk._inner.set_use_tls(False)
    if kind == "json":
        properties = TableProperties(table)
        record_type = RecordType.JSON
    else:
        descriptor, event = event_class()
        properties = TableProperties(table, descriptor)
        record_type = RecordType.PROTO
    options = StreamConfigurationOptions(record_type=record_type, recovery=False)
    stream = sdk.create_stream(client_id, secret, properties, options)
    batch = []
    for i in range(count):
        values = {"id": i, "device": f"{kind}-{i % 3}", "temp": i / 2, "tags": ["a", str(i)]}
        if kind == "json":
            batch.append(json.dumps(values))
        else:
            batch.append(event(**values).SerializeToString())
        # Singles and batches both go through the server's paths.
        if i % 2 == 0:
            stream.ingest_record_offset(batch.pop())
        elif len(batch) == 10:
            stream.ingest_records_offset(batch)
            batch = []
    if batch:
        stream.ingest_records_offset(batch)
    stream.flush()
    stream.close()
    print(f"ingest.py: {count} {kind} records acknowledged on {grpc_url}")


if __name__ == "__main__":
    main()
