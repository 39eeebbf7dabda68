#!/usr/bin/env node
// The official Databricks Zerobus SDK (its Rust core, through the prebuilt Node addon that
// bench/official/install.sh puts in DIR) doing the benchmark suite's work, so that every
// libzerobus figure can be given as a ratio to it. It prints exactly one JSON line on stdout;
// diagnostics go to stderr and any error exits non-zero.
//
//   node official_bench.js --modules DIR/node_modules --endpoint URL --table NAME
//     --mode throughput [--records N] [--size BYTES] [--batch B] [--threads T] [--streams S]
//                       [--window CALLS]
//     --mode latency [--rate R] [--seconds D] [--size BYTES]
//
// Authentication goes through a custom headers provider (a bearer token and the table name),
// so the endpoint may be a plaintext http:// URL such as `zerobus serve`'s.
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const { performance } = require('node:perf_hooks');
const { parseArgs } = require('node:util');

const ADDON_PACKAGE = '@databricks/zerobus-ingest-sdk-linux-x64-gnu';

// DescriptorProto of `message Event { optional int64 id = 1; optional string payload = 2; }`.
const EVENT_DESCRIPTOR_HEX =
  '0a054576656e74120a0a026964180120012803120f0a077061796c6f6164180220012809';

// Stream options a user seeking throughput would set. The addon's defaults already allow a
// million requests in flight, so nothing throttles the benchmark; they are spelled out so
// that a change of default cannot change what is measured.
const STREAM_OPTIONS_NOTE =
  'recordType Proto, maxInflightRequests 1000000, other options at their defaults';

// Ingest calls each throughput producer keeps outstanding. On a 2-core machine the rate of
// 100-byte records rose from 1 to 64 calls and fell beyond (16: 56k/s, 64: 64k/s, 256: 42k/s,
// 1024: 37k/s while the machine was loaded), CPU per record following the same curve.
const DEFAULT_WINDOW = 64;

const USAGE = `usage: node official_bench.js --modules DIR --endpoint URL --table NAME --mode MODE
  --mode throughput  [--records N (1000000)] [--size BYTES (100)] [--batch B (1)]
                     [--threads T (1)] [--streams S (1)] [--window CALLS (${DEFAULT_WINDOW})]
  --mode latency     [--rate RECORDS_PER_S (1000)] [--seconds D (5)] [--size BYTES (100)]`;

function parseCommandLine(argv) {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      modules: { type: 'string' },
      endpoint: { type: 'string' },
      table: { type: 'string' },
      mode: { type: 'string' },
      records: { type: 'string', default: '1000000' },
      size: { type: 'string', default: '100' },
      batch: { type: 'string', default: '1' },
      threads: { type: 'string', default: '1' },
      streams: { type: 'string', default: '1' },
      rate: { type: 'string', default: '1000' },
      seconds: { type: 'string', default: '5' },
      window: { type: 'string', default: String(DEFAULT_WINDOW) },
    },
  });
  for (const required of ['modules', 'endpoint', 'table', 'mode']) {
    if (values[required] === undefined) {
      throw new Error(`--${required} is required`);
    }
  }
  if (values.mode !== 'throughput' && values.mode !== 'latency') {
    throw new Error(`--mode must be throughput or latency, not "${values.mode}"`);
  }
  const positive = (name) => {
    const text = values[name];
    if (!/^[1-9][0-9]*$/.test(text) || !Number.isSafeInteger(Number(text))) {
      throw new Error(`--${name} must be a positive integer, not "${text}"`);
    }
    return Number(text);
  };
  const options = {
    modules: values.modules,
    endpoint: values.endpoint,
    table: values.table,
    mode: values.mode,
    records: positive('records'),
    size: positive('size'),
    batch: positive('batch'),
    threads: positive('threads'),
    streams: positive('streams'),
    rate: positive('rate'),
    seconds: positive('seconds'),
    window: positive('window'),
  };
  // The smallest Event with both fields present is 4 bytes; the service takes up to 10 MiB.
  if (options.size < 4 || options.size > 10 * 1024 * 1024) {
    throw new Error('--size must be 4 .. 10485760 bytes');
  }
  return options;
}

// The addon and the version npm installed, from DIR/node_modules.
function loadAddon(modulesDir) {
  const packageDir = path.join(path.resolve(modulesDir), ADDON_PACKAGE);
  const manifest = path.join(packageDir, 'package.json');
  if (!fs.existsSync(manifest)) {
    throw new Error(
      `${ADDON_PACKAGE} is not installed in ${modulesDir} ` +
        '(run bench/official/install.sh DIR and pass DIR/node_modules)',
    );
  }
  const { version } = JSON.parse(fs.readFileSync(manifest, 'utf8'));
  return { addon: require(packageDir), version };
}

function varintSize(value) {
  let bytes = 1;
  while (value >= 0x80) {
    value = Math.floor(value / 0x80);
    bytes += 1;
  }
  return bytes;
}

function writeVarint(buffer, offset, value) {
  while (value >= 0x80) {
    buffer[offset++] = value % 0x80 | 0x80;
    value = Math.floor(value / 0x80);
  }
  buffer[offset++] = value;
  return offset;
}

// An Event of exactly `size` bytes: field 1 (id) as a varint, field 2 (payload) padded. Some
// sizes cannot be reached with a one-byte id (the payload's length prefix grows a byte at
// 128), so the id takes whichever varint width makes the sum exact.
function eventRecord(size) {
  for (let idBytes = 1; idBytes <= 3; idBytes++) {
    for (let lengthBytes = 1; lengthBytes <= 4; lengthBytes++) {
      const payloadLength = size - 2 - idBytes - lengthBytes;
      if (payloadLength >= 0 && varintSize(payloadLength) === lengthBytes) {
        const id = idBytes === 1 ? 1 : 0x80 ** (idBytes - 1);
        const record = Buffer.alloc(size, 'x'.charCodeAt(0));
        let offset = 0;
        record[offset++] = 0x08; // field 1, varint
        offset = writeVarint(record, offset, id);
        record[offset++] = 0x12; // field 2, length-delimited
        writeVarint(record, offset, payloadLength);
        return record;
      }
    }
  }
  throw new Error(`no Event record of exactly ${size} bytes`);
}

async function openStreams(addon, options, count) {
  const sdk = new addon.ZerobusSdk(options.endpoint, options.endpoint);
  const tableProperties = {
    tableName: options.table,
    descriptorProto: Buffer.from(EVENT_DESCRIPTOR_HEX, 'hex').toString('base64'),
  };
  const streamOptions = {
    recordType: addon.RecordType.Proto,
    maxInflightRequests: 1000000,
  };
  // The addon calls this once, at creation, and needs its answer synchronously: a function
  // returning a Promise aborts the whole process from inside the addon.
  const headersProvider = {
    getHeadersCallback: () => [
      ['authorization', 'Bearer x'],
      ['x-databricks-zerobus-table-name', options.table],
    ],
  };
  const streams = [];
  for (let i = 0; i < count; i++) {
    streams.push(await sdk.createStream(tableProperties, '', '', streamOptions, headersProvider));
  }
  return streams;
}

// The wall time and the CPU time of the whole process (the addon's threads included) that
// `work` takes.
async function measure(work) {
  const cpuBefore = process.cpuUsage();
  const start = performance.now();
  await work();
  const seconds = (performance.now() - start) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  return { seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6 };
}

function processFigures() {
  return { peak_rss_mib: round(process.resourceUsage().maxRSS / 1024, 1) };
}

function round(value, digits) {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

// The streams producer `index` of `producers` writes to: its own stream when there are at
// least as many producers as streams, otherwise every stream congruent to it, in turn.
function streamsOfProducer(streams, index, producers) {
  if (producers >= streams.length) {
    return [streams[index % streams.length]];
  }
  return streams.filter((_, streamIndex) => streamIndex % producers === index);
}

// `options.threads` producers share the records. Each keeps `options.window` ingest calls
// outstanding (a call's promise resolves once the SDK has queued the record, so awaiting
// every call before the next would measure the JS-to-runtime round trip, not the SDK); the
// clock stops when every stream's flush has seen every record acknowledged.
async function runThroughput(addon, version, options) {
  const streams = await openStreams(addon, options, options.streams);
  const record = eventRecord(options.size);
  const fullBatch = new Array(options.batch).fill(record);
  const ingestMethod = options.batch === 1 ? 'ingestRecordOffset' : 'ingestRecordsOffset';

  const produce = (index) => {
    const own = streamsOfProducer(streams, index, options.threads);
    let unclaimed =
      Math.floor(options.records / options.threads) +
      (index < options.records % options.threads ? 1 : 0);
    let calls = 0;
    const lane = async () => {
      while (unclaimed > 0) {
        const stream = own[calls++ % own.length];
        const count = Math.min(options.batch, unclaimed);
        unclaimed -= count;
        if (options.batch === 1) {
          await stream.ingestRecordOffset(record);
        } else {
          await stream.ingestRecordsOffset(
            count === options.batch ? fullBatch : fullBatch.slice(0, count),
          );
        }
      }
    };
    return Promise.all(Array.from({ length: options.window }, lane));
  };

  const { seconds, cpuSeconds } = await measure(async () => {
    const producers = [];
    for (let index = 0; index < options.threads; index++) {
      producers.push(produce(index));
    }
    await Promise.all(producers);
    await Promise.all(streams.map((stream) => stream.flush()));
  });
  reportThreads();
  await Promise.all(streams.map((stream) => stream.close()));

  return {
    client: 'official',
    version,
    mode: 'throughput',
    records: options.records,
    size: options.size,
    batch: options.batch,
    threads: options.threads,
    streams: options.streams,
    seconds: round(seconds, 3),
    cpu_seconds: round(cpuSeconds, 3),
    ...processFigures(),
    note:
      `${options.threads} producer(s) as async loops on Node's one JS thread (not OS ` +
      `threads), each with ${options.window} ${ingestMethod} calls outstanding; producer p ` +
      `on stream p % streams (round-robin over its streams when there are more streams than ` +
      `producers); one ZerobusSdk; clock stopped after every stream's flush(); options: ` +
      STREAM_OPTIONS_NOTE,
  };
}

// Resolves once performance.now() >= `when`, or at the next timer tick (a millisecond at
// most) if that is sooner. Records due within one tick then go out together; spinning on
// setImmediate to space them evenly instead took a core from the SDK's own threads on a
// 2-core machine and multiplied its latency at 10,000 records/s by ten.
function sleepUntil(when) {
  return new Promise((resolve) => {
    setTimeout(resolve, Math.max(0, Math.floor(when - performance.now())));
  });
}

function percentile(sorted, fraction) {
  return sorted[Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1)];
}

// Records go out on a fixed schedule, `rate` per second for `seconds`, each ingestRecordOffset
// call started at the first timer tick at or after its due time, without waiting for earlier
// ones; the latency of a record is the time from its call to the moment the application
// learns that its offset is acknowledged.
//
// The addon (1.3.0) has no ack callback; it tells of acks only by resolving waitForOffset,
// during which it holds the stream's lock, so ingest calls queue behind every pending wait.
// A wait per record (or the deprecated ingestRecord, which does the same inside the addon)
// therefore allows one record per round trip, and at rates above that its latency measures
// the queue it builds rather than the ack. So one watcher does what the SDK's documentation
// advises: it waits for the highest offset handed out so far, which acknowledges every
// offset below it as well, and starts the next wait as soon as the previous one resolves.
async function runLatency(addon, version, options) {
  const [stream] = await openStreams(addon, options, 1);
  const record = eventRecord(options.size);
  const records = options.rate * options.seconds;
  const intervalMs = 1000 / options.rate;
  // Indexed by offset: one record per call on one fresh stream makes the offsets 0 .. records-1.
  const calledAt = new Float64Array(records);
  const ackedAt = new Float64Array(records);
  let highestOffset = -1;
  let wakeWatcher = () => {};
  // The first error of an ingest call or of the watcher; it ends the run.
  /** @type {unknown} */
  let runError;
  const fail = (/** @type {unknown} */ error) => {
    runError ??= error;
    wakeWatcher();
  };

  const ingest = () => {
    const called = performance.now();
    stream.ingestRecordOffset(record).then((offsetId) => {
      const offset = Number(offsetId);
      if (offset < 0 || offset >= records) {
        fail(new Error(`ingestRecordOffset returned offset ${offsetId}, not 0 .. ${records - 1}`));
        return;
      }
      calledAt[offset] = called;
      highestOffset = Math.max(highestOffset, offset);
      wakeWatcher();
    }, fail);
  };

  const watch = async () => {
    let acked = -1;
    while (acked < records - 1 && runError === undefined) {
      if (highestOffset === acked) {
        await new Promise((resolve) => {
          wakeWatcher = () => resolve(undefined);
        });
        continue;
      }
      const target = highestOffset;
      await stream.waitForOffset(BigInt(target));
      ackedAt.fill(performance.now(), acked + 1, target + 1);
      acked = target;
    }
  };

  let lastCallMs = 0;
  const { seconds, cpuSeconds } = await measure(async () => {
    const watcher = watch().catch(fail);
    const start = performance.now();
    for (let next = 0; next < records && runError === undefined; ) {
      // Every record already due goes out now, then the event loop gets its turn.
      const now = performance.now();
      while (next < records && start + next * intervalMs <= now) {
        ingest();
        next++;
      }
      await sleepUntil(start + next * intervalMs);
    }
    lastCallMs = performance.now() - start;
    await watcher;
    if (runError !== undefined) {
      throw runError;
    }
    await stream.flush();
  });
  reportThreads();
  await stream.close();

  const latencyUs = ackedAt.map((acked, offset) => (acked - calledAt[offset]) * 1000).sort();
  return {
    client: 'official',
    version,
    mode: 'latency',
    rate: options.rate,
    achieved_rate: Math.round(records / Math.max(lastCallMs / 1000, 1 / options.rate)),
    records,
    size: options.size,
    seconds: round(seconds, 3),
    p50_us: round(percentile(latencyUs, 0.5), 1),
    p99_us: round(percentile(latencyUs, 0.99), 1),
    p999_us: round(percentile(latencyUs, 0.999), 1),
    cpu_seconds: round(cpuSeconds, 3),
    ...processFigures(),
    note:
      'per record: from its ingestRecordOffset call to the resolution of a waitForOffset ' +
      'covering its offset; 1.3.0 has no ack callback and holds the stream lock through ' +
      'waitForOffset, so one watcher waits for the highest offset handed out so far, again ' +
      'and again (a wait per record, or the deprecated ingestRecord, allows one record per ' +
      "round trip); calls paced from Node's one JS thread by timers (1 ms ticks: records due " +
      'within a tick go out together), none waiting for earlier ones; achieved_rate is ' +
      'records over the time of the last call; ' +
      `options: ${STREAM_OPTIONS_NOTE}`,
  };
}

// The process's thread count (the JS thread, libuv's pool and the addon's runtime), for the
// record on stderr.
function reportThreads() {
  const status = fs.readFileSync('/proc/self/status', 'utf8');
  const threads = /^Threads:\s+(\d+)/m.exec(status);
  if (threads) {
    console.error(`official_bench: ${threads[1]} threads in the process`);
  }
}

async function main() {
  let options;
  try {
    options = parseCommandLine(process.argv.slice(2));
  } catch (error) {
    console.error(`official_bench: ${error instanceof Error ? error.message : error}\n${USAGE}`);
    process.exit(2);
  }
  const { addon, version } = loadAddon(options.modules);
  const run = options.mode === 'throughput' ? runThroughput : runLatency;
  const figures = await run(addon, version, options);
  process.stdout.write(`${JSON.stringify(figures)}\n`);
}

main().catch((error) => {
  console.error(`official_bench: ${error instanceof Error ? error.message : error}`);
  process.exit(1);
});
