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
 * (no thread waits for them). Found by the stream's address, which the event callback receives: a
 * stream made by zb_stream_recreate() shares its parent's registration, so the address, not the
 * user_data, tells streams apart.
 */
final class StreamState {
  private static final Map<Long, StreamState> BY_ADDRESS = new ConcurrentHashMap<>();

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
    return BY_ADDRESS.computeIfAbsent(address, unused -> new StreamState(callbacks));
  }

  /** Forgets the stream at `address` once zb_stream_destroy() has returned: no event follows. */
  static void forget(long address, ZerobusException why) {
    StreamState state = BY_ADDRESS.remove(address);
    if (state != null) {
      state.abandon(why);
    }
  }

  /** How many native streams the binding holds: for the tests of its clean-up. */
  static int live() {
    return BY_ADDRESS.size();
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

  void onAck(long lastOffset) {
    List<List<CompletableFuture<Void>>> done;
    synchronized (this) {
      watermark = Math.max(watermark, lastOffset);
      done = drain(waiting.headMap(lastOffset, true));
    }
    for (List<CompletableFuture<Void>> futures : done) {
      futures.forEach(future -> future.complete(null));
    }
    AckCallback listener = callbacks.ackCallback();
    if (listener != null) {
      listener.onAck(lastOffset);
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
    for (List<CompletableFuture<Void>> futures : failed) {
      futures.forEach(future -> future.completeExceptionally(error));
    }
    AckCallback listener = callbacks.ackCallback();
    if (listener != null) {
      listener.onError(firstOffset, lastOffset, error);
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
