package org.libzerobus;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The upcall stubs the library calls: the event callback, the headers provider, the token
 * federation callback, the log callback, and the free_user_data of their registrations. Each is
 * made once for the process. They run on the library's threads, where an exception escaping into
 * native code would end the JVM: each catches everything, and logs what it caught.
 */
final class Upcalls {
  private static final Logger LOG = System.getLogger("org.libzerobus");
  private static final Map<Long, Callbacks> REGISTERED = new ConcurrentHashMap<>();
  private static final AtomicLong NEXT_ID = new AtomicLong(1);
  private static volatile int librarysEventSize;

  static final MemorySegment EVENT =
      stub("onEvent", FunctionDescriptor.ofVoid(ADDRESS, ADDRESS, ADDRESS));
  static final MemorySegment HEADERS =
      stub("onHeaders", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
  static final MemorySegment SUBJECT_TOKEN =
      stub("onSubjectToken", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
  static final MemorySegment LOG_MESSAGE =
      stub("onLog", FunctionDescriptor.ofVoid(JAVA_INT, ADDRESS, ADDRESS, ADDRESS));
  static final MemorySegment FREE = stub("onFree", FunctionDescriptor.ofVoid(ADDRESS));

  private Upcalls() {}

  /**
   * Registers `callbacks` and returns the user_data that names them; FREE, which the library calls
   * once it can no longer call them, takes them out again.
   */
  static MemorySegment register(Callbacks callbacks) {
    long id = NEXT_ID.getAndIncrement();
    REGISTERED.put(id, callbacks);
    return MemorySegment.ofAddress(id);
  }

  /** Whether the library still holds a registration of `callbacks`: for the tests of clean-up. */
  static boolean holds(Callbacks callbacks) {
    return REGISTERED.containsValue(callbacks);
  }

  /** sizeof(zb_event) as the library knows it, from the last event: 0 before the first. */
  static int librarysEventSize() {
    return librarysEventSize;
  }

  private static MemorySegment stub(String name, FunctionDescriptor descriptor) {
    try {
      MethodType type = descriptor.toMethodType();
      return Native.upcallStub(
          MethodHandles.lookup().findStatic(Upcalls.class, name, type), descriptor);
    } catch (ReflectiveOperationException impossible) {
      throw new IllegalStateException(impossible);
    }
  }

  private static Callbacks callbacks(MemorySegment userData) {
    return REGISTERED.get(userData.address());
  }

  /** The logger of a registration, or this package's when it has none. */
  private static Logger loggerOf(MemorySegment userData) {
    Callbacks callbacks = callbacks(userData);
    return callbacks != null && callbacks.logger() != null ? callbacks.logger() : LOG;
  }

  @SuppressWarnings("unused") // called by the library through EVENT
  private static void onEvent(MemorySegment stream, MemorySegment event, MemorySegment userData) {
    try {
      Callbacks callbacks = callbacks(userData);
      if (callbacks == null) {
        return;
      }
      MemorySegment view = event.reinterpret(Native.EVENT.byteSize());
      StreamState state = StreamState.of(stream.address(), callbacks);
      int type = (int) Native.EVENT_TYPE.get(view, 0L);
      long first = (long) Native.EVENT_FIRST.get(view, 0L);
      long last = (long) Native.EVENT_LAST.get(view, 0L);
      if (type == Native.ZB_EVENT_ACK) {
        state.onAck(last);
      } else if (type == Native.ZB_EVENT_ERROR) {
        MemorySegment error = (MemorySegment) Native.EVENT_ERROR.get(view, 0L);
        // Borrowed for the call: read now, freed by the library.
        state.onError(
            first, last, ZerobusException.of(Calls.status(Native.zb_error_code, error), error));
      }
      librarysEventSize = (int) Native.EVENT_STRUCT_SIZE.get(view, 0L);
    } catch (Throwable thrown) {
      loggerOf(userData).log(Level.ERROR, "an ack callback threw; the stream goes on", thrown);
    }
  }

  @SuppressWarnings("unused") // called by the library through HEADERS
  private static int onHeaders(MemorySegment headers, MemorySegment userData) {
    try {
      Callbacks callbacks = callbacks(userData);
      if (callbacks == null || callbacks.headersProvider() == null) {
        return Native.ZB_ERR_AUTH;
      }
      Map<String, String> supplied = callbacks.headersProvider().getHeaders();
      try (Arena arena = Arena.ofConfined()) {
        for (Map.Entry<String, String> header : supplied.entrySet()) {
          int status =
              Calls.status(
                  Native.zb_headers_add,
                  headers,
                  arena.allocateFrom(header.getKey()),
                  arena.allocateFrom(header.getValue()),
                  MemorySegment.NULL);
          if (status != Native.ZB_OK) {
            return status;
          }
        }
      }
      return Native.ZB_OK;
    } catch (Throwable thrown) {
      loggerOf(userData)
          .log(Level.WARNING, "the headers provider threw; the connection attempt fails", thrown);
      return Native.ZB_ERR_AUTH;
    }
  }

  @SuppressWarnings("unused") // called by the library through SUBJECT_TOKEN
  private static int onSubjectToken(MemorySegment sink, MemorySegment userData) {
    try {
      Callbacks callbacks = callbacks(userData);
      if (callbacks == null || callbacks.subjectTokenProvider() == null) {
        return Native.ZB_ERR_AUTH;
      }
      String token = callbacks.subjectTokenProvider().getSubjectToken();
      if (token == null || token.isEmpty()) {
        return Native.ZB_ERR_AUTH; // the library names the callback in the error
      }
      try (Arena arena = Arena.ofConfined()) {
        return Calls.status(
            Native.zb_token_sink_set, sink, arena.allocateFrom(token), MemorySegment.NULL);
      }
    } catch (Throwable thrown) {
      loggerOf(userData)
          .log(
              Level.WARNING,
              "the subject token provider threw; the connection attempt fails",
              thrown);
      return Native.ZB_ERR_AUTH;
    }
  }

  @SuppressWarnings("unused") // called by the library through LOG_MESSAGE
  private static void onLog(
      int level, MemorySegment component, MemorySegment message, MemorySegment userData) {
    try {
      loggerOf(userData)
          .log(
              LogLevels.toJava(level),
              "[" + Native.string(component) + "] " + Native.string(message));
    } catch (Throwable ignored) {
      // A logger that throws has nowhere left to report it.
    }
  }

  @SuppressWarnings("unused") // called by the library through FREE
  private static void onFree(MemorySegment userData) {
    try {
      REGISTERED.remove(userData.address());
    } catch (Throwable ignored) {
      // Removing from a map throws nothing; the catch keeps the promise all upcalls keep.
    }
  }
}
