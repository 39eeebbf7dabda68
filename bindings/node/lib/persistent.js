'use strict';

// Persistent streams (experimental, as zerobus.h's "Persistent streams" section is): a stream
// with a durable id that any process can resume from the last offset the server committed.
// They live behind sdk.experimental so that every call site says it uses an API that may
// change or go in any release.
const { Stream, kCreate } = require('./stream');
const { Schema } = require('./schema');

/** A persistent stream's format: a protobuf descriptor as bytes, an Avro writer schema as text,
 *  or neither for JSON. The library's persistent streams take no Schema and no Arrow. */
function checkPersistentFormat({ descriptor, avro, arrow }) {
  if (descriptor instanceof Schema || avro instanceof Schema || arrow !== undefined) {
    throw new TypeError(
      'a persistent stream takes a descriptor as bytes (schema.descriptor()), an Avro writer ' +
        'schema as text (schema.avro()), or neither for JSON',
    );
  }
}

function checkStreamId(streamId) {
  if (typeof streamId !== 'string' || streamId === '') {
    throw new TypeError('streamId is the non-empty string of a persistent stream id');
  }
}

/**
 * A Stream with a durable identity. Its offsets are the durable offsets the server commits,
 * one record per request: a new stream issues 0, 1, 2, ...; a resumed one continues at
 * resumeWatermark + 1. See index.d.ts.
 */
class PersistentStream extends Stream {
  #streamId;
  #resumeWatermark;

  /** @internal sdk.experimental creates persistent streams. */
  constructor(token, native, sdk, table, recordType) {
    super(token, native, sdk, table, recordType);
    this.#streamId = native.persistentId();
    this.#resumeWatermark = native.resumeWatermark();
  }

  /** The durable id, to keep for resumePersistentStream() and retirePersistentStream(). */
  get streamId() {
    return this.#streamId;
  }

  /** The last offset the server had committed when the stream was resumed, or null. */
  get resumeWatermark() {
    return this.#resumeWatermark;
  }
}

/**
 * What sdk.experimental gives: persistent streams of that Sdk. Every call resolves once the
 * server has answered, from a libuv pool thread.
 */
class PersistentStreams {
  #sdk;
  #native;
  #args;

  /** @internal Sdk.experimental creates it, with the Sdk's addon object and argument checks. */
  constructor(token, sdk, native, args) {
    if (token !== kCreate) throw new TypeError('persistent streams come from sdk.experimental');
    this.#sdk = sdk;
    this.#native = native;
    this.#args = args;
  }

  /** @param {import('..').PersistentStreamOptions} streamOptions */
  async openPersistentStream(streamOptions) {
    return this.#open(streamOptions, null);
  }

  /** @param {import('..').ResumeStreamOptions} streamOptions */
  async resumePersistentStream(streamOptions) {
    checkStreamId(streamOptions.streamId);
    return this.#open(streamOptions, streamOptions.streamId);
  }

  /** @param {import('..').RetireStreamOptions} retireOptions */
  async retirePersistentStream(retireOptions) {
    const { table, streamId } = retireOptions;
    checkStreamId(streamId);
    const { options, provide } = this.#args.callArgs(retireOptions);
    await this.#native.retireStream(table, streamId, options, provide);
  }

  async #open(streamOptions, streamId) {
    checkPersistentFormat(streamOptions);
    const { table, format, options, provide, recordType } = this.#args.streamArgs(streamOptions);
    const native = await this.#native.openPersistentStream(
      table,
      format,
      options,
      provide,
      recordType,
      streamId,
    );
    return new PersistentStream(kCreate, native, this.#sdk, table, recordType);
  }
}

module.exports = { PersistentStream, PersistentStreams };
