// The baselines `make bench` measures our kernels against, in the same
// run: a naive loop built with -ffast-math (vector expf from libmvec) and
// Eigen's per-row arrays, both built for this CPU (-O3 -march=native). They
// cover the float32 ops of the table, rows of stride 1, and are only as
// careful as their authors' usual code: no exact x - max, no log1p.
#pragma once

#include <cstdint>

namespace softcheck::bench {

struct Buffers {
  const float *x = nullptr;  // logits or the forward output y
  const float *dy = nullptr; // incoming gradient
  const int64_t *target = nullptr;
  float *out = nullptr; // [rows, n] or [rows]
};

// Rows [r0, r1) of a [rows, n] problem.
using RowsFn = void (*)(const Buffers &, int64_t r0, int64_t r1, int64_t n);

struct Baseline {
  const char *name;
  RowsFn softmax, log_softmax, logsumexp;
  RowsFn cross_entropy_rows; // per-row losses into out[r]
  RowsFn softmax_backward, log_softmax_backward;
  RowsFn cross_entropy_backward; // mean reduction: (softmax - onehot) / rows; needs `rows`
};

const Baseline &naive_fastmath(int64_t total_rows);
const Baseline &eigen_rows(int64_t total_rows);

// out[i] = in[i], a plain loop vectorised for this CPU (the copy roof is
// the better of it and memcpy).
void copy_loop(const float *in, float *out, int64_t n);

} // namespace softcheck::bench
