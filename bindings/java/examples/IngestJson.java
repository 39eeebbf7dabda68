/*
 * Streams JSON records into a table and waits until they are durable.
 *
 * Against a local server:
 *
 *   zerobus serve --data-dir /tmp/zb --table 'main.default.events (id BIGINT, payload STRING)'
 *   java --enable-native-access=ALL-UNNAMED -cp target/classes examples/IngestJson.java \
 *       http://127.0.0.1:50051 1000
 *   zerobus rows main.default.events --data-dir /tmp/zb
 *
 * The endpoint defaults to $ZEROBUS_ENDPOINT.
 */
import java.util.concurrent.TimeUnit;
import org.libzerobus.StreamConfigurationOptions;
import org.libzerobus.ZerobusSdk;
import org.libzerobus.ZerobusStream;

public class IngestJson {
  public static void main(String[] args) throws Exception {
    String endpoint = args.length > 0 ? args[0] : System.getenv("ZEROBUS_ENDPOINT");
    int records = args.length > 1 ? Integer.parseInt(args[1]) : 1000;
    if (endpoint == null) {
      throw new IllegalArgumentException("no endpoint: give one or set ZEROBUS_ENDPOINT");
    }
    // A local server speaks plaintext, which the SDK does only when told to; a workspace
    // needs credentials instead (setClientCredentials, with its URL as the second argument).
    StreamConfigurationOptions options =
        StreamConfigurationOptions.builder()
            .setPlaintext(endpoint.startsWith("http://"))
            .setAckCallback(offset -> {})
            .build();
    try (ZerobusSdk sdk = new ZerobusSdk(endpoint, null, options)) {
      ZerobusStream stream = sdk.createJsonStream("main.default.events", options);
      for (long id = 0; id < records; id++) {
        stream.ingestRecordOffset("{\"id\": " + id + ", \"payload\": \"event " + id + "\"}");
      }
      // Completed by the stream's acks, not by a thread that waits.
      stream.flush().get(30, TimeUnit.SECONDS);
      stream.close();
      System.out.println(records + " JSON records durable in main.default.events");
    }
  }
}
