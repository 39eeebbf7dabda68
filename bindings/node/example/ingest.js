'use strict';

// Streams JSON records into a table and waits until every one is durable.
//
//   node example/ingest.js [ENDPOINT [TABLE [COUNT]]]
//
// ENDPOINT defaults to $ZEROBUS_ENDPOINT and TABLE to main.default.events. E.g. against a local
// server started with
//   zerobus serve --listen 127.0.0.1:50051 --table 'main.default.events (id BIGINT, payload STRING)'
// run: node example/ingest.js http://127.0.0.1:50051 main.default.events 1000
const { once } = require('node:events');
const { Sdk, ZerobusError } = require('..');

async function main() {
  const [endpoint = process.env.ZEROBUS_ENDPOINT, table = 'main.default.events', count = '1000'] =
    process.argv.slice(2);
  if (!endpoint) {
    console.error(
      'usage: node example/ingest.js [ENDPOINT [TABLE [COUNT]]] (or set ZEROBUS_ENDPOINT)',
    );
    process.exit(2);
  }
  // A local server speaks plaintext, which the SDK uses only when told to.
  const sdk = new Sdk(endpoint, { 'transport.plaintext': endpoint.startsWith('http://') });
  const stream = await sdk.openStream({ table, options: { 'recovery.retries': 3 } });
  stream.on('ack', ({ lastOffset }) => console.log(`durable up to offset ${lastOffset}`));
  stream.on('error', (error) =>
    console.error(`offsets ${error.firstOffset}..${error.lastOffset} lost: ${error.message}`),
  );
  try {
    for (let id = 0; id < Number(count); id++) {
      const record = { id, payload: `event ${id}` };
      for (;;) {
        try {
          stream.ingest(record);
          break;
        } catch (error) {
          // The window is full: wait for the server to acknowledge something, then retry.
          if (!(error instanceof ZerobusError) || error.code !== 'ZB_ERR_QUEUE_FULL') throw error;
          await once(stream, 'ack');
        }
      }
    }
    await stream.close();
    console.log(`${count} records ingested into ${table}`);
  } finally {
    stream.destroy();
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
