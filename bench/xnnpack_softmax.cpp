// XNNPACK's f32 softmax as a baseline (built when libxnnpack-dev is
// installed; bench/CMakeLists.txt defines SOFTCHECK_BENCH_XNNPACK then).
#include "baselines.hpp"

#ifdef SOFTCHECK_BENCH_XNNPACK
#include <xnnpack.h>

#include <cstdio>
#include <map>
#include <tuple>
#endif

namespace softcheck::bench {

#ifdef SOFTCHECK_BENCH_XNNPACK
namespace {

bool initialized() {
  static const bool ok = xnn_initialize(nullptr) == xnn_status_success;
  return ok;
}

// One pool per thread count (none for 1 thread: XNNPACK then runs inline).
pthreadpool_t pool(int threads) {
  static std::map<int, pthreadpool_t> pools;
  if (threads <= 1) return nullptr;
  auto &p = pools[threads];
  if (!p) p = pthreadpool_create(size_t(threads));
  return p;
}

// One operator per (x, y, rows, n, threads), set up once.
struct Prepared {
  xnn_operator_t op = nullptr;
  bool ok = false;
};

} // namespace

bool xnnpack_available() { return initialized(); }

bool xnnpack_softmax(const float *x, float *y, int64_t rows, int64_t n, int threads) {
  if (!initialized()) return false;
  static std::map<std::tuple<const float *, float *, int64_t, int64_t, int>, Prepared> ops;
  Prepared &p = ops[{x, y, rows, n, threads}];
  if (!p.op) {
    p.ok = xnn_create_softmax_nc_f32(size_t(n), size_t(n), size_t(n), 0, &p.op) ==
               xnn_status_success &&
           xnn_setup_softmax_nc_f32(p.op, size_t(rows), x, y, pool(threads)) == xnn_status_success;
    if (!p.ok)
      std::fprintf(stderr, "softcheck_bench: XNNPACK softmax [%lld,%lld] not made\n",
                   (long long)rows, (long long)n);
  }
  return p.ok && xnn_run_operator(p.op, pool(threads)) == xnn_status_success;
}

#else

bool xnnpack_available() { return false; }
bool xnnpack_softmax(const float *, float *, int64_t, int64_t, int) { return false; }

#endif

} // namespace softcheck::bench
