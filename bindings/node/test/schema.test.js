'use strict';

// Schema: the record type the library derives from a table's DDL, its JSON encoder, and a
// stream opened from it.
const assert = require('node:assert/strict');
const { test } = require('node:test');
const { Schema, Sdk } = require('..');
const { assertZerobusError } = require('./support/assertions');
const { EVENTS_DDL, EVENTS_TABLE, LOCAL_SDK_OPTIONS, startServer } = require('./support/server');

test('a DDL schema names its table, describes its record and encodes JSON', () => {
  const schema = Schema.fromDdl(EVENTS_DDL);
  assert.equal(schema.tableName, EVENTS_TABLE);
  assert.ok(schema.descriptor().length > 0);
  assert.match(schema.protoSource(), /payload/);
  // Field 1 a varint, field 2 length-delimited; objects and JSON text alike.
  const expected = Buffer.from([0x08, 0x05, 0x12, 0x04, ...Buffer.from('five')]);
  assert.deepEqual(schema.encodeJson({ id: 5, payload: 'five' }), expected);
  assert.deepEqual(schema.encodeJson('{"id": 5, "payload": "five"}'), expected);
  // A record longer than its JSON text is encoded whole.
  const long = 'x'.repeat(300);
  assert.ok(schema.encodeJson({ payload: long }).subarray(-300).equals(Buffer.from(long)));
});

test('what the library refuses throws its ZerobusError', () => {
  const schema = Schema.fromDdl(EVENTS_DDL);
  assert.throws(
    () => schema.encodeJson({ id: 'five' }),
    (error) => assertZerobusError(error, 'ZB_ERR_INVALID_RECORD'),
  );
  assert.throws(
    () => Schema.fromDdl('main.default (id BIGINT)'),
    (error) => assertZerobusError(error, 'ZB_ERR_INVALID_SCHEMA'),
  );
  assert.throws(() => new /** @type {any} */ (Schema)({}), TypeError);
});

test("a stream of the table's schema takes JSON records and protobuf", async (t) => {
  const server = await startServer();
  t.after(() => server.stop());
  const sdk = new Sdk(server.endpoint, LOCAL_SDK_OPTIONS);
  t.after(() => sdk.close());
  const schema = Schema.fromDdl(EVENTS_DDL);
  const stream = await sdk.openStream({ table: EVENTS_TABLE, descriptor: schema });
  assert.equal(stream.recordType, 'proto');
  stream.ingest({ id: 1, payload: 'one' });
  assert.throws(
    () => stream.ingest('{"id": "two"}'),
    (error) => assertZerobusError(error, 'ZB_ERR_INVALID_RECORD'),
  );
  stream.ingestBatch(['{"id": 2}']);
  assert.equal(stream.ingest(schema.encodeJson({ id: 3, payload: 'three' })), 2);
  await stream.close(30_000);
  assert.deepEqual(server.rows(EVENTS_TABLE), [
    { id: 1, payload: 'one' },
    { id: 2, payload: null },
    { id: 3, payload: 'three' },
  ]);
  await assert.rejects(
    sdk.openStream({ table: 'main.default.other', descriptor: schema }),
    TypeError,
  );
});
