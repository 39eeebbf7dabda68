'use strict';

// The event loop stays responsive while records stream: ingest never waits, acks are drained
// in bounded steps, and flush/close wait on the libuv pool.
const assert = require('node:assert/strict');
const { monitorEventLoopDelay } = require('node:perf_hooks');
const { setImmediate: nextTurn } = require('node:timers/promises');
const { after, before, describe, test } = require('node:test');
const { Sdk } = require('..');
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
