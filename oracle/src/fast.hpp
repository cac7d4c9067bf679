// The oracle's fast phase for float32 softmax, log_softmax and logsumexp:
// the row in double with a rigorous relative error bound E per output. The
// double value v is accepted when v(1 - E) and v(1 + E) round to the same
// float; otherwise (a float rounding boundary lies within the bound) the
// element is left to the MPFR interval path. Same answers, 30-100x faster.
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

// Rounds v to float if every value within relative error e of it rounds to
// the same float (subnormal range included); false otherwise. A result
// known to be >= 0 (softmax) that came out 0 is +0: its exp underflowed.
inline bool settle(double v, double e, float &out, bool nonnegative = false) {
  if (v == 0 && nonnegative) {
    out = 0.0f;
    return true;
  }
  double lo = v - std::abs(v) * e, hi = v + std::abs(v) * e;
  // v * e itself is rounded: widen by one double ulp each way.
  lo = std::nextafter(lo, -INFINITY);
  hi = std::nextafter(hi, INFINITY);
  float a = float(lo), b = float(hi);
  if (a != b) return false;
  if (a == 0 && std::signbit(a) != std::signbit(b)) return false;
  out = float(v);
  return out == a;
}

struct RowState {
  std::vector<double> e, d; // exp(d_c), d_c
  std::vector<bool> exact;  // d_c exact
  double rest = 0, log_s = 0, worst_d = 0;
  bool others_masked = true; // every non-max entry is -inf: rest is exactly 0
  float max = 0;
  int64_t argmax = 0;
};

// A finite row of floats in double. Returns false for rows the fast phase
// does not handle (special values: the interval path settles them at once).
inline bool prepare(RowView<float> x, RowState &st) {
  if (classify_row(x, st.max, st.argmax) != RowKind::finite) return false;
  const size_t n = size_t(x.n);
  st.e.resize(n);
  st.d.resize(n);
  st.exact.resize(n);
  const double m = st.max;
  double s = 0, c = 0;
  st.worst_d = 0;
  st.others_masked = true;
  for (int64_t k = 0; k < x.n; ++k) {
    const double xk = x[k];
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

inline bool softmax(const RowState &st, int64_t k, float &out) {
  const size_t i = size_t(k);
  const double v = st.e[i] / (1.0 + st.rest);
  const double e = 2 * (10 + st.worst_d + (st.exact[i] ? 0 : std::abs(st.d[i]))) * u;
  return settle(v, e, out, true);
}

inline bool log_softmax(const RowState &st, int64_t k, float &out) {
  const double v = st.d[size_t(k)] - st.log_s;
  if (v == 0) { // exact (C = 1, or the rest all -inf), or -L underflowed
    out = 0.0f;
    return st.others_masked;
  }
  return settle(v, 2 * (12 + st.worst_d) * u, out);
}

inline bool logsumexp(const RowState &st, float &out) {
  const double v = double(st.max) + st.log_s;
  if (st.rest == 0) {              // lse = max + (0 or an underflowed L): rounds to max,
    if (st.max == 0) return false; // but to +0 or -0 as the exact sum says
    out = st.max;
    return true;
  }
  if (v == 0) return false;
  return settle(v, 2 * ((9 + st.worst_d) * st.log_s / std::abs(v) + 2) * u, out);
}

} // namespace softcheck::oracle::fast
