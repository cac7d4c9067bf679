// The math of every op, once, over a number type N: the MPFR interval type
// (enclosures, for the correctly rounded answer) or Boost's cpp_bin_float
// (the independent second backend). Special values follow the semantics of
// <softcheck/plugin.h>; everything else is the exact formula of the exact
// float/double inputs, in the stable form that does not cancel:
//   x_c - max, log1p of the sum of the non-max terms, and gradients as
//   analytic derivatives (never finite differences).
#pragma once

#include <softcheck/types.hpp>

#include <cmath>
#include <cstdint>
#include <vector>

namespace softcheck::oracle {

enum class RowKind { finite, nan, pos_inf, all_neg_inf, empty };

template <class T> struct RowView {
  const T *p;
  int64_t n, stride;
  T operator[](int64_t c) const { return p[c * stride]; }
};

template <class T> RowView<T> row_at(const T *base, Shape s, int64_t r) {
  int64_t o = r / s.inner, i = r % s.inner;
  if (s.classes == 0) return {base, 0, s.inner}; // a NULL base may come with no classes
  return {base + o * s.classes * s.inner + i, s.classes, s.inner};
}

// Offset of element c of row r in an [outer, classes, inner] tensor.
inline int64_t offset(Shape s, int64_t r, int64_t c) {
  return (r / s.inner * s.classes + c) * s.inner + r % s.inner;
}

template <class T> RowKind classify_row(RowView<T> x, T &max, int64_t &argmax) {
  if (x.n == 0) return RowKind::empty;
  bool nan = false;
  max = -INFINITY;
  argmax = 0;
  bool first = true;
  for (int64_t c = 0; c < x.n; ++c) {
    if (std::isnan(x[c])) {
      nan = true;
    } else if (first || x[c] > max) {
      max = x[c];
      argmax = c;
      first = false;
    }
  }
  if (nan) return RowKind::nan;
  if (max == INFINITY) return RowKind::pos_inf;
  if (max == -INFINITY) return RowKind::all_neg_inf;
  return RowKind::finite;
}

// Everything about one row of logits that the forward ops share.
template <class N, class T> struct RowMath {
  RowKind kind;
  T max = 0;
  int64_t argmax = 0;
  N rest;  // sum_{c != argmax} exp(x_c - max)
  N log_s; // log1p(rest) = lse - max

  explicit RowMath(RowView<T> x) {
    kind = classify_row(x, max, argmax);
    if (kind != RowKind::finite) return;
    N m = N::of(max);
    for (int64_t c = 0; c < x.n; ++c)
      if (c != argmax) rest = rest + exp(N::of(x[c]) - m);
    log_s = log1p(rest);
  }

  N log_prob(T xc) const {
    switch (kind) {
    case RowKind::finite: return (N::of(xc) - N::of(max)) - log_s;
    case RowKind::all_neg_inf: return N::of(-INFINITY);
    default: return N::nan();
    }
  }
  N prob(T xc) const {
    switch (kind) {
    case RowKind::finite: return exp(N::of(xc) - N::of(max)) / (N::of(1) + rest);
    case RowKind::all_neg_inf: return N::of(0);
    default: return N::nan();
    }
  }
  N lse() const {
    switch (kind) {
    case RowKind::finite: return N::of(max) + log_s;
    case RowKind::nan: return N::nan();
    case RowKind::pos_inf: return N::of(INFINITY);
    default: return N::of(-INFINITY);
    }
  }
};

// ------------------------------------------------------------- losses
// l_r = sum_k a_{r,k} * (-logp_{r,k}); a term is omitted when its
// coefficient is zero by construction (see <softcheck/plugin.h>).

template <class T> struct LossSpec {
  Shape shape;
  LossOptions<T> opt;
  const int64_t *target = nullptr; // class-index targets, or
  const T *prob = nullptr;         // probability targets

  bool ignored(int64_t r) const { return prob == nullptr && target[r] == opt.ignore_index; }
  T weight(int64_t k) const { return opt.weight ? opt.weight[k] : T(1); }
  double eps() const { return opt.label_smoothing; }

  // a_{r,k}, or false when the term is omitted.
  template <class N> bool coefficient(int64_t r, int64_t k, N &a) const {
    const int64_t K = shape.classes;
    if (ignored(r)) return false;
    if (prob != nullptr) {
      T p = prob[offset(shape, r, k)];
      if (weight(k) == 0 || (p == 0 && eps() == 0)) return false;
      N pk = (N::of(1) - N::of(eps())) * N::of(p) + N::of(eps()) / N::of_int(K);
      a = N::of(weight(k)) * pk;
      return true;
    }
    bool smooth = eps() != 0 && weight(k) != 0;
    bool hit = k == target[r] && eps() != 1 && weight(k) != 0;
    if (!smooth && !hit) return false;
    a = N();
    if (smooth) a = N::of(eps()) / N::of_int(K) * N::of(weight(k));
    if (hit) a = a + (N::of(1) - N::of(eps())) * N::of(weight(k));
    return true;
  }

  // Row r's share of the mean's denominator.
  template <class N> N denominator_term(int64_t r) const {
    if (prob != nullptr) return N::of(1);
    if (ignored(r)) return N();
    return N::of(weight(target[r]));
  }
};

// Per-row loss from log-probabilities `logp(k)`.
template <class N, class T, class LogP>
N row_loss(const LossSpec<T> &spec, int64_t r, LogP &&logp) {
  N sum;
  N a;
  for (int64_t k = 0; k < spec.shape.classes; ++k)
    if (spec.template coefficient<N>(r, k, a)) sum = sum - a * logp(k);
  return sum;
}

template <class N, class T> N denominator(const LossSpec<T> &spec, int64_t rows) {
  N d;
  for (int64_t r = 0; r < rows; ++r) d = d + spec.template denominator_term<N>(r);
  return d;
}

// The upstream gradient g_r of row r.
template <class N, class T>
N upstream(const LossSpec<T> &spec, const T *dout, int64_t r, const N &den) {
  switch (spec.opt.reduction) {
  case Reduction::none: return N::of(dout[r]);
  case Reduction::sum: return N::of(dout[0]);
  default: return N::of(dout[0]) / den;
  }
}

// -------------------------------------------------------------- backward

// softmax_backward: dx_c = y_c (dy_c - sum_k dy_k y_k).
template <class N, class T> std::vector<N> softmax_backward_row(RowView<T> y, RowView<T> dy) {
  N dot;
  for (int64_t k = 0; k < y.n; ++k) dot = dot + N::of(dy[k]) * N::of(y[k]);
  std::vector<N> out;
  out.reserve(size_t(y.n));
  for (int64_t c = 0; c < y.n; ++c) out.push_back(N::of(y[c]) * (N::of(dy[c]) - dot));
  return out;
}

// log_softmax_backward: dx_c = dy_c - exp(y_c) sum_k dy_k.
// Whether a number of either backend is exactly 0.
template <class N> bool exactly_zero(const N &v) {
  if constexpr (requires { v.exactly_zero(); })
    return v.exactly_zero();
  else
    return v.value() == 0;
}

template <class N, class T> std::vector<N> log_softmax_backward_row(RowView<T> y, RowView<T> dy) {
  N sum;
  for (int64_t k = 0; k < y.n; ++k) sum = sum + N::of(dy[k]);
  std::vector<N> out;
  out.reserve(size_t(y.n));
  // A sum of exactly 0 makes every exp(y_c) * sum exactly 0 for a finite
  // (or -inf) y_c, even where exp(y_c) (y_c > 709, not a log-probability)
  // is beyond every exponent range, MPFR's included; a NaN or +inf y_c
  // stays NaN * 0 = inf * 0 = NaN (plugin.h).
  const bool zero_sum = exactly_zero(sum);
  for (int64_t c = 0; c < y.n; ++c) {
    if (!zero_sum)
      out.push_back(N::of(dy[c]) - exp(N::of(y[c])) * sum);
    else if (std::isnan(y[c]) || y[c] == INFINITY)
      out.push_back(N::nan());
    else
      out.push_back(N::of(dy[c]));
  }
  return out;
}

// Loss gradient w.r.t. logits: g (s p_k - a_k), s = sum_k a_k; a row whose
// coefficients are all omitted has gradient 0.
template <class N, class T>
std::vector<N> logits_grad_row(const LossSpec<T> &spec, int64_t r, RowView<T> x, const N &g) {
  std::vector<N> a(size_t(x.n));
  std::vector<bool> has(size_t(x.n));
  N s;
  bool any = false;
  for (int64_t k = 0; k < x.n; ++k) {
    has[size_t(k)] = spec.template coefficient<N>(r, k, a[size_t(k)]);
    if (has[size_t(k)]) s = s + a[size_t(k)], any = true;
  }
  std::vector<N> out(size_t(x.n));
  if (!any) return out; // all zero
  RowMath<N, T> row(x);
  for (int64_t k = 0; k < x.n; ++k) {
    N v = s * row.prob(x[k]);
    if (has[size_t(k)]) v = v - a[size_t(k)];
    out[size_t(k)] = g * v;
  }
  return out;
}

// nll_loss_backward: dlogp_k = -g a_k (0 where omitted).
template <class N, class T>
std::vector<N> nll_grad_row(const LossSpec<T> &spec, int64_t r, const N &g) {
  std::vector<N> out(size_t(spec.shape.classes));
  N a;
  for (int64_t k = 0; k < spec.shape.classes; ++k)
    if (spec.template coefficient<N>(r, k, a)) out[size_t(k)] = -(g * a);
  return out;
}

} // namespace softcheck::oracle
