// The persistent thread pool behind every multi-threaded kernel (see threadPool.h).
#include "threadPool.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>

namespace llmlab {

ThreadPool::ThreadPool(int threads) : threads_(std::max(1, threads)) {
  for (int i = 1; i < threads_; i++) workers_.emplace_back([this, i] { workerLoop(i); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  for (auto& w : workers_) w.join();
}

void ThreadPool::workerLoop(int) {
  uint64_t seen = 0;
  for (;;) {
    const std::function<void(int, int)>* job;
    int n;
    {
      std::unique_lock<std::mutex> lock(mu_);
      wake_.wait(lock, [&] { return stop_ || generation_ != seen; });
      if (stop_) return;
      seen = generation_;
      if (!open_) continue;  // woke too late: the caller already finished this job
      job = job_;
      n = jobThreads_;
      active_++;
    }
    claim(*job, n);
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (--active_ == 0) done_.notify_one();
    }
  }
}

void ThreadPool::claim(const std::function<void(int, int)>& fn, int n) {
  for (int i; (i = nextIndex_.fetch_add(1)) < n;) {
    try {
      fn(i, n);
    } catch (...) {
      std::lock_guard<std::mutex> lock(mu_);
      if (!error_) error_ = std::current_exception();
    }
  }
}

void ThreadPool::run(int wanted, const std::function<void(int, int)>& fn) {
  const int n = std::max(1, std::min(wanted, threads_));
  if (n == 1) {
    fn(0, 1);
    return;
  }
  std::unique_lock<std::mutex> busy(runMu_, std::try_to_lock);
  if (!busy.owns_lock()) {
    for (int i = 0; i < n; i++) fn(i, n);
    return;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    job_ = &fn;
    jobThreads_ = n;
    nextIndex_.store(0);
    error_ = nullptr;
    open_ = true;
    generation_++;
  }
  wake_.notify_all();
  claim(fn, n);
  std::exception_ptr error;
  {
    std::unique_lock<std::mutex> lock(mu_);
    open_ = false;
    done_.wait(lock, [&] { return active_ == 0; });
    job_ = nullptr;
    std::swap(error, error_);
  }
  if (error) std::rethrow_exception(error);
}

static int defaultThreads() {
  if (const char* env = std::getenv("LLM_LAB_THREADS")) {
    int v = std::atoi(env);
    if (v > 0) return std::min(v, 64);
  }
  unsigned hc = std::thread::hardware_concurrency();
  return hc == 0 ? 1 : static_cast<int>(std::min(hc, 64u));
}

ThreadPool& pool() {
  static ThreadPool instance(defaultThreads());
  return instance;
}

int poolThreads() { return pool().size(); }

void parallelFor(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn) {
  if (n <= 0) return;
  const int64_t maxChunks = std::max<int64_t>(1, n / std::max<int64_t>(1, grain));
  const int threads = static_cast<int>(std::min<int64_t>(poolThreads(), maxChunks));
  if (threads <= 1) {
    fn(0, n);
    return;
  }
  // About 4 chunks per thread, taken in turn, so a descheduled thread's share is picked up by the others.
  const int64_t chunks = std::min<int64_t>(maxChunks, int64_t(threads) * 4);
  std::atomic<int64_t> next{0};
  pool().run(threads, [&](int, int) {
    for (int64_t c; (c = next.fetch_add(1)) < chunks;) {
      const int64_t begin = n * c / chunks, end = n * (c + 1) / chunks;
      if (begin < end) fn(begin, end);
    }
  });
}

}  // namespace llmlab
