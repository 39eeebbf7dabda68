"""The official SDK's recovery by hand: recovery off, the server fails the stream, the
unacknowledged records are read back and the stream recreated, which sends them again.

    unacked_recreate.py GRPC_URL WORKSPACE_URL CLIENT_ID CLIENT_SECRET TABLE COUNT

The table's server fails the first call that goes beyond 50 records, once."""

import json
import sys

from zerobus.sdk.shared import StreamConfigurationOptions, TableProperties, ZerobusException
from zerobus.sdk.sync import ZerobusSdk

grpc_url, workspace_url, client_id, client_secret, table, count = sys.argv[1:7]
count = int(count)

sdk = ZerobusSdk(grpc_url, unity_catalog_url=workspace_url)
options = StreamConfigurationOptions(recovery=False, flush_timeout_ms=30000)
stream = sdk.create_stream(client_id, client_secret, TableProperties(table), options)
sent = 0
failed = False
while sent < count:
    try:
        stream.ingest_records_offset(
            [json.dumps({"id": i, "payload": "r"}) for i in range(sent, min(sent + 10, count))]
        )
        sent = min(sent + 10, count)
        stream.flush()
    except ZerobusException as error:
        failed = True
        print("failed with", type(error).__name__)
        break
unacked = list(stream.get_unacked_records())
batches = list(stream.get_unacked_batches())
whole = all(len(batch) == 10 for batch in batches)
print("unacked records left", len(unacked) > 0, "in whole batches", whole)
stream = sdk.recreate_stream(stream)
while sent < count:
    stream.ingest_records_offset(
        [json.dumps({"id": i, "payload": "r"}) for i in range(sent, min(sent + 10, count))]
    )
    sent = min(sent + 10, count)
stream.flush()
stream.close()
print("failed once", failed, "all sent", sent)
