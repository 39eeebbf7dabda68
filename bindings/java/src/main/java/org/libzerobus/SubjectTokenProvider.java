package org.libzerobus;

/**
 * Supplies the subject token of token federation (RFC 8693): a JWT from an external identity
 * provider (Entra ID, a Kubernetes service account, ...), which the library exchanges at the
 * workspace for a token scoped to the stream's table, in place of a client secret. Called whenever
 * the stream needs a new Zerobus token (when it opens, and when a reconnection finds the kept token
 * expiring or refused), one call at a time, on the thread that opens the stream or on one of the
 * library's supervision threads; it may block, which delays the connection. Throwing, or returning
 * null or an empty token, fails the attempt with ZB_ERR_AUTH. The library keeps neither token in a
 * log line or an error message.
 */
@FunctionalInterface
public interface SubjectTokenProvider {
  /** The subject token: a JWT, printable ASCII. */
  String getSubjectToken() throws Exception;
}
