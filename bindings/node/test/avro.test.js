'use strict';

// Avro streams, with avsc (an Avro implementation independent of libzerobus) as the oracle:
// the datums it writes go through the binding into zerobus serve, and the stored rows are
// checked.
const assert = require('node:assert/strict');
const { test } = require('node:test');
const avsc = require('avsc');
const { Schema, Sdk } = require('..');
const { assertZerobusError } = require('./support/assertions');
const { LOCAL_SDK_OPTIONS, startServer } = require('./support/server');

// A column of each kind of Avro type a Delta column maps to: a plain long, nullable
// primitives, logical types, bytes and an array.
const AVRO_TABLE = 'main.default.avro_node';
const AVRO_DDL =
  `${AVRO_TABLE} (id BIGINT NOT NULL, s STRING, d DOUBLE, day DATE, ts TIMESTAMP, ` +
  'raw BINARY, tags ARRAY<STRING>)';
const WAIT_MS = 30_000;

/** A stored row with every column of the table: `columns` set, the others null. */
function row(columns) {
  return { id: null, s: null, d: null, day: null, ts: null, raw: null, tags: null, ...columns };
}

/** Starts a server with the Avro table and an Sdk on it; both end with the test. */
async function start(t) {
  const server = await startServer({ tables: [AVRO_DDL] });
  t.after(() => server.stop());
  const sdk = new Sdk(server.endpoint, LOCAL_SDK_OPTIONS);
  t.after(() => sdk.close());
  return { server, sdk };
}

test('datums avsc writes are stored as written', async (t) => {
  const { server, sdk } = await start(t);
  const writer = Schema.fromDdl(AVRO_DDL).avro();
  assert.match(writer, /"logicalType":"timestamp-micros"/);
  // avsc reads the logical types as their underlying int and long.
  const type = avsc.Type.forSchema(JSON.parse(writer));
  const datums = [
    {
      id: 1,
      s: 'héllo',
      d: -2.25,
      day: 19782,
      ts: 1795512600250000,
      raw: Buffer.from([0, 1, 0xff]),
      tags: ['x', ''],
    },
    { id: -2, s: null, d: null, day: null, ts: null, raw: null, tags: null },
    { id: 3, s: null, d: null, day: null, ts: null, raw: null, tags: [] },
  ].map((record) => type.toBuffer(record));

  const stream = await sdk.openStream({ table: AVRO_TABLE, avro: writer });
  assert.equal(stream.recordType, 'avro');
  assert.equal(stream.ingest(datums[0]), 0);
  assert.equal(stream.ingestBatch(datums.slice(1)), 2);
  await stream.close(WAIT_MS);
  assert.deepEqual(server.rows(AVRO_TABLE), [
    row({
      id: 1,
      s: 'héllo',
      d: -2.25,
      day: 19782,
      ts: 1795512600250000,
      raw: 'AAH/',
      tags: ['x', ''],
    }),
    row({ id: -2 }),
    row({ id: 3, tags: [] }),
  ]);
});

test("a writer schema of the producer's own is read", async (t) => {
  const { server, sdk } = await start(t);
  // Another shape than the table's: int for BIGINT, a string that is not nullable, fields in
  // another order, columns left out.
  const writer = {
    type: 'record',
    name: 'Event',
    namespace: 'producer',
    fields: [
      { name: 's', type: 'string' },
      { name: 'id', type: 'int' },
    ],
  };
  const type = avsc.Type.forSchema(/** @type {any} */ (writer));
  const stream = await sdk.openStream({ table: AVRO_TABLE, avro: JSON.stringify(writer) });
  stream.ingestBatch([type.toBuffer({ s: 'a', id: 10 }), type.toBuffer({ s: 'b', id: -11 })]);
  await stream.close(WAIT_MS);
  assert.deepEqual(server.rows(AVRO_TABLE), [row({ id: 10, s: 'a' }), row({ id: -11, s: 'b' })]);
});

test('a writer schema that does not fit the table is refused naming the column', async (t) => {
  const { sdk } = await start(t);
  const writer = JSON.stringify({
    type: 'record',
    name: 'E',
    fields: [{ name: 'id', type: 'string' }],
  });
  await assert.rejects(
    sdk.openStream({ table: AVRO_TABLE, avro: writer, options: { 'recovery.enable': false } }),
    (error) =>
      assertZerobusError(error, 'ZB_ERR_TRANSPORT') &&
      /column 'id': the writer's type is string, the column is bigint/.test(
        /** @type {Error} */ (error).message,
      ),
  );
  await assert.rejects(sdk.openStream({ table: AVRO_TABLE, avro: '"string"' }), (error) =>
    assertZerobusError(error, 'ZB_ERR_INVALID_TARGET'),
  );
  await assert.rejects(
    sdk.openStream({ table: 'main.default.other', avro: Schema.fromDdl(AVRO_DDL) }),
    TypeError,
  );
});

test("a stream of the table's schema takes JSON records and datums", async (t) => {
  const { server, sdk } = await start(t);
  const schema = Schema.fromDdl(AVRO_DDL);
  const stream = await sdk.openStream({ table: AVRO_TABLE, avro: schema });
  const type = avsc.Type.forSchema(JSON.parse(schema.avro()));
  const datum = type.toBuffer({
    id: 8,
    s: null,
    d: 0.5,
    day: null,
    ts: null,
    raw: null,
    tags: null,
  });

  stream.ingest({ id: 5, day: '2024-02-29', tags: ['a'] });
  assert.throws(
    () => stream.ingest('{"id": "five"}'),
    (error) => assertZerobusError(error, 'ZB_ERR_INVALID_RECORD'),
  );
  stream.ingestBatch(['{"id": 6, "s": "six"}', { id: 7, raw: 'AAH/' }]);
  assert.throws(() => stream.ingestBatch([datum, { id: 9 }]), TypeError);
  assert.equal(stream.ingest(datum), 3);
  await stream.close(WAIT_MS);
  assert.deepEqual(stream.unacked(), []);
  assert.deepEqual(server.rows(AVRO_TABLE), [
    row({ id: 5, day: 19782, tags: ['a'] }),
    row({ id: 6, s: 'six' }),
    row({ id: 7, raw: 'AAH/' }),
    row({ id: 8, d: 0.5 }),
  ]);
});
