package org.libzerobus;

import java.nio.file.Path;

/**
 * A program of its own for LibraryLoadingTest: loads libzerobus from the path it is given, as a
 * fresh JVM must, and prints the library's version.
 */
public final class LoadByPath {
  private LoadByPath() {}

  public static void main(String[] args) {
    ZerobusSdk.loadLibrary(Path.of(args[0]));
    System.out.println(ZerobusSdk.libraryVersion());
  }
}
