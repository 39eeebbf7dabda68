'use strict';

// Mutual TLS: a `zerobus serve --tls` that requires client certificates signed by its own
// authority accepts the client certificate it made, given through the typed TLS options, and refuses
// a stream without one.
const assert = require('node:assert/strict');
const path = require('node:path');
const { after, before, describe, test } = require('node:test');
const { Sdk } = require('..');
const { assertZerobusError } = require('./support/assertions');
const { EVENTS_TABLE, startServer } = require('./support/server');

describe('mutual TLS', { timeout: 60_000 }, () => {
  let server;
  before(async () => {
    server = await startServer({ mutualTls: true });
  });
  after(() => server?.stop());

  test('a client certificate opens a stream; none is refused', async () => {
    const caFile = path.join(server.dataDir, 'ca.pem');
    const sdk = new Sdk(server.endpoint, {
      tlsCaFile: caFile,
      tlsCertFile: path.join(server.dataDir, 'client.pem'),
      tlsKeyFile: path.join(server.dataDir, 'client-key.pem'),
    });
    const stream = await sdk.openStream({ table: EVENTS_TABLE });
    for (let id = 0; id < 10; id++) stream.ingest({ id, payload: `tls ${id}` });
    await stream.close();
    stream.destroy();
    assert.deepEqual(
      server.rows().map((row) => Number(row.id)),
      [...Array(10).keys()],
    );
    sdk.close();

    const without = new Sdk(server.endpoint, { tlsCaFile: caFile });
    await assert.rejects(
      without.openStream({ table: EVENTS_TABLE, options: { 'recovery.retries': 0 } }),
      (error) => assertZerobusError(error, 'ZB_ERR_TRANSPORT', { grpcStatus: 14 }),
    );
    without.close();

    assert.throws(
      () =>
        new Sdk(server.endpoint, {
          tlsCaFile: caFile,
          tlsCertFile: path.join(server.dataDir, 'client.pem'),
        }),
      (error) => assertZerobusError(error, 'ZB_ERR_INVALID_VALUE'),
    );
  });
});
