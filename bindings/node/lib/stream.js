'use strict';

const { EventEmitter } = require('node:events');
const { kOwner, kWakeup, bindingError } = require('./native');
const { batchesIpc } = require('./arrow');

/** The most events one drain step takes (the addon's poll() limit): a step stays short, and
 *  a full one is followed by another in a later turn of the event loop. */
const EVENTS_PER_STEP = 1024;
/** Waits end after this long unless the caller gives a timeout. */
const DEFAULT_TIMEOUT_MS = 30_000;

const kCreate = Symbol('zerobus.createStream');

/** Streams with pending acked() promises. An awaited promise does not keep its stream
 *  reachable, so without this a stream in use could be collected (and destroyed) while its
 *  caller waits, leaving the promise unsettled forever. */
const awaitedStreams = new Set();

function nextTurn() {
  return new Promise((resolve) => setImmediate(resolve));
}

/** The longest timeout, as the library takes them. */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/** Whether `timeoutMs` means no limit: Infinity, or -1 as the library spells it. */
function unlimited(timeoutMs) {
  return timeoutMs === Infinity || timeoutMs === -1;
}

function checkTimeout(timeoutMs) {
  if (unlimited(timeoutMs)) return;
  if (!Number.isInteger(timeoutMs) || timeoutMs < 0 || timeoutMs > MAX_TIMEOUT_MS) {
    throw new RangeError(
      `a timeout is an integer of milliseconds from 0 to ${MAX_TIMEOUT_MS}, or Infinity (or -1)`,
    );
  }
}

/** `settled`, or a rejection with ZB_ERR_TIMEOUT once `timeoutMs` has passed. The timer is
 *  the only thing a wait holds: no thread waits for the library. */
async function within(settled, timeoutMs, what) {
  if (unlimited(timeoutMs)) return settled;
  let timer;
  const timedOut = new Promise((_, reject) => {
    timer = setTimeout(() => {
      const message = `${what} within ${timeoutMs} ms`;
      reject(bindingError('ZB_ERR_TIMEOUT', message, true));
    }, timeoutMs);
  });
  try {
    return await Promise.race([settled, timedOut]);
  } finally {
    clearTimeout(timer);
  }
}

// What the addon ingests: bytes and JSON text as they are, any other object as JSON.
function recordArg(record) {
  if (typeof record === 'string' || record instanceof Uint8Array) return record;
  if (record === null || typeof record !== 'object' || Array.isArray(record)) {
    throw new TypeError('a record is a Buffer, a Uint8Array, a JSON string or a plain object');
  }
  if (ArrayBuffer.isView(record) || record instanceof ArrayBuffer) {
    throw new TypeError('binary records must be a Buffer or a Uint8Array');
  }
  return JSON.stringify(record);
}

/**
 * A stream of records into one table, opened with Sdk.openStream(). See index.d.ts for the
 * contract of each method.
 *
 * Delivery: the library queues one 'ack' event per server acknowledgement (the new durable
 * watermark) and an 'error' event for each range of records that will never be acknowledged.
 * When the queue turns non-empty, a library thread wakes this stream's threadsafe function;
 * on the JavaScript thread the stream then takes at most EVENTS_PER_STEP events per turn of
 * the event loop, settles acked() promises and emits the events.
 *
 * Whether an offset is durable is the library's to say (isDurable); acked(), waitForOffset(),
 * flush() and close() then wait for the events that settle it, on the JavaScript thread, so
 * that no pool thread waits for acknowledgements. The library counts an ack before it queues
 * the ack's event, so an offset it calls pending is settled by an event still to come.
 */
class Stream extends EventEmitter {
  #native;
  /** The Sdk, kept reachable while the stream is: its 'log' events report on the stream. */
  #sdk;
  #table;
  #recordType;
  /** Pending acked() promises, sorted by offset; entries before #waitersHead are settled. */
  #waiters = [];
  #waitersHead = 0;
  /** What the 'error' events said: ranges of records that will never be acknowledged, each
   *  with its error, so that a later acked() rejects with the same error. */
  #lost = [];
  #drainScheduled = false;
  /** @type {Promise<void> | null} */
  #closing = null;
  #destroyed = false;

  /** @internal Sdk.openStream() creates streams. */
  constructor(token, native, sdk, table, recordType) {
    if (token !== kCreate) throw new TypeError('streams are opened with Sdk.openStream()');
    super();
    this.#native = native;
    this.#sdk = sdk;
    this.#table = table;
    this.#recordType = recordType;
    native[kOwner] = this;
    // Events queued before the native stream had an owner woke nobody.
    this[kWakeup]();
  }

  /** The Sdk the stream was opened from. */
  get sdk() {
    return this.#sdk;
  }

  /** The table name, "catalog.schema.table". */
  get table() {
    return this.#table;
  }

  /** 'proto', 'json', 'avro' or 'arrow'. */
  get recordType() {
    return this.#recordType;
  }

  ingest(record) {
    this.#refuseOnceClosing();
    return this.#native.ingest(recordArg(record));
  }

  ingestBatch(records) {
    if (!Array.isArray(records)) throw new TypeError('ingestBatch() takes an array of records');
    this.#refuseOnceClosing();
    return this.#native.ingestBatch(records.map(recordArg));
  }

  ingestArrow(data) {
    this.#refuseOnceClosing();
    return this.#native.ingestArrowIpc(batchesIpc(data));
  }

  // close() waits for the acks before the library's close: records are refused from its call
  // on, as the library refuses them once closed.
  #refuseOnceClosing() {
    if (this.#closing !== null && !this.#destroyed) {
      throw bindingError('ZB_ERR_CLOSED', 'the stream is closing or closed');
    }
  }

  acked(offset) {
    if (!Number.isSafeInteger(offset) || offset < 0) {
      return Promise.reject(
        bindingError('ZB_ERR_INVALID_ARG', `offset ${offset} was never issued by this stream`),
      );
    }
    const lost = this.#lost.find((range) => offset >= range.first && offset <= range.last);
    if (lost) return Promise.reject(lost.error);
    if (this.#destroyed) {
      return Promise.reject(bindingError('ZB_ERR_STATE', 'the stream was destroyed'));
    }
    let durable;
    try {
      durable = this.#native.isDurable(offset);
    } catch (error) {
      return Promise.reject(error); // ZB_ERR_INVALID_ARG: never issued
    }
    // Its 'ack' is queued by now if not delivered yet: delivered first, as for any other.
    if (durable) return this.#drainAll();
    return new Promise((resolve, reject) => this.#addWaiter({ offset, resolve, reject }));
  }

  async waitForOffset(offset, timeoutMs = DEFAULT_TIMEOUT_MS) {
    checkTimeout(timeoutMs);
    await within(this.acked(offset), timeoutMs, `offset ${offset} was not acknowledged`);
  }

  async flush(timeoutMs = DEFAULT_TIMEOUT_MS) {
    checkTimeout(timeoutMs);
    const accepted = this.info().recordsAccepted;
    if (accepted === 0) return;
    await within(
      this.acked(accepted - 1),
      timeoutMs,
      `the records up to offset ${accepted - 1} were not all acknowledged`,
    );
  }

  close(timeoutMs = DEFAULT_TIMEOUT_MS) {
    this.#closing ??= this.#close(timeoutMs);
    return this.#closing;
  }

  async #close(timeoutMs) {
    checkTimeout(timeoutMs);
    const started = performance.now();
    let flushed = true;
    try {
      await this.flush(timeoutMs);
    } catch {
      flushed = false; // the library's close reports why, and counts the records left
    }
    // Once every record is acknowledged, the library half-closes the call and waits for the
    // server's status, within what is left of the timeout and at most stream.ack.timeout.ms,
    // so the pool thread of this call never waits without a bound; records left
    // unacknowledged are given up at once.
    let left = 0;
    if (flushed) {
      left = unlimited(timeoutMs)
        ? -1
        : Math.max(0, Math.floor(timeoutMs - (performance.now() - started)));
    }
    try {
      await this.#native.close(left);
    } finally {
      await this.#drainAll();
      // Nothing more to wait for: a closed stream no longer holds the process open.
      this.#native.keepLoopAlive(false);
    }
  }

  unacked() {
    return this.#native.unacked();
  }

  async recreate() {
    const native = await this.#native.recreate();
    return new Stream(kCreate, native, this.#sdk, this.#table, this.#recordType);
  }

  stats() {
    return JSON.parse(this.#native.statsJson());
  }

  info() {
    return this.#native.info();
  }

  destroy() {
    if (this.#destroyed) return;
    this.#destroyed = true;
    this.#native.destroy();
    const error = bindingError('ZB_ERR_STATE', 'the stream was destroyed before the ack');
    this.#settleWaiters(Infinity, (waiter) => waiter.reject(error));
  }

  async [Symbol.asyncDispose]() {
    try {
      await this.close();
    } finally {
      this.destroy();
    }
  }

  [kWakeup]() {
    if (this.#step()) this.#scheduleStep();
  }

  #scheduleStep() {
    if (this.#drainScheduled) return;
    this.#drainScheduled = true;
    setImmediate(() => {
      this.#drainScheduled = false;
      this[kWakeup]();
    });
  }

  // Delivers up to EVENTS_PER_STEP events; true when more may be waiting.
  #step() {
    const events = this.#native.poll();
    for (const event of events) {
      if (event.type === 'ack') {
        this.#onAck(event.firstOffset, event.lastOffset);
      } else {
        this.#onError(event.firstOffset, event.lastOffset, event.error);
      }
    }
    return events.length === EVENTS_PER_STEP;
  }

  async #drainAll() {
    while (this.#step()) await nextTurn();
  }

  #onAck(firstOffset, lastOffset) {
    this.#settleWaiters(lastOffset, (waiter) => waiter.resolve());
    this.#emitSafely('ack', { firstOffset, lastOffset });
  }

  #onError(firstOffset, lastOffset, error) {
    error.firstOffset = firstOffset;
    error.lastOffset = lastOffset;
    this.#lost.push({ first: firstOffset, last: lastOffset, error });
    this.#settleWaiters(lastOffset, (waiter) => waiter.reject(error));
    // A failed stream delivers nothing more: like a closed one, it no longer holds the
    // process open.
    if (this.#native.info().state === 'failed') this.#native.keepLoopAlive(false);
    // Every failure also rejects the promises that wait for it, so an 'error' event without
    // a listener is dropped instead of being thrown as EventEmitter would.
    if (this.listenerCount('error') > 0) this.#emitSafely('error', error);
  }

  // A listener that throws must not cut the delivery of the events after it: its exception
  // goes to 'uncaughtException' as it would from any I/O callback.
  #emitSafely(name, value) {
    try {
      this.emit(name, value);
    } catch (error) {
      process.nextTick(() => {
        throw error;
      });
    }
  }

  #addWaiter(waiter) {
    awaitedStreams.add(this);
    const waiters = this.#waiters;
    if (waiters.length === this.#waitersHead || waiters.at(-1).offset <= waiter.offset) {
      waiters.push(waiter);
      return;
    }
    let low = this.#waitersHead;
    let high = waiters.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (waiters[middle].offset <= waiter.offset) low = middle + 1;
      else high = middle;
    }
    waiters.splice(low, 0, waiter);
  }

  #settleWaiters(lastOffset, settle) {
    const waiters = this.#waiters;
    let head = this.#waitersHead;
    while (head < waiters.length && waiters[head].offset <= lastOffset) {
      settle(waiters[head]);
      waiters[head++] = undefined;
    }
    if (head === waiters.length) {
      this.#waiters = [];
      head = 0;
      awaitedStreams.delete(this);
    } else if (head > 1024 && head * 2 > waiters.length) {
      waiters.splice(0, head);
      head = 0;
    }
    this.#waitersHead = head;
  }
}

module.exports = { Stream, kCreate, DEFAULT_TIMEOUT_MS };
