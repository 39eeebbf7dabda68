'use strict';

// The event loop stays responsive while records stream: ingest never waits, acks are drained
// in bounded steps, and waits for acks (acked, waitForOffset, flush, close) hold no thread of
// the libuv pool, however long they last.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const { monitorEventLoopDelay } = require('node:perf_hooks');
const { setImmediate: nextTurn } = require('node:timers/promises');
const { after, before, describe, test } = require('node:test');
const { Sdk } = require('..');
const { assertZerobusError } = require('./support/assertions');
const { EVENTS_TABLE, LOCAL_SDK_OPTIONS, startServer } = require('./support/server');
const { EVENT_DESCRIPTOR, encodeEvent } = require('./support/records');

const RECORDS = 100_000;
// Records ingested per turn of the event loop: the test's own loop must not be what blocks.
const RECORDS_PER_TURN = 200;
const MAX_DELAY_MS = 20;
// The delay monitor cannot tell blocking from the OS running other processes on a busy
// machine (2 cores shared by builds and servers), so a run over the limit is repeated; a real
// block happens on every run and still fails.
const ATTEMPTS = 3;

// Streams RECORDS records and returns the largest and the 99th percentile delay of the
// event loop meanwhile, in milliseconds.
async function measuredRun(sdk) {
  const stream = await sdk.openStream({ table: EVENTS_TABLE, descriptor: EVENT_DESCRIPTOR });
  let lastAcked = -1;
  stream.on('ack', (event) => {
    assert.equal(event.firstOffset, lastAcked + 1);
    lastAcked = event.lastOffset;
  });
  // Encoded before the measurement, which is of the binding, not of the test's encoding.
  const records = Array.from({ length: RECORDS }, (_, id) =>
    encodeEvent(id, `loop-${id}`.padEnd(60, '.')),
  );
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  const waits = [];
  for (let id = 0; id < RECORDS; id++) {
    const offset = stream.ingest(records[id]);
    if (offset % RECORDS_PER_TURN === RECORDS_PER_TURN - 1) {
      waits.push(stream.acked(offset));
      await nextTurn();
    }
  }
  await Promise.all(waits);
  await stream.flush();
  await stream.close();
  delay.disable();
  stream.destroy();
  assert.ok(delay.count > 0, 'the delay monitor sampled');
  assert.equal(lastAcked, RECORDS - 1, 'every record acked, in order');
  return { maxMs: delay.max / 1e6, p99Ms: delay.percentile(99) / 1e6 };
}

describe('event loop', { timeout: 180_000 }, () => {
  let server;

  before(async () => {
    // The server is the test's scaffolding: it stores nothing and yields the CPU to the
    // process under test.
    server = await startServer({ nullSink: true, nice: 10 });
  });
  after(() => server?.stop());

  test(`never blocked more than ${MAX_DELAY_MS} ms during a ${RECORDS}-record run`, async (t) => {
    const sdk = new Sdk(server.endpoint, LOCAL_SDK_OPTIONS);
    const runs = [];
    for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
      const run = await measuredRun(sdk);
      runs.push(run);
      t.diagnostic(
        `run ${attempt}: event loop delay max ${run.maxMs.toFixed(2)} ms, ` +
          `p99 ${run.p99Ms.toFixed(2)} ms`,
      );
      if (run.maxMs < MAX_DELAY_MS) break;
    }
    const best = Math.min(...runs.map((run) => run.maxMs));
    assert.ok(best < MAX_DELAY_MS, `the event loop waited ${best.toFixed(2)} ms at best`);
  });
});

describe('waits for acks', { timeout: 60_000 }, () => {
  test('hold no pool thread, even without a time limit', async () => {
    const withheld = await startServer({ faults: [`${EVENTS_TABLE}:withhold_acks=true`] });
    try {
      const stream = await new Sdk(withheld.endpoint, LOCAL_SDK_OPTIONS).openStream({
        table: EVENTS_TABLE,
        descriptor: EVENT_DESCRIPTOR,
      });
      stream.ingest(encodeEvent(0, 'withheld'));
      // Twice as many unbounded waits as the pool has threads (UV_THREADPOOL_SIZE, 4 by
      // default): were each on a pool thread, a file read would find none free.
      const poolThreads = Number(process.env.UV_THREADPOOL_SIZE ?? 4);
      const waits = [];
      for (let i = 0; i < poolThreads; i++) {
        waits.push(stream.flush(Infinity), stream.waitForOffset(0, Infinity));
      }
      const settled = Promise.allSettled(waits);
      let timer;
      const stuck = new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error('the pool is held by the waits')), 10_000);
      });
      try {
        await Promise.race([fs.promises.readFile(__filename), stuck]);
      } finally {
        clearTimeout(timer);
      }
      // A close that gives up at once settles every wait with the records' error.
      await assert.rejects(stream.close(0), (error) => assertZerobusError(error, 'ZB_ERR_TIMEOUT'));
      for (const outcome of await settled) {
        assert.equal(outcome.status, 'rejected');
        assertZerobusError(/** @type {PromiseRejectedResult} */ (outcome).reason, 'ZB_ERR_TIMEOUT');
      }
      stream.destroy();
    } finally {
      await withheld.stop();
    }
  });
});
