'use strict';

// Ingestion of protobuf and JSON records against `zerobus serve`, with the stored rows read
// back; the Promise results, the ack events and the errors of misuse.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { after, before, describe, test } = require('node:test');
const { Sdk, Status, version } = require('..');
const { assertZerobusError } = require('./support/assertions');
const { EVENTS_TABLE, LOCAL_SDK_OPTIONS, startServer } = require('./support/server');
const { EVENT_DESCRIPTOR, encodeEvent } = require('./support/records');

const TEST_TIMEOUT_MS = 60_000;

describe('ingestion', { timeout: TEST_TIMEOUT_MS }, () => {
  let server;
  let sdk;

  before(async () => {
    server = await startServer();
    sdk = new Sdk(server.endpoint, LOCAL_SDK_OPTIONS);
  });
  after(() => server?.stop());

  test('the library version and every status code come from the loaded library', () => {
    assert.match(version(), /^\d+\.\d+\.\d+$/);
    assert.equal(Status.ZB_OK, 0);
    assert.equal(Status.ZB_ERR_QUEUE_FULL, 4);
    // index.d.ts declares exactly the codes of the library, in order.
    const declarations = fs.readFileSync(path.join(__dirname, '..', 'index.d.ts'), 'utf8');
    const declared = [...declarations.matchAll(/^ {2}\| '(ZB_[A-Z_]+)'/gm)].map(
      (match) => match[1],
    );
    assert.deepEqual(declared, Object.keys(Status));
  });

  test('protobuf records: offsets in order, acked() and flush() resolve, rows stored', async () => {
    const stream = await sdk.openStream({ table: EVENTS_TABLE, descriptor: EVENT_DESCRIPTOR });
    assert.equal(stream.recordType, 'proto');
    assert.equal(stream.table, EVENTS_TABLE);
    const offsets = [];
    for (let id = 0; id < 500; id++) offsets.push(stream.ingest(encodeEvent(id, `proto-${id}`)));
    assert.deepEqual(
      offsets,
      offsets.map((_, i) => i),
    );
    const lastOfBatch = stream.ingestBatch([
      encodeEvent(500, 'batch-500'),
      new Uint8Array(encodeEvent(501, 'batch-501')),
    ]);
    assert.equal(lastOfBatch, 501);
    assert.equal(await stream.acked(250), undefined);
    assert.equal(await stream.waitForOffset(501), undefined);
    assert.equal(await stream.flush(), undefined);
    const info = stream.info();
    assert.equal(info.state, 'open');
    assert.equal(info.recordsAccepted, 502);
    assert.equal(info.recordsAcked, 502);
    assert.equal(info.recordsInFlight, 0);
    assert.deepEqual(stream.unacked(), []);
    assert.equal(await stream.close(), undefined);
    assert.equal(stream.info().state, 'closed');
    stream.destroy();

    const rows = server
      .rows()
      .filter((row) => row.payload.startsWith('proto-') || row.payload.startsWith('batch-'));
    assert.equal(rows.length, 502);
    rows.forEach((row, i) => {
      assert.equal(Number(row.id), i);
      assert.equal(row.payload, i < 500 ? `proto-${i}` : `batch-${i}`);
    });
  });

  test('lanes: one offset space and cumulative acks over 8 server streams', async () => {
    const stream = await sdk.openStream({ table: EVENTS_TABLE, options: { 'stream.lanes': 8 } });
    const acks = [];
    stream.on('ack', (ack) => acks.push(ack));
    for (let id = 0; id < 1000; id++) {
      assert.equal(stream.ingest({ id: -1 - id, payload: 'laned' }), id);
    }
    await stream.close();
    stream.destroy();
    let next = 0;
    for (const ack of acks) {
      assert.equal(ack.firstOffset, next);
      next = ack.lastOffset + 1;
    }
    assert.equal(next, 1000);
    // Rows of different lanes land in no particular order: every id once (negative ids, which
    // the other tests' filters leave out).
    const ids = server
      .rows()
      .filter((row) => row.payload === 'laned')
      .map((row) => -1 - Number(row.id))
      .sort((a, b) => a - b);
    assert.deepEqual(
      ids,
      ids.map((_, i) => i),
    );
    assert.equal(ids.length, 1000);
  });

  test('JSON records: objects, strings and UTF-8 bytes, one by one and in a batch', async () => {
    const stream = await sdk.openStream({ table: EVENTS_TABLE });
    assert.equal(stream.recordType, 'json');
    assert.equal(stream.ingest({ id: 10_000, payload: 'json-object' }), 0);
    assert.equal(stream.ingest('{"id": 10001, "payload": "json-string"}'), 1);
    assert.equal(stream.ingest(Buffer.from('{"id": 10002, "payload": "json-bytes ✓"}')), 2);
    assert.equal(
      stream.ingestBatch([
        { id: 10_003, payload: 'json-batch' },
        '{"id": 10004, "payload": "json-batch"}',
      ]),
      4,
    );
    await stream.close();
    stream.destroy();

    const rows = server.rows().filter((row) => Number(row.id) >= 10_000);
    assert.deepEqual(
      rows.map((row) => [Number(row.id), row.payload]),
      [
        [10_000, 'json-object'],
        [10_001, 'json-string'],
        [10_002, 'json-bytes ✓'],
        [10_003, 'json-batch'],
        [10_004, 'json-batch'],
      ],
    );
  });

  test('ack events arrive in order, contiguous, and cover every record', async () => {
    const stream = await sdk.openStream({ table: EVENTS_TABLE, descriptor: EVENT_DESCRIPTOR });
    const acks = [];
    stream.on('ack', (event) => acks.push(event));
    const total = 20_000;
    const settled = [];
    for (let id = 0; id < total; id++) {
      const offset = stream.ingest(encodeEvent(20_000 + id, 'ordered'));
      if (offset % 1000 === 999) settled.push(stream.acked(offset).then(() => offset));
      // Let acks arrive while records are still being ingested.
      if (id % 2000 === 1999) await new Promise((resolve) => setImmediate(resolve));
    }
    const resolvedOrder = [];
    await Promise.all(
      settled.map((promise) => promise.then((offset) => resolvedOrder.push(offset))),
    );
    await stream.flush();
    assert.ok(acks.length >= 1);
    assert.equal(acks[0].firstOffset, 0);
    for (let i = 1; i < acks.length; i++) {
      assert.equal(acks[i].firstOffset, acks[i - 1].lastOffset + 1, `ack ${i} is contiguous`);
      assert.ok(acks[i].lastOffset >= acks[i].firstOffset);
    }
    assert.equal(acks.at(-1).lastOffset, total - 1);
    assert.deepEqual(
      resolvedOrder,
      [...resolvedOrder].sort((a, b) => a - b),
    );
    assert.equal(resolvedOrder.length, total / 1000);
    await stream.close();
    stream.destroy();
  });

  test('acked() of an offset that is already durable resolves, one never issued rejects', async () => {
    const stream = await sdk.openStream({ table: EVENTS_TABLE, descriptor: EVENT_DESCRIPTOR });
    await assert.rejects(stream.acked(0), (error) =>
      assertZerobusError(error, 'ZB_ERR_INVALID_ARG'),
    );
    const offset = stream.ingest(encodeEvent(30_000, 'early'));
    await stream.flush();
    assert.equal(await stream.acked(offset), undefined);
    await assert.rejects(stream.acked(offset + 1), (error) =>
      assertZerobusError(error, 'ZB_ERR_INVALID_ARG'),
    );
    await assert.rejects(stream.acked(-1), (error) =>
      assertZerobusError(error, 'ZB_ERR_INVALID_ARG'),
    );
    await assert.rejects(stream.waitForOffset(offset + 5), (error) =>
      assertZerobusError(error, 'ZB_ERR_INVALID_ARG'),
    );
    await stream.close();
    stream.destroy();
  });

  test('misuse throws ZerobusErrors and TypeErrors with the right codes', async () => {
    assert.throws(
      () => new Sdk(server.endpoint, { ...LOCAL_SDK_OPTIONS, 'no.such.key': 1 }),
      (error) => assertZerobusError(error, 'ZB_ERR_UNKNOWN_KEY'),
    );
    assert.throws(
      () => new Sdk(server.endpoint, { ...LOCAL_SDK_OPTIONS, 'grpc.keepalive.time.ms': 'soon' }),
      (error) => assertZerobusError(error, 'ZB_ERR_INVALID_VALUE'),
    );
    await assert.rejects(
      sdk.openStream({ table: EVENTS_TABLE, options: { 'stream.ingest.timeout.ms': 100 } }),
      TypeError,
    );
    await assert.rejects(
      sdk.openStream({ table: 'no-dots', descriptor: EVENT_DESCRIPTOR }),
      (error) => assertZerobusError(error, 'ZB_ERR_INVALID_TARGET'),
    );

    const proto = await sdk.openStream({ table: EVENTS_TABLE, descriptor: EVENT_DESCRIPTOR });
    assert.throws(
      () => proto.ingest({ id: 1 }),
      (error) => assertZerobusError(error, 'ZB_ERR_RECORD_TYPE'),
    );
    assert.throws(
      () => proto.ingest('{}'),
      (error) => assertZerobusError(error, 'ZB_ERR_RECORD_TYPE'),
    );
    assert.throws(
      () => proto.ingest(Buffer.alloc(0)),
      (error) => assertZerobusError(error, 'ZB_ERR_EMPTY_RECORD'),
    );
    assert.throws(
      () => proto.ingestBatch([]),
      (error) => assertZerobusError(error, 'ZB_ERR_EMPTY_BATCH'),
    );
    assert.throws(() => proto.ingest(42), TypeError);
    assert.throws(() => proto.ingest([1, 2]), TypeError);
    assert.throws(() => proto.ingest(new Uint16Array(2)), TypeError);
    await assert.rejects(proto.flush(1.5), RangeError);
    await proto.close();
    assert.throws(
      () => proto.ingest(encodeEvent(1, 'late')),
      (error) => assertZerobusError(error, 'ZB_ERR_CLOSED'),
    );
    proto.destroy();
    proto.destroy();
    assert.throws(
      () => proto.info(),
      (error) => assertZerobusError(error, 'ZB_ERR_STATE'),
    );
    assert.throws(
      () => proto.ingest(encodeEvent(1, 'late')),
      (error) => assertZerobusError(error, 'ZB_ERR_STATE'),
    );
  });

  test('a full window throws ZB_ERR_QUEUE_FULL at once; a timed-out close reports the rest', async () => {
    const withheld = await startServer({ faults: [`${EVENTS_TABLE}:withhold_acks=true`] });
    try {
      const stream = await new Sdk(withheld.endpoint, LOCAL_SDK_OPTIONS).openStream({
        table: EVENTS_TABLE,
        descriptor: EVENT_DESCRIPTOR,
        options: { 'stream.max.inflight.records': 10 },
      });
      const errors = [];
      stream.on('error', (error) => errors.push(error));
      for (let id = 0; id < 10; id++) stream.ingest(encodeEvent(id, 'withheld'));
      const started = process.hrtime.bigint();
      assert.throws(
        () => stream.ingest(encodeEvent(10, 'one too many')),
        (error) => assertZerobusError(error, 'ZB_ERR_QUEUE_FULL', { retryable: true }),
      );
      assert.ok(process.hrtime.bigint() - started < 20_000_000n, 'QUEUE_FULL came at once');
      // Settled by close() below: its handler is attached now.
      const pending = assert.rejects(stream.acked(3), (error) =>
        assertZerobusError(error, 'ZB_ERR_TIMEOUT', { firstOffset: 0, lastOffset: 9 }),
      );
      await assert.rejects(stream.flush(200), (error) =>
        assertZerobusError(error, 'ZB_ERR_TIMEOUT'),
      );
      await assert.rejects(stream.close(200), (error) =>
        assertZerobusError(error, 'ZB_ERR_TIMEOUT'),
      );
      await pending;
      assert.equal(errors.length, 1);
      assert.equal(errors[0].firstOffset, 0);
      assert.equal(errors[0].lastOffset, 9);
      await assert.rejects(stream.acked(9), (error) => error === errors[0]);
      const left = stream.unacked();
      assert.deepEqual(
        left.map((record) => record.offset),
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
      );
      assert.deepEqual(left[4].record, encodeEvent(4, 'withheld'));
      stream.destroy();
    } finally {
      await withheld.stop();
    }
  });

  test('Symbol.asyncDispose (await using) closes and destroys the stream', async () => {
    // Node 20 has the symbol but not the `await using` syntax: call what it calls.
    const stream = await sdk.openStream({ table: EVENTS_TABLE });
    stream.ingest({ id: 40_000, payload: 'disposed' });
    await stream[Symbol.asyncDispose]();
    assert.throws(
      () => stream.info(),
      (error) => assertZerobusError(error, 'ZB_ERR_STATE'),
    );
    assert.ok(server.rows().some((row) => row.payload === 'disposed'));
  });
});
