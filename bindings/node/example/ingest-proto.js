'use strict';

// Streams protobuf records into a table and waits until every one is durable.
//
//   node example/ingest-proto.js [ENDPOINT [COUNT]]
//
// ENDPOINT defaults to $ZEROBUS_ENDPOINT. E.g. against a local server started with
//   zerobus serve --listen 127.0.0.1:50051 --table 'main.default.events (id BIGINT, payload STRING)'
// run: node example/ingest-proto.js http://127.0.0.1:50051 1000
const { once } = require('node:events');
const { Sdk, ZerobusError } = require('..');

const TABLE = 'main.default.events';

// A protobuf stream is opened with the message descriptor of its records (a serialized
// google.protobuf.DescriptorProto), which the server checks against the table's columns.
// `zerobus schema --ddl 'main.default.events (id BIGINT, payload STRING)' --descriptor FILE`
// writes it for any table; protobufjs users get it from their type's toDescriptor().
// This one is: message Event { optional int64 id = 1; optional string payload = 2; }
const EVENT_DESCRIPTOR = Buffer.from(
  '0a054576656e74120a0a026964180120012803120f0a077061796c6f6164180220012809',
  'hex',
);

/** Appends `value` (a non-negative integer) to `bytes` as a protobuf varint. */
function pushVarint(bytes, value) {
  let rest = BigInt(value);
  while (rest >= 0x80n) {
    bytes.push(Number(rest & 0x7fn) | 0x80);
    rest >>= 7n;
  }
  bytes.push(Number(rest));
}

/** An Event record: field 1 a varint, field 2 length-delimited UTF-8. A program with many
 *  message types would let protobufjs write them. */
function encodeEvent(id, payload) {
  const text = Buffer.from(payload, 'utf8');
  const bytes = [(1 << 3) | 0];
  pushVarint(bytes, id);
  bytes.push((2 << 3) | 2);
  pushVarint(bytes, text.length);
  return Buffer.concat([Buffer.from(bytes), text]);
}

async function main() {
  const [endpoint = process.env.ZEROBUS_ENDPOINT, count = '1000'] = process.argv.slice(2);
  if (!endpoint) {
    console.error(
      'usage: node example/ingest-proto.js [ENDPOINT [COUNT]] (or set ZEROBUS_ENDPOINT)',
    );
    process.exit(2);
  }
  // A local server speaks plaintext, which the SDK uses only when told to.
  const sdk = new Sdk(endpoint, { 'transport.plaintext': endpoint.startsWith('http://') });
  const stream = await sdk.openStream({ table: TABLE, descriptor: EVENT_DESCRIPTOR });
  // Without a listener, a lost range would only reject flush() and close(): say which it was.
  stream.on('error', (error) =>
    console.error(`offsets ${error.firstOffset}..${error.lastOffset} lost: ${error.message}`),
  );
  try {
    const total = Number(count);
    for (let first = 0; first < total; first += 100) {
      const batch = [];
      for (let id = first; id < Math.min(first + 100, total); id++) {
        batch.push(encodeEvent(id, `event ${id}`));
      }
      // Ingest never blocks the event loop: a full window throws ZB_ERR_QUEUE_FULL, and the
      // next ack makes room.
      for (;;) {
        try {
          stream.ingestBatch(batch);
          break;
        } catch (error) {
          if (!(error instanceof ZerobusError) || error.code !== 'ZB_ERR_QUEUE_FULL') throw error;
          await once(stream, 'ack');
        }
      }
    }
    await stream.close();
    console.log(`${total} protobuf records durable in ${TABLE}`);
  } finally {
    stream.destroy();
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
