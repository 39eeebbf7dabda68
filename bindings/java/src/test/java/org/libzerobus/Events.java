package org.libzerobus;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/** Records of the events table (id BIGINT, payload STRING), as JSON and as protobuf. */
final class Events {
  private Events() {}

  static String payload(long id) {
    return "event " + id;
  }

  static String json(long id) {
    return "{\"id\": " + id + ", \"payload\": \"" + payload(id) + "\"}";
  }

  /** message Event { optional int64 id = 1; optional string payload = 2; } */
  static byte[] proto(long id) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(1 << 3); // field 1, varint
    varint(out, id);
    byte[] text = payload(id).getBytes(StandardCharsets.UTF_8);
    out.write(2 << 3 | 2); // field 2, length-delimited
    varint(out, text.length);
    out.writeBytes(text);
    return out.toByteArray();
  }

  private static void varint(ByteArrayOutputStream out, long value) {
    while ((value & ~0x7FL) != 0) {
      out.write((int) (value & 0x7F) | 0x80);
      value >>>= 7;
    }
    out.write((int) value);
  }
}
