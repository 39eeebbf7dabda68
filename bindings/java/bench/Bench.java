/*
 * Records/s of the Java binding: RECORDS protobuf records of 100 bytes (an encoded Event, its
 * payload padded), one ingestRecordOffset(byte[]) call per record, from THREADS threads into
 * one stream; the clock starts after a warm-up of 200,000 records, acknowledged and not counted,
 * and stops once every record is acknowledged. Prints "records/s: N" last.
 *
 *   java --enable-native-access=ALL-UNNAMED -cp target/classes bench/Bench.java ENDPOINT \
 *       [RECORDS [THREADS]]
 *
 * against `zerobus serve --null-sink --table 'bench.default.events (id BIGINT, payload
 * STRING)'` (bench/bindings.sh and test.sh start one).
 */
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.libzerobus.StreamConfigurationOptions;
import org.libzerobus.TableSchema;
import org.libzerobus.ZerobusSdk;
import org.libzerobus.ZerobusStream;

public class Bench {
  static final int SIZE = 100;
  static final long WARM_UP = 200_000;

  public static void main(String[] args) throws Exception {
    String endpoint = args[0];
    long records = args.length > 1 ? Long.parseLong(args[1]) : 1_000_000;
    int threads = args.length > 2 ? Integer.parseInt(args[2]) : 4;
    StreamConfigurationOptions options =
        StreamConfigurationOptions.builder().setPlaintext(endpoint.startsWith("http://")).build();
    try (TableSchema schema =
            TableSchema.fromDdl("bench.default.events (id BIGINT, payload STRING)");
        ZerobusSdk sdk = new ZerobusSdk(endpoint, null, options)) {
      ZerobusStream stream =
          sdk.createProtoStream(schema.tableName(), schema.descriptor(), options);
      // The JIT compiles the ingest path while it runs: a first round, flushed before the
      // clock starts, measures the steady state, as a JVM service runs.
      ingest(stream, 0, WARM_UP, threads);
      stream.flush().get(120, TimeUnit.SECONDS);
      long start = System.nanoTime();
      long ingested = ingest(stream, WARM_UP, WARM_UP + records, threads) - start;
      stream.flush().get(120, TimeUnit.SECONDS);
      double seconds = (System.nanoTime() - start) / 1e9;
      stream.close();
      System.out.printf(
          "Java binding: %d records of %d bytes from %d threads, ingest calls took %.3fs, all"
              + " acknowledged after %.3fs%n",
          records, SIZE, threads, ingested / 1e9, seconds);
      System.out.printf("records/s: %.0f%n", records / seconds);
    }
  }

  /** Ingests ids first..end-1 from `threads` threads; returns System.nanoTime() when done. */
  static long ingest(ZerobusStream stream, long first, long end, int threads) throws Exception {
    AtomicReference<Throwable> failure = new AtomicReference<>();
    List<Thread> workers = new ArrayList<>();
    long records = end - first;
    for (int thread = 0; thread < threads; thread++) {
      long from = first + records * thread / threads;
      long to = first + records * (thread + 1) / threads;
      workers.add(
          Thread.ofPlatform()
              .start(
                  () -> {
                    byte[] record = new byte[SIZE];
                    try {
                      for (long id = from; id < to; id++) {
                        stream.ingestRecordOffset(encodeEvent(record, id));
                      }
                    } catch (Throwable failed) {
                      failure.compareAndSet(null, failed);
                    }
                  }));
    }
    for (Thread worker : workers) {
      worker.join();
    }
    if (failure.get() != null) {
      throw new IllegalStateException("ingest failed", failure.get());
    }
    return System.nanoTime();
  }

  /** An Event with `id` whose payload pads `record` to its whole length. */
  static byte[] encodeEvent(byte[] record, long id) {
    int at = 0;
    record[at++] = 1 << 3; // field 1, varint
    for (long value = id; ; value >>>= 7) {
      if ((value & ~0x7FL) == 0) {
        record[at++] = (byte) value;
        break;
      }
      record[at++] = (byte) ((value & 0x7F) | 0x80);
    }
    record[at++] = 2 << 3 | 2; // field 2, length-delimited, under 128 bytes
    record[at] = (byte) (record.length - at - 1);
    for (at++; at < record.length; at++) {
      record[at] = 'x';
    }
    return record;
  }
}
