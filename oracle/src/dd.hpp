// Double-double numbers with a running error bound, for the oracle's
// float64 fast phase (fast.hpp). A DE is hi + lo (|lo| <= ulp(hi) / 2) and
// e: the exact value it stands for lies within e of hi + lo. Every
// operation adds its own rounding error to e, from the bounds Joldes,
// Muller and Popescu prove for these algorithms ("Tight and rigorous error
// bounds for basic building blocks of double-word arithmetic", ACM TOMS
// 44(2), 2017), each taken with room:
//   DW + DW (their Algorithm 6)   3u^2 + 13u^3   here 4u^2 |result|
//   DW x DW (Algorithm 12, FMA)   4u^2           here 5u^2
//   DW x FP (Algorithm 9, FMA)    2u^2           here 3u^2
//   DW / FP (Algorithm 15)        3u^2           here 4u^2
//   DW / DW (Algorithm 17)        15u^2 + 56u^3  here 16u^2
// with u = 2^-53, plus the errors carried in, propagated to first order
// and one more term of room. Those bounds assume no underflow: every
// product and quotient whose result is below 2^-960 in magnitude also adds
// 2^-1070 (the most the low parts can lose there). Sums need nothing: a
// sum of doubles that lands in the subnormal range is exact, so the
// model fl(a + b) = (a + b)(1 + d), |d| <= u, the bound rests on, holds
// there too (Higham 2002, section 2.1). Every error sum is computed in
// double and then widened by (1 + 8u), which covers its own roundings.
// Overflow is not handled: callers check that the results are finite.
#pragma once

#include <cmath>

namespace softcheck::oracle::dd {

constexpr double u = 0x1p-53, u2 = 0x1p-106;

struct DE {
  double hi = 0, lo = 0, e = 0;
  double value() const { return hi + lo; }                  // rounded once
  double mag() const { return std::abs(hi) * (1 + 2 * u); } // >= |hi + lo|
};

inline double guard(double v) { return std::abs(v) < 0x1p-960 ? 0x1p-1070 : 0; }
inline double up(double err) { return err * (1 + 8 * u); }

inline void two_sum(double a, double b, double &s, double &t) {
  s = a + b;
  const double z = s - a;
  t = (a - (s - z)) + (b - z);
}
inline void fast_two_sum(double a, double b, double &s, double &t) { // |a| >= |b|
  s = a + b;
  t = b - (s - a);
}
inline void two_prod(double a, double b, double &p, double &t) {
  p = a * b;
  t = std::fma(a, b, -p);
}

inline DE exact(double v) { return {v, 0, 0}; }
inline bool is_exact_zero(const DE &x) { return x.hi == 0 && x.lo == 0 && x.e == 0; }
inline DE exact_sum(double a, double b) { // a + b as it is
  DE r;
  two_sum(a, b, r.hi, r.lo);
  return r;
}

inline DE add(const DE &x, const DE &y) {
  if (is_exact_zero(x)) return y;
  if (is_exact_zero(y)) return x;
  double sh, sl, th, tl, vh, vl;
  two_sum(x.hi, y.hi, sh, sl);
  two_sum(x.lo, y.lo, th, tl);
  const double c = sl + th;
  fast_two_sum(sh, c, vh, vl);
  const double w = tl + vl;
  DE z;
  fast_two_sum(vh, w, z.hi, z.lo);
  z.e = up(x.e + y.e + 4 * u2 * z.mag()); // sums: exact when they underflow
  return z;
}
inline DE neg(DE x) {
  x.hi = -x.hi;
  x.lo = -x.lo;
  return x;
}
inline DE sub(const DE &x, const DE &y) { return add(x, neg(y)); }

inline DE mul(const DE &x, const DE &y) {
  if (is_exact_zero(x) || is_exact_zero(y)) return DE{}; // 0 times a finite value
  double ch, cl1;
  two_prod(x.hi, y.hi, ch, cl1);
  const double tl0 = x.lo * y.lo;
  const double tl1 = std::fma(x.hi, y.lo, tl0);
  const double cl2 = std::fma(x.lo, y.hi, tl1);
  const double cl3 = cl1 + cl2;
  DE z;
  fast_two_sum(ch, cl3, z.hi, z.lo);
  z.e = up(x.mag() * y.e + y.mag() * x.e + x.e * y.e + 5 * u2 * z.mag() + guard(z.hi));
  return z;
}

inline DE mul(const DE &x, double y) { // y exact
  if (is_exact_zero(x) || y == 0) return DE{};
  double ch, cl1;
  two_prod(x.hi, y, ch, cl1);
  const double cl3 = std::fma(x.lo, y, cl1);
  DE z;
  fast_two_sum(ch, cl3, z.hi, z.lo);
  z.e = up(std::abs(y) * x.e + 3 * u2 * z.mag() + guard(z.hi));
  return z;
}

inline DE div(const DE &x, double y) { // y exact, nonzero
  if (is_exact_zero(x)) return DE{};
  const double th = x.hi / y;
  double ph, pl;
  two_prod(th, y, ph, pl);
  const double dh = x.hi - ph;
  const double dt = dh - pl;
  const double d = dt + x.lo;
  const double tl = d / y;
  DE z;
  fast_two_sum(th, tl, z.hi, z.lo);
  z.e = up(x.e / std::abs(y) + 4 * u2 * z.mag() + guard(z.hi));
  return z;
}

// x / y for y > e_y; false otherwise.
inline bool div(const DE &x, const DE &y, DE &z) {
  const double ay = std::abs(y.hi) * (1 - 2 * u);
  if (!(ay > 2 * y.e)) return false;
  if (is_exact_zero(x)) {
    z = DE{};
    return true;
  }
  const double th = x.hi / y.hi;
  DE r = mul(DE{y.hi, y.lo, 0}, th);
  const double ph = x.hi - r.hi;
  const double dl = x.lo - r.lo;
  const double d = ph + dl;
  const double tl = d / y.hi;
  fast_two_sum(th, tl, z.hi, z.lo);
  // |x/y - X/Y| <= (e_x + |x/y| e_y) / (|y| - e_y), then the algorithm's own.
  z.e = up((x.e + z.mag() * y.e) / (ay - y.e) * (1 + 4 * u) + 16 * u2 * z.mag() + guard(z.hi));
  return true;
}

// exp(x) = p 2^k for x <= 710, p in [0.7, 1.5) with its error, k as
// exp_scaled gives it: the value keeps its 106 bits however small it is
// (2^k may lie far below double's range).
//   x = k ln2 + r, |r| <= ln2/2 (+ the rounding of k): ln2 in three
//   doubles (the third bounds the tail: |ln2 - hi - lo| < 2^-110), k hi
//   exact in two doubles (TwoProd, far from underflow for |k| >= 1), and
//   k lo rounded once (|k lo| u);
//   exp(r) = exp(r / 256)^256: the Taylor polynomial of degree 10 at
//   s = r / 256 (|s| < 0.0014: the remainder is below 2^-125 |P|), then
//   eight squarings (each doubles the relative error, which the running
//   bound follows).
// An error e_x carried in becomes a relative e_x (1 + e_x) e^{e_x} more.
// Returns false for x below -700000 (k stays an int, its products exact).
inline bool exp_scaled(const DE &x, DE &p, int &k) {
  constexpr double ln2_hi = 0x1.62e42fefa39efp-1, ln2_lo = 0x1.abc9e3b39803fp-56;
  if (!(x.hi >= -700000) || !(x.e < 1)) return false;
  const double kd = std::nearbyint(x.hi * 0x1.71547652b82fep0);
  double ph, pl;
  two_prod(kd, ln2_hi, ph, pl); // exact
  DE r = add(x, DE{-ph, -pl, 0});
  r = add(r, DE{-(kd * ln2_lo), 0, std::abs(kd) * (0x1p-110 + u * 0x1p-55)}); // kd ln2_lo rounded
  const double carried = r.e;
  r.e = 0; // followed below as a relative error
  const DE s = mul(r, 0x1p-8);
  p = exact(1);
  for (int n = 10; n >= 1; --n) p = add(exact(1), mul(div(s, double(n)), p));
  p.e = up(p.e + 0x1p-125 * p.mag());
  for (int i = 0; i < 8; ++i) p = mul(p, p);
  // The error of r, relative in exp(r): (e^{c} - 1) <= c (1 + c) for c < 1.
  const double rel = carried * (1 + carried) * (1 + 4 * u);
  p.e = up(p.e + p.mag() * rel);
  k = int(kd);
  return true;
}

// exp(x) for x <= 710, with its error. Below -746 the value is taken as 0
// within 2^-1074 (the exact one is below e^-746 < 2^-1076; 2^-1074 is the
// least bound a double holds); else exp_scaled's p times 2^k, exact but for
// underflow (guard).
inline DE exp(const DE &x) {
  if (x.hi < -746) return {0, 0, x.e + 0x1p-1074};
  DE p;
  int k = 0;
  exp_scaled(x, p, k);
  DE z{std::ldexp(p.hi, k), std::ldexp(p.lo, k), std::ldexp(p.e, k)};
  z.e = up(z.e + guard(z.hi) + (z.lo != 0 && std::abs(z.lo) < 0x1p-1000 ? 0x1p-1074 : 0));
  return z;
}

// log1p(x) for x >= 0 (x.hi >= 0), with its error; the error carried in
// adds at most e_x (the derivative 1 / (1 + x) <= 1).
//   x < 2^-12: the series x - x^2/2 + ... + x^11/11 (Horner), alternating:
//   the remainder is below x^12 / 12 < 2^-135 x.
//   else: y0 = log(1 + x) in double (any accuracy), then one Newton step
//   y1 = y0 + t, t = (1 + x) e^{-y0} - 1: y1 - log(1 + x) = t - log1p(t),
//   at most t^2 / (2 (1 - |t|)) for |t| < 1/2, which the computed t bounds.
inline bool log1p(const DE &x, DE &z) {
  if (x.hi == 0 && x.lo == 0) {
    z = {0, 0, x.e};
    return true;
  }
  if (x.hi < 0x1p-12) {
    DE p = div(exact(1), 11.0);
    for (int n = 10; n >= 1; --n) p = sub(div(exact(1), double(n)), mul(x, p));
    z = mul(x, p);
    z.e = up(z.e + x.e + 0x1p-135 * x.mag());
    return true;
  }
  const DE s = add(exact(1), DE{x.hi, x.lo, 0});
  const double y0 = std::log(s.hi);
  if (!std::isfinite(y0)) return false;
  const DE t = sub(mul(s, exp(exact(-y0))), exact(1));
  const double at = std::abs(t.hi) + t.e;
  if (!(at < 0.5)) return false;
  z = add(exact(y0), t);
  z.e = up(z.e + at * at / (2 * (1 - at)) + x.e);
  return true;
}

} // namespace softcheck::oracle::dd
