'use strict';

// Runs `zerobus serve` for a test: a fresh data directory, port 0, and the addresses read
// from its ready file. The binary comes from ZEROBUS_SERVE_BIN; without it a test fails.
const { spawn, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const EVENTS_TABLE = 'bench.default.events';
const EVENTS_DDL = `${EVENTS_TABLE} (id BIGINT, payload STRING)`;
const START_TIMEOUT_MS = 15_000;
/** The SDK options for a local server, which speaks plaintext HTTP/2. */
const LOCAL_SDK_OPTIONS = Object.freeze({ 'transport.plaintext': true });

function serverBinary() {
  const bin = process.env.ZEROBUS_SERVE_BIN;
  if (!bin) throw new Error('ZEROBUS_SERVE_BIN must name the zerobus binary (PREFIX/bin/zerobus)');
  fs.accessSync(bin, fs.constants.X_OK);
  return bin;
}

/**
 * The addresses `zerobus serve --ready-file` writes once it listens. The server writes the file
 * whole by a rename, so a file that exists is complete; an absent one is cheap to look for again.
 */
async function readReadyFile(readyFile, exitStatus, stderr) {
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    try {
      return JSON.parse(fs.readFileSync(readyFile, 'utf8'));
    } catch (error) {
      if (/** @type {NodeJS.ErrnoException} */ (error).code !== 'ENOENT') throw error;
    }
    const status = exitStatus();
    if (status) {
      const how = status.code ?? status.signal;
      throw new Error(`zerobus serve exited (${how}) at start-up; stderr: ${stderr()}`);
    }
    if (Date.now() > deadline) {
      throw new Error(`zerobus serve wrote no ready file in time; stderr: ${stderr()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/**
 * Starts a server. Options: tables (DDL strings; default the events table), faults
 * ('TABLE:K=V,...' plans), nullSink (store nothing), nice (the server's scheduling priority,
 * as nice(1) takes it), mutualTls (TLS with a self-signed authority that also signs the client
 * certificates it requires), extraArgs (more arguments of `zerobus serve`). Resolves to
 * { endpoint, workspaceUrl, adminUrl, dataDir, rows, stats, setFaults, clearFaults,
 * waitForRecords, stop }; with mutualTls, dataDir holds ca.pem, client.pem and client-key.pem.
 * @param {{ tables?: string[], faults?: string[], nullSink?: boolean, nice?: number,
 *   mutualTls?: boolean, extraArgs?: string[] }} [options]
 */
async function startServer({
  tables = [EVENTS_DDL],
  faults = [],
  nullSink = false,
  nice = 0,
  mutualTls = false,
  extraArgs = [],
} = {}) {
  const bin = serverBinary();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'zerobus-node-'));
  const args = ['serve', '--listen', '127.0.0.1:0', '--data-dir', dataDir];
  for (const table of tables) args.push('--table', table);
  for (const fault of faults) args.push('--fault', fault);
  if (nullSink) args.push('--null-sink');
  if (mutualTls) args.push('--tls', '--tls-client-ca', path.join(dataDir, 'ca.pem'));
  args.push(...extraArgs);
  const readyFile = path.join(dataDir, 'ready.json');
  args.push('--ready-file', readyFile);
  const child = spawn(bin, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  if (nice !== 0 && child.pid !== undefined) os.setPriority(child.pid, nice);
  let exitStatus;
  const exited = new Promise((resolve) =>
    child.once('exit', (code, signal) => resolve((exitStatus = { code, signal }))),
  );
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk) => (stderr += chunk));

  let ready;
  try {
    ready = await readReadyFile(
      readyFile,
      () => exitStatus,
      () => stderr,
    );
  } catch (error) {
    child.kill('SIGKILL');
    fs.rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
  const endpoint = ready.grpc.url;
  const adminUrl = ready.admin.url;

  return {
    endpoint,
    /** The workspace: the Unity Catalog tables API and /oidc/v1/token. */
    workspaceUrl: ready.http.url,
    adminUrl,
    dataDir,
    /** The rows stored in `table`, parsed, oldest first. */
    rows(table = EVENTS_TABLE) {
      const out = execFileSync(bin, ['rows', table, '--data-dir', dataDir], {
        encoding: 'utf8',
        maxBuffer: 1 << 30,
      });
      return out
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => JSON.parse(line));
    },
    /** The server's counters (GET /admin/stats). */
    async stats() {
      const response = await fetch(`${adminUrl}/admin/stats`);
      return response.json();
    },
    /** Sets the table's fault plan (PUT /admin/faults/TABLE), e.g. { withhold_acks: true }. */
    async setFaults(plan, table = EVENTS_TABLE) {
      const response = await fetch(`${adminUrl}/admin/faults/${table}`, {
        method: 'PUT',
        body: JSON.stringify(plan),
      });
      if (!response.ok) throw new Error(`PUT /admin/faults: ${await response.text()}`);
    },
    /** Removes the table's fault plan (DELETE /admin/faults/TABLE). */
    async clearFaults(table = EVENTS_TABLE) {
      const response = await fetch(`${adminUrl}/admin/faults/${table}`, { method: 'DELETE' });
      if (!response.ok) throw new Error(`DELETE /admin/faults: ${await response.text()}`);
    },
    /** Resolves once the server accepted at least `count` records into `table` (its stats);
     *  rejects after `timeoutMs`. */
    async waitForRecords(count, table = EVENTS_TABLE, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const stats = /** @type {{ tables: Record<string, { records: number }> }} */ (
          await this.stats()
        );
        const accepted = stats.tables[table]?.records ?? 0;
        if (accepted >= count) return;
        if (Date.now() > deadline) throw new Error(`${accepted} records, not ${count}, in time`);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    },
    async stop() {
      child.kill('SIGTERM');
      const { code, signal } = await exited;
      fs.rmSync(dataDir, { recursive: true, force: true });
      if (code !== 0) throw new Error(`zerobus serve ended with ${code ?? signal}: ${stderr}`);
    },
  };
}

module.exports = { startServer, serverBinary, EVENTS_TABLE, EVENTS_DDL, LOCAL_SDK_OPTIONS };
