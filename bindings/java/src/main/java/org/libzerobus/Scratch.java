package org.libzerobus;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * One thread's native memory for the ingest path: the offset and error slots of a call and a buffer
 * that a record from the Java heap is copied into (the library copies it again before the call
 * returns, so one buffer serves every call). Reused call after call, so that an ingest allocates
 * nothing; freed with the thread.
 */
final class Scratch {
  private static final ThreadLocal<Scratch> OF_THREAD = ThreadLocal.withInitial(Scratch::new);
  private static final long FIRST_CAPACITY = 4096;

  private final Arena arena = Arena.ofAuto();
  final MemorySegment offset = arena.allocate(JAVA_LONG);
  final MemorySegment error = arena.allocate(ADDRESS);
  private MemorySegment buffer = arena.allocate(FIRST_CAPACITY);

  static Scratch get() {
    return OF_THREAD.get();
  }

  /** `bytes` copied into the buffer, which grows as needed. */
  MemorySegment copy(byte[] bytes) {
    return copy(MemorySegment.ofArray(bytes));
  }

  /** `source` copied into the buffer, which grows as needed. */
  MemorySegment copy(MemorySegment source) {
    long length = source.byteSize();
    if (length > buffer.byteSize()) {
      buffer = Arena.ofAuto().allocate(Math.max(length, buffer.byteSize() * 2));
    }
    MemorySegment.copy(source, 0, buffer, 0, length);
    return buffer;
  }
}
