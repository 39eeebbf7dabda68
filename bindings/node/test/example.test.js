'use strict';

// The example runs as a user would run it and stores what it says.
const assert = require('node:assert/strict');
const { execFile } = require('node:child_process');
const path = require('node:path');
const { test } = require('node:test');
const { EVENTS_TABLE, startServer } = require('./support/server');

test('example/ingest.js streams its records into the table', { timeout: 60_000 }, async () => {
  const server = await startServer();
  try {
    const { stdout } = await new Promise((resolve, reject) => {
      execFile(
        process.execPath,
        [path.join(__dirname, '..', 'example', 'ingest.js'), server.endpoint, EVENTS_TABLE, '2500'],
        { timeout: 30_000 },
        (error, out, err) =>
          error ? reject(new Error(`${error.message}\n${err}`)) : resolve({ stdout: out }),
      );
    });
    assert.match(stdout, /durable up to offset 2499/);
    assert.match(stdout, /2500 records ingested into bench\.default\.events/);
    const rows = server.rows();
    assert.equal(rows.length, 2500);
    assert.deepEqual(rows[1234], { id: 1234, payload: 'event 1234' });
  } finally {
    await server.stop();
  }
});
