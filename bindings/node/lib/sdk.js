'use strict';

const { binding } = require('./native');
const { Stream, kCreate } = require('./stream');

const INGEST_TIMEOUT_KEY = 'stream.ingest.timeout.ms';

/**
 * A Zerobus endpoint. Streams opened from one Sdk share one HTTP/2 connection. See index.d.ts.
 */
class Sdk {
  #native;

  constructor(endpoint, options) {
    this.#native = new binding.NativeSdk(endpoint, options);
  }

  /** @param {import('..').StreamOptions} streamOptions */
  async openStream({ table, descriptor, options }) {
    if (options != null && Object.hasOwn(options, INGEST_TIMEOUT_KEY)) {
      throw new TypeError(
        `${INGEST_TIMEOUT_KEY} is always 0 in Node: ingest never waits on the event loop`,
      );
    }
    const native = await this.#native.openStream(table, descriptor ?? null, options);
    return new Stream(kCreate, native, table, descriptor == null ? 'json' : 'proto');
  }
}

module.exports = { Sdk };
