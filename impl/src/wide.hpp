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
// finite, x finite or -inf; hi = -inf when the difference overflows.
template <class A> struct Diff { A hi, lo; };
inline Diff<double> diff_in(double, float x, float m) {
  return {double(x) - double(m), 0.0}; // relative error <= 2^-53
}
template <class A> Diff<A> diff_in(A, double x, double m) {
  double s = x - m;
  // Past DBL_MAX in double, but not in A's wider exponent range (x - max of
  // two finite doubles is at most 2 DBL_MAX).
  if (!std::isfinite(s)) return {std::isinf(x) ? A(s) : A(x) - A(m), A(0)};
  double bb = s - x; // TwoSum: x + (-m) = s + e exactly
  double e = (x - (s - bb)) + (-m - bb);
  return {A(s), A(e)};
}
inline Diff<long double> diff_in(long double, float x, float m) {
  return {static_cast<long double>(x) - static_cast<long double>(m), 0.0L};
}

// exp(hi + lo) = exp(hi) * exp(lo); |lo| <= 2^-53 |hi| <= 2^-42, so
// exp(lo) = 1 + lo to within 2^-85.
template <class A> A exp_of(Diff<A> d) {
  if (d.hi == -std::numeric_limits<double>::infinity()) return A(0);
  A e = wexp(d.hi);
  return d.lo == 0 ? e : e * (A(1) + d.lo);
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
