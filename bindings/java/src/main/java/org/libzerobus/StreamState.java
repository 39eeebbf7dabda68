package org.libzerobus;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What the binding knows of one native stream from its events: the acknowledged watermark, the
 * offsets reported lost, and the futures waiting on offsets, completed by the events as they come
 * (no thread waits for them). Found by the stream's address, which the event callback receives,
 * with its registration: a stream made by zb_stream_recreate() shares its parent's registration, so
 * the address tells them apart; and the memory of a stream just destroyed may hold the next stream
 * opened before its old state is forgotten, so the registration tells those apart.
 */
final class StreamState {
  /** A stream: its address and its registration, compared by identity. */
  private record Key(long address, Callbacks callbacks) {}

  private static final Map<Key, StreamState> OF_STREAM = new ConcurrentHashMap<>();

  private final Callbacks callbacks;
  private final NavigableMap<Long, List<CompletableFuture<Void>>> waiting = new TreeMap<>();
  private long watermark = -1;
  private long lostThrough = -1;
  private ZerobusException lostBecause;
  private ZerobusException abandoned;

  private StreamState(Callbacks callbacks) {
    this.callbacks = callbacks;
  }

  /**
   * The state of the stream at `address`, made on first sight: its first events may come before the
   * call that opened it has returned.
   */
  static StreamState of(long address, Callbacks callbacks) {
    return OF_STREAM.computeIfAbsent(
        new Key(address, callbacks), unused -> new StreamState(callbacks));
  }

  /** Forgets the stream at `address` once zb_stream_destroy() has returned: no event follows. */
  static void forget(long address, Callbacks callbacks, ZerobusException why) {
    StreamState state = OF_STREAM.remove(new Key(address, callbacks));
    if (state != null) {
      state.abandon(why);
    }
  }

  /**
   * Whether the binding holds a native stream of the registration `callbacks`: for the tests of its
   * clean-up, which other tests' streams, collected at any moment, must not disturb.
   */
  static boolean holds(Callbacks callbacks) {
    return OF_STREAM.keySet().stream().anyMatch(key -> key.callbacks() == callbacks);
  }

  Callbacks callbacks() {
    return callbacks;
  }

  /** A future completed once `offset` is durable, or failed once it never will be. */
  CompletableFuture<Void> waitFor(long offset) {
    CompletableFuture<Void> future = new CompletableFuture<>();
    synchronized (this) {
      if (offset <= watermark) {
        future.complete(null);
      } else if (offset <= lostThrough) {
        future.completeExceptionally(lostBecause);
      } else if (abandoned != null) {
        future.completeExceptionally(abandoned);
      } else {
        waiting.computeIfAbsent(offset, unused -> new ArrayList<>(1)).add(future);
      }
    }
    return future;
  }

  /**
   * Counts every offset up to `offset` durable without an ack: what the server had committed when a
   * persistent stream was resumed, before anything waits on the stream.
   */
  synchronized void durableThrough(long offset) {
    watermark = Math.max(watermark, offset);
  }

  void onAck(long lastOffset) {
    List<List<CompletableFuture<Void>>> done;
    synchronized (this) {
      watermark = Math.max(watermark, lastOffset);
      done = drain(waiting.headMap(lastOffset, true));
    }
    // The listener first: whoever a future wakes finds the ack heard.
    AckCallback listener = callbacks.ackCallback();
    try {
      if (listener != null) {
        listener.onAck(lastOffset);
      }
    } finally {
      for (List<CompletableFuture<Void>> futures : done) {
        futures.forEach(future -> future.complete(null));
      }
    }
  }

  void onError(long firstOffset, long lastOffset, ZerobusException error) {
    List<List<CompletableFuture<Void>>> failed;
    synchronized (this) {
      if (lastOffset > lostThrough) {
        lostThrough = lastOffset;
        lostBecause = error;
      }
      failed = drain(waiting.subMap(firstOffset, true, lastOffset, true));
    }
    AckCallback listener = callbacks.ackCallback();
    try {
      if (listener != null) {
        listener.onError(firstOffset, lastOffset, error);
      }
    } finally {
      for (List<CompletableFuture<Void>> futures : failed) {
        futures.forEach(future -> future.completeExceptionally(error));
      }
    }
  }

  private void abandon(ZerobusException why) {
    List<List<CompletableFuture<Void>>> left;
    synchronized (this) {
      abandoned = why;
      left = drain(waiting);
    }
    for (List<CompletableFuture<Void>> futures : left) {
      futures.forEach(future -> future.completeExceptionally(why));
    }
  }

  private static List<List<CompletableFuture<Void>>> drain(
      Map<Long, List<CompletableFuture<Void>>> range) {
    List<List<CompletableFuture<Void>>> taken = new ArrayList<>(range.values());
    range.clear();
    return taken;
  }
}
