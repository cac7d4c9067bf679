// The oracle's fast phase for the formats double holds exactly (float32,
// bfloat16, float16): a row in double with a rigorous error bound per
// output. The double value v is accepted when every value within the bound
// rounds to the same value of the format; otherwise (a rounding boundary
// lies within the bound) the row is left to the MPFR interval path. Same
// answers, 30-100x faster.
//
// softmax, log_softmax and logsumexp: relative bounds, below. The backward
// ops: absolute bounds, at settle_abs.
//
// The bound, with u = 2^-53 and n = classes:
// - d_c = x_c - max is exact in double when TwoSum's error is 0 (exponents
//   within 29 of each other), else relative error u: exp(d_c) then has the
//   extra relative error |d_c| u.
// - exp: glibc 2.28+ documents < 0.52 ulp; we take 1 ulp = 2u.
//   log1p: fdlibm's < 1 ulp; we take 2 ulp = 4u.
// - rest = sum of the n-1 non-max exps (each >= 0) with Neumaier
//   compensation: relative error <= 2u + 4 n u^2 <= 3u for n < 2^50, on top
//   of each term's own error (2u + |d| u), so rest is within (5u + D u)
//   relative, D = max |d_c| over the row (0 where every d_c is exact).
// - softmax_c = e_c / (1 + rest): e_c's error + S's error + division u:
//       E = (2 + |d_c| [if inexact] + 6 + D + 1 + 1) u, doubled.
// - log_softmax_c = d_c - L, L = log1p(rest): both d_c <= 0 and -L <= 0,
//   so |v| = |d_c| + L and relative errors add: L is within 4u (log1p) +
//   (5 + D) u (its argument; d log1p(r) = dr / (1 + r) <= L dr / r), d_c
//   within u, the subtraction u:  E = (4 + 5 + D + 1 + 1 + 1) u, doubled.
// - logsumexp = max + L may cancel: absolute error (9 + D) u L + u |v|, so
//   E = ((9 + D) L / |v| + 2) u, doubled; a cancelling row falls back.
#pragma once

#include "formulas.hpp"

#include <cmath>
#include <cstdint>
#include <vector>

namespace softcheck::oracle::fast {

constexpr double u = 0x1p-53;
// The largest absolute error of one rounding into double's subnormal range
// (where the relative model fails), taken once per operation.
constexpr double eta = 0x1p-1074;

template <class T> double to_double(T v) {
  if constexpr (is_half_v<T>)
    return double(float(v));
  else
    return double(v);
}

template <class T> bool same_value(T a, T b) {
  if constexpr (is_half_v<T>)
    return a.bits() == b.bits();
  else
    return a == b && std::signbit(a) == std::signbit(b);
}

template <class T> bool is_zero(T v) { return to_double(v) == 0; }

// Rounds v to T if every value within relative error e of it rounds to
// the same value of T (subnormal range included); false otherwise. A result
// known to be >= 0 (softmax) that came out 0 is +0: its exp underflowed.
template <class T> bool settle(double v, double e, T &out, bool nonnegative = false) {
  if (v == 0 && nonnegative) {
    out = T(0.0f);
    return true;
  }
  double lo = v - std::abs(v) * e, hi = v + std::abs(v) * e;
  // v * e itself is rounded: widen by one double ulp each way.
  lo = std::nextafter(lo, -INFINITY);
  hi = std::nextafter(hi, INFINITY);
  const T a = T(lo), b = T(hi);
  if (!same_value(a, b)) return false;
  out = T(v);
  return same_value(out, a);
}

// The same with an absolute bound b: every value in [v - b, v + b] rounds
// to one value of T. b = 0 says v is exact: an exact zero is +0, as the
// interval path rounds it. An interval around 0 settles only with `sign`
// (the exact value's sign, known otherwise: -1 or 1), when both ends round
// to a zero: the result is then the zero of that sign.
template <class T> bool settle_abs(double v, double b, T &out, int sign = 0) {
  if (!std::isfinite(v) || !(b >= 0) || !std::isfinite(b)) return false;
  if (b == 0) {
    out = v == 0 ? T(0.0f) : T(v);
    return true;
  }
  const double lo = std::nextafter(v - b, -INFINITY), hi = std::nextafter(v + b, INFINITY);
  const T a = T(lo), c = T(hi);
  if (lo < 0 && hi > 0) { // 0 inside
    if (sign == 0 || !is_zero(a) || !is_zero(c)) return false;
    out = T(sign < 0 ? -0.0f : 0.0f);
    return true;
  }
  if (!same_value(a, c)) return false;
  out = T(v);
  return same_value(out, a);
}

// The exact rounding errors of a sum and a product of doubles (TwoSum, and
// the product's by FMA, exact unless the product is near underflow: then
// `exact` says so and the caller takes eta).
inline double sum_error(double a, double b, double s) {
  const double z = s - a;
  return (a - (s - z)) + (b - z);
}
inline double product_error(double a, double b, double p, bool &exact) {
  exact = std::abs(p) >= 0x1p-960 || p == 0 ? true : false;
  if (p == 0 && a != 0 && b != 0) exact = false; // underflowed to 0
  return std::fma(a, b, -p);
}

// Ogita, Rump and Oishi's Sum2 (cascaded TwoSum): a sum of doubles whose
// error, underflow included, is at most u |s| + g^2 sum |p_i| with s the
// exact sum and g = gamma_{n-1} = (n-1) u / (1 - (n-1) u) ("Accurate sum and
// dot product", SIAM J. Sci. Comput. 26(6), 2005, Proposition 4.5). With
// |s| <= |res| + err that is err <= (u |res| + g^2 sum |p_i|) / (1 - u).
// When no TwoSum had an error and the last addition had none either, the
// result is the exact sum: bound 0.
struct Sum2 {
  double pi = 0, sigma = 0, abs = 0; // abs: sum of |p_i|, rounded
  int64_t n = 0;
  bool exact = true; // every partial sum so far exact
  void add(double p) {
    const double t = pi + p;
    const double q = sum_error(pi, p, t);
    exact = exact && q == 0;
    sigma += q;
    pi = t;
    abs += std::abs(p);
    ++n;
  }
  double value() const { return pi + sigma; }
  // The error of the unevaluated pair pi + sigma alone: sigma sums the
  // TwoSum errors q_i (sum |q_i| <= g sum |p_i|) with error <= g sum |q_i|,
  // so |pi + sigma - s| <= g^2 sum |p_i|; 0 when exact.
  double pair_bound() const {
    if (exact) return 0;
    const double m = double(n - 1) * u;
    if (!(m < 0x1p-20)) return INFINITY;
    const double g = m / (1 - m);
    return g * g * (abs / (1 - g)) * (1 + 8 * u) + eta;
  }
  // An upper bound of |value() - exact|, itself rounded upward with room:
  // the sum of |p_i| computed in double is within gamma_{n-1} of the exact
  // one, and each of the few operations here adds at most a relative u.
  double bound() const {
    if (exact) return 0; // sigma = 0, value() = pi: the exact sum
    const double m = double(n - 1) * u;
    if (!(m < 0x1p-20)) return INFINITY; // far past any row here
    const double g = m / (1 - m);
    const double abs_up = abs / (1 - g);
    return (u * std::abs(value()) + g * g * abs_up) / (1 - u) * (1 + 8 * u) + eta;
  }
};

template <class T> struct RowState {
  std::vector<double> e, d; // exp(d_c), d_c
  std::vector<bool> exact;  // d_c exact
  double rest = 0, log_s = 0, worst_d = 0;
  bool others_masked = true; // every non-max entry is -inf: rest is exactly 0
  T max = T(0.0f);
  int64_t argmax = 0;
};

// A finite row in double. Returns false for rows the fast phase does not
// handle (special values: the interval path settles them at once).
template <class T> bool prepare(RowView<T> x, RowState<T> &st) {
  if (classify_row(x, st.max, st.argmax) != RowKind::finite) return false;
  const size_t n = size_t(x.n);
  st.e.resize(n);
  st.d.resize(n);
  st.exact.resize(n);
  const double m = to_double(st.max);
  double s = 0, c = 0;
  st.worst_d = 0;
  st.others_masked = true;
  for (int64_t k = 0; k < x.n; ++k) {
    const double xk = to_double(x[k]);
    const double d = xk - m;
    const double bb = d - xk;
    const bool ex = ((xk - (d - bb)) + (-m - bb)) == 0 || std::isinf(d);
    st.d[size_t(k)] = d;
    st.exact[size_t(k)] = ex;
    if (!ex) st.worst_d = std::max(st.worst_d, std::abs(d));
    const double ek = std::exp(d);
    st.e[size_t(k)] = ek;
    if (k == st.argmax) continue;
    if (!std::isinf(d)) st.others_masked = false;
    const double t = s + ek;
    c += std::abs(s) >= ek ? (s - t) + ek : (ek - t) + s;
    s = t;
  }
  st.rest = s + c;
  st.log_s = std::log1p(st.rest);
  return true;
}

// `weaken` < 1 shrinks every bound: only for the self-check that shows a
// bound too small is caught (test_oracle).
template <class T> bool softmax(const RowState<T> &st, int64_t k, T &out, double weaken = 1) {
  const size_t i = size_t(k);
  const double v = st.e[i] / (1.0 + st.rest);
  const double e = 2 * (10 + st.worst_d + (st.exact[i] ? 0 : std::abs(st.d[i]))) * u;
  return settle(v, e * weaken, out, true);
}

template <class T> bool log_softmax(const RowState<T> &st, int64_t k, T &out, double weaken = 1) {
  const double v = st.d[size_t(k)] - st.log_s;
  if (v == 0) {
    // d_c = 0 and L = 0: exactly +0 when the rest is all -inf (or C = 1);
    // else every other exp underflowed to 0 in double, so the exact value
    // is -log1p(rest) with 0 < rest < C 2^-1074: a negative beyond every
    // format's smallest subnormal, which rounds to -0.
    out = T(st.others_masked ? 0.0f : -0.0f);
    return st.others_masked || st.rest == 0;
  }
  const double e = 2 * (12 + st.worst_d) * u * weaken;
  if (v == st.d[size_t(k)] && st.exact[size_t(k)] && !st.others_masked) {
    // L vanished beside an exact d_c; the exact value d_c - L is below d_c
    // (L > 0: some other entry is finite), within the bound of it. d_c
    // itself may be a midpoint of T (x - max often is), so the top end is
    // open: the values in [lo, d_c) round as the double just below d_c.
    const double lo = std::nextafter(v - std::abs(v) * e, -INFINITY);
    const T a = T(lo), b = T(std::nextafter(v, -INFINITY));
    if (!same_value(a, b)) return false;
    out = a;
    return true;
  }
  return settle(v, e, out);
}

template <class T> bool logsumexp(const RowState<T> &st, T &out, double weaken = 1) {
  const double v = to_double(st.max) + st.log_s;
  if (st.rest == 0) {                  // lse = max + (0 or an underflowed L): rounds to max,
    if (is_zero(st.max)) return false; // but to +0 or -0 as the exact sum says
    out = st.max;
    return true;
  }
  if (v == 0) return false;
  return settle(v, 2 * ((9 + st.worst_d) * st.log_s / std::abs(v) + 2) * u * weaken, out);
}

// ------------------------------------------------------------ backward
//
// softmax_backward: dx_c = y_c (dy_c - D), D = sum_k y_k dy_k. Each product
// of two inputs is exact in double (at most 2 x 24 significant bits, and
// exponents far inside double's range), so D is Sum2's pair pi + sigma to
// within G = g^2 sum |p_k| (0 when every partial sum was exact). dy_c - D,
// which cancels when y is nearly one-hot, is carried in two doubles: t_hi =
// fl(dy_c - pi) with its exact error e_1 (TwoSum), t_lo = fl(e_1 - sigma),
// so |t_hi + t_lo - (dy_c - D)| <= G + u |t_lo| + eta. Then v =
// fma(y_c, t_hi, fl(y_c t_lo)):
//     |v - dx_c| <= |y_c| (G + u |t_lo| + eta) + u |y_c t_lo| + u |v| + 2 eta.
// A y_c of 0, or an exact t of 0, gives an exact 0: +0, as the interval
// path rounds an exact zero.
//
// log_softmax_backward: dx_c = dy_c - exp(y_c) S, S = sum_k dy_k, within A
// of S^ (Sum2). exp as in the forward phase: within 2u relative (1 ulp;
// glibc documents < 0.52) plus eta below double's normal range, and > 0
// always. With e^ = fl(exp(y_c)), w = fl(e^ S^) with exact error e_w, and
// v = fl(dy_c - w) with exact error e_v:
//     |v - dx_c| <= |e^| A + (|S^| + A)(2u |e^| (1 + 4u) + eta) + |e_w| + |e_v|.
// Where dy_c = 0 and S is certainly nonzero, dx_c = -exp(y_c) S is a
// nonzero of the sign of -S, which decides a result that rounds to zero.
// An exp that overflows (y_c > 709: not a log-probability) falls back.
//
// Every nonzero bound is then widened by (1 + 8u): the bound's own few
// roundings. Rows with a NaN or an infinity fall back (plugin.h's special
// rules are the interval path's).

template <class T> bool finite_row(RowView<T> r) {
  for (int64_t k = 0; k < r.n; ++k)
    if (!std::isfinite(to_double(r[k]))) return false;
  return true;
}

template <class T>
bool softmax_backward(RowView<T> y, RowView<T> dy, std::vector<T> &out, double weaken = 1) {
  if (!finite_row(y) || !finite_row(dy)) return false;
  Sum2 dot;
  for (int64_t k = 0; k < y.n; ++k) dot.add(to_double(y[k]) * to_double(dy[k]));
  const double G = dot.pair_bound();
  out.resize(size_t(y.n));
  for (int64_t c = 0; c < y.n; ++c) {
    const double yc = to_double(y[c]), dyc = to_double(dy[c]);
    const double t_hi = dyc - dot.pi, e1 = sum_error(dyc, -dot.pi, t_hi);
    const double t_lo = e1 - dot.sigma;
    if (yc == 0 || (t_hi == 0 && t_lo == 0 && e1 == 0 && G == 0)) {
      out[size_t(c)] = T(0.0f);
      continue;
    }
    const double p_lo = yc * t_lo;
    const double v = std::fma(yc, t_hi, p_lo);
    const double b = (std::abs(yc) * (G + u * std::abs(t_lo) + eta) + u * std::abs(p_lo) +
                      u * std::abs(v) + 2 * eta) *
                     (1 + 8 * u) * weaken;
    if (!settle_abs(v, b, out[size_t(c)])) return false;
  }
  return true;
}

template <class T>
bool log_softmax_backward(RowView<T> y, RowView<T> dy, std::vector<T> &out, double weaken = 1) {
  if (!finite_row(y) || !finite_row(dy)) return false;
  Sum2 sum;
  for (int64_t k = 0; k < dy.n; ++k) sum.add(to_double(dy[k]));
  const double S = sum.value(), A = sum.bound();
  const int minus_s = std::abs(S) > A ? (S > 0 ? -1 : 1) : 0; // the sign of -S, if known
  out.resize(size_t(y.n));
  for (int64_t c = 0; c < y.n; ++c) {
    const double e = std::exp(to_double(y[c]));
    if (!std::isfinite(e)) return false;
    const double dyc = to_double(dy[c]);
    const double w = e * S;
    bool exact_product = true;
    const double ew = product_error(e, S, w, exact_product);
    const double v = dyc - w, ev = sum_error(dyc, -w, v);
    const double b = (e * A + (std::abs(S) + A) * (2 * u * e * (1 + 4 * u) + eta) + std::abs(ew) +
                      (exact_product ? 0 : eta) + std::abs(ev)) *
                     (1 + 8 * u) * weaken;
    if (!settle_abs(v, b, out[size_t(c)], dyc == 0 ? minus_s : 0)) return false;
  }
  return true;
}

} // namespace softcheck::oracle::fast
