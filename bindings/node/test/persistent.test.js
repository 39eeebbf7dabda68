'use strict';

// Persistent streams (experimental) against zerobus serve: created, closed and resumed with
// the offsets continuing after the watermark; a call broken by the server after it stored
// records whose acks it withheld, resumed without storing them twice (where an ephemeral
// stream stores them again); the refusals with their codes; a producer process killed with
// SIGKILL mid-stream and this process resuming its stream by id, every record exactly once.
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { describe, test } = require('node:test');
const { PersistentStream, Schema, Sdk, Stream } = require('..');
const { assertZerobusError } = require('./support/assertions');
const { EVENTS_TABLE, LOCAL_SDK_OPTIONS, startServer } = require('./support/server');
const { EVENT_DESCRIPTOR, encodeEvent, ingestWaiting } = require('./support/records');

const TEST_TIMEOUT_MS = 60_000;
const FAST_RECOVERY = { 'recovery.backoff.ms': 10, 'recovery.backoff.max.ms': 50 };
// gRPC status codes of the refusals.
const NOT_FOUND = 5;
const FAILED_PRECONDITION = 9;
const INVALID_ARGUMENT = 3;

async function withServer(options, body) {
  const server = await startServer(options);
  try {
    await body(server, new Sdk(server.endpoint, LOCAL_SDK_OPTIONS));
  } finally {
    await server.stop();
  }
}

function openEvents(sdk, options) {
  return sdk.experimental.openPersistentStream({
    table: EVENTS_TABLE,
    descriptor: EVENT_DESCRIPTOR,
    options,
  });
}

function resumeEvents(sdk, streamId, options) {
  return sdk.experimental.resumePersistentStream({
    table: EVENTS_TABLE,
    descriptor: EVENT_DESCRIPTOR,
    streamId,
    options,
  });
}

/** Ingests Event { id } for ids first .. end-1, asserting that each offset is its id. */
function ingestEvents(stream, first, end, payload) {
  for (let id = first; id < end; id++) {
    assert.equal(stream.ingest(encodeEvent(id, `${payload}-${id}`)), id);
  }
}

/** Asserts that the table holds Event ids 0 .. count-1, each exactly once. */
function assertIdsOnce(server, count) {
  const ids = server
    .rows()
    .map((row) => Number(row.id))
    .sort((a, b) => a - b);
  assert.equal(ids.length, count, `${ids.length} rows stored, expected ${count}`);
  ids.forEach((id, index) => assert.equal(id, index, `row ${index}`));
}

describe('persistent streams (experimental)', { timeout: TEST_TIMEOUT_MS }, () => {
  test('created, closed and resumed by id: the offsets continue after the watermark', () =>
    withServer({}, async (server, sdk) => {
      const created = await openEvents(sdk);
      assert.ok(created instanceof PersistentStream && created instanceof Stream);
      assert.equal(typeof created.streamId, 'string');
      assert.notEqual(created.streamId, '');
      assert.equal(created.resumeWatermark, null);
      assert.equal(created.recordType, 'proto');
      ingestEvents(created, 0, 40, 'first');
      await created.close();
      created.destroy();

      const resumed = await resumeEvents(sdk, created.streamId);
      assert.equal(resumed.streamId, created.streamId);
      assert.equal(resumed.resumeWatermark, 39);
      // Nothing new yet: what the server committed before counts as durable.
      await resumed.flush();
      await resumed.acked(39);
      const acks = [];
      resumed.on('ack', (event) => acks.push(event));
      ingestEvents(resumed, 40, 41, 'second');
      assert.equal(resumed.ingestBatch([encodeEvent(41, 'batch'), encodeEvent(42, 'batch')]), 42);
      await resumed.waitForOffset(42);
      await resumed.close();
      assert.equal(acks.at(-1).lastOffset, 42);
      assert.equal(resumed.info().recordsAcked, 43);
      resumed.destroy();
      assertIdsOnce(server, 43);
      // One request per record.
      assert.equal((await server.stats()).tables[EVENTS_TABLE].requests, 43);
    }));

  // The server stores records 0..59 and withholds their acks, then breaks the call on the
  // next request (UNAVAILABLE). The persistent stream resumes by its id, learns from the
  // watermark that 0..59 are stored, and sends again only record 60; an ephemeral stream
  // replays all 61.
  async function storedAfterLostAcks(persistent) {
    let stored;
    await withServer({ faults: [`${EVENTS_TABLE}:withhold_acks=true`] }, async (server, sdk) => {
      const stream = persistent
        ? await openEvents(sdk, FAST_RECOVERY)
        : await sdk.openStream({
            table: EVENTS_TABLE,
            descriptor: EVENT_DESCRIPTOR,
            options: FAST_RECOVERY,
          });
      const errors = [];
      stream.on('error', (error) => errors.push(error));
      ingestEvents(stream, 0, 60, 'acks-lost');
      await server.waitForRecords(60);
      await server.setFaults({
        withhold_acks: true,
        fail_after_records: 0,
        fail_status: 'UNAVAILABLE',
      });
      ingestEvents(stream, 60, 61, 'after-the-break');
      await server.waitForRecords(persistent ? 61 : 121);
      await server.clearFaults();
      await stream.flush();
      const info = stream.info();
      await stream.close();
      stream.destroy();
      assert.deepEqual(errors, []);
      assert.equal(info.recoveries, 1);
      assert.equal(info.recordsAcked, 61);
      if (persistent) assert.equal(info.recordsReplayed, 1);
      stored = server.rows().length;
      if (persistent) assertIdsOnce(server, 61);
    });
    return stored;
  }

  test('a call broken after stored records lost their acks resumes without duplicates', async () =>
    assert.equal(await storedAfterLostAcks(true), 61));

  test('the contrast: an ephemeral stream stores the records of the lost acks again', async () =>
    assert.equal(await storedAfterLostAcks(false), 121));

  test('refusals: unknown and retired ids, another descriptor, lanes, Schema and Arrow', () =>
    withServer({}, async (server, sdk) => {
      const options = { 'recovery.retries': 1, 'recovery.backoff.ms': 1 };
      const transport = (grpcStatus) => (error) =>
        assertZerobusError(error, 'ZB_ERR_TRANSPORT', { grpcStatus, retryable: false });
      const created = await openEvents(sdk, options);
      ingestEvents(created, 0, 5, 'kept');
      await created.close();
      created.destroy();
      const { streamId } = created;

      await assert.rejects(
        sdk.experimental.resumePersistentStream({ table: EVENTS_TABLE, streamId, options }),
        transport(INVALID_ARGUMENT),
      );
      await assert.rejects(resumeEvents(sdk, 'no-such-stream', options), transport(NOT_FOUND));
      await assert.rejects(
        sdk.experimental.retirePersistentStream({
          table: EVENTS_TABLE,
          streamId: 'no-such-stream',
          options,
        }),
        transport(NOT_FOUND),
      );
      await sdk.experimental.retirePersistentStream({ table: EVENTS_TABLE, streamId, options });
      // Idempotent.
      await sdk.experimental.retirePersistentStream({ table: EVENTS_TABLE, streamId, options });
      await assert.rejects(resumeEvents(sdk, streamId, options), transport(FAILED_PRECONDITION));

      await assert.rejects(openEvents(sdk, { 'stream.lanes': 2 }), (error) =>
        assertZerobusError(error, 'ZB_ERR_INVALID_ARG'),
      );
      const schema = Schema.fromDdl(`${EVENTS_TABLE} (id BIGINT, payload STRING)`);
      await assert.rejects(
        sdk.experimental.openPersistentStream({ table: EVENTS_TABLE, descriptor: schema }),
        TypeError,
      );
      await assert.rejects(
        sdk.experimental.openPersistentStream({ table: EVENTS_TABLE, arrow: new Uint8Array(8) }),
        TypeError,
      );
      await assert.rejects(
        sdk.experimental.resumePersistentStream({ table: EVENTS_TABLE, streamId: '' }),
        TypeError,
      );
      assertIdsOnce(server, 5);
    }));

  test('a JSON persistent stream resumes as a JSON stream', () =>
    withServer({}, async (server, sdk) => {
      const created = await sdk.experimental.openPersistentStream({ table: EVENTS_TABLE });
      assert.equal(created.recordType, 'json');
      assert.equal(created.ingest({ id: 0, payload: 'json' }), 0);
      await created.close();
      created.destroy();
      const resumed = await sdk.experimental.resumePersistentStream({
        table: EVENTS_TABLE,
        streamId: created.streamId,
      });
      assert.equal(resumed.resumeWatermark, 0);
      assert.equal(resumed.ingest({ id: 1, payload: 'json' }), 1);
      await resumed.close();
      resumed.destroy();
      assertIdsOnce(server, 2);
    }));

  // The producer (fixtures/persistent-producer.js) is killed with SIGKILL once the server
  // accepted KILL_AFTER of its records (of many more it would send); this process then resumes
  // its stream by the id it saved: the watermark is exactly what the server stored, and
  // CONTINUED records after it complete the run, every record once.
  const KILL_AFTER = 2_000;
  const CONTINUED = 2_000;

  test('a producer killed mid-stream, resumed by id in another process: every record once', () =>
    withServer({}, async (server, sdk) => {
      const idFile = path.join(server.dataDir, 'stream-id');
      const producer = spawn(
        process.execPath,
        [
          path.join(__dirname, 'fixtures', 'persistent-producer.js'),
          server.endpoint,
          idFile,
          String(1_000_000),
        ],
        { stdio: ['ignore', 'ignore', 'inherit'] },
      );
      const exited = new Promise((resolve) =>
        producer.once('exit', (code, signal) => resolve({ code, signal })),
      );
      await server.waitForRecords(KILL_AFTER);
      assert.ok(producer.kill('SIGKILL'));
      assert.deepEqual(await exited, { code: null, signal: 'SIGKILL' });

      const streamId = fs.readFileSync(idFile, 'utf8');
      // The server may not have ended the killed producer's call yet: ABORTED, retried.
      const resumed = await resumeEvents(sdk, streamId, {
        'recovery.backoff.ms': 20,
        'recovery.retries': 100,
      });
      const stored = server.rows().length;
      console.log(
        `producer killed after ${stored} records stored; resumed at ${resumed.resumeWatermark}`,
      );
      assert.ok(stored >= KILL_AFTER && stored < 1_000_000, `${stored} stored`);
      assert.equal(resumed.resumeWatermark, stored - 1);
      const end = stored + CONTINUED;
      for (let id = stored; id < end; id++) {
        assert.equal(await ingestWaiting(resumed, encodeEvent(id, `produced-${id}`)), id);
      }
      await resumed.close();
      resumed.destroy();
      assertIdsOnce(server, end);
    }));
});
