'use strict';

const { binding } = require('./native');

// Sdk.openStream's way to the NativeSchema of a stream opened from a schema.
const kNative = Symbol('zerobus.schema.native');

/**
 * A table's protobuf record type, as the library derives it from the table's DDL or its Unity
 * Catalog description, and its JSON-to-protobuf encoder. See index.d.ts.
 */
class Schema {
  /** @type {any} the NativeSchema */
  #native;

  /** @param {any} native */
  constructor(native) {
    if (!(native instanceof binding.NativeSchema)) {
      throw new TypeError('use Schema.fromDdl() or Schema.fromTableJson()');
    }
    this.#native = native;
  }

  /** @param {string} ddl */
  static fromDdl(ddl) {
    return new Schema(new binding.NativeSchema('ddl', ddl));
  }

  /** @param {string} tableJson */
  static fromTableJson(tableJson) {
    return new Schema(new binding.NativeSchema('tableJson', tableJson));
  }

  get tableName() {
    return this.#native.tableName();
  }

  /** @returns {Buffer} */
  descriptor() {
    return this.#native.descriptor();
  }

  /** @returns {string} */
  protoSource() {
    return this.#native.protoSource();
  }

  /** @returns {string} */
  avro() {
    return this.#native.avro();
  }

  /** @internal */
  get [kNative]() {
    return this.#native;
  }

  /** @param {string | object} record @returns {Buffer} */
  encodeJson(record) {
    return this.#native.encodeJson(typeof record === 'string' ? record : JSON.stringify(record));
  }
}

module.exports = { Schema, kNative };
