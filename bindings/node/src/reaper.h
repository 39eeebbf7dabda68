// Destroys streams off the JavaScript thread.
#ifndef ZEROBUS_NODE_REAPER_H
#define ZEROBUS_NODE_REAPER_H

#include <zerobus/zerobus.h>

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

namespace zerobus_node {

/** zb_stream_destroy() closes an unclosed stream at once and joins its threads, which can take
 *  longer than an event-loop turn should; a Reaper does it on a thread of its own, started
 *  with the first stream handed to it. Called from the JavaScript thread only. */
class Reaper {
 public:
  Reaper() = default;
  Reaper(const Reaper &) = delete;
  Reaper &operator=(const Reaper &) = delete;
  ~Reaper() { Stop(); }

  /** Takes ownership of `stream`, which nothing may use any more, and destroys it soon.
   *  After Stop(), destroys it before returning. */
  void Destroy(zb_stream *stream);

  /** Destroys every stream handed over so far and joins the thread. */
  void Stop();

 private:
  void Run();

  std::mutex mu_;
  std::condition_variable wake_;
  std::deque<zb_stream *> queue_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace zerobus_node

#endif  // ZEROBUS_NODE_REAPER_H
