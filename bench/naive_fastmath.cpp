// The naive baseline: the loops everyone writes, built with -ffast-math so
// GCC calls libmvec's vector exp/log (expf/logf in float).
#include "baselines.hpp"

#include <cmath>

namespace softcheck::bench {
namespace {

int64_t g_rows = 1; // the mean's denominator for cross_entropy_backward

template <class T> T row_max(const T *x, int64_t n) {
  T m = x[0];
  for (int64_t i = 1; i < n; ++i) m = x[i] > m ? x[i] : m;
  return m;
}

template <class T> T row_lse(const T *x, int64_t n) {
  const T m = row_max(x, n);
  T s = 0;
  for (int64_t i = 0; i < n; ++i) s += std::exp(x[i] - m);
  return m + std::log(s);
}

template <class T> void softmax(const Buffers<T> &b, int64_t r0, int64_t r1, int64_t n) {
  for (int64_t r = r0; r < r1; ++r) {
    const T *x = b.x + r * n;
    T *y = b.out + r * n;
    const T m = row_max(x, n);
    T s = 0;
    for (int64_t i = 0; i < n; ++i) s += (y[i] = std::exp(x[i] - m));
    const T inv = 1 / s;
    for (int64_t i = 0; i < n; ++i) y[i] *= inv;
  }
}

template <class T> void log_softmax(const Buffers<T> &b, int64_t r0, int64_t r1, int64_t n) {
  for (int64_t r = r0; r < r1; ++r) {
    const T *x = b.x + r * n;
    T *y = b.out + r * n;
    const T l = row_lse(x, n);
    for (int64_t i = 0; i < n; ++i) y[i] = x[i] - l;
  }
}

template <class T> void logsumexp(const Buffers<T> &b, int64_t r0, int64_t r1, int64_t n) {
  for (int64_t r = r0; r < r1; ++r) b.out[r] = row_lse(b.x + r * n, n);
}

template <class T> void cross_entropy_rows(const Buffers<T> &b, int64_t r0, int64_t r1, int64_t n) {
  for (int64_t r = r0; r < r1; ++r) b.out[r] = row_lse(b.x + r * n, n) - b.x[r * n + b.target[r]];
}

template <class T> void softmax_backward(const Buffers<T> &b, int64_t r0, int64_t r1, int64_t n) {
  for (int64_t r = r0; r < r1; ++r) {
    const T *y = b.x + r * n, *dy = b.dy + r * n;
    T *dx = b.out + r * n;
    T dot = 0;
    for (int64_t i = 0; i < n; ++i) dot += y[i] * dy[i];
    for (int64_t i = 0; i < n; ++i) dx[i] = y[i] * (dy[i] - dot);
  }
}

template <class T>
void log_softmax_backward(const Buffers<T> &b, int64_t r0, int64_t r1, int64_t n) {
  for (int64_t r = r0; r < r1; ++r) {
    const T *y = b.x + r * n, *dy = b.dy + r * n;
    T *dx = b.out + r * n;
    T s = 0;
    for (int64_t i = 0; i < n; ++i) s += dy[i];
    for (int64_t i = 0; i < n; ++i) dx[i] = dy[i] - std::exp(y[i]) * s;
  }
}

template <class T>
void cross_entropy_backward(const Buffers<T> &b, int64_t r0, int64_t r1, int64_t n) {
  const T g = T(1) / T(g_rows);
  for (int64_t r = r0; r < r1; ++r) {
    const T *x = b.x + r * n;
    T *dx = b.out + r * n;
    const T m = row_max(x, n);
    T s = 0;
    for (int64_t i = 0; i < n; ++i) s += (dx[i] = std::exp(x[i] - m));
    const T scale = g / s;
    for (int64_t i = 0; i < n; ++i) dx[i] *= scale;
    dx[b.target[r]] -= g;
  }
}

} // namespace

template <class T> const Baseline<T> &naive_fastmath(int64_t total_rows) {
  g_rows = total_rows;
  static const Baseline<T> b{"naive -ffast-math",     softmax<T>,
                             log_softmax<T>,          logsumexp<T>,
                             cross_entropy_rows<T>,   softmax_backward<T>,
                             log_softmax_backward<T>, cross_entropy_backward<T>};
  return b;
}
template const Baseline<float> &naive_fastmath<float>(int64_t);
template const Baseline<double> &naive_fastmath<double>(int64_t);

void copy_loop(const float *in, float *out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = in[i];
}

} // namespace softcheck::bench
