package org.libzerobus;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.OptionalLong;

/**
 * A stream with a durable id, from {@link ZerobusSdk#createPersistentProtoStream} and its siblings,
 * with which any process can resume it ({@link ZerobusSdk#resumePersistentProtoStream}) from the
 * last offset the server committed, so that nothing is stored twice and nothing is lost across a
 * dropped connection or a crashed process.
 *
 * <p>Each record travels in a request of its own, so its offset is the durable offset the server
 * commits: a new stream issues 0, 1, 2, ...; a resumed one issues {@link #getResumeWatermark()} + 1
 * first (0 when empty), continuing the offsets of the processes before it. A process that crashed
 * thus learns from the watermark alone which of its records are stored: every offset at or below
 * it, and none above. A broken connection resumes by itself, sending again only what is above the
 * server's watermark; {@link #close()} leaves the stream resumable, and {@link
 * ZerobusSdk#retirePersistentStream} ends it for good. Everything else is as on any {@link
 * ZerobusStream}.
 */
@Experimental
public final class PersistentStream extends ZerobusStream {
  private final String streamId;
  private final OptionalLong resumeWatermark;

  PersistentStream(ZerobusSdk sdk, MemorySegment handle, int recordType, Callbacks callbacks)
      throws ZerobusException {
    super(sdk, handle, recordType, callbacks);
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment idSlot = arena.allocate(ADDRESS);
      Calls.checked(Native.zb_stream_persistent_id, handle, idSlot, MemorySegment.NULL);
      MemorySegment id = idSlot.get(ADDRESS, 0);
      try {
        streamId = Native.string(id);
      } finally {
        Calls.run(Native.zb_string_free, id);
      }
      MemorySegment hasCommitted = arena.allocate(JAVA_INT);
      MemorySegment lastCommitted = arena.allocate(JAVA_LONG);
      Calls.checked(Native.zb_stream_resume_watermark, handle, hasCommitted, lastCommitted);
      resumeWatermark =
          hasCommitted.get(JAVA_INT, 0) != 0
              ? OptionalLong.of(lastCommitted.get(JAVA_LONG, 0))
              : OptionalLong.empty();
    }
    // What the server committed before is durable, though no ack of this stream will say so.
    resumeWatermark.ifPresent(state()::durableThrough);
  }

  /** The durable id, to keep (durably, before ingesting) for resuming and retiring the stream. */
  public String getStreamId() {
    return streamId;
  }

  /**
   * The last offset the server had committed when the stream was resumed; empty when it had
   * committed none, and on a stream created anew.
   */
  public OptionalLong getResumeWatermark() {
    return resumeWatermark;
  }

  @Override
  ZerobusStream sibling(MemorySegment handle) throws ZerobusException {
    return new PersistentStream(sdk(), handle, recordType(), callbacks());
  }
}
