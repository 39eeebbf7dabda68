'use strict';

const assert = require('node:assert/strict');
const { Status, ZerobusError } = require('../..');

/**
 * Asserts that `error` is a ZerobusError with `code`, its numeric status, and the `expected`
 * values of other properties. Returns true, as assert.throws() and assert.rejects() want.
 * @param {unknown} error
 * @param {import('../..').ErrorCode} code
 * @param {{ retryable?: boolean, grpcStatus?: number | null, firstOffset?: number,
 *   lastOffset?: number }} [expected]
 */
function assertZerobusError(error, code, expected = {}) {
  assert.ok(error instanceof ZerobusError, `expected a ZerobusError, got ${error}`);
  assert.equal(error.name, 'ZerobusError');
  assert.equal(error.code, code);
  assert.equal(error.status, Status[code]);
  for (const [key, value] of Object.entries(expected)) assert.equal(error[key], value, key);
  return true;
}

module.exports = { assertZerobusError };
