'use strict';

// Log messages as 'log' events (levels, components, the level filter, silence by default),
// statistics from sdk.stats() / stream.stats() and as 'stats' events, and the release of
// everything once SDKs with both are collected.
const assert = require('node:assert/strict');
const { execFile } = require('node:child_process');
const { once } = require('node:events');
const path = require('node:path');
const { describe, test } = require('node:test');
const { Sdk } = require('..');
const { assertZerobusError } = require('./support/assertions');
const { EVENTS_TABLE, LOCAL_SDK_OPTIONS, startServer } = require('./support/server');
const { EVENT_DESCRIPTOR, encodeEvent } = require('./support/records');

const TEST_TIMEOUT_MS = 60_000;
const FAST_RECOVERY = { 'recovery.backoff.ms': 20, 'recovery.backoff.max.ms': 100 };
const SEVERITY = { error: 1, warn: 2, info: 3, debug: 4 };

async function withServer(options, body) {
  const server = await startServer(options);
  try {
    await body(server);
  } finally {
    await server.stop();
  }
}

function breakingServer(records) {
  return { faults: [`${EVENTS_TABLE}:fail_after_records=${records},fail_status=UNAVAILABLE`] };
}

/** Collects an emitter's 'log' events; until() waits for one that matches. */
function collectLogs(sdk) {
  const logs = [];
  const waiters = [];
  sdk.on('log', (event) => {
    logs.push(event);
    for (const waiter of [...waiters]) waiter(event);
  });
  function until(level, component, text) {
    const matches = (e) =>
      e.level === level && e.component === component && e.message.includes(text);
    const found = logs.find(matches);
    if (found) return Promise.resolve(found);
    return new Promise((resolve) => {
      const waiter = (event) => {
        if (!matches(event)) return;
        waiters.splice(waiters.indexOf(waiter), 1);
        resolve(event);
      };
      waiters.push(waiter);
    });
  }
  return { logs, until };
}

async function ingestEvents(stream, count) {
  for (let id = 0; id < count; id++) {
    stream.ingest(encodeEvent(id, `observed-${id}`));
    if (id % 100 === 99) await new Promise((resolve) => setImmediate(resolve));
  }
  await stream.flush();
}

function openProto(sdk) {
  return sdk.openStream({
    table: EVENTS_TABLE,
    descriptor: EVENT_DESCRIPTOR,
    options: FAST_RECOVERY,
  });
}

describe('logging and statistics', { timeout: TEST_TIMEOUT_MS }, () => {
  test('streams and recoveries are logged with their levels and components', () =>
    withServer(breakingServer(300), async (server) => {
      const sdk = new Sdk(server.endpoint, { ...LOCAL_SDK_OPTIONS, logLevel: 'debug' });
      const { logs, until } = collectLogs(sdk);
      await until('info', 'sdk', 'SDK for 127.0.0.1:');
      const stream = await openProto(sdk);
      await until('debug', 'connection', 'connecting to 127.0.0.1:');
      const opened = await until('info', 'stream', 'stream of protobuf records opened');
      assert.ok(opened.message.startsWith(`${EVENTS_TABLE}: `), opened.message);
      await ingestEvents(stream, 1000);
      await until('warn', 'connection', 'the connection ended');
      await until('info', 'recovery', 'recovered on a new connection');

      const stats = stream.stats();
      assert.equal(stats.offsets.acked, 1000);
      assert.ok(stats.recoveries >= 1, JSON.stringify(stats));
      assert.equal(stats.errors.last?.name, 'ZB_ERR_TRANSPORT');
      assert.equal(stats.errors.last?.grpc_status, 14);

      await stream.close();
      await until('info', 'stream', 'closed with all of its 1000 records acknowledged');
      stream.destroy();
      for (const event of logs) {
        assert.ok(event.level in SEVERITY, event.level);
        if (event.component === 'stream') assert.ok(event.message.startsWith(`${EVENTS_TABLE}: `));
      }
    }));

  test('logLevel filters in the library', () =>
    withServer(breakingServer(30), async (server) => {
      const sdk = new Sdk(server.endpoint, { ...LOCAL_SDK_OPTIONS, logLevel: 'warn' });
      const { logs, until } = collectLogs(sdk);
      const stream = await openProto(sdk);
      await ingestEvents(stream, 100);
      await until('warn', 'connection', 'the connection ended');
      await stream.close();
      stream.destroy();
      assert.deepEqual(
        logs.filter((event) => SEVERITY[event.level] > SEVERITY.warn),
        [],
        'nothing below warn',
      );
    }));

  test('an error-level SDK reports a refused stream as an error', () =>
    withServer(
      { faults: [`${EVENTS_TABLE}:refuse_streams=-1,refuse_status=PERMISSION_DENIED`] },
      async (server) => {
        const sdk = new Sdk(server.endpoint, { ...LOCAL_SDK_OPTIONS, logLevel: 'error' });
        const { logs, until } = collectLogs(sdk);
        await assert.rejects(openProto(sdk), (error) =>
          assertZerobusError(error, 'ZB_ERR_TRANSPORT'),
        );
        const failed = await until('error', 'stream', 'opening the stream failed');
        assert.match(failed.message, /PERMISSION_DENIED/);
        assert.deepEqual(logs, [failed]);
      },
    ));

  test('nothing is logged without logLevel', () =>
    withServer(breakingServer(30), async (server) => {
      const sdk = new Sdk(server.endpoint, LOCAL_SDK_OPTIONS);
      const { logs } = collectLogs(sdk);
      const stream = await openProto(sdk);
      await ingestEvents(stream, 100);
      assert.ok(stream.info().recoveries >= 1, 'a recovery that would have been logged');
      await stream.close();
      stream.destroy();
      // Notices would arrive through the event loop: give it turns to deliver any.
      for (let turn = 0; turn < 10; turn++) await new Promise((resolve) => setImmediate(resolve));
      assert.deepEqual(logs, []);
    }));

  test('stats() reports every stream and its acked offsets', () =>
    withServer({}, async (server) => {
      const sdk = new Sdk(server.endpoint, LOCAL_SDK_OPTIONS);
      const proto = await openProto(sdk);
      const json = await sdk.openStream({ table: EVENTS_TABLE });
      await ingestEvents(proto, 250);
      for (let id = 250; id < 260; id++) json.ingest({ id, payload: 'observed' });
      await json.flush();

      const stats = sdk.stats();
      assert.equal(typeof stats.version, 'string');
      assert.match(stats.endpoint, /^127\.0\.0\.1:\d+$/);
      assert.equal(stats.streams.length, 2);
      for (const { stream, recordType, records } of [
        { stream: stats.streams[0], recordType: 'proto', records: 250 },
        { stream: stats.streams[1], recordType: 'json', records: 10 },
      ]) {
        assert.equal(stream.table, EVENTS_TABLE);
        assert.equal(stream.record_type, recordType);
        assert.equal(stream.state, 'open');
        assert.deepEqual(stream.offsets, { issued: records, sent: records, acked: records });
        assert.deepEqual(stream.in_flight, { records: 0, bytes: 0 });
        assert.equal(stream.wire.records, records);
        assert.deepEqual(stream.errors, { count: 0, last: null });
        const latency = stream.ack_latency_us;
        assert.ok(latency.count >= 1);
        assert.ok(latency.min <= latency.p50 && latency.p50 <= latency.p99);
        assert.ok(latency.p99 <= latency.p99_9 && latency.p99_9 <= latency.max);
      }
      const own = proto.stats();
      assert.equal(own.server_stream_id, stats.streams[0].server_stream_id);
      assert.equal(own.offsets.acked, 250);

      await proto.close();
      assert.equal(proto.stats().state, 'closed');
      proto.destroy();
      // destroy() hands the native stream to a thread of the addon: the SDK lists it until
      // that thread has destroyed it.
      const deadline = Date.now() + 10_000;
      while (sdk.stats().streams.length !== 1 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      assert.deepEqual(
        sdk.stats().streams.map((stream) => stream.record_type),
        ['json'],
      );
      await json.close();
      json.destroy();
      sdk.close();
      assert.throws(
        () => sdk.stats(),
        (error) => assertZerobusError(error, 'ZB_ERR_CLOSED'),
      );
      assert.equal(server.rows().length, 260);
    }));

  test("'stats' events come every statisticsIntervalMs until close()", () =>
    withServer({}, async (server) => {
      const sdk = new Sdk(server.endpoint, { ...LOCAL_SDK_OPTIONS, statisticsIntervalMs: 10 });
      let reports = 0;
      sdk.on('stats', () => reports++);
      const stream = await openProto(sdk);
      await ingestEvents(stream, 40);
      for (;;) {
        const [stats] = await once(sdk, 'stats');
        if (stats.streams[0]?.offsets.acked === 40) break;
      }
      sdk.close();
      // Reports queued before close() may still be on their way: wait for them, then for
      // 20 intervals in which none may come.
      await new Promise((resolve) => setTimeout(resolve, 50));
      const stopped = reports;
      await new Promise((resolve) => setTimeout(resolve, 200));
      assert.equal(reports, stopped, 'reports after close()');
      // The stream outlives the SDK's close().
      stream.ingest(encodeEvent(40, 'after close'));
      await stream.close();
      stream.destroy();
      assert.equal(server.rows().length, 41);
    }));

  test('SDKs with logging and statistics, collected, free everything', () =>
    withServer({}, async (server) => {
      const script = path.join(__dirname, 'fixtures', 'gc-sdks.js');
      const { stdout, stderr } = await new Promise((resolve, reject) =>
        execFile(
          process.execPath,
          ['--expose-gc', script, server.endpoint, '20'],
          { timeout: TEST_TIMEOUT_MS / 2, killSignal: 'SIGKILL' },
          (error, out, err) =>
            error ? reject(new Error(`${error}: ${err}`)) : resolve({ stdout: out, stderr: err }),
        ),
      );
      assert.equal(stderr, '');
      const { opened, freed, logged } = JSON.parse(stdout);
      // The closed half is freed already; the other half waits for the collector.
      assert.ok(opened.sdkHandles >= 10 && opened.notifiers >= 10, JSON.stringify(opened));
      assert.ok(logged > 0, 'the SDKs logged');
      assert.deepEqual(freed, { streamHandles: 0, wakers: 0, sdkHandles: 0, notifiers: 0 });
    }));
});
