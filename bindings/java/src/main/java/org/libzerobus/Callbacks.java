package org.libzerobus;

import java.lang.System.Logger;

/**
 * The Java side of one registration of callbacks with the library: what a config hands to the event
 * callback, the headers provider and the log callback as their user_data (an id in {@link Upcalls}'
 * table, never a pointer into the Java heap).
 */
record Callbacks(AckCallback ackCallback, HeadersProvider headersProvider, Logger logger) {}
