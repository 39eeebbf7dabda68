'use strict';

// Failures from the server: a retryable stream break the stream recovers from, and fatal
// errors that reach JavaScript with their codes.
const assert = require('node:assert/strict');
const { describe, test } = require('node:test');
const { Sdk } = require('..');
const { assertZerobusError } = require('./support/assertions');
const { EVENTS_TABLE, LOCAL_SDK_OPTIONS, startServer } = require('./support/server');
const { EVENT_DESCRIPTOR, encodeEvent } = require('./support/records');

const TEST_TIMEOUT_MS = 60_000;
// Quick reconnection, so that the tests do not wait for the default backoff.
const FAST_RECOVERY = { 'recovery.backoff.ms': 20, 'recovery.backoff.max.ms': 100 };

async function withServer(options, body) {
  const server = await startServer(options);
  try {
    await body(server, new Sdk(server.endpoint, LOCAL_SDK_OPTIONS));
  } finally {
    await server.stop();
  }
}

describe('recovery and fatal errors', { timeout: TEST_TIMEOUT_MS }, () => {
  test('a stream broken by the server (UNAVAILABLE) recovers and loses no record', () =>
    withServer(
      { faults: [`${EVENTS_TABLE}:fail_after_records=500,fail_status=UNAVAILABLE`] },
      async (server, sdk) => {
        const stream = await sdk.openStream({
          table: EVENTS_TABLE,
          descriptor: EVENT_DESCRIPTOR,
          options: FAST_RECOVERY,
        });
        const errors = [];
        const acks = [];
        stream.on('error', (error) => errors.push(error));
        stream.on('ack', (event) => acks.push(event));
        const total = 2000;
        for (let id = 0; id < total; id++) {
          stream.ingest(encodeEvent(id, `recovered-${id}`));
          if (id % 100 === 99) await new Promise((resolve) => setImmediate(resolve));
        }
        await stream.acked(total - 1);
        await stream.close();
        const info = stream.info();
        stream.destroy();

        assert.deepEqual(errors, [], 'a retryable break is no error event');
        assert.ok(info.recoveries >= 1, `recoveries: ${info.recoveries}`);
        assert.equal(acks.at(-1).lastOffset, total - 1);
        // At least once: every record stored, duplicates only from replays.
        const ids = new Set(server.rows().map((row) => Number(row.id)));
        for (let id = 0; id < total; id++) assert.ok(ids.has(id), `record ${id} stored`);
      },
    ));

  test('a stream the server refuses fails to open with its code', () =>
    withServer(
      { faults: [`${EVENTS_TABLE}:refuse_streams=-1,refuse_status=PERMISSION_DENIED`] },
      async (_server, sdk) => {
        await assert.rejects(
          sdk.openStream({ table: EVENTS_TABLE, descriptor: EVENT_DESCRIPTOR }),
          // gRPC status 7: PERMISSION_DENIED
          (error) =>
            assertZerobusError(error, 'ZB_ERR_TRANSPORT', { grpcStatus: 7, retryable: false }),
        );
      },
    ));

  test('a fatal error mid-stream: error event, rejections with the code, unacked records', () =>
    withServer(
      { faults: [`${EVENTS_TABLE}:fail_after_records=100,fail_status=PERMISSION_DENIED`] },
      async (server, sdk) => {
        const stream = await sdk.openStream({
          table: EVENTS_TABLE,
          descriptor: EVENT_DESCRIPTOR,
          options: FAST_RECOVERY,
        });
        const errors = [];
        stream.on('error', (error) => errors.push(error));
        let ingested = 0;
        let failure;
        // Records go out until the stream fails: the window keeps whatever was not acked.
        while (failure === undefined && ingested < 100_000) {
          try {
            for (let i = 0; i < 50; i++, ingested++) {
              stream.ingest(encodeEvent(ingested, `fatal-${ingested}`));
            }
          } catch (error) {
            failure = error;
          }
          await new Promise((resolve) => setImmediate(resolve));
        }
        const lastOffset = ingested - 1;
        const fatal = { grpcStatus: 7, retryable: false };
        await assert.rejects(stream.acked(lastOffset), (error) =>
          assertZerobusError(error, 'ZB_ERR_TRANSPORT', fatal),
        );
        await assert.rejects(stream.flush(), (error) =>
          assertZerobusError(error, 'ZB_ERR_TRANSPORT', fatal),
        );
        if (failure !== undefined) assertZerobusError(failure, 'ZB_ERR_TRANSPORT', fatal);
        assert.equal(stream.info().state, 'failed');
        assert.ok(errors.length >= 1);
        assert.equal(errors.at(-1).lastOffset, lastOffset);
        assert.equal(errors[0].code, 'ZB_ERR_TRANSPORT');

        // The records of the error ranges are exactly the unacked ones.
        const unacked = stream.unacked();
        assert.equal(unacked[0].offset, errors[0].firstOffset);
        assert.equal(unacked.at(-1).offset, lastOffset);
        assert.equal(unacked.length, lastOffset - errors[0].firstOffset + 1);
        for (const { offset, record } of unacked) {
          assert.deepEqual(record, encodeEvent(offset, `fatal-${offset}`));
        }
        // The server stored no more than it admitted before failing the stream (records it
        // stored without the ack reaching the client are unacked too: at least once).
        assert.ok(server.rows().length <= 100);
        await assert.rejects(stream.close(), (error) =>
          assertZerobusError(error, 'ZB_ERR_TRANSPORT', fatal),
        );
        stream.destroy();
      },
    ));

  test('recreate carries a failed stream on: its unacked records go out again on a new stream', () =>
    withServer(
      { faults: [`${EVENTS_TABLE}:fail_after_records=20,fail_status=PERMISSION_DENIED`] },
      async (server, sdk) => {
        const stream = await sdk.openStream({
          table: EVENTS_TABLE,
          descriptor: EVENT_DESCRIPTOR,
          options: FAST_RECOVERY,
        });
        await assert.rejects(stream.recreate(), (error) =>
          assertZerobusError(error, 'ZB_ERR_STATE'),
        );
        for (let id = 0; id < 20; id++) stream.ingest(encodeEvent(id, `recreate-${id}`));
        await stream.flush();
        // One call: the server refuses the request that takes the table past 20 records and
        // the stream fails once that answer is back, which ten calls could meet before their
        // last record was taken.
        stream.ingestBatch(
          Array.from({ length: 10 }, (_, i) => encodeEvent(20 + i, `recreate-${20 + i}`)),
        );
        await assert.rejects(stream.flush(), (error) =>
          assertZerobusError(error, 'ZB_ERR_TRANSPORT', { grpcStatus: 7 }),
        );
        await server.clearFaults();

        const recreated = await stream.recreate();
        const acks = [];
        recreated.on('ack', (ack) => acks.push(ack));
        for (let id = 30; id < 40; id++) {
          assert.equal(recreated.ingest(encodeEvent(id, `recreate-${id}`)), id - 20);
        }
        await recreated.close();
        assert.equal(acks.at(-1).lastOffset, 19);
        acks.forEach((ack, i) =>
          assert.equal(ack.firstOffset, i === 0 ? 0 : acks[i - 1].lastOffset + 1),
        );
        await assert.rejects(stream.close(), (error) =>
          assertZerobusError(error, 'ZB_ERR_TRANSPORT'),
        );
        stream.destroy();
        recreated.destroy();
        await assert.rejects(stream.recreate(), (error) =>
          assertZerobusError(error, 'ZB_ERR_STATE'),
        );
        const ids = server
          .rows()
          .map((row) => Number(row.id))
          .sort((a, b) => a - b);
        assert.deepEqual(
          ids,
          Array.from({ length: 40 }, (_, i) => i),
        );
      },
    ));
});
