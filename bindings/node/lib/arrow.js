'use strict';

// Arrow streams travel through the library as IPC bytes (zb_stream_new_arrow_ipc,
// zb_stream_ingest_arrow_ipc): apache-arrow writes them, and the library copies them before
// the call returns, so no JavaScript buffer has to outlive a call. apache-arrow is an optional
// peer dependency: it is loaded on the first Arrow call, never for other streams.

let arrowModule;

function arrow() {
  if (arrowModule === undefined) {
    try {
      arrowModule = require('apache-arrow');
    } catch (error) {
      throw new TypeError(
        'Arrow streams need the apache-arrow package (npm install apache-arrow)',
        {
          cause: error,
        },
      );
    }
  }
  return arrowModule;
}

/** The IPC stream of an apache-arrow Schema (its schema message and the end-of-stream
 *  marker), or IPC bytes as they are. */
function schemaIpc(schema) {
  if (schema instanceof Uint8Array) return schema;
  const { Schema, Table, tableToIPC } = arrow();
  if (!(schema instanceof Schema)) {
    throw new TypeError('arrow is an apache-arrow Schema or its IPC bytes (a Uint8Array)');
  }
  return tableToIPC(new Table(schema), 'stream');
}

/** The IPC stream of an apache-arrow Table (each of its batches) or RecordBatch, or IPC
 *  bytes as they are. */
function batchesIpc(data) {
  if (data instanceof Uint8Array) return data;
  const { RecordBatch, Table, tableToIPC } = arrow();
  if (data instanceof RecordBatch) return tableToIPC(new Table(data), 'stream');
  if (data instanceof Table) return tableToIPC(data, 'stream');
  throw new TypeError(
    'ingestArrow() takes an apache-arrow Table or RecordBatch, or IPC stream bytes',
  );
}

module.exports = { schemaIpc, batchesIpc };
