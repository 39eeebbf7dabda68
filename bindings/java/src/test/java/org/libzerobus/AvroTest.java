package org.libzerobus;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Avro streams, with Apache Avro (an implementation independent of libzerobus) as the oracle: the
 * datums it writes go through the binding into zerobus serve, and the stored rows are checked.
 */
@Timeout(120)
class AvroTest {
  /** A column of each kind of Avro type a Delta column maps to. */
  private static final String TABLE = "main.default.avro_java";

  private static final String DDL =
      TABLE
          + " (id BIGINT NOT NULL, s STRING, d DOUBLE, day DATE, ts TIMESTAMP, raw BINARY,"
          + " tags ARRAY<STRING>)";

  private static final ObjectMapper JSON = new ObjectMapper();

  private static LocalServer start() throws Exception {
    return LocalServer.start("--table", DDL);
  }

  /** The datum Apache Avro writes for `fields` (the others null) under `writerSchema`. */
  private static byte[] datum(String writerSchema, Map<String, Object> fields) throws IOException {
    Schema schema = new Schema.Parser().parse(writerSchema);
    GenericRecord record = new GenericData.Record(schema);
    fields.forEach(record::put);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(out, null);
    new GenericDatumWriter<GenericRecord>(schema).write(record, encoder);
    encoder.flush();
    return out.toByteArray();
  }

  /**
   * Asserts that the table holds the rows `expected` (JSON objects whose columns left out are
   * null).
   */
  private static void assertRows(LocalServer server, String... expected) throws Exception {
    List<JsonNode> want = new ArrayList<>();
    for (String row : expected) {
      JsonNode columns = JSON.readTree(row);
      ObjectNode full =
          JSON.createObjectNode()
              .putNull("id")
              .putNull("s")
              .putNull("d")
              .putNull("day")
              .putNull("ts")
              .putNull("raw")
              .putNull("tags");
      full.setAll((ObjectNode) columns);
      want.add(full);
    }
    List<JsonNode> got = new ArrayList<>();
    for (String line : server.rows(TABLE)) {
      got.add(JSON.readTree(line));
    }
    assertEquals(want, got);
  }

  @Test
  void datumsApacheAvroWritesAreStoredAsWritten() throws Exception {
    try (LocalServer server = start();
        ZerobusSdk sdk = server.sdk();
        TableSchema schema = TableSchema.fromDdl(DDL)) {
      String writer = schema.avro();
      assertTrue(writer.contains("\"logicalType\":\"timestamp-micros\""), writer);
      // Apache Avro's generic records take the logical types as their underlying int and long.
      byte[] first =
          datum(
              writer,
              Map.of(
                  "id",
                  1L,
                  "s",
                  "héllo",
                  "d",
                  -2.25,
                  "day",
                  19782,
                  "ts",
                  1795512600250000L,
                  "raw",
                  ByteBuffer.wrap(new byte[] {0, 1, (byte) 0xff}),
                  "tags",
                  List.of("x", "")));
      byte[] second = datum(writer, Map.of("id", -2L));
      byte[] third = datum(writer, Map.of("id", 3L, "tags", List.of()));

      ZerobusStream stream = sdk.createAvroStream(TABLE, writer, server.options().build());
      assertEquals(0, stream.ingestRecordOffset(first));
      assertEquals(2, stream.ingestRecordsOffset(List.of(second, third)));
      stream.close();
      assertRows(
          server,
          "{\"id\": 1, \"s\": \"héllo\", \"d\": -2.25, \"day\": 19782, \"ts\": 1795512600250000,"
              + " \"raw\": \"AAH/\", \"tags\": [\"x\", \"\"]}",
          "{\"id\": -2}",
          "{\"id\": 3, \"tags\": []}");
    }
  }

  @Test
  void aWriterSchemaOfTheProducersOwnIsRead() throws Exception {
    // Another shape than the table's: int for BIGINT, a string that is not nullable, fields in
    // another order, columns left out.
    String writer =
        "{\"type\": \"record\", \"name\": \"Event\", \"namespace\": \"producer\", \"fields\": ["
            + "{\"name\": \"s\", \"type\": \"string\"}, {\"name\": \"id\", \"type\": \"int\"}]}";
    try (LocalServer server = start();
        ZerobusSdk sdk = server.sdk()) {
      ZerobusStream stream = sdk.createAvroStream(TABLE, writer, server.options().build());
      stream.ingestRecordsOffset(
          List.of(
              datum(writer, Map.of("s", "a", "id", 10)),
              datum(writer, Map.of("s", "b", "id", -11))));
      stream.close();
      assertRows(server, "{\"id\": 10, \"s\": \"a\"}", "{\"id\": -11, \"s\": \"b\"}");
    }
  }

  @Test
  void aWriterSchemaThatDoesNotFitTheTableIsRefusedNamingTheColumn() throws Exception {
    String writer =
        "{\"type\": \"record\", \"name\": \"E\", \"fields\": [{\"name\": \"id\", \"type\":"
            + " \"string\"}]}";
    try (LocalServer server = start();
        ZerobusSdk sdk = server.sdk()) {
      ZerobusException refused =
          assertThrows(
              ZerobusException.class,
              () ->
                  sdk.createAvroStream(
                      TABLE, writer, server.options().set("recovery.enable", "false").build()));
      assertEquals("ZB_ERR_TRANSPORT", refused.codeName(), refused.getMessage());
      assertTrue(
          refused
              .getMessage()
              .contains("column 'id': the writer's type is string, the column is bigint"),
          refused.getMessage());
      ZerobusException notARecord =
          assertThrows(
              ZerobusException.class,
              () -> sdk.createAvroStream(TABLE, "\"string\"", server.options().build()));
      assertEquals("ZB_ERR_INVALID_TARGET", notARecord.codeName(), notARecord.getMessage());
    }
  }

  @Test
  void aStreamOfTheTablesSchemaTakesJsonRecordsAndDatums() throws Exception {
    try (LocalServer server = start();
        ZerobusSdk sdk = server.sdk()) {
      ZerobusStream stream;
      byte[] own;
      try (TableSchema schema = TableSchema.fromDdl(DDL)) {
        stream = sdk.createAvroStream(schema, server.options().build());
        own = datum(schema.avro(), Map.of("id", 8L, "d", 0.5));
      }
      // The stream keeps what it needs of the schema, closed by now.
      stream.ingestRecordOffset("{\"id\": 5, \"day\": \"2024-02-29\", \"tags\": [\"a\"]}");
      ZerobusException invalid =
          assertThrows(
              ZerobusException.class, () -> stream.ingestRecordOffset("{\"id\": \"five\"}"));
      assertEquals("ZB_ERR_INVALID_RECORD", invalid.codeName(), invalid.getMessage());
      stream.ingestJsonRecordsOffset(
          List.of("{\"id\": 6, \"s\": \"six\"}", "{\"id\": 7, \"raw\": \"AAH/\"}"));
      assertEquals(3, stream.ingestRecordOffset(own));
      stream.close();
      assertRows(
          server,
          "{\"id\": 5, \"day\": 19782, \"tags\": [\"a\"]}",
          "{\"id\": 6, \"s\": \"six\"}",
          "{\"id\": 7, \"raw\": \"AAH/\"}",
          "{\"id\": 8, \"d\": 0.5}");
    }
  }
}
