"""The official SDK's synchronous JSON usage: the ingest forms that return offsets, waits,
flush and close. (The nowait forms are in nowait.py: the official SDK gives them offsets later,
on a task of its own, so their offsets are not comparable.)

    json_sync.py GRPC_URL WORKSPACE_URL CLIENT_ID CLIENT_SECRET TABLE COUNT

Prints each offset the SDK returns, so that two SDKs can be compared line by line."""

import json
import sys

from zerobus.sdk.shared import StreamConfigurationOptions, TableProperties
from zerobus.sdk.sync import ZerobusSdk

grpc_url, workspace_url, client_id, client_secret, table, count = sys.argv[1:7]
count = int(count)

sdk = ZerobusSdk(grpc_url, unity_catalog_url=workspace_url)
stream = sdk.create_stream(
    client_id, client_secret, TableProperties(table), StreamConfigurationOptions()
)


def record(i):
    return json.dumps({"id": i, "payload": f"json-{i}"})


i = 0
while i < count:
    form = (i // 7) % 3
    if form == 0:
        print("ingest_record_offset", stream.ingest_record_offset(record(i)))
        i += 1
    elif form == 1:
        batch = [record(j) for j in range(i, min(i + 4, count))]
        print("ingest_records_offset", stream.ingest_records_offset(batch))
        i += len(batch)
    else:
        acknowledgment = stream.ingest_record(record(i))
        print("ingest_record acknowledged", acknowledgment.wait_for_ack())
        i += 1
print("empty batch", stream.ingest_records_offset([]))
last = stream.ingest_record_offset({"id": count, "payload": "a dict"})
stream.wait_for_offset(last)
print("waited for", last)
stream.flush()
stream.close()
print("unacked after close", len(list(stream.get_unacked_records())))
