// A small fixed-size thread pool: the calling thread works too, so N threads = N-1 workers.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace xinrt {

class ThreadPool {
 public:
  explicit ThreadPool(int num_threads);  // <= 0: hardware threads
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int num_threads() const { return num_threads_; }

  // Calls fn(begin, end) over disjoint chunks covering [0, n), each at least `grain` long.
  // Safe to call from several threads at once: a caller that finds the pool busy runs its
  // loop inline, so concurrent plans never deadlock or wait on each other.
  void parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn);

 private:
  void worker_loop();
  void run_chunks();

  int num_threads_;
  std::vector<std::thread> workers_;
  std::mutex busy_;  // held by the caller that owns the current job

  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable done_;
  uint64_t generation_ = 0;
  bool stop_ = false;
  int active_ = 0;
  int joined_ = 0;

  const std::function<void(int64_t, int64_t)>* fn_ = nullptr;
  int64_t n_ = 0, chunk_ = 1;
  std::atomic<int64_t> next_{0};
};

}  // namespace xinrt
