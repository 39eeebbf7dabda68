package org.libzerobus;

import java.lang.System.Logger;

/**
 * The Java side of one registration of callbacks with the library: what a config hands to the event
 * callback, the headers provider, the subject token provider and the log callback as their
 * user_data (an id in {@link Upcalls}' table, never a pointer into the Java heap). Compared by
 * identity: each stream opened has its own, shared only with the streams {@link
 * ZerobusSdk#recreateStream} makes from it.
 */
final class Callbacks {
  private final AckCallback ackCallback;
  private final HeadersProvider headersProvider;
  private final SubjectTokenProvider subjectTokenProvider;
  private final Logger logger;

  Callbacks(
      AckCallback ackCallback,
      HeadersProvider headersProvider,
      SubjectTokenProvider subjectTokenProvider,
      Logger logger) {
    this.ackCallback = ackCallback;
    this.headersProvider = headersProvider;
    this.subjectTokenProvider = subjectTokenProvider;
    this.logger = logger;
  }

  AckCallback ackCallback() {
    return ackCallback;
  }

  HeadersProvider headersProvider() {
    return headersProvider;
  }

  SubjectTokenProvider subjectTokenProvider() {
    return subjectTokenProvider;
  }

  Logger logger() {
    return logger;
  }
}
