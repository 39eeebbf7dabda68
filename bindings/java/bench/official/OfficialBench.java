/*
 * Records/s of the official Java SDK (com.databricks:zerobus-ingest-sdk 1.0.1, JNI over its
 * Rust core) for the work of ../Bench.java: RECORDS protobuf records of 100 bytes, one
 * ingestRecordOffset(byte[]) call per record, from THREADS threads into one stream, the clock
 * starting after the same warm-up and stopping once flush() returns. Prints "records/s: N" last.
 *
 *   java -cp CLASSPATH OfficialBench.java ENDPOINT [RECORDS [THREADS]]
 *
 * against `zerobus serve --null-sink` without --auth. The SDK always asks a workspace for an
 * OAuth token first, and its 1.0.1 core asks without the "zerobuswrite" operation that the
 * service, and so zerobus serve, now require: this bench answers that request itself, on a
 * loopback port of its own, and serve takes the stream without checking the token.
 */
import com.databricks.zerobus.ZerobusProtoStream;
import com.databricks.zerobus.ZerobusSdk;
import com.google.protobuf.DescriptorProtos.DescriptorProto;
import com.google.protobuf.DescriptorProtos.FieldDescriptorProto;
import com.sun.net.httpserver.HttpServer;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

public class OfficialBench {
  static final int SIZE = 100;
  static final long WARM_UP = 200_000;

  public static void main(String[] args) throws Exception {
    String endpoint = args[0];
    long records = args.length > 1 ? Long.parseLong(args[1]) : 1_000_000;
    int threads = args.length > 2 ? Integer.parseInt(args[2]) : 4;
    HttpServer workspace = tokenEndpoint();
    String workspaceUrl = "http://127.0.0.1:" + workspace.getAddress().getPort();
    try (ZerobusSdk sdk = new ZerobusSdk(endpoint, workspaceUrl)) {
      ZerobusProtoStream stream =
          sdk.createProtoStream("bench.default.events", eventDescriptor(), "bench", "bench").join();
      // As ../Bench.java: a warm-up round, flushed and not counted, then the clock.
      ingest(stream, 0, WARM_UP, threads);
      stream.flush();
      long start = System.nanoTime();
      ingest(stream, WARM_UP, WARM_UP + records, threads);
      stream.flush();
      double seconds = (System.nanoTime() - start) / 1e9;
      stream.close();
      System.out.printf(
          "official Java SDK 1.0.1: %d records of %d bytes from %d threads, all acknowledged"
              + " after %.3fs%n",
          records, SIZE, threads, seconds);
      System.out.printf("records/s: %.0f%n", records / seconds);
    } finally {
      workspace.stop(0);
    }
  }

  /** Ingests ids first..end-1 from `threads` threads. */
  static void ingest(ZerobusProtoStream stream, long first, long end, int threads)
      throws Exception {
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
  }

  /** POST /oidc/v1/token answered with a token that serve, without --auth, does not check. */
  static HttpServer tokenEndpoint() throws Exception {
    HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext(
        "/oidc/v1/token",
        exchange -> {
          exchange.getRequestBody().readAllBytes();
          byte[] body =
              "{\"access_token\": \"bench\", \"token_type\": \"Bearer\", \"expires_in\": 3600}"
                  .getBytes(StandardCharsets.UTF_8);
          exchange.getResponseHeaders().add("Content-Type", "application/json");
          exchange.sendResponseHeaders(200, body.length);
          exchange.getResponseBody().write(body);
          exchange.close();
        });
    server.start();
    return server;
  }

  /** message Event { optional int64 id = 1; optional string payload = 2; } */
  static DescriptorProto eventDescriptor() {
    return DescriptorProto.newBuilder()
        .setName("Event")
        .addField(field("id", 1, FieldDescriptorProto.Type.TYPE_INT64))
        .addField(field("payload", 2, FieldDescriptorProto.Type.TYPE_STRING))
        .build();
  }

  static FieldDescriptorProto field(String name, int number, FieldDescriptorProto.Type type) {
    return FieldDescriptorProto.newBuilder()
        .setName(name)
        .setNumber(number)
        .setType(type)
        .setLabel(FieldDescriptorProto.Label.LABEL_OPTIONAL)
        .build();
  }

  /** An Event with `id` whose payload pads `record` to its whole length, as Bench.java's. */
  static byte[] encodeEvent(byte[] record, long id) {
    int at = 0;
    record[at++] = 1 << 3;
    for (long value = id; ; value >>>= 7) {
      if ((value & ~0x7FL) == 0) {
        record[at++] = (byte) value;
        break;
      }
      record[at++] = (byte) ((value & 0x7F) | 0x80);
    }
    record[at++] = 2 << 3 | 2;
    record[at] = (byte) (record.length - at - 1);
    for (at++; at < record.length; at++) {
      record[at] = 'x';
    }
    return record;
  }
}
