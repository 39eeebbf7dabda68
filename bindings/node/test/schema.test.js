'use strict';

// Schema: the record type the library derives from a table's DDL, and its JSON encoder.
const assert = require('node:assert/strict');
const { test } = require('node:test');
const { Schema } = require('..');
const { assertZerobusError } = require('./support/assertions');
const { EVENTS_DDL, EVENTS_TABLE } = require('./support/server');

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
