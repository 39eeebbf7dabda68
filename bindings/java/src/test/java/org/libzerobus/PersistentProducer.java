package org.libzerobus;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * The process {@link PersistentTest} kills with SIGKILL mid-stream: creates a persistent stream,
 * writes its id to ID_FILE (synced) before any record, then ingests the events of ids 0 .. COUNT-1
 * and closes. Usage: PersistentProducer ENDPOINT ID_FILE COUNT
 */
final class PersistentProducer {
  private PersistentProducer() {}

  public static void main(String[] arguments) throws Exception {
    String endpoint = arguments[0];
    Path idFile = Path.of(arguments[1]);
    long count = Long.parseLong(arguments[2]);
    StreamConfigurationOptions options =
        StreamConfigurationOptions.builder()
            .setLogger(LocalServer.QUIET)
            .setPlaintext(true)
            .build();
    try (ZerobusSdk sdk = new ZerobusSdk(endpoint, null, options)) {
      PersistentStream stream =
          sdk.createPersistentProtoStream(
              LocalServer.EVENTS,
              TableSchema.fromDdl(LocalServer.EVENTS_DDL).descriptor(),
              options);
      Files.writeString(
          idFile,
          stream.getStreamId(),
          StandardOpenOption.CREATE_NEW,
          StandardOpenOption.WRITE,
          StandardOpenOption.SYNC);
      for (long id = 0; id < count; id++) {
        stream.ingestRecordOffset(Events.proto(id));
      }
      stream.close();
    }
  }
}
