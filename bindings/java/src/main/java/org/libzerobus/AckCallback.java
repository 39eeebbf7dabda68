package org.libzerobus;

/**
 * Hears what became durable on a stream, and what never will. Called on one of the library's
 * dispatch threads, one call at a time per stream and in order; it should return quickly, as the
 * stream's later events wait for it. It hears an event before the futures the event completes
 * ({@link ZerobusStream#waitForOffset} and the like) are completed. What it throws is logged and
 * otherwise ignored.
 */
public interface AckCallback {
  /** Every record up to and including `offset` is durable. */
  void onAck(long offset);

  /**
   * Records `firstOffset` to `lastOffset` will never be acknowledged, for `error`'s reason; they
   * stay in {@link ZerobusStream#getUnackedRecords()}, for {@link
   * ZerobusSdk#recreateStream(ZerobusStream)}.
   */
  default void onError(long firstOffset, long lastOffset, ZerobusException error) {}
}
