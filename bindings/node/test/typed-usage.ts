// Type-checked (tsc --noEmit), never run: the API as a TypeScript user writes it. The misuses
// at the end must stay type errors, so that the declarations cannot loosen unnoticed.
import { once } from 'node:events';
import * as arrow from 'apache-arrow';
import {
  PersistentStream,
  Schema,
  Sdk,
  Status,
  Stream,
  ZerobusError,
  version,
  type AckEvent,
  type LogEvent,
  type SdkStats,
  type StreamInfo,
  type StreamStats,
  type UnackedRecord,
} from '..';

export async function ingestSome(endpoint: string, descriptor: Uint8Array): Promise<number> {
  const sdk = new Sdk(endpoint, { 'grpc.keepalive.time.ms': 30_000, 'transport.plaintext': true });
  await using stream: Stream = await sdk.openStream({
    table: 'main.default.events',
    descriptor,
    options: { 'recovery.retries': 2, 'recovery.enable': true },
  });
  stream.on('ack', (event: AckEvent) => console.log(event.firstOffset, event.lastOffset));
  stream.on('error', (err: ZerobusError) => console.log(err.code, err.firstOffset));
  let offset: number;
  for (;;) {
    try {
      offset = stream.ingest(Buffer.from([0x08, 0x01]));
      break;
    } catch (err) {
      if (!(err instanceof ZerobusError) || err.code !== 'ZB_ERR_QUEUE_FULL') throw err;
      await once(stream, 'ack');
    }
  }
  const last: number = stream.ingestBatch([new Uint8Array([0x08, 0x02]), Buffer.alloc(2)]);
  await stream.acked(offset);
  await stream.waitForOffset(last, 5_000);
  await stream.flush(Infinity);
  const info: StreamInfo = stream.info();
  const left: UnackedRecord[] = stream.unacked();
  console.log(
    info.state,
    info.recoveries,
    left.map((r) => r.record.length),
    version(),
  );
  return last;
}

export async function ingestAvro(sdk: Sdk, datum: Uint8Array): Promise<void> {
  const schema = Schema.fromDdl('main.default.events (id BIGINT, payload STRING)');
  const writerSchema: string = schema.avro();
  const own = await sdk.openStream({ table: schema.tableName, avro: writerSchema });
  const kind: 'proto' | 'json' | 'avro' | 'arrow' = own.recordType;
  own.ingestBatch([datum, Buffer.from(datum)]);
  const encoding = await sdk.openStream({ table: schema.tableName, avro: schema });
  encoding.ingest({ id: 1 });
  encoding.ingest(datum);
  console.log(kind);
  await Promise.all([own.close(), encoding.close()]);
}

export async function ingestJson(sdk: Sdk): Promise<void> {
  const stream = await sdk.openStream({ table: 'main.default.events' });
  stream.ingest({ id: 1, payload: 'object' });
  stream.ingest('{"id": 2}');
  try {
    await stream.close(1_000);
  } catch (err) {
    if (err instanceof ZerobusError && err.retryable && err.status === Status.ZB_ERR_TIMEOUT) {
      console.log(err.grpcStatus, err.message);
    }
  } finally {
    stream.destroy();
  }
  if (stream.recordType === 'json') console.log(stream.table);
}

export function observe(endpoint: string, stream: Stream): number {
  const sdk = new Sdk(endpoint, {
    'transport.plaintext': true,
    logLevel: 'info',
    statisticsIntervalMs: 10_000,
  });
  sdk.on('log', ({ level, component, message }: LogEvent) => {
    if (level === 'warn') console.log(component, message);
  });
  sdk.on('stats', (stats: SdkStats) => console.log(stats.streams.length));
  const own: StreamStats = stream.stats();
  const acked: number = sdk.stats().streams[0]?.offsets.acked ?? 0;
  console.log(own.errors.last?.grpc_status, own.ack_latency_us.p99);
  sdk.close();
  return acked;
}

export async function ingestArrow(sdk: Sdk): Promise<number> {
  const schema = new arrow.Schema([new arrow.Field('id', new arrow.Int64(), true)]);
  const stream = await sdk.openStream({ table: 'main.default.events', arrow: schema });
  const table = arrow.tableFromArrays({ id: BigInt64Array.of(1n, 2n) });
  stream.ingestArrow(table.batches[0]!);
  stream.ingestArrow(arrow.tableToIPC(table, 'stream'));
  const last: number = stream.ingestArrow(table);
  await stream.close();
  return last;
}

export async function persistent(sdk: Sdk, descriptor: Uint8Array): Promise<string> {
  const created: PersistentStream = await sdk.experimental.openPersistentStream({
    table: 'main.default.events',
    descriptor,
  });
  const id: string = created.streamId;
  await created.close();
  const resumed = await sdk.experimental.resumePersistentStream({
    table: 'main.default.events',
    descriptor,
    streamId: id,
  });
  const watermark: number | null = resumed.resumeWatermark;
  const next: number = resumed.ingest(new Uint8Array([8, 1]));
  console.log(watermark, next);
  const asStream: Stream = resumed;
  await asStream.close();
  await sdk.experimental.retirePersistentStream({ table: 'main.default.events', streamId: id });
  const schema = Schema.fromDdl('t (a INT)');
  // @ts-expect-error a persistent stream takes a descriptor's bytes, not a Schema
  void sdk.experimental.openPersistentStream({ table: 't', descriptor: schema });
  // @ts-expect-error resuming needs the stream's id
  void sdk.experimental.resumePersistentStream({ table: 'main.default.events' });
  // @ts-expect-error the id is readable, not writable
  resumed.streamId = 'other';
  return id;
}

export function misuse(stream: Stream): void {
  // @ts-expect-error Arrow takes a Table, a RecordBatch or IPC bytes, not rows
  stream.ingestArrow([{ id: 1 }]);
  // @ts-expect-error levels are the library's names
  new Sdk('localhost', { logLevel: 'verbose' });
  // @ts-expect-error a log listener gets a LogEvent
  new Sdk('localhost').on('log', (event: number) => console.log(event));
  // @ts-expect-error streams come from Sdk.openStream()
  new Stream();
  // @ts-expect-error an ack listener gets an AckEvent
  stream.on('ack', (event: string) => console.log(event));
  // @ts-expect-error the offset is a number
  void stream.acked('1');
  // @ts-expect-error avro is a writer schema's text or a Schema, not a parsed schema
  void new Sdk('localhost').openStream({ table: 'main.default.events', avro: { type: 'record' } });
  // @ts-expect-error codes are the library's names
  const code: ZerobusError['code'] = 'QUEUE_FULL';
  console.log(code);
}
