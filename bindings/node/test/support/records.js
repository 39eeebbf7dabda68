'use strict';

// The protobuf record the tests and the bench send, of the events table
// (message { optional int64 id = 1; optional string payload = 2; }): its descriptor and its
// records come from the library, which derives them from the table's DDL.
const { Schema } = require('../..');
const { EVENTS_DDL } = require('./server');

const eventSchema = Schema.fromDdl(EVENTS_DDL);

/** The serialized DescriptorProto of the record type. */
const EVENT_DESCRIPTOR = eventSchema.descriptor();

/** A row { id, payload } as a protobuf record, encoded by the library. */
function encodeEvent(id, payload) {
  return eventSchema.encodeJson({ id, payload });
}

module.exports = { EVENT_DESCRIPTOR, encodeEvent };
