// A small persistent thread pool for the native kernels: workers sleep on a condition variable between jobs,
// the calling thread takes part as worker 0, and a job is a function of (thread index, thread count).
#pragma once
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace llmlab {

class ThreadPool {
 public:
  explicit ThreadPool(int threads);
  ~ThreadPool();
  int size() const { return threads_; }
  // Runs fn(t, n) for t in [0, n) with n = min(size(), wanted); returns when all are done.
  void run(int wanted, const std::function<void(int, int)>& fn);

 private:
  void workerLoop(int index);
  int threads_;
  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable wake_, done_;
  const std::function<void(int, int)>* job_ = nullptr;
  int jobThreads_ = 0;
  uint64_t generation_ = 0;
  int pending_ = 0;
  bool stop_ = false;
};

// The process-wide pool (created on first use with LLM_LAB_THREADS or the core count).
ThreadPool& pool();
int poolThreads();

// Splits [0, n) into contiguous chunks, at least `grain` items each, over the pool.
void parallelFor(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn);

}  // namespace llmlab
