'use strict';

// Token federation against `zerobus serve --federation-key`: the stream's subjectToken, an
// async function, resolves to a JWT that `zerobus idp` signs (no crypto code here), and the
// library exchanges it for the stream's token. The library asks for it on a thread of its own,
// which waits for the promise.
const assert = require('node:assert/strict');
const { execFile, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { promisify } = require('node:util');
const { after, before, describe, test } = require('node:test');
const { Sdk } = require('..');
const { assertZerobusError } = require('./support/assertions');
const { EVENTS_TABLE, LOCAL_SDK_OPTIONS, serverBinary, startServer } = require('./support/server');

/** `zerobus idp`: a key pair in a directory of its own, and JWTs signed with it. */
function identityProvider() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zerobus-idp-'));
  execFileSync(serverBinary(), ['idp', 'keygen', dir]);
  return {
    dir,
    publicKey: path.join(dir, 'idp.pem'),
    /** A JWT good for ten minutes, signed without blocking the event loop. */
    async sign() {
      const { stdout } = await promisify(execFile)(serverBinary(), [
        'idp',
        'sign',
        path.join(dir, 'idp-key.pem'),
      ]);
      return stdout.trim();
    },
  };
}

describe('token federation', { timeout: 60_000 }, () => {
  const trusted = identityProvider();
  const other = identityProvider();
  /** @type {Awaited<ReturnType<typeof startServer>>} */
  let server;
  /** @type {Sdk} */
  let sdk;
  before(async () => {
    server = await startServer({ extraArgs: ['--federation-key', trusted.publicKey] });
    sdk = new Sdk(server.endpoint, {
      ...LOCAL_SDK_OPTIONS,
      'workspace.url': server.workspaceUrl,
    });
  });
  after(async () => {
    sdk?.close();
    await server?.stop();
    for (const idp of [trusted, other]) fs.rmSync(idp.dir, { recursive: true, force: true });
  });

  test("a JWT of the server's identity provider opens the stream", async () => {
    let calls = 0;
    const stream = await sdk.openStream({
      table: EVENTS_TABLE,
      subjectToken: () => {
        calls += 1;
        return trusted.sign();
      },
    });
    for (let id = 0; id < 10; id++) stream.ingest({ id, payload: `federated ${id}` });
    await stream.close();
    stream.destroy();
    assert.equal(calls, 1);
    assert.deepEqual(
      server.rows().map((row) => Number(row.id)),
      [...Array(10).keys()],
    );
  });

  test('another provider, a rejection, a throw or no string is refused with ZB_ERR_AUTH', async () => {
    const refusals = {
      "another provider's JWT": () => other.sign(),
      'a rejection': () => Promise.reject(new Error('no token today')),
      'a throw': () => {
        throw new Error('the provider broke');
      },
      'no string': async () => /** @type {string} */ (/** @type {unknown} */ (42)),
    };
    for (const [what, subjectToken] of Object.entries(refusals)) {
      await assert.rejects(
        sdk.openStream({
          table: EVENTS_TABLE,
          subjectToken,
          options: { 'recovery.retries': 0 },
        }),
        (error) => assertZerobusError(error, 'ZB_ERR_AUTH'),
        what,
      );
    }
  });

  test('subjectToken must be a function', async () => {
    await assert.rejects(
      sdk.openStream({
        table: EVENTS_TABLE,
        subjectToken: /** @type {any} */ ('a.b.c'),
      }),
      TypeError,
    );
  });
});
