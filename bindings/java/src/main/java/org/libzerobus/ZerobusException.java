package org.libzerobus;

import java.lang.foreign.MemorySegment;

/**
 * A failure reported by libzerobus: its status code (a ZB_ERR_* of zerobus.h) and the code's name,
 * the library's message, whether the same operation may succeed if tried again, and the gRPC status
 * it came from. A failure that retrying cannot mend is a {@link NonRetriableException}. Immutable.
 */
public class ZerobusException extends Exception {
  private static final long serialVersionUID = 1L;

  private final int code;
  private final String codeName;
  private final boolean retryable;
  private final int grpcStatus;

  ZerobusException(int code, String message, boolean retryable, int grpcStatus) {
    super(format(code, message));
    this.code = code;
    this.codeName = nameOf(code);
    this.retryable = retryable;
    this.grpcStatus = grpcStatus;
  }

  /** The status code, as zerobus.h numbers it (ZB_ERR_TIMEOUT is 5, ...). */
  public int code() {
    return code;
  }

  /** The code's symbolic name, such as "ZB_ERR_QUEUE_FULL", as the loaded library gives it. */
  public String codeName() {
    return codeName;
  }

  /** Whether the same operation may succeed if tried again (a transient failure). */
  public boolean isRetryable() {
    return retryable;
  }

  /** The gRPC status code (0..16) the error came from, or -1 when it did not come from gRPC. */
  public int grpcStatus() {
    return grpcStatus;
  }

  /**
   * The symbolic name the loaded library gives a status code ("ZB_ERR_TIMEOUT"), or "ZB_ERR(N)" for
   * a code it does not know.
   */
  public static String nameOf(int code) {
    String name = Native.string(Calls.address(Native.zb_status_name, code));
    return name != null ? name : "ZB_ERR(" + code + ")";
  }

  /** The library's one-sentence description of a status code, or null for an unknown one. */
  public static String describe(int code) {
    return Native.string(Calls.address(Native.zb_status_describe, code));
  }

  private static String format(int code, String message) {
    String text = message == null || message.isEmpty() ? describe(code) : message;
    return text + " (" + nameOf(code) + ")";
  }

  /**
   * The exception of a zb_error (borrowed: the caller frees it), or of `status` alone when `error`
   * is NULL (a failed call that could not allocate its error object).
   */
  static ZerobusException of(int status, MemorySegment error) {
    if (error.equals(MemorySegment.NULL)) {
      return create(status, "", false, -1);
    }
    return create(
        Calls.status(Native.zb_error_code, error),
        Native.string(Calls.address(Native.zb_error_message, error)),
        Calls.status(Native.zb_error_is_retryable, error) != 0,
        Calls.status(Native.zb_error_grpc_status, error));
  }

  private static ZerobusException create(
      int code, String message, boolean retryable, int grpcStatus) {
    return retryable
        ? new ZerobusException(code, message, true, grpcStatus)
        : new NonRetriableException(code, message, grpcStatus);
  }
}
