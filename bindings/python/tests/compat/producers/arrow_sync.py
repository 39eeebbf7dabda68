"""The official SDK's Arrow Flight usage: a stream of pyarrow record batches and tables, waits,
flush and close, with the options and compression of its Arrow streams.

    arrow_sync.py GRPC_URL WORKSPACE_URL CLIENT_ID CLIENT_SECRET TABLE COUNT

Prints each offset the SDK returns, so that two SDKs can be compared line by line."""

import sys

import pyarrow as pa
from zerobus import ArrowStreamConfigurationOptions, IPCCompression
from zerobus.sdk.sync import ZerobusSdk

grpc_url, workspace_url, client_id, client_secret, table, count = sys.argv[1:7]
count = int(count)

schema = pa.schema([("id", pa.int64()), ("payload", pa.string())])
sdk = ZerobusSdk(grpc_url, unity_catalog_url=workspace_url)
options = ArrowStreamConfigurationOptions(
    max_inflight_batches=100, ipc_compression=IPCCompression.ZSTD
)
stream = sdk.create_arrow_stream(table, schema, client_id, client_secret, options)
print("table", stream.table_name, "closed", stream.is_closed)


def batch(first, rows):
    ids = list(range(first, first + rows))
    return pa.record_batch({"id": ids, "payload": [f"arrow-{i}" for i in ids]}, schema=schema)


i = 0
while i < count:
    rows = min(1 + i % 9, count - i)
    if (i // 9) % 2 == 0:
        print("ingest_batch", stream.ingest_batch(batch(i, rows)))
    else:
        table_of_two = pa.Table.from_batches([batch(i, rows)], schema=schema)
        print("ingest_batch of a table", stream.ingest_batch(table_of_two))
    i += rows
last = stream.ingest_batch(batch(count, 1))
stream.wait_for_offset(last)
print("waited for", last)
stream.flush()
stream.close()
print("closed", stream.is_closed, "unacked after close", len(stream.get_unacked_batches()))
