"""The official SDK's asyncio Arrow Flight usage: awaited batch ingests, a wait, flush and
close, with LZ4 frame compression.

    arrow_aio.py GRPC_URL WORKSPACE_URL CLIENT_ID CLIENT_SECRET TABLE COUNT"""

import asyncio
import sys

import pyarrow as pa
from zerobus import ArrowStreamConfigurationOptions, IPCCompression
from zerobus.sdk.aio import ZerobusSdk

grpc_url, workspace_url, client_id, client_secret, table, count = sys.argv[1:7]
count = int(count)
schema = pa.schema([("id", pa.int64()), ("payload", pa.string())])


async def main():
    sdk = ZerobusSdk(grpc_url, unity_catalog_url=workspace_url)
    options = ArrowStreamConfigurationOptions(ipc_compression=IPCCompression.LZ4_FRAME)
    stream = await sdk.create_arrow_stream(table, schema, client_id, client_secret, options)
    first = 0
    while first < count:
        ids = list(range(first, min(first + 16, count)))
        batch = pa.record_batch({"id": ids, "payload": [f"aio-{i}" for i in ids]}, schema=schema)
        offset = await stream.ingest_batch(batch)
        print("ingest_batch", offset)
        first += len(ids)
    await stream.wait_for_offset(offset)
    print("waited for", offset)
    await stream.flush()
    await stream.close()
    print("closed", stream.is_closed, "unacked", len(await stream.get_unacked_batches()))


asyncio.run(main())
