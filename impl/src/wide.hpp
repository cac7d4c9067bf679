// Wider arithmetic for the careful scalar kernels: the accumulation type of
// each dtype, an exactly split x - max, and compensated summation.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>

// glibc's binary128 functions; declared here because not every compiler's
// <math.h> declares them in C++.
extern "C" __float128 softcheck_expq(__float128) __asm__("expf128");
extern "C" __float128 softcheck_log1pq(__float128) __asm__("log1pf128");

namespace softcheck::detail {

// W: where a dtype's kernels compute. V: the fallback for cancelling rows.
template <class T> struct Wide;
template <> struct Wide<float> {
  using W = double;
  using V = long double;
};
template <> struct Wide<double> {
  using W = long double;
  using V = __float128;
};

inline double wexp(double x) { return std::exp(x); }
inline long double wexp(long double x) { return std::exp(x); }
inline __float128 wexp(__float128 x) { return softcheck_expq(x); }
inline double wlog1p(double x) { return std::log1p(x); }
inline long double wlog1p(long double x) { return std::log1p(x); }
inline __float128 wlog1p(__float128 x) { return softcheck_log1pq(x); }

template <class A> A wabs(A x) { return x < 0 ? -x : x; }
template <class A> bool wfinite(A x) { return x - x == x - x; } // false for inf, NaN

// x - m as an unevaluated sum hi + lo in A (lo is 0 when the wider format
// holds the difference to well below the target's precision). x <= m, m
// finite, x finite or -inf; hi = -inf when x is -inf.
template <class A> struct Diff { A hi, lo; };
inline Diff<double> diff_in(double, float x, float m) {
  return {double(x) - double(m), 0.0}; // relative error <= 2^-53
}
// TwoSum of a + b in A: hi + lo = a + b exactly, while nothing overflows.
template <class A> Diff<A> two_sum(A a, A b) {
  A s = a + b, bb = s - a;
  return {s, (a - (s - bb)) + (b - bb)};
}
template <class A> Diff<A> diff_in(A, double x, double m) {
  if (std::isinf(x)) return {A(x), A(0)};
  // x - m of two finite doubles is at most 2 DBL_MAX: past DBL_MAX in double
  // but not in A's wider exponent range; and TwoSum's s - x overflows double
  // when |x| and |m| are near DBL_MAX (x = 0.6 DBL_MAX, m = DBL_MAX). Such
  // rows are split in A, exactly: A's range holds every step.
  if (std::fabs(x) >= 0x1p1021 || std::fabs(m) >= 0x1p1021) {
    return two_sum(A(x), -A(m));
  }
  Diff<double> d = two_sum(x, -m); // exact: no step overflows below 2^1021
  return {A(d.hi), A(d.lo)};
}
inline Diff<long double> diff_in(long double, float x, float m) {
  return {static_cast<long double>(x) - static_cast<long double>(m), 0.0L};
}

// exp(hi + lo) = exp(hi) * exp(lo); |lo| <= 2^-53 |hi|, and exp(hi) > 0
// only for |hi| < 2^14, so |lo| <= 2^-39 there and exp(lo) = 1 + lo to
// within 2^-79. An underflowed exp(hi) is +0 (never 0 * (1 + lo) < 0).
template <class A> A exp_of(Diff<A> d) {
  if (d.hi == -std::numeric_limits<double>::infinity()) return A(0);
  A e = wexp(d.hi);
  if (e == 0) return A(0);
  return d.lo == 0 ? e : e * (A(1) + d.lo);
}
// In binary128 (the fallback for cancelling float64 rows) hi + lo is exact
// (two non-overlapping doubles span at most 107 bits of 113), so exp sees
// the exact difference: exp(hi) (1 + lo) errs by lo^2 / 2, up to 2^-85
// relative, which a sum cancelling by 2^55 or more turns into hundreds of
// ulps of the result.
inline __float128 exp_of(Diff<__float128> d) {
  if (d.hi == -__float128(std::numeric_limits<double>::infinity())) return 0;
  return wexp(d.hi + d.lo);
}

// Neumaier's compensated sum. An infinite partial sum is kept as is.
template <class A> struct CompensatedSum {
  A s = 0, c = 0;
  void add(A x) {
    A t = s + x;
    if (wfinite(t)) c += wabs(s) >= wabs(x) ? (s - t) + x : (x - t) + s;
    s = t;
  }
  A value() const { return wfinite(s) ? s + c : s; }
};

} // namespace softcheck::detail
