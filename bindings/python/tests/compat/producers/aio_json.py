"""The official SDK's asyncio usage: awaited ingests, a callback, the legacy two-stage ingest,
flush and close.

    aio_json.py GRPC_URL WORKSPACE_URL CLIENT_ID CLIENT_SECRET TABLE COUNT"""

import asyncio
import json
import sys

from zerobus.sdk.aio import ZerobusSdk
from zerobus.sdk.shared import AckCallback, StreamConfigurationOptions, TableProperties

grpc_url, workspace_url, client_id, client_secret, table, count = sys.argv[1:7]
count = int(count)


class Collect(AckCallback):
    def __init__(self):
        super().__init__()
        self.acked = []

    def on_ack(self, offset):
        self.acked.append(offset)


async def main():
    callback = Collect()
    sdk = ZerobusSdk(grpc_url, unity_catalog_url=workspace_url)
    stream = await sdk.create_stream(
        client_id,
        client_secret,
        TableProperties(table),
        StreamConfigurationOptions(ack_callback=callback),
    )
    offsets = []
    for i in range(0, count, 10):
        batch = [json.dumps({"id": j, "payload": "aio"}) for j in range(i + 1, min(i + 10, count))]
        offsets.append(await stream.ingest_record_offset({"id": i, "payload": "aio"}))
        if batch:
            offsets.append(await stream.ingest_records_offset(batch))
    acknowledged = await stream.ingest_record(json.dumps({"id": count, "payload": "legacy"}))
    offsets.append(await acknowledged)
    await stream.wait_for_offset(offsets[-1])
    await stream.flush()
    await stream.close()
    print("offsets", offsets)
    print("acked", sorted(callback.acked))
    print("unacked after close", len(list(await stream.get_unacked_records())))


asyncio.run(main())
