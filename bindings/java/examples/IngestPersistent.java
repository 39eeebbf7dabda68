/*
 * Persistent streams (experimental): records stored exactly once across two sessions of a
 * producer, the second resuming the first's stream by its id.
 *
 * The first session creates a persistent stream, saves its id in a file before any record,
 * ingests the first half of the records and stops. The second reads the id back, resumes the
 * stream, and learns from its watermark which records are stored (the record whose id is the
 * offset is stored exactly when its offset is at or below the watermark), so it sends only the
 * rest. A producer killed at any moment resumes the same way. Then it retires the stream.
 *
 * Against a local server:
 *
 *   zerobus serve --data-dir /tmp/zb --table 'main.default.events (id BIGINT, payload STRING)'
 *   java --enable-native-access=ALL-UNNAMED -cp target/classes examples/IngestPersistent.java \
 *       http://127.0.0.1:50051 1000
 *
 * The endpoint defaults to $ZEROBUS_ENDPOINT.
 */
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.libzerobus.PersistentStream;
import org.libzerobus.StreamConfigurationOptions;
import org.libzerobus.ZerobusSdk;
import org.libzerobus.ZerobusStream;

public class IngestPersistent {
  private static final String TABLE = "main.default.events";

  public static void main(String[] args) throws Exception {
    String endpoint = args.length > 0 ? args[0] : System.getenv("ZEROBUS_ENDPOINT");
    int records = args.length > 1 ? Integer.parseInt(args[1]) : 1000;
    if (endpoint == null) {
      throw new IllegalArgumentException("no endpoint: give one or set ZEROBUS_ENDPOINT");
    }
    StreamConfigurationOptions options =
        StreamConfigurationOptions.builder().setPlaintext(endpoint.startsWith("http://")).build();
    Path idFile = Files.createTempDirectory("zerobus-persistent-").resolve("stream-id");
    try (ZerobusSdk sdk = new ZerobusSdk(endpoint, null, options)) {
      // Session one: create, keep the id, ingest half, stop.
      PersistentStream first = sdk.createPersistentJsonStream(TABLE, options);
      Files.writeString(
          idFile, first.getStreamId(), StandardOpenOption.CREATE_NEW, StandardOpenOption.SYNC);
      System.out.println("created persistent stream " + first.getStreamId());
      ingest(first, 0, records / 2);
      first.close();

      // Session two: resume by the saved id and send what the server has not committed.
      String id = Files.readString(idFile);
      PersistentStream second = sdk.resumePersistentJsonStream(TABLE, id, options);
      long next = second.getResumeWatermark().orElse(-1) + 1;
      System.out.println(
          "resumed at watermark " + second.getResumeWatermark() + ": sending ids from " + next);
      ingest(second, next, records);
      second.close();

      sdk.retirePersistentStream(TABLE, id, options);
      System.out.println(records + " records ingested into " + TABLE + " once; stream retired");
    } finally {
      Files.deleteIfExists(idFile);
      Files.delete(idFile.getParent());
    }
  }

  private static void ingest(ZerobusStream stream, long first, long end) throws Exception {
    for (long id = first; id < end; id++) {
      stream.ingestRecordOffset("{\"id\": " + id + ", \"payload\": \"event " + id + "\"}");
    }
  }
}
