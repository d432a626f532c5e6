// The persistent thread pool behind every multi-threaded kernel (see threadPool.h).
#include "threadPool.h"

#include <algorithm>
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

void ThreadPool::workerLoop(int index) {
  uint64_t seen = 0;
  for (;;) {
    const std::function<void(int, int)>* job;
    int n;
    {
      std::unique_lock<std::mutex> lock(mu_);
      wake_.wait(lock, [&] { return stop_ || generation_ != seen; });
      if (stop_) return;
      seen = generation_;
      job = job_;
      n = jobThreads_;
    }
    if (index < n) (*job)(index, n);
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (--pending_ == 0) done_.notify_one();
    }
  }
}

void ThreadPool::run(int wanted, const std::function<void(int, int)>& fn) {
  const int n = std::max(1, std::min(wanted, threads_));
  if (n == 1) {
    fn(0, 1);
    return;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    job_ = &fn;
    jobThreads_ = n;
    pending_ = threads_ - 1;
    generation_++;
  }
  wake_.notify_all();
  fn(0, n);
  std::unique_lock<std::mutex> lock(mu_);
  done_.wait(lock, [&] { return pending_ == 0; });
  job_ = nullptr;
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
  pool().run(threads, [&](int t, int nt) {
    const int64_t begin = n * t / nt, end = n * (t + 1) / nt;
    if (begin < end) fn(begin, end);
  });
}

}  // namespace llmlab
