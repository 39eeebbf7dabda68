package org.libzerobus;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * `zerobus serve` as a child process of the tests, found by the ready file (--ready-file) it writes
 * with its addresses once it listens, never by its log; the binary is the system property
 * zerobus.serve (test.sh sets it to the installed one).
 */
final class LocalServer implements AutoCloseable {
  static final String EVENTS = "main.default.events";
  static final String EVENTS_DDL = EVENTS + " (id BIGINT, payload STRING)";
  private static final Duration READY_WITHIN = Duration.ofSeconds(30);
  private static final Pattern ROW_ID = Pattern.compile("\"id\":\\s*(\\d+)");
  private static final Pattern STREAMS_OPENED = Pattern.compile("\"streams_opened\":\\s*(\\d+)");
  private static final Pattern RECORDS = Pattern.compile("\"records\":\\s*(\\d+)");

  private final String binary;
  private final Process process;
  private final Path dataDir;
  final String endpoint;
  final String admin;
  final String workspace;

  private LocalServer(String binary, Process process, Path dataDir, String ready) {
    this.binary = binary;
    this.process = process;
    this.dataDir = dataDir;
    this.endpoint = url(ready, "grpc");
    this.admin = url(ready, "admin");
    this.workspace = url(ready, "http");
  }

  /** A server with the events table declared, and `options` (faults, more tables, ...). */
  static LocalServer start(String... options) throws IOException, InterruptedException {
    return startIn(Files.createTempDirectory("zerobus-java-"), options);
  }

  /**
   * As {@link #start}, with its data in `dataDir` (where --tls writes its certificates), which
   * {@link #close()} deletes.
   */
  static LocalServer startIn(Path dataDir, String... options)
      throws IOException, InterruptedException {
    String binary = binary();
    Path readyFile = dataDir.resolve("ready.json");
    List<String> command =
        new ArrayList<>(
            List.of(binary, "serve", "--listen", "127.0.0.1:0", "--data-dir", dataDir.toString()));
    command.addAll(List.of("--table", EVENTS_DDL, "--ready-file", readyFile.toString()));
    command.addAll(List.of(options));
    ProcessBuilder builder =
        new ProcessBuilder(command)
            .redirectErrorStream(true)
            .redirectOutput(dataDir.resolve("serve.log").toFile());
    Process process = start(builder);
    Instant deadline = Instant.now().plus(READY_WITHIN);
    while (true) {
      try {
        // Written whole by a rename: a file that exists is complete.
        return new LocalServer(binary, process, dataDir, Files.readString(readyFile));
      } catch (NoSuchFileException notYet) {
        if (!process.isAlive()) {
          throw new IllegalStateException(
              "zerobus serve exited with "
                  + process.exitValue()
                  + ": "
                  + Files.readString(dataDir.resolve("serve.log")));
        }
        if (Instant.now().isAfter(deadline)) {
          process.destroyForcibly();
          throw new IllegalStateException("zerobus serve wrote no ready file in " + READY_WITHIN);
        }
        process.waitFor(10, TimeUnit.MILLISECONDS);
      }
    }
  }

  private static String binary() {
    String binary = System.getProperty("zerobus.serve");
    if (binary == null || binary.isEmpty() || !Files.isExecutable(Path.of(binary))) {
      throw new IllegalStateException(
          "no zerobus at the system property zerobus.serve (" + binary + "): run test.sh");
    }
    return binary;
  }

  /** What `zerobus ARGUMENTS...` prints, which must succeed within 30 s. */
  static String run(String... arguments) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>(List.of(binary()));
    command.addAll(List.of(arguments));
    Process process =
        start(new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT));
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!process.waitFor(30, TimeUnit.SECONDS) || process.exitValue() != 0) {
      process.destroyForcibly();
      throw new IllegalStateException("zerobus " + String.join(" ", arguments) + " failed");
    }
    return output;
  }

  /**
   * Starts a zerobus command. The library under test is the JVM's: a sanitizer runtime preloaded
   * into the JVM (LD_PRELOAD) to check it is not the server's business.
   */
  private static Process start(ProcessBuilder builder) throws IOException {
    builder.environment().remove("LD_PRELOAD");
    return builder.start();
  }

  private static String url(String ready, String side) {
    Matcher matcher =
        Pattern.compile("\"" + side + "\"\\s*:\\s*\\{[^}]*\"url\"\\s*:\\s*\"([^\"]+)\"")
            .matcher(ready);
    if (!matcher.find()) {
      throw new IllegalStateException("no " + side + " url in the ready file: " + ready);
    }
    return matcher.group(1);
  }

  /** A logger that prints nothing, so that the tests' output is theirs. */
  static final System.Logger QUIET =
      new System.Logger() {
        @Override
        public String getName() {
          return "quiet";
        }

        @Override
        public boolean isLoggable(Level level) {
          return false;
        }

        @Override
        public void log(Level level, java.util.ResourceBundle bundle, String text, Throwable e) {}

        @Override
        public void log(Level level, java.util.ResourceBundle bundle, String text, Object... p) {}
      };

  /** Options for an SDK of this server: plaintext, quick reconnections, no log output. */
  StreamConfigurationOptions.Builder options() {
    return StreamConfigurationOptions.builder()
        .setLogger(QUIET)
        .setPlaintext(true)
        .setRecoveryBackoffMs(10)
        .set("recovery.backoff.max.ms", "50");
  }

  ZerobusSdk sdk() throws ZerobusException {
    return new ZerobusSdk(endpoint, null, options().build());
  }

  /** The table's Unity Catalog description, as the workspace side serves it. */
  String tableJson(String table) throws IOException, InterruptedException {
    HttpResponse<String> response =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(
                        URI.create(workspace + "/api/2.1/unity-catalog/tables/" + table))
                    .timeout(Duration.ofSeconds(10))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
    if (response.statusCode() != 200) {
      throw new IllegalStateException("GET the table " + table + ": " + response.body());
    }
    return response.body();
  }

  /** GET /admin/stats: the server's statistics, as JSON text. */
  String stats() throws IOException, InterruptedException {
    HttpResponse<String> response =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(URI.create(admin + "/admin/stats"))
                    .timeout(Duration.ofSeconds(10))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
    if (response.statusCode() != 200) {
      throw new IllegalStateException("GET /admin/stats: " + response.body());
    }
    return response.body();
  }

  /** How many server streams clients have opened, by the admin endpoint's GET /admin/stats. */
  long streamsOpened() throws IOException, InterruptedException {
    String stats = stats();
    Matcher opened = STREAMS_OPENED.matcher(stats);
    if (!opened.find()) {
      throw new IllegalStateException("GET /admin/stats: " + stats);
    }
    return Long.parseLong(opened.group(1));
  }

  /** Sets the table's fault plan, a JSON object (the admin endpoint's PUT /admin/faults/TABLE). */
  void setFault(String table, String plan) throws IOException, InterruptedException {
    HttpResponse<String> response =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(URI.create(admin + "/admin/faults/" + table))
                    .PUT(HttpRequest.BodyPublishers.ofString(plan))
                    .timeout(Duration.ofSeconds(10))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
    if (response.statusCode() / 100 != 2) {
      throw new IllegalStateException("PUT /admin/faults: " + response.body());
    }
  }

  /**
   * Returns once the server has accepted at least `count` records (GET /admin/stats, the events
   * table being the only one); fails after 30 s.
   */
  void awaitRecords(long count) throws IOException, InterruptedException {
    Instant deadline = Instant.now().plusSeconds(30);
    while (true) {
      String stats = stats();
      Matcher records = RECORDS.matcher(stats);
      if (!records.find()) {
        throw new IllegalStateException("GET /admin/stats: " + stats);
      }
      long accepted = Long.parseLong(records.group(1));
      if (accepted >= count) {
        return;
      }
      if (Instant.now().isAfter(deadline)) {
        throw new IllegalStateException(accepted + " records, not " + count + ", in time");
      }
      Thread.sleep(5);
    }
  }

  /** Removes the table's fault plan (the admin endpoint's DELETE /admin/faults/TABLE). */
  void clearFault(String table) throws IOException, InterruptedException {
    HttpResponse<String> response =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(URI.create(admin + "/admin/faults/" + table))
                    .DELETE()
                    .timeout(Duration.ofSeconds(10))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
    if (response.statusCode() / 100 != 2) {
      throw new IllegalStateException("DELETE /admin/faults: " + response.body());
    }
  }

  /** The rows the table holds, one JSON object each, oldest first, read with `zerobus rows`. */
  List<String> rows(String table) throws IOException, InterruptedException {
    Process rows =
        start(
            new ProcessBuilder(binary, "rows", table, "--data-dir", dataDir.toString())
                .redirectError(ProcessBuilder.Redirect.INHERIT));
    String text = new String(rows.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!rows.waitFor(30, TimeUnit.SECONDS) || rows.exitValue() != 0) {
      throw new IllegalStateException("zerobus rows failed");
    }
    return text.lines().filter(line -> !line.isEmpty()).toList();
  }

  /** How many rows of each id the table holds, read with `zerobus rows`. */
  TreeMap<Long, Integer> rowIds(String table) throws IOException, InterruptedException {
    TreeMap<Long, Integer> ids = new TreeMap<>();
    for (String line : rows(table)) {
      Matcher id = ROW_ID.matcher(line);
      if (id.find()) {
        ids.merge(Long.parseLong(id.group(1)), 1, Integer::sum);
      }
    }
    return ids;
  }

  @Override
  public void close() throws IOException {
    process.destroy();
    try {
      if (!process.waitFor(30, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        throw new IllegalStateException("zerobus serve did not stop within 30 s of SIGTERM");
      }
    } catch (InterruptedException interrupted) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    }
    try (var files = Files.walk(dataDir)) {
      files.sorted(java.util.Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
    }
  }
}
