package org.libzerobus;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.googlejavaformat.java.Formatter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** Every Java source of the binding as google-java-format writes it (imports included). */
class FormattingTest {
  @Test
  void everySourceIsFormatted() throws Exception {
    List<Path> sources = new ArrayList<>();
    for (String folder : List.of("src", "examples", "bench")) {
      try (Stream<Path> files = Files.walk(Path.of(folder))) {
        files.filter(file -> file.toString().endsWith(".java")).forEach(sources::add);
      }
    }
    assertTrue(sources.size() > 20, sources.toString());
    Formatter formatter = new Formatter();
    List<Path> unformatted = new ArrayList<>();
    for (Path source : sources) {
      String text = Files.readString(source);
      if (!formatter.formatSourceAndFixImports(text).equals(text)) {
        unformatted.add(source);
      }
    }
    assertEquals(
        List.of(),
        unformatted,
        "run google-java-format 1.28.0 --replace on these (the README says how)");
  }
}
