// The naive baseline: the loops everyone writes, built with -ffast-math so
// GCC calls libmvec's vector expf/logf.
#include "baselines.hpp"

#include <cmath>

namespace softcheck::bench {
namespace {

int64_t g_rows = 1; // the mean's denominator for cross_entropy_backward

float row_max(const float *x, int64_t n) {
  float m = x[0];
  for (int64_t i = 1; i < n; ++i) m = x[i] > m ? x[i] : m;
  return m;
}

float row_lse(const float *x, int64_t n) {
  const float m = row_max(x, n);
  float s = 0;
  for (int64_t i = 0; i < n; ++i) s += std::exp(x[i] - m);
  return m + std::log(s);
}

void softmax(const Buffers &b, int64_t r0, int64_t r1, int64_t n) {
  for (int64_t r = r0; r < r1; ++r) {
    const float *x = b.x + r * n;
    float *y = b.out + r * n;
    const float m = row_max(x, n);
    float s = 0;
    for (int64_t i = 0; i < n; ++i) s += (y[i] = std::exp(x[i] - m));
    const float inv = 1 / s;
    for (int64_t i = 0; i < n; ++i) y[i] *= inv;
  }
}

void log_softmax(const Buffers &b, int64_t r0, int64_t r1, int64_t n) {
  for (int64_t r = r0; r < r1; ++r) {
    const float *x = b.x + r * n;
    float *y = b.out + r * n;
    const float l = row_lse(x, n);
    for (int64_t i = 0; i < n; ++i) y[i] = x[i] - l;
  }
}

void logsumexp(const Buffers &b, int64_t r0, int64_t r1, int64_t n) {
  for (int64_t r = r0; r < r1; ++r) b.out[r] = row_lse(b.x + r * n, n);
}

void cross_entropy_rows(const Buffers &b, int64_t r0, int64_t r1, int64_t n) {
  for (int64_t r = r0; r < r1; ++r) b.out[r] = row_lse(b.x + r * n, n) - b.x[r * n + b.target[r]];
}

void softmax_backward(const Buffers &b, int64_t r0, int64_t r1, int64_t n) {
  for (int64_t r = r0; r < r1; ++r) {
    const float *y = b.x + r * n, *dy = b.dy + r * n;
    float *dx = b.out + r * n;
    float dot = 0;
    for (int64_t i = 0; i < n; ++i) dot += y[i] * dy[i];
    for (int64_t i = 0; i < n; ++i) dx[i] = y[i] * (dy[i] - dot);
  }
}

void log_softmax_backward(const Buffers &b, int64_t r0, int64_t r1, int64_t n) {
  for (int64_t r = r0; r < r1; ++r) {
    const float *y = b.x + r * n, *dy = b.dy + r * n;
    float *dx = b.out + r * n;
    float s = 0;
    for (int64_t i = 0; i < n; ++i) s += dy[i];
    for (int64_t i = 0; i < n; ++i) dx[i] = dy[i] - std::exp(y[i]) * s;
  }
}

void cross_entropy_backward(const Buffers &b, int64_t r0, int64_t r1, int64_t n) {
  const float g = 1.0f / float(g_rows);
  for (int64_t r = r0; r < r1; ++r) {
    const float *x = b.x + r * n;
    float *dx = b.out + r * n;
    const float m = row_max(x, n);
    float s = 0;
    for (int64_t i = 0; i < n; ++i) s += (dx[i] = std::exp(x[i] - m));
    const float scale = g / s;
    for (int64_t i = 0; i < n; ++i) dx[i] *= scale;
    dx[b.target[r]] -= g;
  }
}

} // namespace

const Baseline &naive_fastmath(int64_t total_rows) {
  g_rows = total_rows;
  static const Baseline b{
      "naive -ffast-math", softmax,          log_softmax,          logsumexp,
      cross_entropy_rows,  softmax_backward, log_softmax_backward, cross_entropy_backward};
  return b;
}

void copy_loop(const float *in, float *out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = in[i];
}

} // namespace softcheck::bench
