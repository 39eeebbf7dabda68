'use strict';

// The protobuf record the tests and the bench send, of the events table
// (message { optional int64 id = 1; optional string payload = 2; }): its descriptor and its
// records come from the library, which derives them from the table's DDL.
const { once } = require('node:events');
const { Schema, ZerobusError } = require('../..');
const { EVENTS_DDL } = require('./server');

const eventSchema = Schema.fromDdl(EVENTS_DDL);

/** The serialized DescriptorProto of the record type. */
const EVENT_DESCRIPTOR = eventSchema.descriptor();

/** A row { id, payload } as a protobuf record, encoded by the library. */
function encodeEvent(id, payload) {
  return eventSchema.encodeJson({ id, payload });
}

/** Ingests `record`, waiting for the next ack whenever the window is full; its offset. */
async function ingestWaiting(stream, record) {
  for (;;) {
    try {
      return stream.ingest(record);
    } catch (error) {
      if (!(error instanceof ZerobusError) || error.code !== 'ZB_ERR_QUEUE_FULL') throw error;
      await once(stream, 'ack');
    }
  }
}

module.exports = { EVENT_DESCRIPTOR, encodeEvent, ingestWaiting };
