'use strict';

// The Node binding of libzerobus. index.d.ts documents the API.
const { binding, Status } = require('./lib/native');
const { ZerobusError } = require('./lib/errors');
const { Schema } = require('./lib/schema');
const { Sdk } = require('./lib/sdk');
const { Stream } = require('./lib/stream');
const { PersistentStream } = require('./lib/persistent');

/** The version of the loaded libzerobus, "MAJOR.MINOR.PATCH". */
function version() {
  return binding.version();
}

module.exports = { Sdk, Stream, PersistentStream, Schema, ZerobusError, Status, version };
