// The Eigen baseline: one Map<ArrayX> per row, Eigen 3.4's packet exp/log.
#include "baselines.hpp"

#include <Eigen/Core>

namespace softcheck::bench {
namespace {

template <class T> using Row = Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, 1>>;
template <class T> using OutRow = Eigen::Map<Eigen::Array<T, Eigen::Dynamic, 1>>;
int64_t g_rows = 1;

template <class T> void softmax(const Buffers<T> &b, int64_t r0, int64_t r1, int64_t n) {
  for (int64_t r = r0; r < r1; ++r) {
    Row<T> x(b.x + r * n, n);
    OutRow<T> y(b.out + r * n, n);
    y = (x - x.maxCoeff()).exp();
    y *= 1 / y.sum();
  }
}

template <class T> T lse(const Row<T> &x) {
  const T m = x.maxCoeff();
  return m + std::log((x - m).exp().sum());
}

template <class T> void log_softmax(const Buffers<T> &b, int64_t r0, int64_t r1, int64_t n) {
  for (int64_t r = r0; r < r1; ++r) {
    Row<T> x(b.x + r * n, n);
    OutRow<T>(b.out + r * n, n) = x - lse(x);
  }
}

template <class T> void logsumexp(const Buffers<T> &b, int64_t r0, int64_t r1, int64_t n) {
  for (int64_t r = r0; r < r1; ++r) b.out[r] = lse(Row<T>(b.x + r * n, n));
}

template <class T> void cross_entropy_rows(const Buffers<T> &b, int64_t r0, int64_t r1, int64_t n) {
  for (int64_t r = r0; r < r1; ++r)
    b.out[r] = lse(Row<T>(b.x + r * n, n)) - b.x[r * n + b.target[r]];
}

template <class T> void softmax_backward(const Buffers<T> &b, int64_t r0, int64_t r1, int64_t n) {
  for (int64_t r = r0; r < r1; ++r) {
    Row<T> y(b.x + r * n, n), dy(b.dy + r * n, n);
    OutRow<T>(b.out + r * n, n) = y * (dy - (y * dy).sum());
  }
}

template <class T>
void log_softmax_backward(const Buffers<T> &b, int64_t r0, int64_t r1, int64_t n) {
  for (int64_t r = r0; r < r1; ++r) {
    Row<T> y(b.x + r * n, n), dy(b.dy + r * n, n);
    OutRow<T>(b.out + r * n, n) = dy - y.exp() * dy.sum();
  }
}

template <class T>
void cross_entropy_backward(const Buffers<T> &b, int64_t r0, int64_t r1, int64_t n) {
  const T g = T(1) / T(g_rows);
  for (int64_t r = r0; r < r1; ++r) {
    Row<T> x(b.x + r * n, n);
    OutRow<T> dx(b.out + r * n, n);
    dx = (x - x.maxCoeff()).exp();
    dx *= g / dx.sum();
    dx(b.target[r]) -= g;
  }
}

} // namespace

template <class T> const Baseline<T> &eigen_rows(int64_t total_rows) {
  g_rows = total_rows;
  static const Baseline<T> b{"Eigen per-row",         softmax<T>,
                             log_softmax<T>,          logsumexp<T>,
                             cross_entropy_rows<T>,   softmax_backward<T>,
                             log_softmax_backward<T>, cross_entropy_backward<T>};
  return b;
}
template const Baseline<float> &eigen_rows<float>(int64_t);
template const Baseline<double> &eigen_rows<double>(int64_t);

} // namespace softcheck::bench
