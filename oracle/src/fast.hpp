// The oracle's fast phase for the formats double holds exactly (float32,
// bfloat16, float16): a row in double with a rigorous error bound per
// output. The double value v is accepted when every value within the bound
// rounds to the same value of the format; otherwise (a rounding boundary
// lies within the bound) the row is left to the MPFR interval path. Same
// answers, 30-100x faster.
//
// softmax, log_softmax and logsumexp: relative bounds, below. The backward
// ops and nll_loss: absolute bounds, at settle_abs. float64 (every op), and
// cross entropy in every format: double-double with running error bounds
// (dd.hpp), at the end of this file.
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
//   relative, D = max |d_c| over the row's inexact d_c (0 where every d_c
//   is exact). An exp that underflows to 0 (d_c < -746) errs instead by
//   < 2^-1075 absolutely: nothing beside 1 + rest, and it leaves D out.
// - softmax_c = e_c / (1 + rest): e_c's error + S's error + division u:
//       E = (2 + |d_c| [if inexact] + 6 + D + 1 + 1) u, doubled.
// - log_softmax_c = d_c - L, L = log1p(rest): both d_c <= 0 and -L <= 0,
//   so |v| = |d_c| + L and relative errors add: L is within 4u (log1p) +
//   (5 + D) u (its argument; d log1p(r) = dr / (1 + r) <= L dr / r), d_c
//   within u, the subtraction u:  E = (4 + 5 + D + 1 + 1 + 1) u, doubled.
// - logsumexp = max + L may cancel: absolute error (9 + D) u L + u |v|, so
//   E = ((9 + D) L / |v| + 2) u, doubled; a cancelling row falls back.
#pragma once

#include "dd.hpp"
#include "formulas.hpp"

#include <cmath>
#include <cstdint>
#include <limits>
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

template <class O> bool settle_as(const dd::DE &v, O &out, bool nonnegative = false); // below

// An exact sum of doubles (a superaccumulator): the value is
// sum_i d[i] 2^(32 i - 1088), every double a multiple of 2^-1074 (bit 14
// of d[0]) and below 2^1024 (d[64] and under), 32-bit digits in 64-bit
// limbs, so 2^30 additions need no carry. value() rounds the exact sum to
// a double-double whose bound covers the dropped digits; `err` is an
// absolute error the caller's terms carry in (products that underflowed).
struct ExactSum {
  static constexpr int limbs = 68, base = -1088;
  int64_t d[limbs] = {};
  double err = 0;
  void add(double x) {
    if (x == 0) return;
    int e = 0;
    const double m = std::frexp(x, &e);
    int64_t M = int64_t(std::ldexp(m, 53)); // x = M 2^(e - 53), exactly
    int p = e - 53 - base;
    if (p < 0) { // subnormal x: M's low bits are zeros
      M /= int64_t(1) << -p;
      p = 0;
    }
    const int64_t sign = M < 0 ? -1 : 1;
    const unsigned __int128 mag = (unsigned __int128)(uint64_t)(M < 0 ? -M : M) << (p % 32);
    const int i = p / 32;
    d[i] += sign * int64_t(uint64_t(mag) & 0xffffffffu);
    d[i + 1] += sign * int64_t(uint64_t(mag >> 32) & 0xffffffffu);
    d[i + 2] += sign * int64_t(uint64_t(mag >> 64));
  }
  // Carries: every limb but the last in [0, 2^32); the last holds the sign.
  void normalize() {
    for (int i = 0; i + 1 < limbs; ++i) {
      const int64_t c = d[i] >> 32; // floor(d[i] / 2^32)
      d[i] -= c * (int64_t(1) << 32);
      d[i + 1] += c;
    }
  }
  // The sum as a DE: its five leading digits (160 bits, exact in doubles,
  // added with their bounds), the rest (below one unit of the fifth) and
  // err in the bound.
  dd::DE value() const {
    ExactSum a = *this;
    a.normalize();
    const bool negative = a.d[limbs - 1] < 0;
    if (negative) {
      for (int64_t &v : a.d) v = -v;
      a.normalize();
    }
    int h = limbs - 1;
    while (h >= 0 && a.d[h] == 0) --h;
    dd::DE v;
    if (h < 0) {
      v.e = err;
      return v;
    }
    for (int i = h; i >= 0 && i > h - 5; --i)
      v = dd::add(v, dd::exact(std::ldexp(double(a.d[i]), 32 * i + base)));
    if (h >= 5) v.e += std::ldexp(1.0, 32 * (h - 4) + base);
    v.e = dd::up(v.e + err);
    return negative ? dd::neg(v) : v;
  }
};

// y_c (dy_c - D) with D = sum_k y_k dy_k exact (acc; its err covers the
// products that underflowed): for the outputs whose cancellation goes past
// what the faster sums hold. The products are exact in two doubles.
inline void add_products(ExactSum &acc, double y, double dy) {
  double p, lo;
  dd::two_prod(y, dy, p, lo);
  if ((std::abs(p) < 0x1p-960 && p != 0) || (p == 0 && y != 0 && dy != 0)) acc.err += 0x1p-1074;
  acc.add(p);
  acc.add(lo);
}
inline dd::DE minus_dot(const ExactSum &acc, double dyc) {
  ExactSum t = acc;
  t.add(-dyc);
  return dd::neg(t.value()); // dy_c - D
}

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
    // An exp that underflows to 0 (d < -746) errs absolutely, by < 2^-1075:
    // negligible beside 1 + rest, and past every narrower format.
    if (!ex && d > -746) st.worst_d = std::max(st.worst_d, std::abs(d));
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
template <class T> bool has_nan(RowView<T> r) {
  for (int64_t k = 0; k < r.n; ++k)
    if (std::isnan(to_double(r[k]))) return true;
  return false;
}
// A row of NaN: what the interval path gives where a NaN enters the sum
// every output reads (NaN propagates through each of its operations).
template <class T> bool nan_row(std::vector<T> &out, int64_t n) {
  out.assign(size_t(n), std::numeric_limits<T>::quiet_NaN());
  return true;
}

template <class T>
bool softmax_backward(RowView<T> y, RowView<T> dy, std::vector<T> &out, double weaken = 1) {
  // A NaN in y or dy: D is NaN, and so is every output; other non-finite
  // rows fall back.
  if (has_nan(y) || has_nan(dy)) return nan_row(out, y.n);
  if (!finite_row(y) || !finite_row(dy)) return false;
  Sum2 dot;
  for (int64_t k = 0; k < y.n; ++k) dot.add(to_double(y[k]) * to_double(dy[k]));
  const double G = dot.pair_bound();
  out.resize(size_t(y.n));
  static thread_local ExactSum exact;
  bool have_exact = false;
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
    if (settle_abs(v, b, out[size_t(c)])) continue;
    // dy_c - D cancelled past the pair: D exact (each product is a double).
    if (!have_exact) {
      exact = ExactSum{};
      for (int64_t k = 0; k < y.n; ++k) exact.add(to_double(y[k]) * to_double(dy[k]));
      have_exact = true;
    }
    dd::DE w = dd::mul(minus_dot(exact, dyc), yc);
    w.e *= weaken;
    if (dd::is_exact_zero(w)) {
      out[size_t(c)] = T(0.0f);
      continue;
    }
    if (!settle_as(w, out[size_t(c)], false)) return false;
  }
  return true;
}

template <class T>
bool log_softmax_backward(RowView<T> y, RowView<T> dy, std::vector<T> &out, double weaken = 1) {
  // A non-finite dy makes every output NaN: an infinite one by plugin.h's
  // rule, a NaN through the sum S. With dy finite, a NaN y_c gives NaN and
  // a -inf y_c gives dy_c exactly (exp(-inf) S = 0; an exact zero is +0);
  // a +inf y_c falls back.
  if (!finite_row(dy)) return nan_row(out, y.n);
  for (int64_t k = 0; k < y.n; ++k)
    if (to_double(y[k]) == INFINITY) return false;
  Sum2 sum;
  for (int64_t k = 0; k < dy.n; ++k) sum.add(to_double(dy[k]));
  const double S = sum.value(), A = sum.bound();
  const int minus_s = std::abs(S) > A ? (S > 0 ? -1 : 1) : 0; // the sign of -S, if known
  out.resize(size_t(y.n));
  for (int64_t c = 0; c < y.n; ++c) {
    if (!std::isfinite(to_double(y[c]))) { // NaN or -inf
      out[size_t(c)] = std::isnan(to_double(y[c])) ? std::numeric_limits<T>::quiet_NaN()
                       : is_zero(dy[c])            ? T(0.0f)
                                                   : dy[c];
      continue;
    }
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

// -------------------------------------------------------------- nll_loss
//
// nll_loss: l_r = -sum_k a_{r,k} x_{r,k} (formulas.hpp: a = eps/K w_k, plus
// (1 - eps) w_t at the target; omitted terms as there), then the reduction.
// Each term is computed in double with its own absolute error, and the sums
// carry them (BoundedSum: Sum2's pair bound plus the terms' errors, summed
// upward). With eps = 0 the only term is w_t x_t, a product of two inputs:
// exact, so every row's loss is exact and rounds correctly once. Otherwise:
//   q = fl(fl(eps / K) w_k): within 2u (1 + u) |q^| of eps/K w_k, and the
//   term fl(q x) within (2u (1 + u) (1 + u) + u) |term| + 2 eta of q x; the
//   same for h = fl(fl(1 - eps) w_t), 1 - eps exact when TwoSum says so.
// mean: v = fl(S / W), W = sum of the rows' w_t (BoundedSum, exact for
// most rows), |v - S/W| <= (E_S + |v| E_W) / (|W^| - E_W) + u |v| + eta.
// Rows with a NaN or an infinity among the inputs a term reads fall back.

// A sum of computed terms, each within its own error of the exact term.
struct BoundedSum {
  Sum2 sum;
  double err = 0; // the terms' errors, summed in double
  void add(double t, double e) {
    sum.add(t);
    err += e;
  }
  double value() const { return sum.pi + sum.sigma; }
  // value() itself rounds pi + sigma: u |value| more, unless exact.
  double bound() const {
    const double rounding = sum.sigma == 0 ? 0 : u * std::abs(value()) + eta;
    const double terms = err * (1 + 2 * double(sum.n + 1) * u); // err rounded up
    return (sum.pair_bound() + terms + rounding) * (1 + 8 * u);
  }
};

// The coefficients a_k of row r in double, formulas.hpp's terms omitted as
// there: the smoothing part q = fl(fl(eps / K) w_k), within rq |q|, and the
// target's h = fl(fl(1 - eps) w_t), within rh |h| (0 when eps = 0: h = w_t).
template <class T> struct RowCoefficients {
  const LossSpec<T> &spec;
  int64_t t;
  double eps, k_inv, one_minus;
  bool one_minus_exact;
  static constexpr double rq = 2 * u * (1 + u);
  RowCoefficients(const LossSpec<T> &s, int64_t r)
      : spec(s), t(s.target[r]), eps(s.eps()), k_inv(eps / double(s.shape.classes)),
        one_minus(1 - eps), one_minus_exact(sum_error(1.0, -eps, one_minus) == 0) {}
  double rh() const { return eps == 0 ? 0 : (one_minus_exact ? 1 : 2) * u * (1 + u); }
  // The parts of a_k; false when a_k is omitted.
  bool at(int64_t k, bool &smooth, bool &hit, double &q, double &h) const {
    const double w = to_double(spec.weight(k));
    smooth = eps != 0 && w != 0;
    hit = k == t && eps != 1 && w != 0;
    q = k_inv * w;
    h = one_minus * w;
    return smooth || hit;
  }
};

// The terms of row r's loss -sum a_k x_k, added to `s`; false where the
// row has a non-finite input a term reads.
template <class T, class X>
bool nll_row(const LossSpec<T> &spec, int64_t r, X x_of, BoundedSum &s) {
  const RowCoefficients<T> co(spec, r);
  const double rh = co.rh();
  for (int64_t k = 0; k < spec.shape.classes; ++k) {
    bool smooth, hit;
    double q, h;
    if (!co.at(k, smooth, hit, q, h)) continue;
    const double x = x_of(k);
    if (!std::isfinite(x)) return false;
    if (smooth) {
      const double term = -(q * x);
      s.add(term, (co.rq * (1 + u) + u) * std::abs(term) * (1 + 2 * u) + 3 * eta);
    }
    if (hit) {
      const double term = -(h * x);
      s.add(term, rh == 0 ? 0 // w x: exact
                          : (rh + u) * std::abs(term) * (1 + 2 * u) + 3 * eta);
    }
  }
  return true;
}

// The mean's denominator sum_r w_{t_r} over the rows not ignored, with its
// bound.
template <class T>
void nll_denominator(const LossSpec<T> &spec, int64_t rows, double &W, double &eW) {
  BoundedSum den;
  for (int64_t r = 0; r < rows; ++r)
    if (!spec.ignored(r)) den.add(to_double(spec.weight(spec.target[r])), 0);
  W = den.value();
  eW = den.bound();
}

// nll_loss forward of every row: all outputs, or false (nothing written).
template <class T>
bool nll_loss(const LossSpec<T> &spec, const T *input, int64_t rows, T *out, double weaken = 1) {
  const Shape sh = spec.shape;
  auto row_sum = [&](int64_t r, BoundedSum &s) {
    return nll_row(
        spec, r, [&](int64_t k) { return to_double(input[offset(sh, r, k)]); }, s);
  };
  if (spec.opt.reduction == Reduction::none) {
    static thread_local std::vector<T> vals;
    vals.resize(size_t(rows));
    for (int64_t r = 0; r < rows; ++r) {
      if (spec.ignored(r)) {
        vals[size_t(r)] = T(0.0f);
        continue;
      }
      BoundedSum s;
      if (!row_sum(r, s) || !settle_abs(s.value(), s.bound() * weaken, vals[size_t(r)]))
        return false;
    }
    for (int64_t r = 0; r < rows; ++r) out[r] = vals[size_t(r)];
    return true;
  }
  BoundedSum total;
  for (int64_t r = 0; r < rows; ++r) {
    if (spec.ignored(r)) continue;
    BoundedSum s;
    if (!row_sum(r, s)) return false;
    total.add(s.value(), s.bound());
  }
  double v = total.value(), b = total.bound();
  if (spec.opt.reduction == Reduction::mean) {
    double W = 0, eW = 0;
    nll_denominator(spec, rows, W, eW);
    if (!(std::abs(W) > 2 * eW) || W == 0) return false; // 0 / 0 and its neighbours: intervals
    const double S = v;
    v = S / W;
    // Never exact: even from exact S and W, fl(S / W) is a double rounding.
    b = ((b + std::abs(v) * eW) / (std::abs(W) - eW) * (1 + 4 * u) + u * std::abs(v) + eta) *
        (1 + 8 * u);
  }
  return settle_abs(v, b * weaken, out[0]);
}

// nll_loss_backward: dlogp_{r,k} = -g a_{r,k} (+0 where a is omitted or the
// row ignored), g = dout_r, dout_0 or dout_0 / W (mean). With eps = 0 and
// no mean, g w_t is a product of two inputs: exact. Otherwise a_k and g
// carry their errors as in nll_loss, and the product adds u |v| + eta.
// `W` and `eW` are the mean's denominator and its bound (unused otherwise).
template <class T>
bool nll_loss_backward_row(const LossSpec<T> &spec, int64_t r, const T *dout, double W, double eW,
                           T *dx, double weaken = 1) {
  const Shape sh = spec.shape;
  const int64_t K = sh.classes;
  static thread_local std::vector<T> vals;
  vals.assign(size_t(K), T(0.0f));
  if (!spec.ignored(r)) {
    const double d = to_double(dout[spec.opt.reduction == Reduction::none ? r : 0]);
    if (!std::isfinite(d)) return false;
    const bool mean = spec.opt.reduction == Reduction::mean;
    if (mean && (!(std::abs(W) > 2 * eW) || W == 0)) return false;
    const RowCoefficients<T> co(spec, r);
    for (int64_t k = 0; k < K; ++k) {
      bool smooth, hit;
      double q, h;
      if (!co.at(k, smooth, hit, q, h)) continue;
      // a = (smooth ? q : 0) + (hit ? h : 0), relative error ra. Both parts
      // have w's sign: a sum's relative error is the larger part's, plus its
      // own rounding.
      double a = 0, ra = 0;
      if (smooth) a = q, ra = co.rq;
      if (hit) {
        ra = smooth ? std::max(ra, co.rh()) + u * (1 + 4 * u) : co.rh();
        a = smooth ? a + h : h;
      }
      double v = -(d * a), b = 0;
      if (mean) {
        // v = fl(fl(d a^) / W^) against d a / W: relative errors a's, the
        // product's, the division's and W's (eW / (|W^| - eW)), compounded.
        v = v / W;
        const double rel = (ra * (1 + 4 * u) + 2 * u) * (1 + 4 * u) + eW / (std::abs(W) - eW);
        b = std::abs(v) * rel * (1 + 4 * u) + 3 * eta;
      } else if (ra != 0) {
        b = (ra * (1 + 4 * u) + u) * std::abs(v) * (1 + 2 * u) + 2 * eta;
      }
      if (!settle_abs(v, b * (1 + 8 * u) * weaken, vals[size_t(k)])) return false;
    }
  }
  for (int64_t k = 0; k < K; ++k) dx[offset(sh, r, k)] = vals[size_t(k)];
  return true;
}

// --------------------------------------------------------------- float64
//
// softmax, log_softmax and logsumexp of float64 rows in double-double with
// running error bounds (dd.hpp: its exp and log1p, with their own error
// analysis; no libm accuracy is assumed). d_c = x_c - max is exact in two
// doubles; e_c = exp(d_c); rest = sum of the non-max e_c; L = log1p(rest).
// softmax_c = e_c / (1 + rest), log_softmax_c = d_c - L, logsumexp = max +
// L, each with its bound, then settled: every value within the bound
// rounds to one double.

// Whether every value within e of hi + lo rounds to one double: then out.
// hi + t for doubles rounds the exact sum once, so the two ends, each
// pushed one ulp outward, decide; a result >= 0 may be given as such.
// `below`: the exact value is known to be strictly below hi + lo (which
// may be a midpoint of doubles): the top end is then open, and the reals in
// [hi + next_down(lo), hi + lo) round as hi + next_down(lo) (no other
// midpoint lies between).
inline bool settle_dd(const dd::DE &v, double &out, bool nonnegative = false, bool below = false) {
  if (!std::isfinite(v.hi) || !std::isfinite(v.e)) return false;
  if (v.e == 0 && !below) {
    out = v.hi + v.lo;
    if (out == 0) out = 0.0; // an exact zero: +0, as the interval path gives
    return true;
  }
  const double t1 = std::nextafter(v.lo - v.e, -INFINITY);
  const double t2 = below ? std::nextafter(v.lo, -INFINITY) : std::nextafter(v.lo + v.e, INFINITY);
  double a = v.hi + t1, b = v.hi + t2;
  if (nonnegative) { // the exact value is >= 0: a negative end is below it
    if (a < 0 || (a == 0 && std::signbit(a))) a = 0.0;
    if (b == 0) b = 0.0;
  }
  if (a != b || std::signbit(a) != std::signbit(b)) return false;
  out = a;
  return true;
}

// settle_dd for any output format: for one narrower than double the two
// ends are pushed one more double ulp outward before rounding to T (a
// double between them may be a midpoint of T), and an exact zero is +0.
template <class O> bool settle_as(const dd::DE &v, O &out, bool nonnegative) {
  if constexpr (std::is_same_v<O, double>) {
    return settle_dd(v, out, nonnegative);
  } else {
    if (!std::isfinite(v.hi) || !std::isfinite(v.e)) return false;
    if (dd::is_exact_zero(v) || (v.e == 0 && v.hi == 0 && v.lo == 0)) {
      out = O(0.0f);
      return true;
    }
    const double a = std::nextafter(v.hi + std::nextafter(v.lo - v.e, -INFINITY), -INFINITY);
    const double b = std::nextafter(v.hi + std::nextafter(v.lo + v.e, INFINITY), INFINITY);
    O x = O(a), y = O(b);
    if (nonnegative) {
      if (a <= 0) x = O(0.0f);
      if (b == 0) y = O(0.0f);
    }
    if (!same_value(x, y)) return false;
    out = x;
    return true;
  }
}

// Settles v 2^k, for results far below double's normal range whose
// scaled value v keeps its precision (dd::exp_scaled).
//
// float64: a result in the normal range has the grid of its scaled value,
// scaled by a power of two, so settle_dd decides it. (Just below the
// scaled image P of 2^-1022 the scaled grid halves while the real one
// stays 2^-1074; a value rounded up to P lies within a quarter of the
// scaled ulp of P, i.e. within 2^-1076 of 2^-1022, which rounds to 2^-1022
// too.) Below 2^-1022 the result is n 2^-1074 for the integer n nearest to
// q = v 2^(1074 + k): with q = qh + ql (exact scalings but for underflow,
// which costs < 2^-1074 here), n = the integer nearest to qh (or the next
// one, when qh is a half-integer and ql says so), f = (qh - n) + ql (qh - n
// exact: |qh| <= 2^52; the addition errs by <= 2^-54 |f|), every value within
// the bound rounds to n when |f| + e 2^(1074 + k) + 2^-50 < 1/2. A zero
// takes the sign of the exact value, when |lo| + e < |hi| / 2 decides it.
//
// Narrower formats: the two ends, pushed one double ulp outward (strict
// bounds of the exact value), are scaled; below 2^-1022 a value rounds to
// the zero of its sign in each of them (their least subnormal lies far
// above), elsewhere ldexp is exact and T rounds once. Rounding is
// monotone, so equal ends settle the exact value between them.
template <class O> O scaled_round(double a, int k) {
  const double v = std::ldexp(a, k);
  if (std::abs(v) < 0x1p-1022) return O(std::signbit(a) ? -0.0f : 0.0f);
  return O(v);
}
template <class O> bool settle_scaled(const dd::DE &v, int k, O &out, bool nonnegative = false) {
  if (!std::isfinite(v.hi) || !std::isfinite(v.e)) return false;
  if constexpr (std::is_same_v<O, double>) {
    double r = 0;
    if (std::abs(std::ldexp(v.hi, k)) >= 0x1p-1022) {
      if (!settle_dd(v, r, nonnegative)) return false;
      if (std::abs(std::ldexp(r, k)) >= 0x1p-1022) {
        out = std::ldexp(r, k); // exact
        return true;
      }
    }
    const int s = 1074 + k;
    const double qh = std::ldexp(v.hi, s), ql = std::ldexp(v.lo, s), qe = std::ldexp(v.e, s);
    if (!(std::abs(qh) <= 0x1p52)) return false;
    double n = std::nearbyint(qh), f = (qh - n) + ql;
    if (std::abs(f) > 0.5) { // qh was a half-integer, rounded the other way
      const double step = f > 0 ? 1 : -1;
      n += step;
      f = (qh - n) + ql;
    }
    if (!(std::abs(f) + qe + 0x1p-50 < 0.5)) return false;
    if (n != 0) {
      out = std::ldexp(n, -1074); // exact
      return true;
    }
    // The sign, from v itself (q may have underflowed): |lo| + e < |hi| / 2.
    const bool sure = std::abs(v.lo) + v.e < std::abs(v.hi) / 2;
    if ((sure && v.hi > 0) || nonnegative || dd::is_exact_zero(v)) {
      out = 0.0;
      return true;
    }
    if (sure && v.hi < 0) {
      out = -0.0;
      return true;
    }
    return false;
  } else {
    const double a = std::nextafter(v.hi + std::nextafter(v.lo - v.e, -INFINITY), -INFINITY);
    const double b = std::nextafter(v.hi + std::nextafter(v.lo + v.e, INFINITY), INFINITY);
    O x = scaled_round<O>(a, k), y = scaled_round<O>(b, k);
    if (nonnegative) { // the exact value is >= 0: a negative end is below it
      if (a <= 0) x = O(0.0f);
      if (b == 0) y = O(0.0f);
    }
    if (!same_value(x, y)) return false;
    out = x;
    return true;
  }
}

// Results below this are recomputed scaled (their low parts, and then
// their high parts, would lose bits to underflow).
constexpr double tiny = 0x1p-900;

struct RowState64 {
  std::vector<dd::DE> e, d;
  dd::DE rest, L;
  double d_rest = -INFINITY; // the largest d_c but the max's
  bool others_masked = true;
  double max = 0;
  int64_t argmax = 0;
};

inline bool prepare(RowView<double> x, RowState64 &st) {
  if (classify_row(x, st.max, st.argmax) != RowKind::finite) return false;
  const size_t n = size_t(x.n);
  st.e.resize(n);
  st.d.resize(n);
  st.rest = dd::DE{};
  st.d_rest = -INFINITY;
  st.others_masked = true;
  for (int64_t k = 0; k < x.n; ++k) {
    const dd::DE d = std::isinf(x[k]) ? dd::DE{-INFINITY, 0, 0} : dd::exact_sum(x[k], -st.max);
    st.d[size_t(k)] = d;
    const dd::DE e = std::isinf(d.hi) ? dd::DE{} : dd::exp(d);
    if (!std::isfinite(e.hi) || !std::isfinite(e.e)) return false;
    st.e[size_t(k)] = e;
    if (k == st.argmax) continue;
    if (!std::isinf(d.hi)) st.others_masked = false;
    st.d_rest = std::max(st.d_rest, d.hi);
    st.rest = dd::add(st.rest, e);
  }
  return dd::log1p(st.rest, st.L) && std::isfinite(st.L.hi);
}

inline bool softmax(const RowState64 &st, int64_t k, double &out, double weaken = 1) {
  const dd::DE &e = st.e[size_t(k)];
  if ((e.hi == 0 && e.lo == 0 && e.e == 0) || st.d[size_t(k)].hi < -746) {
    out = 0.0; // a -inf entry: exactly 0; else e^d_c / (1 + rest) < e^-746 < 2^-1076: +0
    return true;
  }
  dd::DE v;
  if (e.hi < tiny) { // exp(d_c) = m 2^j, the quotient m / (1 + rest) scaled
    int j = 0;
    if (!dd::exp_scaled(st.d[size_t(k)], v, j) || !dd::div(v, dd::add(dd::exact(1), st.rest), v))
      return false;
    v.e *= weaken;
    return settle_scaled(v, j, out, true);
  }
  if (!dd::div(e, dd::add(dd::exact(1), st.rest), v)) return false;
  v.e *= weaken;
  return settle_dd(v, out, true);
}

inline bool log_softmax(const RowState64 &st, int64_t k, double &out, double weaken = 1) {
  const dd::DE &d = st.d[size_t(k)];
  if (std::isinf(d.hi)) { // a -inf entry: -inf exactly
    out = -INFINITY;
    return true;
  }
  if (d.hi == 0 && st.others_masked) {
    out = 0.0; // exactly 0
    return true;
  }
  const double n = double(st.d.size());
  if (d.hi == 0 && st.rest.hi == 0 && st.d_rest + std::log(n) < -745.2) {
    // Every other exp underflowed: -log1p(rest) with 0 < rest < n e^d_rest
    // < 2^-1075 rounds to -0.
    out = -0.0;
    return true;
  }
  dd::DE v = dd::sub(d, st.L);
  v.e *= weaken;
  // L vanished beside d_c: the exact d_c - L (L > 0) is below d_c, which
  // may be a midpoint of doubles.
  const bool below = v.hi == d.hi && v.lo == d.lo && !st.others_masked;
  return settle_dd(v, out, false, below);
}

inline bool logsumexp(const RowState64 &st, double &out, double weaken = 1) {
  if (st.others_masked) { // lse = max exactly, the sign of a zero included
    if (st.max == 0) return false;
    out = st.max;
    return true;
  }
  dd::DE v = dd::add(dd::exact(st.max), st.L);
  v.e *= weaken;
  if (v.hi == 0) return false;
  return settle_dd(v, out);
}

// ---------------------------------------------------- float64 losses
//
// nll_loss and cross_entropy (class-index targets) of float64 rows, and
// cross_entropy_backward, in double-double with running error bounds. The
// coefficients a_k (formulas.hpp) in DE: eps / K w_k and (1 - eps) w_t
// (1 - eps exact in two doubles). nll_loss's terms are -a_k x_k; cross
// entropy's a_k (L - d_k), with L and d_k from the forward state. The
// gradient g (s p_k - a_k), s = sum a_k, would cancel at the argmax of a
// confident row; there it is s (p_k - 1) + (s - a_k), with p_k - 1 =
// -rest / (1 + rest) and s - a_k the other coefficients' sum, both without
// cancellation. Rows with a NaN or an infinity read by a term, and
// probability targets, fall back.

// a_k of row r in DE, false when omitted.
template <class T> bool coefficient64(const LossSpec<T> &spec, int64_t r, int64_t k, dd::DE &a) {
  const double eps = spec.eps(), w = to_double(spec.weight(k));
  if (spec.prob != nullptr) { // w ((1 - eps) p + eps / K)
    const double p = to_double(spec.prob[offset(spec.shape, r, k)]);
    if (w == 0 || (p == 0 && eps == 0)) return false;
    a = dd::add(dd::mul(dd::exact_sum(1, -eps), p),
                dd::div(dd::exact(eps), double(spec.shape.classes)));
    a = dd::mul(a, w);
    return true;
  }
  const bool smooth = eps != 0 && w != 0;
  const bool hit = k == spec.target[r] && eps != 1 && w != 0;
  if (!smooth && !hit) return false;
  a = dd::DE{};
  if (smooth) a = dd::mul(dd::div(dd::exact(eps), double(spec.shape.classes)), w);
  if (hit) a = dd::add(a, dd::mul(dd::exact_sum(1, -eps), w));
  return true;
}

// Row r's loss: -sum a_k x_k (nll) or sum a_k (L - d_k) (cross entropy).
template <class T>
bool loss_row64(const LossSpec<T> &spec, int64_t r, const double *input, bool logits,
                RowState64 &st, dd::DE &loss) {
  const Shape sh = spec.shape;
  loss = dd::DE{};
  if (logits &&
      !prepare(RowView<double>{input + (r / sh.inner * sh.classes) * sh.inner + r % sh.inner,
                               sh.classes, sh.inner},
               st))
    return false;
  for (int64_t k = 0; k < sh.classes; ++k) {
    dd::DE a;
    if (!coefficient64(spec, r, k, a)) continue;
    dd::DE nlp; // -log-probability
    if (logits) {
      if (std::isinf(st.d[size_t(k)].hi)) return false;
      nlp = dd::sub(st.L, st.d[size_t(k)]);
    } else {
      const double x = input[offset(sh, r, k)];
      if (!std::isfinite(x)) return false;
      nlp = dd::exact(-x);
    }
    loss = dd::add(loss, dd::mul(a, nlp));
  }
  return std::isfinite(loss.hi) && std::isfinite(loss.e);
}

// The mean's denominator: the weights at the targets of the rows kept.
template <class T> dd::DE denominator64(const LossSpec<T> &spec, int64_t rows) {
  if (spec.prob != nullptr) return dd::exact(double(rows)); // one per row
  dd::DE W;
  for (int64_t r = 0; r < rows; ++r)
    if (!spec.ignored(r)) W = dd::add(W, dd::exact(to_double(spec.weight(spec.target[r]))));
  return W;
}

// Probability targets: all finite (an infinite one makes the row undefined,
// the interval path's case).
template <class T> bool finite_targets(const LossSpec<T> &spec, int64_t rows) {
  if (spec.prob == nullptr) return true;
  for (int64_t i = 0; i < rows * spec.shape.classes; ++i)
    if (!std::isfinite(to_double(spec.prob[i]))) return false;
  return true;
}

// Row r's loss (reduction none) in double-double, rounded to T (the input
// converted to double: every format's values are doubles); a row it cannot
// settle is the interval path's alone.
template <class T>
bool loss_row_settled(const LossSpec<T> &spec, int64_t r, const double *input, bool logits, T &out,
                      double weaken = 1) {
  if (spec.ignored(r)) {
    out = T(0.0f);
    return true;
  }
  if (spec.prob != nullptr)
    for (int64_t k = 0; k < spec.shape.classes; ++k)
      if (!std::isfinite(to_double(spec.prob[offset(spec.shape, r, k)]))) return false;
  static thread_local RowState64 st;
  dd::DE l;
  if (!loss_row64(spec, r, input, logits, st, l)) return false;
  l.e *= weaken;
  return settle_as(l, out);
}

// The reduced loss (sum or mean) in double-double, rounded to T.
template <class T>
bool loss64(const LossSpec<T> &spec, const double *input, bool logits, int64_t rows, T *out,
            double weaken = 1) {
  if (spec.opt.reduction == Reduction::none || !finite_targets(spec, rows)) return false;
  static thread_local RowState64 st;
  dd::DE total;
  for (int64_t r = 0; r < rows; ++r) {
    if (spec.ignored(r)) continue;
    dd::DE l;
    if (!loss_row64(spec, r, input, logits, st, l)) return false;
    total = dd::add(total, l);
  }
  if (spec.opt.reduction == Reduction::mean) {
    const dd::DE W = denominator64(spec, rows);
    dd::DE q;
    if (W.hi == 0 || !dd::div(total, W, q)) return false;
    total = q;
  }
  total.e *= weaken;
  return settle_as(total, out[0]);
}

// cross_entropy_backward of row r; W: the mean's denominator.
template <class T>
bool ce_grad_row64(const LossSpec<T> &spec, int64_t r, const double *logits, const double *dout,
                   const dd::DE &W, T *dx, double weaken = 1) {
  const Shape sh = spec.shape;
  const int64_t K = sh.classes;
  static thread_local std::vector<T> vals;
  static thread_local std::vector<dd::DE> a;
  static thread_local std::vector<char> has;
  static thread_local RowState64 st;
  vals.assign(size_t(K), T(0.0f));
  if (!spec.ignored(r)) {
    const double d = dout[spec.opt.reduction == Reduction::none ? r : 0];
    if (!std::isfinite(d)) return false;
    dd::DE g = dd::exact(d);
    if (spec.opt.reduction == Reduction::mean && (W.hi == 0 || !dd::div(g, W, g))) return false;
    a.assign(size_t(K), dd::DE{});
    has.assign(size_t(K), 0);
    dd::DE sum_a;
    bool any = false;
    for (int64_t k = 0; k < K; ++k)
      if (coefficient64(spec, r, k, a[size_t(k)])) {
        has[size_t(k)] = 1;
        sum_a = dd::add(sum_a, a[size_t(k)]);
        any = true;
      }
    if (any) {
      const RowView<double> x{logits + (r / sh.inner * K) * sh.inner + r % sh.inner, K, sh.inner};
      if (!prepare(x, st)) return false;
      const dd::DE one_plus = dd::add(dd::exact(1), st.rest);
      for (int64_t k = 0; k < K; ++k) {
        dd::DE v;
        if (k == st.argmax) {
          dd::DE pm1; // p_k - 1 = -rest / (1 + rest)
          if (!dd::div(dd::neg(st.rest), one_plus, pm1)) return false;
          dd::DE others; // s - a_k
          for (int64_t j = 0; j < K; ++j)
            if (j != k && has[size_t(j)]) others = dd::add(others, a[size_t(j)]);
          v = dd::add(dd::mul(sum_a, pm1), has[size_t(k)] ? others : sum_a);
        } else if (!has[size_t(k)] && st.e[size_t(k)].hi < tiny &&
                   !std::isinf(st.d[size_t(k)].hi)) {
          // g s p_k with p_k far below double's range: scaled, exp(d_k) =
          // m 2^j.
          int j = 0;
          if (!dd::exp_scaled(st.d[size_t(k)], v, j) || !dd::div(v, one_plus, v)) return false;
          v = dd::mul(g, dd::mul(sum_a, v));
          v.e *= weaken;
          if (!settle_scaled(v, j, vals[size_t(k)])) return false;
          continue;
        } else {
          dd::DE p;
          if (std::isinf(st.d[size_t(k)].hi)) {
            p = dd::DE{};
          } else if (!dd::div(st.e[size_t(k)], one_plus, p)) {
            return false;
          }
          v = dd::mul(sum_a, p);
          if (has[size_t(k)]) v = dd::sub(v, a[size_t(k)]);
        }
        v = dd::mul(g, v);
        v.e *= weaken;
        if (dd::is_exact_zero(v)) continue; // exactly 0: +0
        if (!settle_as(v, vals[size_t(k)])) return false;
      }
    }
  }
  for (int64_t k = 0; k < K; ++k) dx[offset(sh, r, k)] = vals[size_t(k)];
  return true;
}

// nll_loss_backward of row r in float64: -g a_k.
template <class T>
bool nll_grad_row64(const LossSpec<T> &spec, int64_t r, const double *dout, const dd::DE &W,
                    double *dx, double weaken = 1) {
  const Shape sh = spec.shape;
  const int64_t K = sh.classes;
  static thread_local std::vector<double> vals;
  vals.assign(size_t(K), 0.0);
  if (!spec.ignored(r)) {
    const double d = dout[spec.opt.reduction == Reduction::none ? r : 0];
    if (!std::isfinite(d)) return false;
    dd::DE g = dd::exact(d);
    if (spec.opt.reduction == Reduction::mean && (W.hi == 0 || !dd::div(g, W, g))) return false;
    for (int64_t k = 0; k < K; ++k) {
      dd::DE a;
      if (!coefficient64(spec, r, k, a)) continue;
      dd::DE v = dd::neg(dd::mul(g, a));
      v.e *= weaken;
      if (dd::is_exact_zero(v)) continue;
      if (!settle_dd(v, vals[size_t(k)])) return false;
    }
  }
  for (int64_t k = 0; k < K; ++k) dx[offset(sh, r, k)] = vals[size_t(k)];
  return true;
}

// softmax_backward and log_softmax_backward of a float64 row in
// double-double: D = sum y_k dy_k (each product exact in two doubles),
// dx_c = y_c (dy_c - D); S = sum dy_k, dx_c = dy_c - exp(y_c) S (dd.hpp's
// exp; a y_c past 709 falls back). An exact zero is +0.
inline bool softmax_backward(RowView<double> y, RowView<double> dy, std::vector<double> &out,
                             double weaken = 1) {
  // A NaN in y or dy: D is NaN, and so is every output; other non-finite
  // rows fall back.
  if (has_nan(y) || has_nan(dy)) return nan_row(out, y.n);
  if (!finite_row(y) || !finite_row(dy)) return false;
  dd::DE D;
  for (int64_t k = 0; k < y.n; ++k) {
    dd::DE p;
    dd::two_prod(y[k], dy[k], p.hi, p.lo);
    if (std::abs(p.hi) < 0x1p-960 && p.hi != 0) p.e = 0x1p-1070; // the low part may underflow
    if (p.hi == 0 && y[k] != 0 && dy[k] != 0) p.e = 0x1p-1070;
    D = dd::add(D, p);
  }
  out.resize(size_t(y.n));
  static thread_local ExactSum exact;
  bool have_exact = false;
  for (int64_t c = 0; c < y.n; ++c) {
    // A y_c far below double's range is scaled by 2^600 (exactly).
    const bool scaled = std::abs(y[c]) < tiny;
    dd::DE v = dd::mul(dd::sub(dd::exact(dy[c]), D), scaled ? std::ldexp(y[c], 600) : y[c]);
    v.e *= weaken;
    if (dd::is_exact_zero(v) || y[c] == 0) {
      out[size_t(c)] = 0.0;
      continue;
    }
    if (scaled ? settle_scaled(v, -600, out[size_t(c)]) : settle_dd(v, out[size_t(c)])) continue;
    // dy_c - D cancelled past double-double: D exact.
    if (!have_exact) {
      exact = ExactSum{};
      for (int64_t k = 0; k < y.n; ++k) add_products(exact, y[k], dy[k]);
      have_exact = true;
    }
    v = dd::mul(minus_dot(exact, dy[c]), scaled ? std::ldexp(y[c], 600) : y[c]);
    v.e *= weaken;
    if (dd::is_exact_zero(v)) {
      out[size_t(c)] = 0.0;
      continue;
    }
    if (!(scaled ? settle_scaled(v, -600, out[size_t(c)]) : settle_dd(v, out[size_t(c)])))
      return false;
  }
  return true;
}

inline bool log_softmax_backward(RowView<double> y, RowView<double> dy, std::vector<double> &out,
                                 double weaken = 1) {
  // A non-finite dy makes every output NaN: an infinite one by plugin.h's
  // rule, a NaN through the sum S. With dy finite, a NaN y_c gives NaN and
  // a -inf y_c gives dy_c exactly (exp(-inf) S = 0; an exact zero is +0);
  // a +inf y_c falls back.
  if (!finite_row(dy)) return nan_row(out, y.n);
  for (int64_t k = 0; k < y.n; ++k)
    if (to_double(y[k]) == INFINITY) return false;
  dd::DE S;
  for (int64_t k = 0; k < dy.n; ++k) S = dd::add(S, dd::exact(dy[k]));
  out.resize(size_t(y.n));
  for (int64_t c = 0; c < y.n; ++c) {
    if (!std::isfinite(y[c])) { // NaN or -inf
      out[size_t(c)] = std::isnan(y[c]) ? std::numeric_limits<double>::quiet_NaN()
                       : dy[c] == 0     ? 0.0
                                        : dy[c];
      continue;
    }
    if (y[c] > 709) return false;
    dd::DE m;
    int j = 0;
    if (y[c] < -620 && std::abs(dy[c]) < tiny && dd::exp_scaled(dd::exact(y[c]), m, j) &&
        (dy[c] == 0 || j > -1100)) {
      // Both terms far below double's range: exp(y_c) = m 2^j, and the
      // difference scaled by 2^-j (dy_c 2^-j is exact, below 2^200).
      dd::DE v = dd::sub(dd::exact(std::ldexp(dy[c], -j)), dd::mul(m, S));
      v.e *= weaken;
      if (!settle_scaled(v, j, out[size_t(c)])) return false;
      continue;
    }
    const dd::DE e = dd::exp(dd::exact(y[c]));
    if (!std::isfinite(e.hi)) return false;
    dd::DE v = dd::sub(dd::exact(dy[c]), dd::mul(e, S));
    v.e *= weaken;
    if (dd::is_exact_zero(v)) {
      out[size_t(c)] = 0.0;
      continue;
    }
    if (!settle_dd(v, out[size_t(c)])) return false;
  }
  return true;
}

} // namespace softcheck::oracle::fast
