'use strict';

// Persistent streams (experimental): records stored exactly once across two sessions of a
// producer, the second resuming the first's stream by its id.
//
//   node example/persistent.js [ENDPOINT [TABLE [COUNT]]]
//
// The first session creates a persistent stream, saves its id in a file before any record,
// ingests the first half of COUNT records and stops. The second reads the id back, resumes
// the stream, and learns from its watermark which records are stored (the record whose id is
// the offset is stored exactly when its offset is at or below the watermark), so it sends only
// the rest. A producer killed at any moment resumes the same way. Then it retires the stream.
// E.g. against a local server started with
//   zerobus serve --listen 127.0.0.1:50051 --table 'main.default.events (id BIGINT, payload STRING)'
// run: node example/persistent.js http://127.0.0.1:50051 main.default.events 1000
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { once } = require('node:events');
const { Sdk, ZerobusError } = require('..');

/** Ingests the records of ids first .. end-1, waiting for acks when the window is full. */
async function ingestRange(stream, first, end) {
  for (let id = first; id < end; id++) {
    for (;;) {
      try {
        stream.ingest({ id, payload: `event ${id}` });
        break;
      } catch (error) {
        if (!(error instanceof ZerobusError) || error.code !== 'ZB_ERR_QUEUE_FULL') throw error;
        await once(stream, 'ack');
      }
    }
  }
}

async function main() {
  const [endpoint = process.env.ZEROBUS_ENDPOINT, table = 'main.default.events', count = '1000'] =
    process.argv.slice(2);
  if (!endpoint) {
    console.error(
      'usage: node example/persistent.js [ENDPOINT [TABLE [COUNT]]] (or set ZEROBUS_ENDPOINT)',
    );
    process.exit(2);
  }
  const total = Number(count);
  const sdk = new Sdk(endpoint, { 'transport.plaintext': endpoint.startsWith('http://') });
  const idDirectory = fs.mkdtempSync(path.join(os.tmpdir(), 'zerobus-persistent-'));
  const idFile = path.join(idDirectory, 'stream-id');
  try {
    // Session one: create, keep the id, ingest half, stop.
    const first = await sdk.experimental.openPersistentStream({ table });
    fs.writeFileSync(idFile, first.streamId, { flush: true });
    console.log(`created persistent stream ${first.streamId}`);
    await ingestRange(first, 0, Math.floor(total / 2));
    await first.close();
    first.destroy();

    // Session two: resume by the saved id and send what the server has not committed.
    const streamId = fs.readFileSync(idFile, 'utf8');
    const second = await sdk.experimental.resumePersistentStream({ table, streamId });
    const next = second.resumeWatermark === null ? 0 : second.resumeWatermark + 1;
    console.log(
      `resumed at watermark ${second.resumeWatermark}: sending ids ${next}..${total - 1}`,
    );
    await ingestRange(second, next, total);
    await second.close();
    second.destroy();

    await sdk.experimental.retirePersistentStream({ table, streamId });
    console.log(`${total} records ingested into ${table} exactly once; stream retired`);
  } finally {
    fs.rmSync(idDirectory, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
