// A small persistent thread pool for the native kernels: workers sleep on a condition variable between jobs,
// and a job is a function of (index, count). Indices are claimed as threads arrive, the calling thread
// included, which runs whatever no worker took; so on a busy machine a worker that is slow to wake never
// holds a job up (the caller waits only for workers that actually joined). An exception thrown by the job
// on any thread (std::bad_alloc included) is caught there, the job still runs to its end on the others, and
// run() rethrows the first one on the calling thread; the pool is then ready for the next job.
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
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
  // Runs fn(i, n) once for each i in [0, n), n = min(size(), wanted); returns when all are done, and rethrows
  // the first exception any of them threw. A call made while the pool is busy (from inside a job, or from a
  // second JavaScript thread) runs every index on the calling thread instead of waiting.
  void run(int wanted, const std::function<void(int, int)>& fn);

 private:
  void workerLoop(int index);
  // Runs fn(i, n) for the indices this thread claims, keeping the first exception in error_.
  void claim(const std::function<void(int, int)>& fn, int n);
  int threads_;
  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable wake_, done_;
  const std::function<void(int, int)>* job_ = nullptr;
  int jobThreads_ = 0;
  std::atomic<int> nextIndex_{0};
  uint64_t generation_ = 0;
  int active_ = 0;     // workers inside the current job
  bool open_ = false;  // whether workers may still join the current job
  bool stop_ = false;
  std::exception_ptr error_;  // first exception of the current job (guarded by mu_)
  std::mutex runMu_;          // held by the thread whose job the pool runs
};

// The process-wide pool (created on first use with LLM_LAB_THREADS or the core count).
ThreadPool& pool();
int poolThreads();

// Splits [0, n) into contiguous chunks, at least `grain` items each, over the pool.
void parallelFor(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn);

}  // namespace llmlab
