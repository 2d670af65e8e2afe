#include "core/run_control.h"

#include <chrono>
#include <ctime>

namespace xinrt {

namespace {
thread_local const RunControl* tls_control = nullptr;
}  // namespace

// Polled once per step: the coarse clock (a few ns, ~4 ms resolution) is plenty for 50 ms signal
// polls and timeouts, where steady_clock costs ~25 ns a read.
int64_t RunControl::steady_now_ns() {
#if defined(__linux__) && defined(CLOCK_MONOTONIC_COARSE)
  timespec ts;
  if (clock_gettime(CLOCK_MONOTONIC_COARSE, &ts) == 0) return int64_t(ts.tv_sec) * 1000000000 + ts.tv_nsec;
#endif
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

bool RunControl::poll() const {
  if (!stopped() && (deadline_ns_ || signal_poll_)) {
    int64_t now = steady_now_ns();
    if (deadline_ns_ && now >= deadline_ns_) stop(kTimedOut);
    if (signal_poll_ && std::this_thread::get_id() == owner_ &&
        now - last_signal_poll_ns_.load(std::memory_order_relaxed) >= kSignalPollNs) {
      last_signal_poll_ns_.store(now, std::memory_order_relaxed);
      if (signal_poll_()) stop(kSignal);
    }
  }
  return stopped();
}

void RunControl::check() const {
  poll();
  switch (reason()) {
    case kRunning: return;
    case kTerminated: throw RunCancelled("terminated by RunOptions.terminate");
    case kTimedOut: throw RunCancelled("stopped: RunOptions.timeout_s passed");
    case kSignal: throw RunCancelled("interrupted by a signal");
  }
}

const RunControl* current_run_control() { return tls_control; }

ScopedRunControl::ScopedRunControl(const RunControl* control) : previous_(tls_control) {
  tls_control = control;
}

ScopedRunControl::~ScopedRunControl() { tls_control = previous_; }

}  // namespace xinrt
