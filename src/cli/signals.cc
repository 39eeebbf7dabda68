#include "cli/signals.h"

#include <pthread.h>
#include <unistd.h>

#include <utility>

namespace zerobus::cli {

StopSignals::StopSignals() {
  sigemptyset(&signals_);
  sigaddset(&signals_, SIGINT);
  sigaddset(&signals_, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals_, nullptr);
}

int StopSignals::Wait() const {
  int signal_number = 0;
  sigwait(&signals_, &signal_number);
  return signal_number;
}

Interruption::Interruption(std::function<void(int signal_number)> on_request)
    : on_request_(std::move(on_request)), watcher_([this] { Watch(); }) {}

Interruption::~Interruption() {
  done_.store(true);
  // The signal is blocked everywhere, so it only wakes the watcher's sigwait.
  pthread_kill(watcher_.native_handle(), SIGTERM);
  watcher_.join();
}

void Interruption::Watch() {
  for (;;) {
    const int signal_number = signals_.Wait();
    if (done_.load()) return;
    if (requested_.exchange(true)) _exit(130);
    on_request_(signal_number);
  }
}

}  // namespace zerobus::cli
