// How much error each output of each op may have: from the kernel set's
// declared contract when it declares one, otherwise from a default derived
// by error analysis of the standard shifted algorithms (Blanchard, Higham &
// Higham, "Accurately computing the log-sum-exp and softmax functions",
// IMA J. Numer. Anal. 41(4), 2021), done elementwise. Notation: u = 2^-24
// (float) or 2^-53 (double), n = classes, d_c = x_c - max. A relative error
// e is at most e/u ulps; the reference is within 1/2 ulp of exact, which the
// "+1" terms below absorb along with the kernel's final rounding.
//
// Elementwise (ulps, measured by ulp_error against the correctly rounded value).
// D_w = sum_j e^{d_j} |d_j| / sum_j e^{d_j} over the non-max terms: each
// x_j - max rounded in the working precision has relative error u, so its
// exp has |d_j| u, and the sum s inherits their weighted mean (<= max |d_j|).
//   softmax      exp(d_c)/(1+s): d_c rounded (|d_c| u, amplified by exp),
//                exp (<= 2u), s ((n-1)u + D_w u), division (u):
//                |d_c| + D_w + n + 5; +2 for a subnormal result (absolute
//                error of the subnormal range).
//   log_softmax  d_c - log1p(s): |d_c| u + (n + 3 + D_w) u log1p(s), no
//                cancellation (both terms <= 0): D_w + n + 6.
//   logsumexp    max + L, L = log1p(s): (n + 3 + D_w) u L + u |y|, relative
//                to |y|: (n + 3 + D_w) L/|y| + 3 (grows where max and L cancel).
//   nll_loss     -(1-eps) w_t lp_t - (eps/K) sum_k w_k lp_k, terms of one
//                sign (inputs <= 0, weights >= 0): 3 without smoothing,
//                n + 5 with it; otherwise the scaled bound below.
//   cross_entropy (none)  log_softmax's D_w + n + 6, weights' products +2,
//                the smoothing sum n + 3 more.
// Scaled (|got - ref| <= k u M + 1 ulp, M as in plugin.h):
//   softmax_backward      dot product recursively: k = n + 3
//   log_softmax_backward  sum of dy, exp(y_c): k = n + 4
//   nll_loss_backward     a product or two: k = 4
//   cross-entropy backward  dx = g (s p_c - a_c), p_c's error dominates, by
//                either standard algorithm: softmax exp(d_c) / (1 + s) has
//                |d_c| + n + 5 (as above); exp(lp_c) of the log-probability
//                lp_c = d_c - log1p(s) (PyTorch's autograd: log_softmax, then
//                its backward) has the rounding of d_c (|d_c| u) and of the
//                subtraction (|lp_c| u <= (|d_c| + log n) u) in the exponent,
//                plus log1p's and the sum's n + 3 and exp's 1; then s p_c - a_c
//                and the products by g, 2 more: k = 2 |d_c| + log n + n + 7
//   per-row losses with signed terms: k = 2n + 12 (+ D_w)
//   mean / sum of R rows  row bound + D_w + R + 3 (sum), + R + 2 more (mean)
// Underflow (default scaled bounds): a product or an exp that lands below
// the normal range errs by up to eta = denorm_min / 2 absolutely, not by a
// factor (1 + u) (Higham 2002, section 2.1, fl(x op y) = (x op y)(1 + d) +
// e), and whatever multiplies it afterwards multiplies that error too; the
// bound adds A eta, A the sum of those multipliers:
//   softmax_backward      the n products dy_k y_k of the dot, times y_c: n |y_c|
//   log_softmax_backward  exp(y_c) times |sum dy|, and the product: |sum dy| + 1
//   nll_loss_backward     g = dout / den, times a_c: a_c
//   cross-entropy backward  softmax_c times |g| s, s p_c times |g|, g times
//                         (s p_c + a_c): |g| (s + 1) + s + a_c
//   losses                each product a_k logp_k: n per row, summed over
//                         the rows of a reduction (over |den| for the mean)
// A float kernel with gradual underflow keeps these; one that flushes to
// zero loses the whole subnormal value and does not.
#pragma once

#include <softcheck/case.hpp>
#include <softcheck/metrics.hpp>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

namespace softcheck::props {

template <class T> long double unit_roundoff() {
  return std::ldexp(1.0L, -std::numeric_limits<T>::digits);
}

// A row of logits in long double, with the special-value semantics.
struct LongRow {
  long double max = 0, log_s = 0; // lse = max + log_s, log_s = log1p(rest)
  bool nan = false, pos_inf = false, masked = false;
  long double logp(long double x) const {
    if (nan || pos_inf) return NAN;
    if (masked) return -INFINITY;
    return (x - max) - log_s;
  }
  long double p(long double x) const {
    if (nan || pos_inf) return NAN;
    if (masked) return 0;
    return std::exp((x - max) - log_s);
  }
};

template <class T> LongRow long_row(const Case<T> &c, int64_t r) {
  LongRow row;
  const int64_t K = c.shape.classes;
  auto at = [&](int64_t k) {
    return (long double)
        c.x[size_t((r / c.shape.inner * K + k) * c.shape.inner + r % c.shape.inner)];
  };
  row.max = -INFINITY;
  for (int64_t k = 0; k < K; ++k) {
    long double v = at(k);
    if (std::isnan(v))
      row.nan = true;
    else if (v > row.max)
      row.max = v;
  }
  if (row.max == INFINITY) row.pos_inf = true;
  if (row.max == -INFINITY) row.masked = true;
  if (row.nan || row.pos_inf || row.masked) return row;
  long double rest = 0;
  bool skipped = false;
  for (int64_t k = 0; k < K; ++k) {
    if (!skipped && at(k) == row.max) {
      skipped = true;
      continue;
    }
    rest += std::exp(at(k) - row.max);
  }
  row.log_s = std::log1p(rest);
  return row;
}

// Everything about a case the bounds need, computed once.
template <class T> class Tolerances {
public:
  Tolerances(const softcheck_kernel_set &set, const Case<T> &c);

  // The allowed error of output i, whose value (got or reference) is v:
  // returns the allowance as an absolute error, and says how it is judged.
  struct Allowance {
    bool ulp_distance = false; // contract ulp: judged by |ulp_distance| <= ulps
    double ulps = 0;           // for the ulp kinds
    long double absolute = 0;  // for the scaled kind
    bool scaled = false;
  };
  Allowance allowance(size_t i, T v) const;

  // |got - ref| within the allowance, or the reason why not ("" if fine).
  std::string judge(size_t i, T got, T ref) const;

  // An upper bound on |v - exact| for output i, as an absolute error
  // (ulp kinds converted with v's spacing).
  long double abs_error(size_t i, T v) const;

  bool elementwise() const { return !scaled_; }
  // M of output i (scaled kind): the magnitude of the terms it sums.
  long double scale(size_t i) const { return std::isnan(scale_[i]) ? 0.0L : scale_[i]; }
  std::string describe() const;

private:
  const Case<T> &c_;
  const softcheck_bound *declared_ = nullptr;
  bool scaled_ = false;
  std::vector<long double> scale_;     // M per output (scaled kinds)
  std::vector<long double> underflow_; // A per output: the bound adds A denorm_min / 2
  std::vector<double> default_;        // default bound per output (ulps or k)
};

// The half formats (bf16, f16): judged against the exact result (the
// float64 oracle on the same inputs, every half value being a double), in
// the format's ulp there, ulp(x) = 2^(max(floor(log2 |x|), emin) - m)
// (plugin.h's half contract). The default bound is that of a kernel that
// computes in float32 within float32's default bound above and rounds once
// to the format: |fl_h(r) - e| <= |r - e| + ulp(e) / 2 for a float result r
// (also where r and e straddle a power of two: rounding to the power of two
// between them only comes nearer to e), so
//   elementwise  |got - e| <= ulp(e) / 2 + B_f32(e)
//   scaled       |got - e| <= ulp(e) / 2 + B_f32(e)   (B_f32 the scaled one)
// with B_f32 the float32 default bound of the same case as an absolute
// error, plus 2^-53 |e| for the float64 reference. A kernel that sums in
// the half format errs by about n u_h M, far past it; one that truncates
// instead of rounding errs by up to a whole ulp. An infinite output stands
// for every value past the overflow threshold (the largest finite value
// plus half its ulp): its error is the exact result's distance to it, 0
// beyond it.
template <class F> class Tolerances<Half<F>> {
  using H = Half<F>;

public:
  Tolerances(const softcheck_kernel_set &set, const Case<H> &c);
  Tolerances(const Tolerances &) = delete;
  Tolerances &operator=(const Tolerances &) = delete;

  struct Allowance {
    bool ulp_distance = false; // never for the half formats (plugin.h)
    double ulps = 0;           // the allowance in ulps of the format at the exact result
    long double absolute = 0;
    bool scaled = false;
  };
  // At the exact result of output i (v is not used: the bound is there).
  Allowance allowance(size_t i, H v) const;
  std::string judge(size_t i, H got, H ref) const;
  long double abs_error(size_t i, H v) const { return allowance(i, v).absolute; }
  bool elementwise() const { return !scaled_; }
  long double scale(size_t i) const { return float_.scale(i); }
  std::string describe() const;

  // The exact result of output i (within 2^-53), and |got - exact| with
  // the overflow rule above.
  double exact(size_t i) const { return exact_[i]; }
  long double error(size_t i, H got) const;
  // The format's ulp at x.
  static long double ulp_at(double x);

private:
  const Case<H> &c_;
  Case<float> promoted_;
  Tolerances<float> float_; // the float32 default bound of the promoted case
  std::vector<double> exact_;
  const softcheck_bound *declared_ = nullptr;
  bool scaled_ = false;
};

// The loss coefficient a_{r,k} (0 where omitted), in long double.
template <class T> long double loss_coefficient(const Case<T> &c, int64_t r, int64_t k) {
  const long double eps = c.label_smoothing, K = (long double)c.shape.classes;
  auto w = [&](int64_t j) { return c.weight.empty() ? 1.0L : (long double)c.weight[size_t(j)]; };
  if (c.op == SOFTCHECK_OP_CROSS_ENTROPY_PROB || c.op == SOFTCHECK_OP_CROSS_ENTROPY_PROB_BACKWARD) {
    long double p = c.aux[size_t((r / c.shape.inner * c.shape.classes + k) * c.shape.inner +
                                 r % c.shape.inner)];
    if (w(k) == 0) return 0; // omitted (plugin.h), even for an infinite or NaN target
    return w(k) * ((1 - eps) * p + eps / K);
  }
  const int64_t t = c.target[size_t(r)];
  if (t == c.ignore_index) return 0;
  long double a = eps / K * w(k);
  if (k == t) a += (1 - eps) * w(k);
  return a;
}

// The mean's denominator: the counted targets' weights (rows for probability
// targets).
template <class T> long double mean_denominator(const Case<T> &c) {
  if (c.op == SOFTCHECK_OP_CROSS_ENTROPY_PROB || c.op == SOFTCHECK_OP_CROSS_ENTROPY_PROB_BACKWARD)
    return (long double)c.rows();
  long double d = 0;
  for (int64_t r = 0; r < c.rows(); ++r) {
    int64_t t = c.target[size_t(r)];
    if (t != c.ignore_index) d += c.weight.empty() ? 1.0L : (long double)c.weight[size_t(t)];
  }
  return d;
}

// Whether a loss's terms a_k * logp_k can have both signs, so that a row
// can cancel (and only the scaled bound holds): negative weights or
// probability targets, or, for nll_loss, an input above 0 (its input is
// meant to be log-probabilities, <= 0, but is used as written: with label
// smoothing 1 the row [-0, 5, -3, 0, -2] sums to exactly 0).
template <class T> bool has_signed_terms(const Case<T> &c) {
  for (T w : c.weight)
    if (w < 0) return true;
  if (c.op == SOFTCHECK_OP_CROSS_ENTROPY_PROB || c.op == SOFTCHECK_OP_CROSS_ENTROPY_PROB_BACKWARD)
    for (T p : c.aux)
      if (p < 0) return true;
  if (c.op == SOFTCHECK_OP_NLL_LOSS)
    for (T x : c.x)
      if (x > 0) return true;
  return false;
}

} // namespace softcheck::props
