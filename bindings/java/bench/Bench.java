/*
 * Records/s of the Java binding: RECORDS protobuf records of 100 bytes (an encoded Event, its
 * payload padded), one ingestRecordOffset(byte[]) call per record, from THREADS threads into
 * one stream; the clock stops once every record is acknowledged. Prints "records/s: N" last.
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
      AtomicReference<Throwable> failure = new AtomicReference<>();
      List<Thread> workers = new ArrayList<>();
      long start = System.nanoTime();
      for (int thread = 0; thread < threads; thread++) {
        long first = records * thread / threads;
        long end = records * (thread + 1) / threads;
        workers.add(
            Thread.ofPlatform()
                .start(
                    () -> {
                      byte[] record = new byte[SIZE];
                      try {
                        for (long id = first; id < end; id++) {
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
      long ingested = System.nanoTime() - start;
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
