// Threads running a user callback from which closing or destroying a stream is refused: the log
// callback and the headers provider. zb_stream_close() and zb_stream_destroy() would wait there
// for the very thread they run on (the SDK's supervision thread that is reconnecting or logging),
// or free a stream that a call below them is still using.
#ifndef ZEROBUS_CORE_CALLBACK_SCOPE_H
#define ZEROBUS_CORE_CALLBACK_SCOPE_H

namespace zerobus {

// Whether the calling thread is running such a callback.
bool InStreamCloseRefusingCallback();

// Marks the calling thread as running such a callback for as long as it lives.
class StreamCloseRefusingScope {
 public:
  StreamCloseRefusingScope();
  ~StreamCloseRefusingScope();
  StreamCloseRefusingScope(const StreamCloseRefusingScope &) = delete;
  StreamCloseRefusingScope &operator=(const StreamCloseRefusingScope &) = delete;
};

}  // namespace zerobus

#endif  // ZEROBUS_CORE_CALLBACK_SCOPE_H
