// A small fixed-size thread pool: the calling thread works too, so N threads = N-1 workers.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "core/run_control.h"

namespace xinrt {

class ThreadPool {
 public:
  explicit ThreadPool(int num_threads);  // <= 0: hardware threads
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int num_threads() const { return num_threads_; }

  // Calls fn(begin, end) over disjoint chunks covering [0, n), each at least `grain` long.
  // The caller never waits for a worker that has not claimed a chunk, so a descheduled worker
  // costs nothing. Safe to call from several threads at once: a caller that finds the pool
  // busy runs its loop inline.
  // At most max_chunks chunks (default 4 per thread); tasks of uneven cost want more.
  // When the calling thread's run is stopped (current_run_control()), chunks not yet started are
  // skipped: the kernel's output is then garbage, and the Plan throws RunCancelled after it.
  void parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn,
                    int64_t max_chunks = 0);

 private:
  struct Job {
    const std::function<void(int64_t, int64_t)>* fn = nullptr;
    const RunControl* control = nullptr;  // a stopped run skips its remaining chunks
    int64_t n = 0, chunk = 1, chunks = 0;
    std::atomic<int64_t> next{0};  // next chunk index to claim
    std::atomic<int64_t> done{0};  // chunks finished
  };
  void worker_loop();
  void run_chunks(Job& job);

  int num_threads_;
  std::vector<std::thread> workers_;
  std::mutex busy_;  // held by the caller that owns the current job

  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable finished_;
  std::shared_ptr<Job> job_;  // the current job; workers keep their own reference
  uint64_t generation_ = 0;
  std::atomic<uint64_t> published_{0};  // generation_, readable without the mutex (spinning)
  static constexpr int kSpinMicros = 500;
  bool stop_ = false;
};

// One pool per thread count, shared by every Plan that asks for that count (so idle plans'
// spinning workers never compete with a running one); freed with the last Plan using it.
std::shared_ptr<ThreadPool> shared_thread_pool(int num_threads);

}  // namespace xinrt
