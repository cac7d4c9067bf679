#include "parallel.hpp"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

namespace softcheck::detail {
namespace {

std::atomic<int> g_threads{1};

class Pool {
public:
  void run(int threads, int64_t n, const std::function<void(int64_t, int64_t)> &f) {
    std::unique_lock<std::mutex> busy(call_, std::try_to_lock);
    const int parts = int(std::min<int64_t>(threads, n));
    if (!busy.owns_lock() || parts <= 1) {
      if (n > 0) f(0, n);
      return;
    }
    {
      std::unique_lock<std::mutex> lock(m_);
      while (int(workers_.size()) < parts - 1) {
        const int index = int(workers_.size()) + 1;
        workers_.emplace_back([this, index] { work(index); });
      }
      job_ = &f;
      n_ = n;
      parts_ = parts;
      pending_ = parts - 1;
      ++generation_;
    }
    wake_.notify_all();
    f(0, n / parts);
    std::unique_lock<std::mutex> lock(m_);
    done_.wait(lock, [this] { return pending_ == 0; });
    job_ = nullptr;
  }

private:
  void work(int index) {
    uint64_t seen = 0;
    std::unique_lock<std::mutex> lock(m_);
    for (;;) {
      wake_.wait(lock, [&] { return generation_ != seen; });
      seen = generation_;
      if (index >= parts_) continue;
      const auto *f = job_;
      const int64_t begin = n_ * index / parts_, end = n_ * (index + 1) / parts_;
      lock.unlock();
      (*f)(begin, end);
      lock.lock();
      if (--pending_ == 0) done_.notify_one();
    }
  }

  std::mutex call_; // one parallel call at a time
  std::mutex m_;
  std::condition_variable wake_, done_;
  std::vector<std::thread> workers_;
  const std::function<void(int64_t, int64_t)> *job_ = nullptr;
  int64_t n_ = 0;
  int parts_ = 0, pending_ = 0;
  uint64_t generation_ = 0;
};

// Never destroyed: workers wait on it until the process ends.
Pool &pool() {
  static Pool *p = new Pool;
  return *p;
}

} // namespace

int num_threads() { return g_threads.load(std::memory_order_relaxed); }
void set_num_threads(int threads) { g_threads.store(std::max(1, threads)); }

void parallel_for(int64_t n, const std::function<void(int64_t, int64_t)> &f, int64_t elements) {
  const int threads = num_threads();
  if (threads <= 1 || n <= 1 || elements < kGrain) {
    if (n > 0) f(0, n);
    return;
  }
  pool().run(threads, n, f);
}

} // namespace softcheck::detail
