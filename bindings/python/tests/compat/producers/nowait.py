"""The official SDK's fire-and-forget usage: nowait ingests, then flush and close, which must
leave every record stored.

    nowait.py GRPC_URL WORKSPACE_URL CLIENT_ID CLIENT_SECRET TABLE COUNT"""

import json
import sys

from zerobus.sdk.shared import TableProperties
from zerobus.sdk.sync import ZerobusSdk

grpc_url, workspace_url, client_id, client_secret, table, count = sys.argv[1:7]
count = int(count)

sdk = ZerobusSdk(grpc_url, unity_catalog_url=workspace_url)
stream = sdk.create_stream(client_id, client_secret, TableProperties(table))
for i in range(0, count, 5):
    stream.ingest_record_nowait(json.dumps({"id": i, "payload": "nowait"}))
    stream.ingest_records_nowait(
        [json.dumps({"id": j, "payload": "nowait"}) for j in range(i + 1, min(i + 5, count))]
    )
stream.flush()
stream.close()
print("flushed and closed")
