'use strict';

// Arrow streams, with apache-arrow (an Arrow implementation independent of libzerobus) as the
// producer and the reader: batches it builds, of every type a Delta column maps to
// (docs/SCHEMAS.md, "Delta → Arrow"), with nulls, go through the binding into zerobus serve
// over Arrow Flight, and the stored rows are checked; what the library gives back (unacked)
// apache-arrow reads.
const assert = require('node:assert/strict');
const { test } = require('node:test');
const arrow = require('apache-arrow');
const { Sdk } = require('..');
const { assertZerobusError } = require('./support/assertions');
const { LOCAL_SDK_OPTIONS, startServer } = require('./support/server');

const TABLE = 'main.default.arrow_node';
const DDL =
  `${TABLE} (id BIGINT NOT NULL, b BOOLEAN, i8 TINYINT, i16 SMALLINT, i32 INT, f FLOAT, ` +
  'd DOUBLE, s STRING, ls STRING, bin BINARY, lbin BINARY, day DATE, ts TIMESTAMP, ' +
  'ntz TIMESTAMP_NTZ, dec DECIMAL(10,2), tags ARRAY<STRING>, ' +
  'loc STRUCT<lat: DOUBLE, lon: DOUBLE>, attrs MAP<STRING, BIGINT>)';
// A table whose acks the server withholds until the test is over.
const HELD = 'main.default.arrow_node_held';
const WAIT_MS = 30_000;

const field = (name, type, nullable = true) => new arrow.Field(name, type, nullable);
const SCHEMA = new arrow.Schema([
  field('id', new arrow.Int64(), false),
  field('b', new arrow.Bool()),
  field('i8', new arrow.Int8()),
  field('i16', new arrow.Int16()),
  field('i32', new arrow.Int32()),
  field('f', new arrow.Float32()),
  field('d', new arrow.Float64()),
  field('s', new arrow.Utf8()),
  field('ls', new arrow.LargeUtf8()),
  field('bin', new arrow.Binary()),
  field('lbin', new arrow.LargeBinary()),
  field('day', new arrow.DateDay()),
  field('ts', new arrow.TimestampMicrosecond('UTC')),
  field('ntz', new arrow.TimestampMicrosecond()),
  field('dec', new arrow.Decimal(2, 10, 128)),
  field('tags', new arrow.List(field('item', new arrow.Utf8()))),
  field(
    'loc',
    new arrow.Struct([field('lat', new arrow.Float64()), field('lon', new arrow.Float64())]),
  ),
  field(
    'attrs',
    new arrow.Map_(
      field(
        'entries',
        new arrow.Struct([
          field('key', new arrow.Utf8(), false),
          field('value', new arrow.Int64()),
        ]),
        false,
      ),
    ),
  ),
]);
const DAY_MS = 86_400_000;

/** A decimal128's unscaled value as apache-arrow's builder takes it: four little-endian
 *  32-bit words of the two's complement. */
function decimalWords(unscaled) {
  const bits = BigInt.asUintN(128, unscaled);
  return Uint32Array.from({ length: 4 }, (_, word) =>
    Number((bits >> BigInt(32 * word)) & 0xffffffffn),
  );
}

/** Row i as the batch holds it and as `zerobus rows` prints it: every column a value, or
 *  null on every fourth row (never id). */
function row(i) {
  const null_ = i % 4 === 3;
  const day = 20_428 - 400 * (i % 20); // 2025-12-06 and back
  const tsMs = Date.UTC(2026, 11, 6, 23, 0, i % 60, 123);
  const ntzMs = Date.UTC(1999, 0, 1) + i;
  const unscaled = BigInt((i % 2 ? -1 : 1) * (i * 100 + (i % 10)));
  const tags = Array.from({ length: i % 3 }, (_, j) => `t${j}`);
  const attrs = Array.from({ length: i % 3 }, (_, j) => [`k${j}`, j * i]);
  const lbin = new Uint8Array(i).fill(1);
  const columns = [
    // [name, the value given to apache-arrow, the value stored]
    ['b', i % 2 === 0, i % 2 === 0],
    ['i8', -128 + (i % 256), -128 + (i % 256)],
    ['i16', -32768 + i, -32768 + i],
    ['i32', 2 ** 31 - 1 - i, 2 ** 31 - 1 - i],
    ['f', 1.5 * i, 1.5 * i],
    ['d', -2.25e10 / (i + 1), -2.25e10 / (i + 1)],
    ['s', `s${i} Grüße ✓`, `s${i} Grüße ✓`],
    ['ls', 'large '.repeat(i), 'large '.repeat(i)],
    ['bin', Uint8Array.of(0, 255, i % 256), Buffer.from([0, 255, i % 256]).toString('base64')],
    ['lbin', lbin, Buffer.from(lbin).toString('base64')],
    ['day', new Date(day * DAY_MS), day],
    ['ts', tsMs, tsMs * 1000],
    ['ntz', ntzMs, ntzMs * 1000],
    ['dec', decimalWords(unscaled), (Number(unscaled) / 100).toFixed(2)],
    ['tags', tags, tags],
    [
      'loc',
      { lat: 52.5 + i, lon: i % 2 ? null : 13.4 },
      { lat: 52.5 + i, lon: i % 2 ? null : 13.4 },
    ],
    [
      'attrs',
      new Map(attrs.map(([key, value]) => [key, BigInt(value)])),
      Object.fromEntries(attrs),
    ],
  ];
  const given = { id: BigInt(i) };
  const stored = { id: i };
  for (const [name, value, storedValue] of columns) {
    given[name] = null_ ? null : value;
    stored[name] = null_ ? null : storedValue;
  }
  return { given, stored };
}

/** A RecordBatch of rows first .. first + count - 1, of SCHEMA. */
function batch(first, count, schema = SCHEMA) {
  const rows = Array.from({ length: count }, (_, k) => row(first + k).given);
  const children = schema.fields.map(
    ({ name, type }) =>
      arrow.vectorFromArray(
        rows.map((each) => each[name]),
        type,
      ).data[0],
  );
  const data = arrow.makeData({ type: new arrow.Struct(schema.fields), length: count, children });
  return new arrow.RecordBatch(schema, data);
}

const storedRows = (first, count) => Array.from({ length: count }, (_, k) => row(first + k).stored);

async function start(t, faults = []) {
  const server = await startServer({ tables: [DDL, DDL.replace(TABLE, HELD)], faults });
  t.after(() => server.stop());
  const sdk = new Sdk(server.endpoint, LOCAL_SDK_OPTIONS);
  t.after(() => sdk.close());
  return { server, sdk };
}

test('batches, tables and IPC bytes apache-arrow writes are stored as written', async (t) => {
  const { server, sdk } = await start(t);
  const stream = await sdk.openStream({ table: TABLE, arrow: SCHEMA });
  t.after(() => stream.destroy());
  assert.equal(stream.recordType, 'arrow');
  assert.equal(stream.ingestArrow(batch(0, 8)), 0);
  // A table of three batches, one of them empty (skipped): an offset for each of the others.
  assert.equal(stream.ingestArrow(new arrow.Table([batch(8, 3), batch(11, 0), batch(11, 4)])), 2);
  assert.equal(stream.ingestArrow(arrow.tableToIPC(new arrow.Table(batch(15, 5)), 'stream')), 3);
  await stream.close(WAIT_MS);
  assert.equal(stream.info().recordsAcked, 4);
  assert.deepEqual(server.rows(TABLE), storedRows(0, 20));
});

test('a stream opened from IPC schema bytes takes batches', async (t) => {
  const { server, sdk } = await start(t);
  const schemaBytes = arrow.tableToIPC(new arrow.Table(SCHEMA), 'stream');
  const stream = await sdk.openStream({ table: TABLE, arrow: schemaBytes });
  t.after(() => stream.destroy());
  assert.equal(stream.ingestArrow(batch(0, 3)), 0);
  assert.throws(
    () => stream.ingestArrow(new arrow.Table(SCHEMA)),
    (error) => assertZerobusError(error, 'ZB_ERR_EMPTY_BATCH'),
  );
  await stream.close(WAIT_MS);
  assert.deepEqual(server.rows(TABLE), storedRows(0, 3));
});

test('a schema that does not fit is refused naming the column', async (t) => {
  const { server, sdk } = await start(t);
  // SCHEMA with column `name` of `type` instead.
  const retyped = (name, type) =>
    new arrow.Schema(SCHEMA.fields.map((each) => (each.name === name ? field(name, type) : each)));
  const wrong = retyped('s', new arrow.Int64());
  await assert.rejects(
    sdk.openStream({ table: TABLE, arrow: wrong, options: { 'recovery.retries': 0 } }),
    (error) => {
      assertZerobusError(error, 'ZB_ERR_TRANSPORT');
      assert.match(/** @type {Error} */ (error).message, /column 's'/);
      return true;
    },
  );
  const stream = await sdk.openStream({ table: TABLE, arrow: SCHEMA });
  t.after(() => stream.destroy());
  // A batch of another schema than the stream's is refused naming the column that differs.
  const other = batch(0, 2, retyped('b', new arrow.Int64())); // true and false as 1 and 0
  assert.throws(
    () => stream.ingestArrow(other),
    (error) => {
      assertZerobusError(error, 'ZB_ERR_INVALID_SCHEMA');
      assert.match(/** @type {Error} */ (error).message, /'b'/);
      return true;
    },
  );
  assert.throws(
    () => stream.ingest('{"id": 1}'),
    (error) => assertZerobusError(error, 'ZB_ERR_RECORD_TYPE'),
  );
  assert.equal(stream.ingestArrow(batch(0, 1)), 0); // the stream goes on
  await stream.close(WAIT_MS);
  const json = await sdk.openStream({ table: TABLE });
  t.after(() => json.destroy());
  assert.throws(
    () => json.ingestArrow(batch(0, 1)),
    (error) => assertZerobusError(error, 'ZB_ERR_RECORD_TYPE'),
  );
  // @ts-expect-error rows are no Arrow batches
  assert.throws(() => json.ingestArrow({ rows: [] }), TypeError);
  assert.deepEqual(server.rows(TABLE), storedRows(0, 1));
});

test('unacknowledged batches are IPC streams apache-arrow reads back', async (t) => {
  const { sdk } = await start(t, [`${HELD}:withhold_acks=true`]);
  const stream = await sdk.openStream({ table: HELD, arrow: SCHEMA });
  t.after(() => stream.destroy());
  const sent = [batch(0, 4), batch(10, 3)];
  assert.deepEqual(
    sent.map((each) => stream.ingestArrow(each)),
    [0, 1],
  );
  await assert.rejects(stream.close(200), (error) => assertZerobusError(error, 'ZB_ERR_TIMEOUT'));
  const unacked = stream.unacked();
  assert.deepEqual(
    unacked.map(({ offset }) => offset),
    [0, 1],
  );
  unacked.forEach(({ record }, k) => {
    const read = arrow.tableFromIPC(record);
    assert.deepEqual(
      read.schema.fields.map(({ name, type }) => [name, String(type)]),
      SCHEMA.fields.map(({ name, type }) => [name, String(type)]),
    );
    assert.equal(read.numRows, sent[k].numRows);
    assert.deepEqual(read.getChild('id')?.toArray(), sent[k].getChild('id')?.toArray());
    assert.deepEqual(read.getChild('s')?.toArray(), sent[k].getChild('s')?.toArray());
  });
});
