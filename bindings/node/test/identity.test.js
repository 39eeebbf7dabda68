'use strict';

// How the binding names itself to the server: the library, then node/<Node version>, then the
// application, as zerobus serve counted them per table (what follows is the HTTP/2 client's own
// name, which depends on transport.engine and which the library's own tests check).
const assert = require('node:assert/strict');
const { test } = require('node:test');
const { Sdk, version } = require('..');
const { assertZerobusError } = require('./support/assertions');
const { EVENTS_DDL, EVENTS_TABLE, LOCAL_SDK_OPTIONS, startServer } = require('./support/server');

const NAMED_TABLE = 'bench.default.named';

test(
  'the server sees the library, the binding and the application',
  { timeout: 60_000 },
  async () => {
    const server = await startServer({
      tables: [EVENTS_DDL, `${NAMED_TABLE} (id BIGINT, payload STRING)`],
    });
    try {
      const prefix = `libzerobus/${version()} node/${process.versions.node}`;
      /** @type {{ table: string, options: import('..').SdkOptions, expected: string }[]} */
      const cases = [
        { table: EVENTS_TABLE, options: {}, expected: `${prefix} ` },
        {
          table: NAMED_TABLE,
          options: { applicationName: 'node-test/1.0' },
          expected: `${prefix} node-test/1.0 `,
        },
      ];
      for (const { table, options, expected } of cases) {
        const sdk = new Sdk(server.endpoint, { ...LOCAL_SDK_OPTIONS, ...options });
        const stream = await sdk.openStream({ table });
        await stream.close();
        sdk.close();
        /** @type {{ tables: Record<string, { user_agents: Record<string, number> }> }} */
        const stats = /** @type {any} */ (await server.stats());
        const agents = Object.entries(stats.tables[table].user_agents);
        assert.equal(agents.length, 1, JSON.stringify(agents));
        const [[agent, streams]] = agents;
        assert.ok(agent.startsWith(expected), `${agent}, want ${expected}...`);
        assert.equal(streams, 1);
      }
      assert.throws(
        () => new Sdk(server.endpoint, { ...LOCAL_SDK_OPTIONS, applicationName: 'two\nlines' }),
        (error) => assertZerobusError(error, 'ZB_ERR_INVALID_VALUE'),
      );
    } finally {
      await server.stop();
    }
  },
);
