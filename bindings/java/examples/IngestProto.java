/*
 * Streams protobuf records into a table and waits until they are durable.
 *
 * Against a local server:
 *
 *   zerobus serve --data-dir /tmp/zb --table 'main.default.events (id BIGINT, payload STRING)'
 *   java --enable-native-access=ALL-UNNAMED -cp target/classes examples/IngestProto.java \
 *       http://127.0.0.1:50051 1000
 *   zerobus rows main.default.events --data-dir /tmp/zb
 *
 * The endpoint defaults to $ZEROBUS_ENDPOINT.
 */
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import org.libzerobus.StreamConfigurationOptions;
import org.libzerobus.TableSchema;
import org.libzerobus.ZerobusSdk;
import org.libzerobus.ZerobusStream;

public class IngestProto {
  // The table's columns. A protobuf stream is opened with the message descriptor of its
  // records, and the library derives it from the columns: no .proto file, no protoc. A program
  // with generated message types passes Event.getDescriptor().toProto().toByteArray() to
  // createProtoStream instead.
  static final String TABLE_DDL = "main.default.events (id BIGINT, payload STRING)";

  public static void main(String[] args) throws Exception {
    String endpoint = args.length > 0 ? args[0] : System.getenv("ZEROBUS_ENDPOINT");
    int records = args.length > 1 ? Integer.parseInt(args[1]) : 1000;
    if (endpoint == null) {
      throw new IllegalArgumentException("no endpoint: give one or set ZEROBUS_ENDPOINT");
    }
    StreamConfigurationOptions options =
        StreamConfigurationOptions.builder().setPlaintext(endpoint.startsWith("http://")).build();
    try (TableSchema schema = TableSchema.fromDdl(TABLE_DDL);
        ZerobusSdk sdk = new ZerobusSdk(endpoint, null, options)) {
      ZerobusStream stream =
          sdk.createProtoStream(schema.tableName(), schema.descriptor(), options);
      for (long id = 0; id < records; id++) {
        stream.ingestRecordOffset(encodeEvent(id, "event " + id));
      }
      // close() waits until every record is durable; what was not stays in
      // stream.getUnackedRecords(), for sdk.recreateStream(stream).
      stream.close();
      System.out.println(records + " protobuf records durable in " + schema.tableName());
    }
  }

  /**
   * The record `zerobus schema --ddl` describes: message Event { int64 id = 1; string payload = 2;
   * }
   */
  static byte[] encodeEvent(long id, String payload) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(1 << 3); // field 1, varint
    writeVarint(out, id);
    byte[] text = payload.getBytes(StandardCharsets.UTF_8);
    out.write(2 << 3 | 2); // field 2, length-delimited
    writeVarint(out, text.length);
    out.writeBytes(text);
    return out.toByteArray();
  }

  static void writeVarint(ByteArrayOutputStream out, long value) {
    while ((value & ~0x7FL) != 0) {
      out.write((int) (value & 0x7F) | 0x80);
      value >>>= 7;
    }
    out.write((int) value);
  }
}
