/// <reference types="node" />
// The Node binding of libzerobus: streams records into Databricks Zerobus Ingest (or the local
// `zerobus serve`) over the library's C ABI.
//
// Threading: every object belongs to the JavaScript thread (main or worker) that created it.
// Ingest is synchronous and never waits; everything that waits returns a Promise, so the
// event loop never blocks. Waits for acknowledgements (acked(), waitForOffset(), flush(), the
// first part of close()) are settled by the stream's events and hold no thread; opening a
// stream and ending its call (the last part of close(), bounded by stream.ack.timeout.ms) run
// on the libuv thread pool.

import { EventEmitter } from 'node:events';

/** The library's status codes by symbolic name. */
export type StatusName =
  | 'ZB_OK'
  | 'ZB_ERR_INVALID_ARG'
  | 'ZB_ERR_UNKNOWN_KEY'
  | 'ZB_ERR_INVALID_VALUE'
  | 'ZB_ERR_QUEUE_FULL'
  | 'ZB_ERR_TIMEOUT'
  | 'ZB_ERR_CLOSED'
  | 'ZB_ERR_EMPTY_RECORD'
  | 'ZB_ERR_RECORD_TOO_LARGE'
  | 'ZB_ERR_EMPTY_BATCH'
  | 'ZB_ERR_RECORD_TYPE'
  | 'ZB_ERR_INVALID_TARGET'
  | 'ZB_ERR_TRANSPORT'
  | 'ZB_ERR_PROTOCOL'
  | 'ZB_ERR_AUTH'
  | 'ZB_ERR_STATE'
  | 'ZB_ERR_NO_MEMORY'
  | 'ZB_ERR_INTERNAL'
  | 'ZB_ERR_INVALID_SCHEMA'
  | 'ZB_ERR_INVALID_RECORD';

/** Every status code of the loaded library, by name: `Status.ZB_ERR_QUEUE_FULL === 4`. */
export declare const Status: Readonly<Record<StatusName, number>>;

/** An error code: a name of `Status`, or the name given to a code newer than this binding. */
export type ErrorCode = Exclude<StatusName, 'ZB_OK'> | `ZB_ERR_UNKNOWN_${number}`;

/** Every failure of the library or the binding, thrown or delivered. */
export declare class ZerobusError extends Error {
  constructor(
    message: string,
    details: { code: ErrorCode; status: number; retryable: boolean; grpcStatus: number | null },
  );
  readonly name: 'ZerobusError';
  /** The symbolic name, e.g. 'ZB_ERR_QUEUE_FULL'. */
  readonly code: ErrorCode;
  /** The numeric status code, e.g. 4 (Status.ZB_ERR_QUEUE_FULL). */
  readonly status: number;
  /** Whether the same call may succeed later (a full window, a transient server failure). */
  readonly retryable: boolean;
  /** The gRPC status code (0..16) the error came from, or null. */
  readonly grpcStatus: number | null;
  /** On errors of an 'error' event, acked() or a failed stream: the first offset of the
   *  records that will never be acknowledged. */
  firstOffset?: number;
  /** ... and the last one. Those records stay available from Stream.unacked(). */
  lastOffset?: number;
}

/** Configuration keys and values of docs/CONFIGURATION.md, e.g.
 *  `{ 'recovery.backoff.ms': 100, 'recovery.enable': true }`. Values become strings. Unknown
 *  keys throw ZB_ERR_UNKNOWN_KEY and bad values ZB_ERR_INVALID_VALUE. */
export type Options = Record<string, string | number | boolean | bigint>;

export interface StreamOptions {
  /** "catalog.schema.table". */
  table: string;
  /** A serialized google.protobuf.DescriptorProto of the record message: the stream takes
   *  protobuf records. A Schema of the table (its tableName must be `table`) opens the stream
   *  with the schema's descriptor, and the stream also takes JSON records (strings or plain
   *  objects; a batch is all protobuf or all JSON), which the library encodes to protobuf.
   *  Without it (and without avro) the stream takes JSON records. */
  descriptor?: Uint8Array | Schema;
  /** Avro (docs/SCHEMAS.md, "Avro"): the stream takes raw Avro datums (Buffer or Uint8Array),
   *  one per record, without framing. A string is the writer schema they are written with
   *  (Avro JSON of a record), which the server checks against the table: openStream rejects
   *  one that does not fit with ZB_ERR_TRANSPORT naming the column. A Schema of the table
   *  (its tableName must be `table`) opens the stream with the table's own writer schema
   *  (schema.avro()), and the stream also takes JSON records (strings or plain objects; a
   *  batch is all datums or all JSON), which the library encodes to datums. Not with
   *  descriptor. */
  avro?: string | Schema;
  /** Arrow (docs/SCHEMAS.md, "Delta → Arrow"): the stream takes record batches with
   *  ingestArrow(), over Arrow Flight. An apache-arrow Schema of the batches (sent as IPC
   *  schema bytes), or such bytes (the IPC stream of the schema message, as tableToIPC of an
   *  empty Table gives them), which the server checks against the table: openStream rejects
   *  one that does not fit with ZB_ERR_TRANSPORT naming the column, and the library one with
   *  a type it does not carry with ZB_ERR_INVALID_SCHEMA. Needs the apache-arrow package
   *  (an optional peer dependency, loaded only for Arrow). Not with descriptor or avro. */
  arrow?: ArrowSchema | Uint8Array;
  /** Stream options (scope "stream"). `stream.ingest.timeout.ms` is always 0 and may not be
   *  given: ingest never waits on the event loop. `stream.lanes` (1 to 64) carries the stream
   *  over that many server streams: offsets and acks stay as with one, but rows of different
   *  lanes land in the table in no particular order. */
  options?: Options;
  /** Token federation (RFC 8693) instead of a client secret: resolves to a JWT from an
   *  external identity provider (Entra ID, a Kubernetes service account, ...), which the
   *  stream exchanges at the SDK's workspace.url for a token scoped to its table, and renews
   *  like one got with a secret, never keeping it past the JWT's own exp. It is called
   *  whenever the stream needs a new token (when it opens, and when a reconnection finds the
   *  kept token expiring or refused), on the event loop, never twice at once; the library
   *  thread that asked waits for the promise, at most 30 s. A rejection, a throw, a value
   *  that is not a non-empty printable string, or 30 s without settling fails the attempt
   *  with ZB_ERR_AUTH (retried as the recovery options say). Neither token appears in a log
   *  or an error. It is the stream's one source of credentials: with auth.client.id,
   *  auth.token as well, openStream rejects with ZB_ERR_INVALID_ARG. */
  subjectToken?: () => Promise<string> | string;
  /** Workload identity federation: the client id of the service principal whose federation
   *  policy accepts the identity provider's token, sent in the exchange (sets
   *  auth.federation.client.id). Without it, the exchange is account-level federation. */
  federationClientId?: string;
}

export type LogLevel = 'error' | 'warn' | 'info' | 'debug';

/** SDK options: keys of scope "sdk", plus how the SDK reports. */
export type SdkOptions = Options & {
  /** Emit the library's log messages of this level and more severe as 'log' events (sets
   *  log.level). Without it the library logs nothing, anywhere. */
  logLevel?: LogLevel;
  /** Emit a 'stats' event every this many milliseconds (sets statistics.interval.ms; 0 never
   *  does). */
  statisticsIntervalMs?: number;
  /** Names the application to the service, which attributes traffic by the user-agent:
   *  'libzerobus/<version> node/<Node version> <name>' (sets sdk.application.name; the binding
   *  adds its part even without a name). */
  applicationName?: string;
  /** TLS to the endpoint and the workspace (token and Unity Catalog requests), as PEM files
   *  or PEM text (text wins when both are given); the constructor reads the files, and a
   *  certificate without a key, or the reverse, throws ZB_ERR_INVALID_VALUE.
   *  Trust only the authorities of this PEM file, not the system's (sets tls.ca.file). */
  tlsCaFile?: string;
  /** ... of this PEM text (sets tls.ca.pem). */
  tlsCa?: string;
  /** Mutual TLS: present the client certificate (chain) of this PEM file (sets tls.cert.file)... */
  tlsCertFile?: string;
  /** ... or of this PEM text (sets tls.cert.pem)... */
  tlsCert?: string;
  /** ... with the unencrypted PEM private key of this file (sets tls.key.file)... */
  tlsKeyFile?: string;
  /** ... or of this text (sets tls.key.pem), which never appears in errors. */
  tlsKey?: string;
  /** The name the server certificates are checked against, and sent in SNI, instead of the
   *  hosts of the URLs (sets tls.server.name). */
  tlsServerName?: string;
};

/** One log message of the library. */
export interface LogEvent {
  level: LogLevel;
  /** The part of the library speaking: 'sdk', 'stream', 'connection', 'recovery', 'auth'
   *  (more may come). */
  component: string;
  /** One line; a stream's messages start with its table's name. Never contains a secret. */
  message: string;
}

/** A stream's statistics (docs/STATISTICS.md documents every field; fields are only ever
 *  added). Counters are numbers, exact up to 2^53 - 1. */
export interface StreamStats {
  /** When these figures were read, microseconds since the Unix epoch. */
  ts_us: number;
  table: string;
  record_type: 'proto' | 'json';
  state: StreamState;
  server_stream_id: string;
  offsets: { issued: number; sent: number; acked: number };
  in_flight: { records: number; bytes: number };
  recoveries: number;
  records_replayed: number;
  errors: {
    count: number;
    last: {
      code: number;
      name: string;
      grpc_status: number;
      retryable: boolean;
      message: string;
    } | null;
  };
  wire: { requests: number; records: number; bytes: number; acks: number };
  ack_latency_us: {
    count: number;
    min: number;
    max: number;
    mean: number;
    p50: number;
    p99: number;
    p99_9: number;
  };
}

/** An SDK's statistics: its live streams, in the order they opened. */
export interface SdkStats {
  ts_us: number;
  version: string;
  /** "host:port". */
  endpoint: string;
  streams: StreamStats[];
}

// Typed listeners: sdk.on('log', (event) => ...) gets a LogEvent.
export interface SdkEvents {
  /** A log message of the SDK or one of its streams (with the logLevel option). It was
   *  logged on a library thread and queued for the JavaScript thread without waiting. */
  log: [event: LogEvent];
  /** The SDK's statistics, every statisticsIntervalMs, until close() or collection. */
  stats: [stats: SdkStats];
}

/**
 * A Zerobus endpoint. Streams of one Sdk share one HTTP/2 connection.
 *
 * Listener exceptions are rethrown asynchronously ('uncaughtException'); the events after
 * them are still delivered. Neither event keeps the process alive.
 */
export declare class Sdk extends EventEmitter<SdkEvents> {
  /**
   * Creates an SDK; no network I/O happens until a stream opens.
   * @param endpoint "host[:port]" or "https://host[:port]" (TLS) or "http://host:port"
   *   (plaintext, for local servers, with the option 'transport.plaintext': true).
   * @param options SDK options (scope "sdk"), logLevel and statisticsIntervalMs.
   * @throws ZerobusError ZB_ERR_INVALID_TARGET for a malformed endpoint, ZB_ERR_UNKNOWN_KEY,
   *   ZB_ERR_INVALID_VALUE.
   */
  constructor(endpoint: string, options?: SdkOptions);

  /** A snapshot of the SDK and its live streams.
   *  @throws ZerobusError ZB_ERR_CLOSED after close(). */
  stats(): SdkStats;

  /**
   * Releases the SDK: no stream opens from it any more (openStream throws ZB_ERR_CLOSED) and
   * 'stats' events stop (once openStream() calls in flight have settled). Streams opened from
   * it keep working, and their 'log' events keep coming. Idempotent.
   */
  close(): void;

  /**
   * Opens a stream and resolves once the server accepted it (connection attempts are retried
   * as recovery.* says).
   * @throws (rejects) ZerobusError: ZB_ERR_INVALID_TARGET for a malformed table or descriptor
   *   or an Avro writer schema that is not the JSON of a record, ZB_ERR_TRANSPORT with
   *   grpcStatus when the server refused the stream (an Avro writer schema that does not fit
   *   the table, say, with the column named), could not be reached or did not accept the
   *   stream within recovery.timeout.ms (DEADLINE_EXCEEDED), ZB_ERR_AUTH,
   *   ZB_ERR_INVALID_SCHEMA for a Schema with no Avro form; a TypeError for arguments of the
   *   wrong type.
   */
  openStream(options: StreamOptions): Promise<Stream>;

  /** @experimental Persistent streams (README, "Persistent streams"): they may change or go in
   *  any release, as the service marks them in development. */
  readonly experimental: PersistentStreams;
}

/** @experimental What a persistent stream is opened with: a StreamOptions whose descriptor is
 *  the bytes of a DescriptorProto and whose avro is a writer schema's text (the library's
 *  persistent streams take no Schema, and no Arrow). `stream.lanes` must be 1. */
export interface PersistentStreamOptions extends Omit<
  StreamOptions,
  'descriptor' | 'avro' | 'arrow'
> {
  /** A serialized DescriptorProto (schema.descriptor() gives a table's): protobuf records. */
  descriptor?: Uint8Array;
  /** An Avro writer schema (schema.avro() gives a table's): raw Avro datums. */
  avro?: string;
}

/** @experimental What a persistent stream is resumed with: the table, record type and
 *  descriptor (byte for byte) or writer schema it was created with, and its id. */
export interface ResumeStreamOptions extends PersistentStreamOptions {
  /** The id PersistentStream.streamId gave. */
  streamId: string;
}

/** @experimental What a persistent stream is retired with: credentials as a stream of the
 *  table would have them, and recovery.timeout.ms bounds the one call. */
export interface RetireStreamOptions {
  table: string;
  streamId: string;
  options?: Options;
  subjectToken?: () => Promise<string> | string;
  federationClientId?: string;
}

/**
 * @experimental Persistent streams of an Sdk (sdk.experimental): streams with a durable id,
 * with which any process can resume one from the last offset the server committed, so that
 * nothing is stored twice and nothing is lost across a dropped connection or a crashed
 * process. A broken connection resumes by itself; close() leaves the stream resumable;
 * retirePersistentStream() ends it for good.
 *
 * Refusals reject with ZerobusError ZB_ERR_TRANSPORT and its grpcStatus: 5 (NOT_FOUND) for an
 * id the server does not know, 9 (FAILED_PRECONDITION) for a retired stream or a server that
 * keeps no persistent streams (--null-sink), 3 (INVALID_ARGUMENT) for a resume with another
 * record type or descriptor, 10 (ABORTED) when another call still holds the stream (retried
 * within recovery.retries first). stream.lanes above 1 rejects with ZB_ERR_INVALID_ARG.
 */
export declare class PersistentStreams {
  private constructor();
  /** Creates a persistent stream; resolves once the server has created it. Rejects as
   *  Sdk.openStream() does, plus the refusals above; TypeError for a Schema or Arrow. */
  openPersistentStream(options: PersistentStreamOptions): Promise<PersistentStream>;
  /** Resumes persistent stream `options.streamId`; resolves once the server has resumed it,
   *  with resumeWatermark telling what it had committed. Its first offset is that + 1. */
  resumePersistentStream(options: ResumeStreamOptions): Promise<PersistentStream>;
  /** Retires a persistent stream for good: every later resume rejects with grpcStatus 9.
   *  Idempotent; one call, not retried. Rejects with ZB_ERR_TRANSPORT, grpcStatus 5 for an
   *  unknown id, 14 or 4 when the server could not be reached in time (retryable). */
  retirePersistentStream(options: RetireStreamOptions): Promise<void>;
}

/**
 * @experimental A stream with a durable id (sdk.experimental). Each record travels in a request
 * of its own, so its offset is the durable offset the server commits: a new stream issues
 * 0, 1, 2, ...; a resumed one issues resumeWatermark + 1 first (0 when null), continuing the
 * offsets of the processes before it. A process that crashed learns from resumeWatermark alone
 * which of its records are stored: every offset at or below it, and none above.
 */
export declare class PersistentStream extends Stream {
  /** The durable id, to keep (durably, before ingesting) for resumePersistentStream() and
   *  retirePersistentStream(). */
  readonly streamId: string;
  /** The last offset the server had committed when the stream was resumed; null when it had
   *  committed none, and on a stream openPersistentStream() created. */
  readonly resumeWatermark: number | null;
  readonly recordType: 'proto' | 'json' | 'avro';
}

/** A record: a serialized protobuf message (Buffer or Uint8Array) on a protobuf stream; JSON
 *  text (string, Buffer or Uint8Array) or a plain object (serialized with JSON.stringify) on a
 *  JSON stream; an Avro datum (Buffer or Uint8Array) on an Avro stream, or, on one opened with
 *  a Schema, JSON text (string) or a plain object. */
export type IngestRecord = Uint8Array | string | object;

/** An apache-arrow Schema. Typed by its shape so that these declarations need no
 *  apache-arrow for users without Arrow streams. */
export interface ArrowSchema {
  readonly fields: readonly { readonly name: string }[];
}

/** An apache-arrow Table or RecordBatch, typed by its shape as ArrowSchema is. */
export interface ArrowBatches {
  readonly schema: ArrowSchema;
  readonly numRows: number;
}

/** A table's protobuf record type, as the library derives it from the table's DDL or its
 *  Unity Catalog description, with its JSON encoder: what a protobuf stream needs without
 *  generated code. Immutable; its methods run on the calling thread without blocking. */
export declare class Schema {
  private constructor();
  /** From one Delta DDL statement, e.g. "main.default.events (id BIGINT NOT NULL, tags
   *  ARRAY<STRING>)". Throws ZB_ERR_INVALID_SCHEMA naming the column and the reason. */
  static fromDdl(ddl: string): Schema;
  /** From the JSON body of GET /api/2.1/unity-catalog/tables/{name}. Throws
   *  ZB_ERR_INVALID_SCHEMA as fromDdl(). */
  static fromTableJson(tableJson: string): Schema;
  /** "catalog.schema.table". */
  readonly tableName: string;
  /** The serialized DescriptorProto that StreamOptions.descriptor takes (a copy). */
  descriptor(): Buffer;
  /** The descriptor's proto2 source, as protoc would compile it. */
  protoSource(): string;
  /** The table's Avro writer schema (Avro JSON), as docs/SCHEMAS.md maps Delta types to
   *  Avro: what StreamOptions.avro takes for the table. Throws ZB_ERR_INVALID_SCHEMA naming
   *  the column for a table with no Avro form (a MAP keyed by anything but a string). */
  avro(): string;
  /** The protobuf record of a JSON object (text, or an object serialized with JSON.stringify).
   *  Throws ZB_ERR_INVALID_RECORD naming the column when it does not fit. */
  encodeJson(record: string | object): Buffer;
}

/** Records firstOffset..lastOffset became durable; lastOffset is the new watermark. */
export interface AckEvent {
  firstOffset: number;
  lastOffset: number;
}

export interface UnackedRecord {
  offset: number;
  /** A copy of the record's bytes (UTF-8 JSON text on a JSON stream; on an Arrow stream an
   *  IPC stream of the batch cut to its unacknowledged rows, which apache-arrow's
   *  tableFromIPC reads). */
  record: Buffer;
}

export type StreamState = 'open' | 'recovering' | 'paused' | 'failed' | 'closed';

/** A snapshot of a stream's state and counters. */
export interface StreamInfo {
  state: StreamState;
  /** Offsets issued so far (the next offset). */
  recordsAccepted: number;
  /** Every offset below this is durable. */
  recordsAcked: number;
  recordsInFlight: number;
  bytesInFlight: number;
  /** Connections re-established after a failure or a close signal. */
  recoveries: number;
  /** Records sent again on a new connection. */
  recordsReplayed: number;
}

// Typed listeners: stream.on('ack', (event) => ...) gets an AckEvent.
export interface StreamEvents {
  /** One per server acknowledgement, in offset order. */
  ack: [event: AckEvent];
  /** Records err.firstOffset..err.lastOffset will never be acknowledged. Delivered only when
   *  a listener is attached: the same error also rejects acked(), flush() and close(), so an
   *  unheard 'error' is not thrown. */
  error: [err: ZerobusError];
}

/**
 * A stream of records into one table, from Sdk.openStream(). Offsets are logical record
 * offsets 0, 1, 2, ... of this stream, as JavaScript numbers (exact up to 2^53 - 1).
 *
 * An open stream keeps the process alive, as an open socket does, until close() settles, it
 * fails for good, destroy() or garbage collection. A stream collected without close() is destroyed off the
 * event loop, abandoning the records not yet acknowledged. When its environment (the main
 * thread or a worker thread) ends, every stream is destroyed.
 *
 * Listener exceptions are rethrown asynchronously ('uncaughtException'); the events after
 * them are still delivered.
 */
export declare class Stream extends EventEmitter<StreamEvents> {
  /** Streams come from Sdk.openStream() (and sdk.experimental). */
  protected constructor();

  /** The Sdk the stream was opened from (and whose 'log' events report on it). The stream
   *  keeps it reachable. */
  readonly sdk: Sdk;
  /** "catalog.schema.table". */
  readonly table: string;
  readonly recordType: 'proto' | 'json' | 'avro' | 'arrow';

  /**
   * Accepts one record and returns its offset. The bytes are copied before it returns; the
   * record becomes durable when an 'ack' covers its offset.
   *
   * Back-pressure: when the in-flight window (stream.max.inflight.records / .bytes) is full,
   * it throws at once a ZerobusError ZB_ERR_QUEUE_FULL (retryable): wait for the next ack
   * (`await once(stream, 'ack')`) or for acked(offset) and try again.
   * @throws ZerobusError ZB_ERR_QUEUE_FULL, ZB_ERR_EMPTY_RECORD, ZB_ERR_RECORD_TOO_LARGE,
   *   ZB_ERR_RECORD_TYPE (a string or object on a protobuf stream), ZB_ERR_CLOSED after
   *   close(), ZB_ERR_STATE after destroy(), or the error the stream failed with; TypeError.
   */
  ingest(record: IngestRecord): number;

  /**
   * Accepts records as one unit: all or none, consecutive offsets, one request. Returns the
   * offset of the last.
   * @throws as ingest(), plus ZB_ERR_EMPTY_BATCH for an empty array.
   */
  ingestBatch(records: IngestRecord[]): number;

  /**
   * Accepts the record batches of an apache-arrow Table (each of its batches), a RecordBatch,
   * or IPC stream bytes, on an Arrow stream (opened with StreamOptions.arrow), each batch
   * under one offset of its own; returns the last batch's offset. The batches travel as IPC
   * bytes that the library copies before it returns; their schema must be the stream's.
   * Batches of no rows are skipped. A batch is durable when every row of it is.
   * @throws ZerobusError ZB_ERR_INVALID_SCHEMA (a schema that is not the stream's, naming the
   *   column), ZB_ERR_EMPTY_BATCH (no rows at all), ZB_ERR_RECORD_TYPE on a record stream,
   *   ZB_ERR_QUEUE_FULL (the batches before the one refused stay accepted), and as ingest();
   *   TypeError.
   */
  ingestArrow(batches: ArrowBatches | Uint8Array): number;

  /**
   * Resolves once `offset` is durable (its 'ack' was delivered). Holds no thread.
   * @throws (rejects) ZerobusError: the error of the range it falls in when it will never be
   *   acknowledged; ZB_ERR_INVALID_ARG for an offset never issued; ZB_ERR_STATE when the
   *   stream is destroyed first.
   */
  acked(offset: number): Promise<void>;

  /**
   * Waits until `offset` is durable, as acked() does, for at most `timeoutMs`; the events up
   * to it have been delivered when it resolves. Holds no thread.
   * @param timeoutMs default 30000; Infinity (or -1) waits without limit.
   * @throws (rejects) ZerobusError ZB_ERR_TIMEOUT, ZB_ERR_INVALID_ARG for an offset never
   *   issued, the stream's error if it failed or was closed first; RangeError.
   */
  waitForOffset(offset: number, timeoutMs?: number): Promise<void>;

  /**
   * Waits until every record accepted before the call is durable; the events up to it have
   * been delivered when it resolves. Holds no thread.
   * @param timeoutMs default 30000; Infinity (or -1) waits without limit.
   * @throws (rejects) ZerobusError ZB_ERR_TIMEOUT (the stream keeps going), the error of the
   *   records lost if the stream failed, ZB_ERR_STATE after destroy(); RangeError.
   */
  flush(timeoutMs?: number): Promise<void>;

  /**
   * Closes gracefully: stops accepting records (ingest throws ZB_ERR_CLOSED from this call
   * on), waits up to `timeoutMs` for every record to be acknowledged (as flush(), holding no
   * thread), ends the call (on a pool thread, for at most what is left of `timeoutMs` and
   * stream.ack.timeout.ms), and delivers the remaining events.
   * Records still unacknowledged get an 'error' event and stay available from unacked().
   * Idempotent: later calls return the first call's promise.
   * @param timeoutMs default 30000; Infinity (or -1) waits for the acknowledgements without
   *   limit.
   * @throws (rejects) ZerobusError ZB_ERR_TIMEOUT (its message counts the records left), the
   *   stream's error if it failed, ZB_ERR_STATE after destroy(); RangeError.
   */
  close(timeoutMs?: number): Promise<void>;

  /** Copies of every accepted record not yet acknowledged, in offset order: after a failure
   *  or a timed-out close, the records of the 'error' events, to send again on a new stream.
   *  @throws ZerobusError ZB_ERR_STATE after destroy(). */
  unacked(): UnackedRecord[];

  /**
   * Opens a new stream like this failed or closed one (same Sdk, table, record type, options
   * and headers provider) and ingests into it, in order, every record this one did not get
   * acknowledged: the way to carry on after a failure or a timed-out close. Replayed records
   * may be stored twice if the server had made them durable without acknowledging them
   * (at-least-once). The new stream's offsets start at 0 and its events are its own; this
   * stream is unchanged and still has to be destroyed. A persistent stream is resumed under
   * the same id. The opening runs on a pool thread.
   * @throws (rejects) ZerobusError ZB_ERR_STATE while this stream is neither failed nor
   *   closed, or after destroy(); any error of Sdk.openStream() or of ingest.
   */
  recreate(): Promise<Stream>;

  /** @throws ZerobusError ZB_ERR_STATE after destroy(). */
  info(): StreamInfo;

  /** A snapshot of the stream's statistics, the entry of Sdk.stats() for it; also after
   *  close(). @throws ZerobusError ZB_ERR_STATE after destroy(). */
  stats(): StreamStats;

  /**
   * Frees the stream without waiting (the native handle is destroyed off the event loop, once
   * any flush/close in flight returns). An unclosed stream is closed at once, abandoning its
   * unacknowledged records. Pending acked() promises reject with ZB_ERR_STATE and no event
   * follows. Idempotent.
   */
  destroy(): void;

  /** close() with the default timeout, then destroy() whatever close() did: for
   *  `await using stream = await sdk.openStream(...)`. */
  [Symbol.asyncDispose](): Promise<void>;
}

/** The version of the loaded libzerobus, "MAJOR.MINOR.PATCH". */
export declare function version(): string;
