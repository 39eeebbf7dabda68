'use strict';

// Streams Arrow record batches, built with apache-arrow, into a table and waits until every
// one is durable. Each batch gets one offset.
//
//   node example/ingest-arrow.js [ENDPOINT [TABLE [COUNT [BATCH]]]]
//
// ENDPOINT defaults to $ZEROBUS_ENDPOINT, TABLE to main.default.events, BATCH (rows per batch)
// to 64. E.g. against a local server started with
//   zerobus serve --listen 127.0.0.1:50051 --table 'main.default.events (id BIGINT, payload STRING)'
// run: node example/ingest-arrow.js http://127.0.0.1:50051 main.default.events 1000
const { once } = require('node:events');
const arrow = require('apache-arrow');
const { Sdk, ZerobusError } = require('..');

const SCHEMA = new arrow.Schema([
  new arrow.Field('id', new arrow.Int64(), true),
  new arrow.Field('payload', new arrow.Utf8(), true),
]);

/** Rows first .. first + count - 1 as one RecordBatch of SCHEMA. */
function batchOf(first, count) {
  const ids = Array.from({ length: count }, (_, k) => BigInt(first + k));
  return new arrow.RecordBatch({
    id: arrow.vectorFromArray(ids, new arrow.Int64()).data[0],
    payload: arrow.vectorFromArray(
      ids.map((id) => `event ${id}`),
      new arrow.Utf8(),
    ).data[0],
  });
}

async function main() {
  const [
    endpoint = process.env.ZEROBUS_ENDPOINT,
    table = 'main.default.events',
    count = '1000',
    rowsPerBatch = '64',
  ] = process.argv.slice(2);
  if (!endpoint) {
    console.error(
      'usage: node example/ingest-arrow.js [ENDPOINT [TABLE [COUNT [BATCH]]]] ' +
        '(or set ZEROBUS_ENDPOINT)',
    );
    process.exit(2);
  }
  const sdk = new Sdk(endpoint, { 'transport.plaintext': endpoint.startsWith('http://') });
  const stream = await sdk.openStream({ table, arrow: SCHEMA });
  try {
    let batches = 0;
    for (let first = 0; first < Number(count); first += Number(rowsPerBatch)) {
      const batch = batchOf(first, Math.min(Number(rowsPerBatch), Number(count) - first));
      for (;;) {
        try {
          stream.ingestArrow(batch);
          batches++;
          break;
        } catch (error) {
          // The window is full: wait for the server to acknowledge something, then retry.
          if (!(error instanceof ZerobusError) || error.code !== 'ZB_ERR_QUEUE_FULL') throw error;
          await once(stream, 'ack');
        }
      }
    }
    await stream.close();
    console.log(`${count} rows in ${batches} batches ingested into ${table}`);
  } finally {
    stream.destroy();
    sdk.close();
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
