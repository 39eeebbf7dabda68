package org.libzerobus;

import static java.lang.foreign.ValueLayout.ADDRESS;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.util.Arrays;

/**
 * Calls through the downcall handles of {@link Native} on paths where a call's cost does not matter
 * (the ingest path calls its handles with invokeExact itself), and turns a failed call's zb_error
 * into a {@link ZerobusException}.
 */
final class Calls {
  private Calls() {}

  static MemorySegment address(MethodHandle handle, Object... arguments) {
    return (MemorySegment) invoke(handle, arguments);
  }

  static int status(MethodHandle handle, Object... arguments) {
    return (int) invoke(handle, arguments);
  }

  static long size(MethodHandle handle, Object... arguments) {
    return (long) invoke(handle, arguments);
  }

  static void run(MethodHandle handle, Object... arguments) {
    invoke(handle, arguments);
  }

  /**
   * Calls a fallible function with `arguments` and an error slot as its last argument, and throws
   * the error it reports.
   */
  static void checked(MethodHandle handle, Object... arguments) throws ZerobusException {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment errorSlot = arena.allocate(ADDRESS);
      Object[] all = Arrays.copyOf(arguments, arguments.length + 1);
      all[arguments.length] = errorSlot;
      int status = status(handle, all);
      if (status != Native.ZB_OK) {
        throw takeError(status, errorSlot);
      }
    }
  }

  /** The exception of the zb_error in `errorSlot`, which it frees. */
  static ZerobusException takeError(int status, MemorySegment errorSlot) {
    MemorySegment error = errorSlot.get(ADDRESS, 0);
    try {
      return ZerobusException.of(status, error);
    } finally {
      run(Native.zb_error_free, error);
    }
  }

  /** A downcall throws nothing of its own; anything else is a bug of this binding's. */
  static RuntimeException rethrow(Throwable thrown) {
    if (thrown instanceof RuntimeException runtime) {
      throw runtime;
    }
    if (thrown instanceof Error error) {
      throw error;
    }
    throw new IllegalStateException(thrown);
  }

  private static Object invoke(MethodHandle handle, Object... arguments) {
    try {
      return handle.invokeWithArguments(arguments);
    } catch (Throwable thrown) {
      throw rethrow(thrown);
    }
  }
}
