package org.libzerobus;

/**
 * A snapshot of a stream's state and counters (zb_stream_info).
 *
 * @param state "open", "recovering", "paused", "failed" or "closed", as the library names it
 * @param recordsAccepted offsets issued so far: the next record's offset
 * @param recordsAcked every offset below this is durable
 * @param recordsInFlight accepted and not yet acknowledged
 * @param bytesInFlight their bytes, framing included
 * @param recoveries connections re-established after a failure or close signal
 * @param recordsReplayed records sent again on a new connection
 */
public record StreamInfo(
    String state,
    long recordsAccepted,
    long recordsAcked,
    long recordsInFlight,
    long bytesInFlight,
    long recoveries,
    long recordsReplayed) {}
