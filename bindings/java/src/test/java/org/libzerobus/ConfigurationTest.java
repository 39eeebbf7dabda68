package org.libzerobus;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.System.Logger;
import java.util.List;
import java.util.ResourceBundle;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Options, versions, codes and logging, as the loaded library defines them. */
@Timeout(60)
class ConfigurationTest {
  @Test
  void everyKeyOfTheLibraryIsTakenByTheBuilder() {
    List<ConfigProperty> keys = ZerobusSdk.configurationKeys();
    assertTrue(keys.size() > 20, keys.size() + " keys");
    StreamConfigurationOptions.Builder builder = StreamConfigurationOptions.builder();
    for (ConfigProperty key : keys) {
      assertTrue(List.of("sdk", "stream").contains(key.scope()), key.toString());
      builder.set(key.name(), key.defaultValue());
    }
    assertEquals(keys.size(), builder.build().values().size());
  }

  @Test
  void theBuilderRefusesWhatTheLibraryRefuses() {
    IllegalArgumentException unknown =
        assertThrows(
            IllegalArgumentException.class,
            () -> StreamConfigurationOptions.builder().set("no.such.key", "1").build());
    assertEquals(
        "ZB_ERR_UNKNOWN_KEY",
        assertInstanceOf(ZerobusException.class, unknown.getCause()).codeName());
    IllegalArgumentException outOfRange =
        assertThrows(
            IllegalArgumentException.class,
            () -> StreamConfigurationOptions.builder().setRecoveryRetries(-5).build());
    assertEquals(
        "ZB_ERR_INVALID_VALUE",
        assertInstanceOf(ZerobusException.class, outOfRange.getCause()).codeName());
  }

  @Test
  void theServerSeesTheLibraryTheBindingAndTheApplication() throws Exception {
    String library = "libzerobus/" + ZerobusSdk.libraryVersion();
    String binding = "java/" + System.getProperty("java.version");
    try (LocalServer server = LocalServer.start()) {
      StreamConfigurationOptions named =
          server.options().setApplicationName("java-test/1.0").build();
      try (ZerobusSdk sdk = new ZerobusSdk(server.endpoint, null, named)) {
        sdk.createJsonStream(LocalServer.EVENTS, server.options().build()).close();
      }
      // What follows the application is the HTTP/2 client's own name, which depends on
      // transport.engine and which the library's own tests check.
      String stats = server.stats();
      assertTrue(stats.contains("\"" + library + " " + binding + " java-test/1.0 "), stats);
    }
  }

  @Test
  void codesAreNamedByTheLibrary() {
    assertEquals("ZB_ERR_TIMEOUT", ZerobusException.nameOf(5));
    assertEquals("ZB_ERR(100000)", ZerobusException.nameOf(100000));
    assertNotNull(ZerobusException.describe(5));
    assertTrue(ZerobusSdk.libraryVersion().matches("\\d+\\.\\d+\\.\\d+"));
  }

  /** A System.Logger that keeps what it is given. */
  static final class Recording implements Logger {
    final ConcurrentLinkedQueue<String> lines = new ConcurrentLinkedQueue<>();

    @Override
    public String getName() {
      return "recording";
    }

    @Override
    public boolean isLoggable(Level level) {
      return level.getSeverity() >= Level.DEBUG.getSeverity();
    }

    @Override
    public void log(Level level, ResourceBundle bundle, String message, Throwable thrown) {
      lines.add(level + " " + message);
    }

    @Override
    public void log(Level level, ResourceBundle bundle, String format, Object... parameters) {
      lines.add(level + " " + format);
    }
  }

  @Test
  void theLibraryLogsThroughTheSdksLogger() throws Exception {
    Recording logger = new Recording();
    try (LocalServer server = LocalServer.start();
        ZerobusSdk sdk =
            new ZerobusSdk(server.endpoint, null, server.options().setLogger(logger).build())) {
      try (ZerobusStream stream =
          sdk.createJsonStream(LocalServer.EVENTS, server.options().build())) {
        stream.ingestRecordOffset(Events.json(0));
      }
    }
    List<String> lines = List.copyOf(logger.lines);
    assertTrue(
        lines.stream()
            .anyMatch(line -> line.startsWith("DEBUG ") && line.contains(LocalServer.EVENTS)),
        lines.toString());
    assertTrue(lines.stream().anyMatch(line -> line.startsWith("INFO ")), lines.toString());
  }
}
