'use strict';

// Streams that end other than by close(): garbage collection, process.exit() and worker
// threads. Each case runs in a child process, so that a crash fails the test instead of the
// test runner, and prints what it saw as JSON.
const assert = require('node:assert/strict');
const { execFile } = require('node:child_process');
const path = require('node:path');
const { after, before, describe, test } = require('node:test');
const { EVENTS_TABLE, startServer } = require('./support/server');

const CHILD_TIMEOUT_MS = 60_000;

function runFixture(name, args, nodeOptions = []) {
  const script = path.join(__dirname, 'fixtures', name);
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [...nodeOptions, script, ...args],
      { timeout: CHILD_TIMEOUT_MS, killSignal: 'SIGKILL' },
      (error, stdout, stderr) => {
        resolve({ code: error ? error.code : 0, signal: error?.signal ?? null, stdout, stderr });
      },
    );
  });
}

function assertClean(run) {
  assert.equal(run.signal, null, `no signal; stderr: ${run.stderr}`);
  assert.equal(run.code, 0, `exit code 0; stderr: ${run.stderr}`);
  assert.equal(run.stderr, '');
}

describe('stream lifetime', { timeout: 4 * CHILD_TIMEOUT_MS }, () => {
  let server;

  before(async () => {
    server = await startServer();
  });
  after(() => server?.stop());

  async function assertServerStreamsClosed() {
    // The server sees each call end a moment after the client cancels it.
    const deadline = Date.now() + 10_000;
    let open;
    while ((open = (await server.stats()).total.streams_open) !== 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.equal(open, 0, 'every gRPC stream ended');
  }

  test('streams collected without close() are destroyed: no crash, nothing left', async () => {
    const run = await runFixture('gc-streams.js', [server.endpoint, '30'], ['--expose-gc']);
    assertClean(run);
    const { opened, freed } = JSON.parse(run.stdout);
    assert.ok(opened.streamHandles > 0, 'streams were alive before collection');
    // The SDK itself stays: the fixture holds it to the end.
    assert.deepEqual(
      { streamHandles: freed.streamHandles, wakers: freed.wakers },
      { streamHandles: 0, wakers: 0 },
    );
    await assertServerStreamsClosed();
  });

  for (const where of ['main', 'ack']) {
    test(`process.exit() with records in flight (${where}) exits cleanly`, async () => {
      assertClean(await runFixture('exit-mid-stream.js', [server.endpoint, where]));
    });
  }

  test('a stream that failed for good does not hold the process open', async () => {
    const failing = await startServer({
      faults: [`${EVENTS_TABLE}:fail_after_records=50,fail_status=PERMISSION_DENIED`],
    });
    try {
      const run = await runFixture('failed-stream-exits.js', [failing.endpoint]);
      assertClean(run);
      assert.equal(run.stdout, 'failed\n');
    } finally {
      await failing.stop();
    }
  });

  test('worker threads: closed, exited, terminated; every stream freed', async () => {
    const run = await runFixture('worker-threads.js', [server.endpoint]);
    assertClean(run);
    const { exits, afterWorkers } = JSON.parse(run.stdout);
    assert.deepEqual(
      exits.map(({ mode }) => mode),
      ['close', 'exit', 'terminate', 'terminate-flushing', 'close', 'exit'],
    );
    for (const { mode, code } of exits) {
      // terminate() reports exit code 1, a normal end or process.exit(0) 0.
      assert.equal(code, mode.startsWith('terminate') ? 1 : 0, `worker ${mode}`);
    }
    assert.deepEqual(afterWorkers, { streamHandles: 0, wakers: 0, sdkHandles: 0, notifiers: 0 });
    await assertServerStreamsClosed();
    const rows = server.rows().filter((row) => row.payload === 'worker-close');
    assert.equal(rows.length, 4000, 'the workers that closed stored all their records');
  });
});
