"""The official SDK's protobuf usage with an ack callback: a Descriptor for one stream and
serialized FileDescriptorProto bytes for another, records as bytes and as messages.

    proto_callbacks.py GRPC_URL WORKSPACE_URL CLIENT_ID CLIENT_SECRET TABLE COUNT"""

import sys
import threading

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from zerobus import (
    AckCallback,
    RecordType,
    StreamConfigurationOptions,
    TableProperties,
    ZerobusSdk,
)

grpc_url, workspace_url, client_id, client_secret, table, count = sys.argv[1:7]
count = int(count)

file = descriptor_pb2.FileDescriptorProto(name="compat_event.proto", syntax="proto2")
message = file.message_type.add(name="Event")
fields = descriptor_pb2.FieldDescriptorProto
message.field.add(name="id", number=1, label=fields.LABEL_OPTIONAL, type=fields.TYPE_INT64)
message.field.add(name="payload", number=2, label=fields.LABEL_OPTIONAL, type=fields.TYPE_STRING)
pool = descriptor_pool.DescriptorPool()
pool.Add(file)
descriptor = pool.FindMessageTypeByName("Event")
Event = message_factory.GetMessageClass(descriptor)


class Collect(AckCallback):
    def __init__(self):
        super().__init__()
        self.lock = threading.Lock()
        self.acked = []
        self.failed = []

    def on_ack(self, offset):
        with self.lock:
            self.acked.append(offset)

    def on_error(self, offset, error_message):
        with self.lock:
            self.failed.append(offset)


sdk = ZerobusSdk(grpc_url, unity_catalog_url=workspace_url)
for name, properties in [
    ("descriptor", TableProperties(table, descriptor)),
    ("file descriptor bytes", TableProperties(table, file.SerializeToString())),
]:
    callback = Collect()
    options = StreamConfigurationOptions(record_type=RecordType.PROTO, ack_callback=callback)
    stream = sdk.create_stream(client_id, client_secret, properties, options)
    offsets = []
    base = 0 if name == "descriptor" else count
    for i in range(base, base + count, 5):
        records = [Event(id=j, payload=f"proto-{j}") for j in range(i, min(i + 5, base + count))]
        offsets.append(stream.ingest_record_offset(records[0].SerializeToString()))
        offsets.append(stream.ingest_records_offset(records[1:]))
    stream.flush()
    stream.close()
    with callback.lock:
        acked = sorted(callback.acked)
    print(name, "offsets", offsets)
    print(name, "acked", acked, "failed", callback.failed)
