// The Eigen baseline: one Map<ArrayXf> per row, Eigen 3.4's packet exp/log.
#include "baselines.hpp"

#include <Eigen/Core>

namespace softcheck::bench {
namespace {

using Row = Eigen::Map<const Eigen::ArrayXf>;
using OutRow = Eigen::Map<Eigen::ArrayXf>;
int64_t g_rows = 1;

void softmax(const Buffers &b, int64_t r0, int64_t r1, int64_t n) {
  for (int64_t r = r0; r < r1; ++r) {
    Row x(b.x + r * n, n);
    OutRow y(b.out + r * n, n);
    y = (x - x.maxCoeff()).exp();
    y *= 1 / y.sum();
  }
}

float lse(const Row &x) {
  const float m = x.maxCoeff();
  return m + std::log((x - m).exp().sum());
}

void log_softmax(const Buffers &b, int64_t r0, int64_t r1, int64_t n) {
  for (int64_t r = r0; r < r1; ++r) {
    Row x(b.x + r * n, n);
    OutRow(b.out + r * n, n) = x - lse(x);
  }
}

void logsumexp(const Buffers &b, int64_t r0, int64_t r1, int64_t n) {
  for (int64_t r = r0; r < r1; ++r) b.out[r] = lse(Row(b.x + r * n, n));
}

void cross_entropy_rows(const Buffers &b, int64_t r0, int64_t r1, int64_t n) {
  for (int64_t r = r0; r < r1; ++r) b.out[r] = lse(Row(b.x + r * n, n)) - b.x[r * n + b.target[r]];
}

void softmax_backward(const Buffers &b, int64_t r0, int64_t r1, int64_t n) {
  for (int64_t r = r0; r < r1; ++r) {
    Row y(b.x + r * n, n), dy(b.dy + r * n, n);
    OutRow(b.out + r * n, n) = y * (dy - (y * dy).sum());
  }
}

void log_softmax_backward(const Buffers &b, int64_t r0, int64_t r1, int64_t n) {
  for (int64_t r = r0; r < r1; ++r) {
    Row y(b.x + r * n, n), dy(b.dy + r * n, n);
    OutRow(b.out + r * n, n) = dy - y.exp() * dy.sum();
  }
}

void cross_entropy_backward(const Buffers &b, int64_t r0, int64_t r1, int64_t n) {
  const float g = 1.0f / float(g_rows);
  for (int64_t r = r0; r < r1; ++r) {
    Row x(b.x + r * n, n);
    OutRow dx(b.out + r * n, n);
    dx = (x - x.maxCoeff()).exp();
    dx *= g / dx.sum();
    dx(b.target[r]) -= g;
  }
}

} // namespace

const Baseline &eigen_rows(int64_t total_rows) {
  g_rows = total_rows;
  static const Baseline b{
      "Eigen per-row",    softmax,          log_softmax,          logsumexp,
      cross_entropy_rows, softmax_backward, log_softmax_backward, cross_entropy_backward};
  return b;
}

} // namespace softcheck::bench
