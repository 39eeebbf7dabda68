package org.libzerobus;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** libzerobus found by its SONAME, or at a path the user gives. */
@Timeout(60)
class LibraryLoadingTest {
  @Test
  void aPathGivenOnceTheLibraryIsLoadedIsRefused() {
    String version = ZerobusSdk.libraryVersion(); // loaded by its SONAME, as test.sh arranges
    IllegalStateException refused =
        assertThrows(
            IllegalStateException.class,
            () -> ZerobusSdk.loadLibrary(Path.of("/nowhere/libzerobus.so.0")));
    assertTrue(refused.getMessage().contains(Native.SONAME), refused.getMessage());
    assertEquals(version, ZerobusSdk.libraryVersion());
  }

  @Test
  void aFreshJvmLoadsTheLibraryFromAPathWithoutTheSystemsLoaderPath() throws Exception {
    Path library = Path.of(System.getProperty("zerobus.libdir"), Native.SONAME);
    assertTrue(Files.exists(library), library + ": run test.sh");
    ProcessBuilder builder =
        new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED",
                "-cp",
                System.getProperty("java.class.path"),
                LoadByPath.class.getName(),
                library.toString())
            .redirectErrorStream(true);
    // Without it the system's loader cannot find libzerobus.so.0 by its SONAME.
    builder.environment().remove("LD_LIBRARY_PATH");
    Process child = builder.start();
    String output = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(child.waitFor(30, TimeUnit.SECONDS));
    assertEquals(0, child.exitValue(), output);
    assertEquals(ZerobusSdk.libraryVersion(), output.strip());
  }
}
