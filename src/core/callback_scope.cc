#include "core/callback_scope.h"

namespace zerobus {
namespace {

// Such callbacks running on this thread (one may log through another SDK's logger).
thread_local int refusing_callback_depth = 0;

}  // namespace

bool InStreamCloseRefusingCallback() {
  return refusing_callback_depth > 0;
}

StreamCloseRefusingScope::StreamCloseRefusingScope() {
  ++refusing_callback_depth;
}

StreamCloseRefusingScope::~StreamCloseRefusingScope() {
  --refusing_callback_depth;
}

}  // namespace zerobus
