'use strict';

// Records/s of the Node binding: 1,000,000 protobuf records of 100 bytes, one ingest() call
// per record from the JavaScript thread, into `zerobus serve --null-sink`, timed until every
// record is acknowledged. Compare with the C API's figure (`zerobus bench --endpoint URL`).
//
//   ZEROBUS_SERVE_BIN=PREFIX/bin/zerobus node bench/bench.js [RECORDS]
const { once } = require('node:events');
const { Sdk, ZerobusError } = require('..');
const { EVENTS_TABLE, LOCAL_SDK_OPTIONS, startServer } = require('../test/support/server');
const { EVENT_DESCRIPTOR } = require('../test/support/records');

const RECORD_BYTES = 100;

// Event { id, payload } encoded into `out`, the payload padded so that the record takes
// RECORD_BYTES bytes. ingest() copies the bytes, so one buffer serves every record.
function encodeInto(out, id) {
  let at = 0;
  out[at++] = 0x08;
  let rest = id;
  while (rest >= 0x80) {
    out[at++] = (rest & 0x7f) | 0x80;
    rest = Math.floor(rest / 0x80);
  }
  out[at++] = rest;
  const payloadLength = RECORD_BYTES - at - 2;
  out[at++] = 0x12;
  out[at++] = payloadLength;
  out.fill(0x78, at); // 'x'
  return out;
}

async function main() {
  const records = Number(process.argv[2] ?? 1_000_000);
  const server = await startServer({ nullSink: true });
  try {
    const stream = await new Sdk(server.endpoint, LOCAL_SDK_OPTIONS).openStream({
      table: EVENTS_TABLE,
      descriptor: EVENT_DESCRIPTOR,
    });
    const record = Buffer.alloc(RECORD_BYTES);
    let waitsForRoom = 0;
    const started = process.hrtime.bigint();
    for (let id = 0; id < records; id++) {
      encodeInto(record, id);
      for (;;) {
        try {
          stream.ingest(record);
          break;
        } catch (error) {
          if (!(error instanceof ZerobusError) || error.code !== 'ZB_ERR_QUEUE_FULL') throw error;
          waitsForRoom++;
          await once(stream, 'ack');
        }
      }
    }
    await stream.acked(records - 1);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    await stream.close();
    stream.destroy();
    console.log(`records: ${records}, bytes each: ${RECORD_BYTES}, seconds: ${seconds.toFixed(3)}`);
    console.log(`waits for room in the window: ${waitsForRoom}`);
    console.log(`records/s: ${Math.round(records / seconds)}`);
  } finally {
    await server.stop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
