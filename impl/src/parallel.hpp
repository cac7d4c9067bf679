// The built-in set's threads: one pool, sized by set_num_threads.
#pragma once

#include <cstdint>
#include <functional>

namespace softcheck::detail {

// Threads the built-in kernels may use (>= 1; 1 until set).
int num_threads();
void set_num_threads(int threads);

// Runs f(begin, end) over [0, n) cut into one contiguous range per thread,
// the calling thread taking the first; returns when all are done. Results
// never depend on the cut: callers give every unit its own output. While
// another call holds the pool (kernels called from several threads at
// once), or when the whole call touches fewer than kGrain elements
// (`elements`; waking a thread costs more than that work), the range runs
// on the calling thread alone.
inline constexpr int64_t kGrain = 65536;
void parallel_for(int64_t n, const std::function<void(int64_t, int64_t)> &f,
                  int64_t elements = kGrain);

} // namespace softcheck::detail
