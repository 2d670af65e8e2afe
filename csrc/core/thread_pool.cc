#include "core/thread_pool.h"

#include <algorithm>
#include <chrono>
#include <map>

namespace xinrt {

ThreadPool::ThreadPool(int num_threads) {
  if (num_threads <= 0) num_threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  num_threads_ = num_threads;
  for (int i = 1; i < num_threads_; ++i) workers_.emplace_back([this] { worker_loop(); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  for (auto& w : workers_) w.join();
}

void ThreadPool::run_chunks(Job& job) {
  for (;;) {
    int64_t c = job.next.fetch_add(1, std::memory_order_relaxed);
    if (c >= job.chunks) return;
    int64_t begin = c * job.chunk;
    (*job.fn)(begin, std::min(job.n, begin + job.chunk));
    if (job.done.fetch_add(1, std::memory_order_acq_rel) + 1 == job.chunks) {
      std::lock_guard<std::mutex> lock(mutex_);
      finished_.notify_all();
    }
  }
}

static inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

void ThreadPool::worker_loop() {
  uint64_t seen = 0;
  for (;;) {
    // Spin a little before sleeping: a plan's kernels follow each other within microseconds,
    // and a sleeping worker must wait for the scheduler (long on a loaded machine).
    auto spin_until = std::chrono::steady_clock::now() + std::chrono::microseconds(kSpinMicros);
    for (int i = 0; published_.load(std::memory_order_acquire) == seen; ++i) {
      cpu_relax();
      if ((i & 255) == 0 && std::chrono::steady_clock::now() > spin_until) break;
    }
    std::shared_ptr<Job> job;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [&] { return stop_ || generation_ != seen; });
      if (stop_) return;
      seen = generation_;
      job = job_;
    }
    // A job already drained hands out no chunk, so `fn` is never touched after its caller left.
    if (job) run_chunks(*job);
  }
}

void ThreadPool::parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn,
                              int64_t max_chunks) {
  if (n <= 0) return;
  grain = std::max<int64_t>(grain, 1);
  if (workers_.empty() || n <= grain) {
    fn(0, n);
    return;
  }
  std::unique_lock<std::mutex> busy(busy_, std::try_to_lock);
  if (!busy.owns_lock()) {  // another run() owns the pool right now
    fn(0, n);
    return;
  }
  auto job = std::make_shared<Job>();
  int64_t pieces = std::min<int64_t>(n / grain, max_chunks > 0 ? max_chunks : int64_t(num_threads_) * 4);
  job->fn = &fn;
  job->n = n;
  job->chunk = (n + pieces - 1) / pieces;
  job->chunks = (n + job->chunk - 1) / job->chunk;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    job_ = job;
    ++generation_;
    published_.store(generation_, std::memory_order_release);
  }
  wake_.notify_all();
  run_chunks(*job);
  // Spin briefly (chunks in flight usually finish soon), then sleep.
  for (int i = 0; i < 2000 && job->done.load(std::memory_order_acquire) < job->chunks; ++i)
    std::this_thread::yield();
  if (job->done.load(std::memory_order_acquire) < job->chunks) {
    std::unique_lock<std::mutex> lock(mutex_);
    finished_.wait(lock, [&] { return job->done.load(std::memory_order_acquire) >= job->chunks; });
  }
  std::lock_guard<std::mutex> lock(mutex_);
  job_.reset();
}

std::shared_ptr<ThreadPool> shared_thread_pool(int num_threads) {
  if (num_threads <= 0) num_threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  static std::mutex mutex;
  static std::map<int, std::weak_ptr<ThreadPool>>* pools = new std::map<int, std::weak_ptr<ThreadPool>>();
  std::lock_guard<std::mutex> lock(mutex);
  std::shared_ptr<ThreadPool> pool = (*pools)[num_threads].lock();
  if (!pool) {
    pool = std::make_shared<ThreadPool>(num_threads);
    (*pools)[num_threads] = pool;
  }
  return pool;
}

}  // namespace xinrt
