// Stopping a run from outside: RunOptions.terminate (another thread), a deadline
// (RunOptions.timeout_s) and Ctrl-C. A Plan polls its RunControl between steps, in every Loop and
// Scan iteration (subgraph plans poll the same control) and between the chunks of every
// parallel_for, so a long run stops within one step or one chunk of work.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <thread>

namespace xinrt {

// Thrown out of Plan::run when the run was stopped; never caught by kernels or plans on the way
// out (reaches Python as _native.RunCancelled, or as the signal's own exception).
struct RunCancelled : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class RunControl {
 public:
  enum Reason : int { kRunning = 0, kTerminated = 1, kTimedOut = 2, kSignal = 3 };

  // deadline_ns: steady-clock nanoseconds (steady_now_ns()) after which the run stops; 0 = none.
  explicit RunControl(int64_t deadline_ns = 0) : deadline_ns_(deadline_ns) {}

  // From any thread: the run stops at its next poll.
  void terminate() { stop(kTerminated); }
  // Set by the Python binding on the thread that runs the plan (the main thread): returns true
  // when a signal handler raised (Ctrl-C), and is called at most every kSignalPollNs from that
  // thread only.
  void set_signal_poll(std::function<bool()> poll) {
    signal_poll_ = std::move(poll);
    owner_ = std::this_thread::get_id();
  }

  bool stopped() const { return reason_.load(std::memory_order_relaxed) != kRunning; }
  Reason reason() const { return static_cast<Reason>(reason_.load(std::memory_order_relaxed)); }
  // Notes a passed deadline or (on the owner thread) a raised signal; true when the run must stop.
  bool poll() const;
  // poll(), throwing RunCancelled when the run must stop.
  void check() const;

  // Monotonic nanoseconds (coarse: a few ms resolution), the clock deadlines are given in.
  static int64_t steady_now_ns();

 private:
  void stop(Reason r) const {
    int expected = kRunning;
    reason_.compare_exchange_strong(expected, r, std::memory_order_relaxed);
  }

  static constexpr int64_t kSignalPollNs = 50'000'000;  // 50 ms: Ctrl-C answers well within 1 s
  mutable std::atomic<int> reason_{kRunning};
  int64_t deadline_ns_;
  std::function<bool()> signal_poll_;
  std::thread::id owner_;
  mutable std::atomic<int64_t> last_signal_poll_ns_{0};
};

// The control of the run the current thread is executing (null outside runs); subgraph plans
// and parallel_for pick it up from here. Scoped: restores the previous one on destruction.
const RunControl* current_run_control();
class ScopedRunControl {
 public:
  explicit ScopedRunControl(const RunControl* control);
  ~ScopedRunControl();
  ScopedRunControl(const ScopedRunControl&) = delete;
  ScopedRunControl& operator=(const ScopedRunControl&) = delete;

 private:
  const RunControl* previous_;
};

}  // namespace xinrt
