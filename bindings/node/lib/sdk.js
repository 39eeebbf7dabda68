'use strict';

const { EventEmitter } = require('node:events');
const { binding } = require('./native');
const { Stream, kCreate } = require('./stream');
const { PersistentStreams } = require('./persistent');
const { Schema, kNative } = require('./schema');
const { schemaIpc } = require('./arrow');

const INGEST_TIMEOUT_KEY = 'stream.ingest.timeout.ms';
const APPLICATION_NAME_KEY = 'sdk.application.name';
const FEDERATION_CLIENT_ID_KEY = 'auth.federation.client.id';
// The library's key of each typed TLS option.
const TLS_KEYS = Object.freeze({
  tlsCaFile: 'tls.ca.file',
  tlsCa: 'tls.ca.pem',
  tlsCertFile: 'tls.cert.file',
  tlsCert: 'tls.cert.pem',
  tlsKeyFile: 'tls.key.file',
  tlsKey: 'tls.key.pem',
  tlsServerName: 'tls.server.name',
});
// The binding's part of the user-agent: the library puts its own name and version before it,
// the application's name comes after it.
const BINDING_NAME = `node/${process.versions.node}`;

/** Delivers a notice of the addon to the Sdk if it is still there. The addon's threadsafe
 *  function holds this closure strongly and the Sdk only weakly, so that an Sdk nobody uses
 *  can be collected (its streams keep it reachable while they live). */
function notifier(sdk) {
  const target = new WeakRef(sdk);
  return (kind, ...args) => target.deref()?.[kNotify](kind, ...args);
}

const kNotify = Symbol('zerobus.notify');

/** What the addon opens a stream with, and the stream's record type: a protobuf descriptor
 *  (Uint8Array), an Avro writer schema (string), the NativeSchema of a Schema of the table
 *  (as `descriptor`: a protobuf stream from it; as `avro`: an Avro one), an Arrow schema's
 *  IPC bytes, or null for JSON. */
function streamFormat(table, descriptor, avro, arrow) {
  const given = [descriptor, avro, arrow].filter((format) => format !== undefined).length;
  if (given > 1) {
    throw new TypeError('a stream takes one of descriptor (protobuf), avro and arrow');
  }
  if (arrow !== undefined) return { format: schemaIpc(arrow), recordType: 'arrow' };
  const recordType = avro !== undefined ? 'avro' : descriptor !== undefined ? 'proto' : 'json';
  const format = avro ?? descriptor;
  if (format === undefined) return { format: null, recordType };
  if (format instanceof Schema) {
    if (format.tableName !== table) {
      throw new TypeError(`the schema is that of ${format.tableName}, not of ${table}`);
    }
    return { format: format[kNative], recordType };
  }
  if (avro !== undefined && typeof avro !== 'string') {
    throw new TypeError('avro is an Avro writer schema (a string) or a Schema of the table');
  }
  return { format, recordType };
}

/** The addon calls `provide(settle)` on the JavaScript thread whenever a library thread needs
 *  a subject token, and that thread waits until settle(token) is called: with the string the
 *  user's provider resolved to, or with nothing when it threw, rejected or gave no string
 *  (a refused token, ZB_ERR_AUTH). */
function subjectTokenBridge(subjectToken) {
  return (settle) => {
    Promise.resolve()
      .then(() => subjectToken())
      .then(
        (token) => settle(typeof token === 'string' ? token : undefined),
        () => settle(undefined),
      );
  };
}

/** The options every call that talks to the service as a stream takes, as the addon takes
 *  them: the stream options (federationClientId among them) and the subject token bridge. */
function callArgs({ options, subjectToken, federationClientId }) {
  if (options != null && Object.hasOwn(options, INGEST_TIMEOUT_KEY)) {
    throw new TypeError(
      `${INGEST_TIMEOUT_KEY} is always 0 in Node: ingest never waits on the event loop`,
    );
  }
  if (subjectToken !== undefined && typeof subjectToken !== 'function') {
    throw new TypeError('subjectToken must be an async function returning the subject JWT');
  }
  if (federationClientId !== undefined) {
    options = { ...options, [FEDERATION_CLIENT_ID_KEY]: federationClientId };
  }
  return { options, provide: subjectToken && subjectTokenBridge(subjectToken) };
}

/** What the addon opens a stream with: callArgs(), the table, the format and record type. */
function streamArgs(streamOptions) {
  const { table, descriptor, avro, arrow } = streamOptions;
  const { options, provide } = callArgs(streamOptions);
  const { format, recordType } = streamFormat(table, descriptor, avro, arrow);
  return { table, format, options, provide, recordType };
}

/**
 * A Zerobus endpoint. Streams opened from one Sdk share one HTTP/2 connection. See index.d.ts.
 *
 * Log messages and statistics come from library threads through the addon's threadsafe
 * function, which queues them without waiting; here, on the JavaScript thread, they become
 * 'log' and 'stats' events.
 */
class Sdk extends EventEmitter {
  #native;
  /** @type {PersistentStreams | undefined} */
  #experimental;

  /** @param {string} endpoint @param {import('..').SdkOptions} [options] */
  constructor(endpoint, options) {
    super();
    const { logLevel, statisticsIntervalMs, applicationName, ...config } = options ?? {};
    for (const [option, key] of Object.entries(TLS_KEYS)) {
      if (!Object.hasOwn(config, option)) continue;
      const value = config[option];
      delete config[option];
      if (value !== undefined) config[key] = value;
    }
    const application = applicationName ?? config[APPLICATION_NAME_KEY];
    config[APPLICATION_NAME_KEY] =
      application == null || application === '' ? BINDING_NAME : `${BINDING_NAME} ${application}`;
    if (logLevel !== undefined) config['log.level'] = logLevel;
    if (statisticsIntervalMs !== undefined) config['statistics.interval.ms'] = statisticsIntervalMs;
    this.#native = new binding.NativeSdk(
      endpoint,
      config,
      notifier(this),
      logLevel !== undefined,
      statisticsIntervalMs !== undefined,
    );
  }

  /** @param {import('..').StreamOptions} streamOptions */
  async openStream(streamOptions) {
    const { table, format, options, provide, recordType } = streamArgs(streamOptions);
    const native = await this.#native.openStream(table, format, options, provide, recordType);
    return new Stream(kCreate, native, this, table, recordType);
  }

  /** Persistent streams, experimental as the library's are: see lib/persistent.js. */
  get experimental() {
    this.#experimental ??= new PersistentStreams(kCreate, this, this.#native, {
      streamArgs,
      callArgs,
    });
    return this.#experimental;
  }

  stats() {
    return JSON.parse(this.#native.statsJson());
  }

  close() {
    this.#native.close();
  }

  /** @internal The addon's notices: ('log', level, component, message) or ('stats', json). */
  [kNotify](kind, ...args) {
    const [name, value] =
      kind === 'log'
        ? ['log', { level: args[0], component: args[1], message: args[2] }]
        : ['stats', JSON.parse(args[0])];
    // A listener that throws must not cut the delivery of the notices after it.
    try {
      this.emit(name, value);
    } catch (error) {
      process.nextTick(() => {
        throw error;
      });
    }
  }
}

module.exports = { Sdk };
