// The baselines `make bench` measures our kernels against, in the same
// run: a naive loop built with -ffast-math (libmvec's vector exp and log),
// Eigen's per-row arrays, both built for this CPU (-O3 -march=native), in
// float and double; and XNNPACK's f32 softmax when it is installed. The
// loops cover the ops of the table on rows of stride 1 and are only as
// careful as their authors' usual code: no exact x - max, no log1p.
#pragma once

#include <cstdint>

namespace softcheck::bench {

template <class T> struct Buffers {
  const T *x = nullptr;  // logits or the forward output y
  const T *dy = nullptr; // incoming gradient
  const int64_t *target = nullptr;
  T *out = nullptr; // [rows, n] or [rows]
};

// Rows [r0, r1) of a [rows, n] problem.
template <class T> using RowsFn = void (*)(const Buffers<T> &, int64_t r0, int64_t r1, int64_t n);

template <class T> struct Baseline {
  const char *name;
  RowsFn<T> softmax, log_softmax, logsumexp;
  RowsFn<T> cross_entropy_rows; // per-row losses into out[r]
  RowsFn<T> softmax_backward, log_softmax_backward;
  RowsFn<T> cross_entropy_backward; // mean reduction: (softmax - onehot) / rows; needs `rows`
};

// T = float or double.
template <class T> const Baseline<T> &naive_fastmath(int64_t total_rows);
template <class T> const Baseline<T> &eigen_rows(int64_t total_rows);

// out[i] = in[i], a plain loop vectorised for this CPU (the copy roof is
// the better of it and memcpy).
void copy_loop(const float *in, float *out, int64_t n);

// XNNPACK's f32 softmax (xnn_create_softmax_nc_f32), when the bench was
// built with it. Operators and thread pools are made once per shape and
// thread count and bound to (x, y) once, outside the timed loop; x must
// have XNN_EXTRA_BYTES (16) readable bytes past its last row, as xnnpack.h
// requires. xnnpack_softmax returns false when XNNPACK is not there.
bool xnnpack_available();
bool xnnpack_softmax(const float *x, float *y, int64_t rows, int64_t n, int threads);

} // namespace softcheck::bench
