package org.libzerobus;

/**
 * A {@link ZerobusException} that trying the same operation again cannot mend: a bad argument, a
 * record the table does not take, refused credentials, a stream closed or failed for good.
 */
public class NonRetriableException extends ZerobusException {
  private static final long serialVersionUID = 1L;

  NonRetriableException(int code, String message, int grpcStatus) {
    super(code, message, false, grpcStatus);
  }
}
