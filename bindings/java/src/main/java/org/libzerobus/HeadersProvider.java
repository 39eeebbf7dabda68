package org.libzerobus;

import java.util.Map;

/**
 * Supplies the gRPC headers of each connection attempt (a token fetched on demand, say), in place
 * of auth.token or OAuth client credentials. Called before every connection of the streams it was
 * given to, one call at a time, on the thread that opens the stream or on one of the library's
 * supervision threads; it may block, which delays the connection. Throwing fails the attempt with
 * ZB_ERR_AUTH.
 */
@FunctionalInterface
public interface HeadersProvider {
  /** The headers: lower-case names, printable ASCII values; not user-agent. */
  Map<String, String> getHeaders() throws Exception;
}
