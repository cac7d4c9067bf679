// The bug zoo: a plugin of mutant kernel sets, each the built-in kernels
// with one real bug class put back in (the bugs softmax, log_softmax and
// cross-entropy kernels have really shipped with). `softcheck zoo` checks
// that the property suite kills every one of them.
//
// Each set's description is "<bug class> [expected: <property>]": the
// property that is meant to catch it.
#include <softcheck/kernels.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

namespace {

using Shape = softcheck_shape;
using Status = softcheck_status;

template <class T> const softcheck_ops &good() {
  return softcheck::ops_of(softcheck::builtin_kernel_set(), softcheck::dtype_of<T>);
}
int64_t rows(Shape s) { return s.outer * s.inner; }
int64_t count(Shape s) { return rows(s) * s.classes; }
int64_t at(Shape s, int64_t r, int64_t c) {
  return (r / s.inner * s.classes + c) * s.inner + r % s.inner;
}
template <class T> const T *in(const void *p) { return static_cast<const T *>(p); }
template <class T> T *out(void *p) { return static_cast<T *>(p); }
template <class T> constexpr T inf = std::numeric_limits<T>::infinity();

// A valid shape (the built-in validation) before a mutant touches memory.
template <class T> Status valid(Shape s, const void *x, void *y) {
  return good<T>().softmax(s, x, y);
}

// ---------------------------------------------------------- softmax family

// Bug class: exp without the max shift. exp(x) overflows for x > 88 (float)
// and the row becomes inf / inf = NaN.
template <class T> Status exp_without_max_shift(Shape s, const void *x, void *y) {
  if (Status st = valid<T>(s, x, y)) return st;
  for (int64_t r = 0; r < rows(s); ++r) {
    T sum = 0;
    for (int64_t c = 0; c < s.classes; ++c) sum += std::exp(in<T>(x)[at(s, r, c)]);
    for (int64_t c = 0; c < s.classes; ++c)
      out<T>(y)[at(s, r, c)] = softcheck::ieee_divide(std::exp(in<T>(x)[at(s, r, c)]), sum);
  }
  return SOFTCHECK_OK;
}

// Bug class: x - max rounded in the working precision before exp (the
// 30-70 ulp tails of every peer).
template <class T> Status x_minus_max_rounded(Shape s, const void *x, void *y) {
  if (Status st = valid<T>(s, x, y)) return st;
  for (int64_t r = 0; r < rows(s); ++r) {
    T m = -inf<T>;
    for (int64_t c = 0; c < s.classes; ++c) m = std::max(m, in<T>(x)[at(s, r, c)]);
    if (!std::isfinite(m)) continue; // special rows stay as the built-in wrote them
    long double sum = 0;
    for (int64_t c = 0; c < s.classes; ++c)
      sum += std::exp((long double)T(in<T>(x)[at(s, r, c)] - m));
    for (int64_t c = 0; c < s.classes; ++c)
      out<T>(y)[at(s, r, c)] = T(std::exp((long double)T(in<T>(x)[at(s, r, c)] - m)) / sum);
  }
  return SOFTCHECK_OK;
}

// Bug class: serial summation in the working precision (error grows with n).
template <class T> Status serial_working_sum(Shape s, const void *x, void *y) {
  if (Status st = valid<T>(s, x, y)) return st;
  for (int64_t r = 0; r < rows(s); ++r) {
    T m = -inf<T>;
    for (int64_t c = 0; c < s.classes; ++c) m = std::max(m, in<T>(x)[at(s, r, c)]);
    if (!std::isfinite(m)) continue;
    T sum = 0;
    for (int64_t c = 0; c < s.classes; ++c)
      sum += T(std::exp((long double)in<T>(x)[at(s, r, c)] - m));
    for (int64_t c = 0; c < s.classes; ++c)
      out<T>(y)[at(s, r, c)] = T(std::exp((long double)in<T>(x)[at(s, r, c)] - m) / sum);
  }
  return SOFTCHECK_OK;
}

// Bug class: flushing subnormal outputs (FTZ, or an exp that clamps).
template <class T> Status flush_subnormals(Shape s, const void *x, void *y) {
  Status st = good<T>().softmax(s, x, y);
  for (int64_t i = 0; st == SOFTCHECK_OK && i < count(s); ++i)
    if (std::abs(out<T>(y)[i]) < std::numeric_limits<T>::min()) out<T>(y)[i] = 0;
  return st;
}

// Bug class: online softmax starting from running max = -inf: a row that
// starts with -inf computes exp(-inf - (-inf)) = NaN.
template <class T> Status online_from_neg_inf(Shape s, const void *x, void *y) {
  if (Status st = valid<T>(s, x, y)) return st;
  for (int64_t r = 0; r < rows(s); ++r) {
    long double m = -inf<long double>, d = 0;
    for (int64_t c = 0; c < s.classes; ++c) {
      long double v = in<T>(x)[at(s, r, c)], m2 = std::max(m, v);
      d = d * std::exp(m - m2) + std::exp(v - m2);
      m = m2;
    }
    for (int64_t c = 0; c < s.classes; ++c)
      out<T>(y)[at(s, r, c)] = T(std::exp((long double)in<T>(x)[at(s, r, c)] - m) / d);
  }
  return SOFTCHECK_OK;
}

template <class T> bool fully_masked(Shape s, const T *x, int64_t r) {
  for (int64_t c = 0; c < s.classes; ++c)
    if (x[at(s, r, c)] != -inf<T>) return false;
  return true;
}

// Bug class: a fully masked row gives NaN where the contract says 0.
template <class T> Status masked_row_nan(Shape s, const void *x, void *y) {
  Status st = good<T>().softmax(s, x, y);
  for (int64_t r = 0; st == SOFTCHECK_OK && r < rows(s); ++r)
    if (fully_masked(s, in<T>(x), r))
      for (int64_t c = 0; c < s.classes; ++c) out<T>(y)[at(s, r, c)] = NAN;
  return st;
}

// Bug class: a fully masked row gives the uniform 1/n.
template <class T> Status masked_row_uniform(Shape s, const void *x, void *y) {
  Status st = good<T>().softmax(s, x, y);
  for (int64_t r = 0; st == SOFTCHECK_OK && r < rows(s); ++r)
    if (fully_masked(s, in<T>(x), r))
      for (int64_t c = 0; c < s.classes; ++c) out<T>(y)[at(s, r, c)] = T(1) / T(s.classes);
  return st;
}

// Bug class: NaN confined to its position (the rest of the row computed as
// if the NaN were masked), as oneDNN 2.6 does.
template <class T> Status nan_confined(Shape s, const void *x, void *y) {
  if (Status st = valid<T>(s, x, y)) return st;
  std::vector<T> clean(in<T>(x), in<T>(x) + count(s));
  for (T &v : clean)
    if (std::isnan(v)) v = -inf<T>;
  Status st = good<T>().softmax(s, clean.data(), y);
  for (int64_t i = 0; i < count(s); ++i)
    if (std::isnan(in<T>(x)[i])) out<T>(y)[i] = NAN;
  return st;
}

// Bug class: off by one at C = 1 (a loop from class 1 leaves the only
// class at 0).
template <class T> Status single_class_zero(Shape s, const void *x, void *y) {
  Status st = good<T>().softmax(s, x, y);
  if (st == SOFTCHECK_OK && s.classes == 1)
    for (int64_t i = 0; i < count(s); ++i) out<T>(y)[i] = 0;
  return st;
}

// Bug class: the wrong axis when inner > 1 (reducing over inner).
template <class T> Status wrong_axis(Shape s, const void *x, void *y) {
  if (s.inner <= 1) return good<T>().softmax(s, x, y);
  if (Status st = valid<T>(s, x, y)) return st;
  return good<T>().softmax({s.outer * s.classes, s.inner, 1}, x, y);
}

// Bug class: rows left unwritten (the last row of a batch).
template <class T> Status last_row_unwritten(Shape s, const void *x, void *y) {
  if (rows(s) < 2) return good<T>().softmax(s, x, y);
  std::vector<T> all(size_t(count(s)));
  if (Status st = good<T>().softmax(s, x, all.data())) return st;
  for (int64_t r = 0; r + 1 < rows(s); ++r)
    for (int64_t c = 0; c < s.classes; ++c) out<T>(y)[at(s, r, c)] = all[size_t(at(s, r, c))];
  return SOFTCHECK_OK;
}

// Bug class: the input overwritten (an in-place kernel used out of place).
template <class T> Status writes_input(Shape s, const void *x, void *y) {
  Status st = good<T>().softmax(s, x, y);
  if (st == SOFTCHECK_OK && count(s) > 0) const_cast<T *>(in<T>(x))[0] = out<T>(y)[0];
  return st;
}

// Bug class: results that depend on the thread count (a reduction whose
// order changes with the number of threads).
int g_threads = 1;
Status set_threads(int n) {
  g_threads = n < 1 ? 1 : n;
  return SOFTCHECK_OK;
}
template <class T> Status thread_dependent(Shape s, const void *x, void *y) {
  Status st = good<T>().softmax(s, x, y);
  if (g_threads > 1)
    for (int64_t i = 0; st == SOFTCHECK_OK && i < count(s); ++i)
      out<T>(y)[i] = std::nextafter(out<T>(y)[i], T(0));
  return st;
}

// Bug class: results that depend on the buffer's alignment (a vector path
// for aligned data, a scalar one with other rounding for the rest).
template <class T> Status alignment_dependent(Shape s, const void *x, void *y) {
  Status st = good<T>().softmax(s, x, y);
  if (reinterpret_cast<uintptr_t>(x) % 32 != 0)
    for (int64_t i = 0; st == SOFTCHECK_OK && i < count(s); ++i)
      out<T>(y)[i] = std::nextafter(out<T>(y)[i], T(0));
  return st;
}

// The textbook row in the working precision: max and sum_c exp(x_c - max).
// False for rows without a finite max (left as the built-in wrote them).
template <class T> bool working_row(Shape s, const T *x, int64_t r, T &m, T &sum) {
  m = -inf<T>;
  for (int64_t c = 0; c < s.classes; ++c) m = std::max(m, x[at(s, r, c)]);
  if (!std::isfinite(m)) return false;
  sum = 0;
  for (int64_t c = 0; c < s.classes; ++c) sum += std::exp(x[at(s, r, c)] - m);
  return true;
}

// ------------------------------------------------------------- log_softmax

// Bug class: log(softmax(x)): -inf once the probability underflows.
template <class T> Status log_of_softmax(Shape s, const void *x, void *y) {
  Status st = good<T>().softmax(s, x, y);
  for (int64_t i = 0; st == SOFTCHECK_OK && i < count(s); ++i)
    out<T>(y)[i] = std::log(out<T>(y)[i]);
  return st;
}

// Bug class: (x - max) - log(sum) without log1p: the max element's
// log-probability (-1e-9) comes back as exactly 0.
template <class T> Status max_logprob_zero(Shape s, const void *x, void *y) {
  if (Status st = good<T>().log_softmax(s, x, y)) return st;
  for (int64_t r = 0; r < rows(s); ++r) {
    T m, sum;
    if (!working_row(s, in<T>(x), r, m, sum)) continue;
    for (int64_t c = 0; c < s.classes; ++c)
      out<T>(y)[at(s, r, c)] = (in<T>(x)[at(s, r, c)] - m) - std::log(sum);
  }
  return SOFTCHECK_OK;
}

// Bug class: a positive log-probability (oneDNN 2.6 returns +1.43e-6 for
// the max element).
template <class T> Status positive_log_probability(Shape s, const void *x, void *y) {
  Status st = good<T>().log_softmax(s, x, y);
  for (int64_t i = 0; st == SOFTCHECK_OK && i < count(s); ++i)
    if (out<T>(y)[i] > T(-1e-6) && out<T>(y)[i] <= 0) out<T>(y)[i] = T(1.43e-6);
  return st;
}

// Bug class: log_softmax of a one-class row computed as 0 - log(0) (off by
// one in the sum).
template <class T> Status single_class_log_softmax(Shape s, const void *x, void *y) {
  Status st = good<T>().log_softmax(s, x, y);
  if (st == SOFTCHECK_OK && s.classes == 1)
    for (int64_t i = 0; i < count(s); ++i) out<T>(y)[i] = inf<T>;
  return st;
}

// Bug class: logsumexp as max + log(sum) in the working precision
// (PyTorch's C = 2 case, 13 ulp).
template <class T> Status lse_working_precision(Shape s, const void *x, void *y) {
  if (Status st = good<T>().logsumexp(s, x, y)) return st;
  for (int64_t r = 0; r < rows(s); ++r) {
    T m, sum;
    if (!working_row(s, in<T>(x), r, m, sum)) continue;
    out<T>(y)[r] = m + std::log(sum);
  }
  return SOFTCHECK_OK;
}

// ------------------------------------------------------------------ losses

template <class T> T weight_of(const softcheck_loss_options *o, int64_t k) {
  return o->weight ? in<T>(o->weight)[k] : T(1);
}

// Per-row losses (reduction none) from the built-in kernel with options `o`.
template <class T>
Status per_row(Shape s, const void *x, const int64_t *t, softcheck_loss_options o,
               std::vector<T> &l) {
  o.reduction = SOFTCHECK_REDUCTION_NONE;
  l.assign(size_t(rows(s)), T(0));
  return good<T>().cross_entropy(s, x, t, &o, l.data());
}

// Reduce per-row losses with a given mean denominator.
template <class T>
void reduce_rows(const softcheck_loss_options *o, const std::vector<T> &l, long double den, T *y) {
  long double total = 0;
  for (T v : l) total += v;
  if (o->reduction == SOFTCHECK_REDUCTION_NONE)
    std::copy(l.begin(), l.end(), y);
  else if (o->reduction == SOFTCHECK_REDUCTION_SUM)
    y[0] = T(total);
  else
    y[0] = den == 0 ? T(NAN) : T(total / den);
}

// Bug class: a confident cross-entropy returned as 0 (lse - x_t in the
// working precision, no log1p).
template <class T>
Status confident_loss_zero(Shape s, const void *x, const int64_t *t,
                           const softcheck_loss_options *o, void *y) {
  if (Status st = good<T>().cross_entropy(s, x, t, o, y)) return st;
  if (o->weight || o->label_smoothing != 0 || o->reduction != SOFTCHECK_REDUCTION_NONE)
    return SOFTCHECK_OK;
  for (int64_t r = 0; r < rows(s); ++r) {
    if (t[r] == o->ignore_index) continue;
    T m, sum;
    if (!working_row(s, in<T>(x), r, m, sum)) continue;
    out<T>(y)[r] = (m + std::log(sum)) - in<T>(x)[at(s, r, t[r])];
  }
  return SOFTCHECK_OK;
}

// Bug class: Keras-style clipping inside the logits pipeline:
// -log(clip(softmax(x)_t, 1e-7, 1 - 1e-7)); losses are capped at 16.12 and
// confident ones floored at 1e-7.
template <class T>
Status keras_clipping(Shape s, const void *x, const int64_t *t, const softcheck_loss_options *o,
                      void *y) {
  std::vector<T> p(size_t(count(s)));
  if (Status st = good<T>().softmax(s, x, p.data())) return st;
  std::vector<T> l;
  if (Status st = per_row<T>(s, x, t, *o, l)) return st;
  if (o->weight || o->label_smoothing != 0) return good<T>().cross_entropy(s, x, t, o, y);
  long double den = 0;
  for (int64_t r = 0; r < rows(s); ++r) {
    if (t[r] == o->ignore_index) continue;
    T pt = std::min(std::max(p[size_t(at(s, r, t[r]))], T(1e-7)), T(1 - 1e-7));
    l[size_t(r)] = -std::log(pt);
    den += 1;
  }
  reduce_rows(o, l, den, out<T>(y));
  return SOFTCHECK_OK;
}

// Bug class: the double softmax (probabilities fed to a loss that applies
// log_softmax again: F.softmax before nn.CrossEntropyLoss).
template <class T>
Status double_softmax(Shape s, const void *x, const int64_t *t, const softcheck_loss_options *o,
                      void *y) {
  std::vector<T> p(size_t(count(s)));
  if (Status st = good<T>().softmax(s, x, p.data())) return st;
  return good<T>().cross_entropy(s, p.data(), t, o, y);
}

// Bug class: label smoothing as eps/(K-1) over the other classes.
template <class T>
Status smoothing_k_minus_one(Shape s, const void *x, const int64_t *t,
                             const softcheck_loss_options *o, void *y) {
  if (!o || o->label_smoothing == 0 || s.classes < 2) return good<T>().cross_entropy(s, x, t, o, y);
  std::vector<T> lp(size_t(count(s)));
  if (Status st = good<T>().log_softmax(s, x, lp.data())) return st;
  std::vector<T> l;
  if (Status st = per_row<T>(s, x, t, *o, l)) return st;
  const long double eps = o->label_smoothing;
  long double den = 0;
  for (int64_t r = 0; r < rows(s); ++r) {
    if (t[r] == o->ignore_index) continue;
    long double nll = -lp[size_t(at(s, r, t[r]))] * (long double)weight_of<T>(o, t[r]), other = 0;
    for (int64_t c = 0; c < s.classes; ++c)
      if (c != t[r]) other -= lp[size_t(at(s, r, c))] * (long double)weight_of<T>(o, c);
    l[size_t(r)] =
        T((1 - eps) * nll + softcheck::ieee_divide(eps, (long double)(s.classes - 1)) * other);
    den += weight_of<T>(o, t[r]);
  }
  reduce_rows(o, l, den, out<T>(y));
  return SOFTCHECK_OK;
}

// Bug class: the smoothing term of the mean counts ignored targets
// (PyTorch 1.13: smooth_loss.mean() over every element).
template <class T>
Status smoothing_counts_ignored(Shape s, const void *x, const int64_t *t,
                                const softcheck_loss_options *o, void *y) {
  if (!o || o->reduction != SOFTCHECK_REDUCTION_MEAN || o->label_smoothing == 0 || o->weight)
    return good<T>().cross_entropy(s, x, t, o, y);
  softcheck_loss_options nll = *o, smooth = *o;
  nll.label_smoothing = 0;
  smooth.label_smoothing = 1;
  T nll_mean;
  if (Status st = good<T>().cross_entropy(s, x, t, &nll, &nll_mean)) return st;
  std::vector<T> u;
  if (Status st = per_row<T>(s, x, t, smooth, u)) return st;
  long double total = 0;
  for (T v : u) total += v;
  const long double eps = o->label_smoothing;
  out<T>(y)[0] = T((1 - eps) * nll_mean + eps * total / rows(s));
  return SOFTCHECK_OK;
}

// Bug class: ignored targets counted in the mean's denominator.
template <class T>
Status ignored_in_denominator(Shape s, const void *x, const int64_t *t,
                              const softcheck_loss_options *o, void *y) {
  if (!o || o->reduction != SOFTCHECK_REDUCTION_MEAN || o->weight)
    return good<T>().cross_entropy(s, x, t, o, y);
  std::vector<T> l;
  if (Status st = per_row<T>(s, x, t, *o, l)) return st;
  reduce_rows(o, l, (long double)rows(s), out<T>(y));
  return SOFTCHECK_OK;
}

// Bug class: weights ignored in the mean (divided by the count of targets).
template <class T>
Status weights_ignored_in_mean(Shape s, const void *x, const int64_t *t,
                               const softcheck_loss_options *o, void *y) {
  if (!o || o->reduction != SOFTCHECK_REDUCTION_MEAN || !o->weight)
    return good<T>().cross_entropy(s, x, t, o, y);
  std::vector<T> l;
  if (Status st = per_row<T>(s, x, t, *o, l)) return st;
  long double den = 0;
  for (int64_t r = 0; r < rows(s); ++r) den += t[r] != o->ignore_index;
  reduce_rows(o, l, den, out<T>(y));
  return SOFTCHECK_OK;
}

// Bug class: ignore_index taken as PyTorch's default -100 whatever the
// options say: a row whose target equals another ignore_index counts (a
// class) or is refused as out of range (a negative).
template <class T>
Status default_ignore_index(Shape s, const void *x, const int64_t *t,
                            const softcheck_loss_options *o, void *y) {
  if (!o) return good<T>().cross_entropy(s, x, t, o, y);
  softcheck_loss_options fixed = *o;
  fixed.ignore_index = -100;
  return good<T>().cross_entropy(s, x, t, &fixed, y);
}

// Bug class: a wrong reduction (the sum returned for the mean).
template <class T>
Status sum_for_mean(Shape s, const void *x, const int64_t *t, const softcheck_loss_options *o,
                    void *y) {
  if (!o || o->reduction != SOFTCHECK_REDUCTION_MEAN) return good<T>().cross_entropy(s, x, t, o, y);
  softcheck_loss_options sum = *o;
  sum.reduction = SOFTCHECK_REDUCTION_SUM;
  return good<T>().cross_entropy(s, x, t, &sum, y);
}

// Bug class: nll_loss backward for the mean not divided by the denominator.
template <class T>
Status nll_backward_undivided(Shape s, const int64_t *t, const softcheck_loss_options *o,
                              const void *dout, void *dx) {
  if (!o || o->reduction != SOFTCHECK_REDUCTION_MEAN)
    return good<T>().nll_loss_backward(s, t, o, dout, dx);
  softcheck_loss_options sum = *o;
  sum.reduction = SOFTCHECK_REDUCTION_SUM;
  return good<T>().nll_loss_backward(s, t, &sum, dout, dx);
}

// ---------------------------------------------------------------- backward

// Bug class: backward with the wrong sign.
template <class T> Status backward_wrong_sign(Shape s, const void *y, const void *dy, void *dx) {
  Status st = good<T>().softmax_backward(s, y, dy, dx);
  for (int64_t i = 0; st == SOFTCHECK_OK && i < count(s); ++i) out<T>(dx)[i] = -out<T>(dx)[i];
  return st;
}

// Bug class: backward without the <dy, y> term: dx = y * dy.
template <class T> Status backward_without_dot(Shape s, const void *y, const void *dy, void *dx) {
  Status st = good<T>().softmax_backward(s, y, dy, dx);
  for (int64_t i = 0; st == SOFTCHECK_OK && i < count(s); ++i)
    out<T>(dx)[i] = in<T>(y)[i] * in<T>(dy)[i];
  return st;
}

// Bug class: a backward that overwrites its input gradient in place.
template <class T> Status backward_overwrites_dy(Shape s, const void *y, const void *dy, void *dx) {
  Status st = good<T>().softmax_backward(s, y, dy, dx);
  for (int64_t i = 0; st == SOFTCHECK_OK && i < count(s); ++i)
    const_cast<T *>(in<T>(dy))[i] = out<T>(dx)[i];
  return st;
}

// Bug class: log_softmax backward without the exp: dx = dy - y sum(dy).
template <class T>
Status log_backward_without_exp(Shape s, const void *y, const void *dy, void *dx) {
  if (Status st = good<T>().log_softmax_backward(s, y, dy, dx)) return st;
  for (int64_t r = 0; r < rows(s); ++r) {
    long double sum = 0;
    for (int64_t c = 0; c < s.classes; ++c) sum += in<T>(dy)[at(s, r, c)];
    for (int64_t c = 0; c < s.classes; ++c)
      out<T>(dx)[at(s, r, c)] = T(in<T>(dy)[at(s, r, c)] - in<T>(y)[at(s, r, c)] * sum);
  }
  return SOFTCHECK_OK;
}

// ------------------------------------------------------ the half formats

using softcheck::bf16;
using softcheck::f16;

// Rows with a NaN or an infinity keep the built-in kernel's answer (the
// bugs below are about finite rows).
template <class H> bool finite_row(Shape s, const void *x, int64_t r) {
  for (int64_t c = 0; c < s.classes; ++c)
    if (!std::isfinite(float(in<H>(x)[at(s, r, c)]))) return false;
  return true;
}

template <class H> std::vector<float> widened(const void *p, int64_t n) {
  std::vector<float> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) v[size_t(i)] = in<H>(p)[i];
  return v;
}

// Bug class: the sum of exp(x - max) kept in the half format (a
// half-precision accumulator): bf16 stops growing after 256 equal terms,
// f16 after 2048, and every addition rounds to 8 or 11 bits.
template <class H> Status half_accumulator(Shape s, const void *x, void *y) {
  if (Status st = valid<H>(s, x, y)) return st;
  for (int64_t r = 0; r < rows(s); ++r) {
    if (!finite_row<H>(s, x, r)) continue;
    float m = -inf<float>;
    for (int64_t c = 0; c < s.classes; ++c) m = std::max(m, float(in<H>(x)[at(s, r, c)]));
    H sum = 0.0f;
    for (int64_t c = 0; c < s.classes; ++c) sum += std::exp(float(in<H>(x)[at(s, r, c)]) - m);
    for (int64_t c = 0; c < s.classes; ++c)
      out<H>(y)[at(s, r, c)] =
          H(softcheck::ieee_divide(std::exp(float(in<H>(x)[at(s, r, c)]) - m), float(sum)));
  }
  return SOFTCHECK_OK;
}

// Bug class: exp(x) stored in the half format without the max shift: f16
// overflows for x > 11.09 (bf16 past 88.7), and the row is inf / inf = NaN.
template <class H> Status half_exp_without_max_shift(Shape s, const void *x, void *y) {
  if (Status st = valid<H>(s, x, y)) return st;
  for (int64_t r = 0; r < rows(s); ++r) {
    if (!finite_row<H>(s, x, r)) continue;
    float sum = 0;
    for (int64_t c = 0; c < s.classes; ++c) sum += float(H(std::exp(float(in<H>(x)[at(s, r, c)]))));
    for (int64_t c = 0; c < s.classes; ++c)
      out<H>(y)[at(s, r, c)] =
          H(softcheck::ieee_divide(float(H(std::exp(float(in<H>(x)[at(s, r, c)])))), sum));
  }
  return SOFTCHECK_OK;
}

// The float32 kernel's results, handed to `store` one by one.
template <class H, class Store> Status from_float(Shape s, const void *x, void *y, Store &&store) {
  if (Status st = valid<H>(s, x, y)) return st;
  const std::vector<float> xf = widened<H>(x, count(s));
  std::vector<float> yf(xf.size());
  if (Status st = good<float>().softmax(s, xf.data(), yf.data())) return st;
  for (size_t i = 0; i < yf.size(); ++i) store(i, yf[i]);
  return SOFTCHECK_OK;
}

// Bug class: the float32 result truncated to the format instead of rounded
// (bf16: the float's upper 16 bits; f16: rounding toward zero).
template <class H> Status truncated_to_half(Shape s, const void *x, void *y) {
  return from_float<H>(s, x, y, [&](size_t i, float v) {
    H h = v;
    if (std::isfinite(v) && std::abs(float(h)) > std::abs(v))
      h = softcheck::next_toward(h, H(0.0f)); // toward zero
    out<H>(y)[i] = h;
  });
}

// Bug class: float32 results stored as float32 into the half buffer (the
// store of the wrong width): the buffer holds the first n/2 floats' bits.
template <class H> Status float_stored_unrounded(Shape s, const void *x, void *y) {
  std::vector<float> kept;
  Status st = from_float<H>(s, x, y, [&](size_t, float v) { kept.push_back(v); });
  if (st != SOFTCHECK_OK) return st;
  std::memcpy(y, kept.data(), kept.size() * sizeof(uint16_t)); // n halves' bytes of n/2 floats
  return SOFTCHECK_OK;
}

// ---------------------------------------------------------------- the sets

struct Mutant {
  const char *name;
  const char *bug_class;
  const char *expected;
  void (*edit)(softcheck_kernel_set &);
};

#define BOTH(field, fn)                                                                            \
  [](softcheck_kernel_set &s) {                                                                    \
    s.f32.field = fn<float>;                                                                       \
    s.f64.field = fn<double>;                                                                      \
  }

#define HALVES(field, fn)                                                                          \
  [](softcheck_kernel_set &s) {                                                                    \
    s.bf16.field = fn<bf16>;                                                                       \
    s.f16.field = fn<f16>;                                                                         \
  }

const Mutant kMutants[] = {
    {"exp_without_max_shift", "exp without the max shift: exp(x) overflows, inf / inf = NaN",
     "oracle_agreement", BOTH(softmax, exp_without_max_shift)},
    {"x_minus_max_rounded", "x - max rounded in the working precision before exp (30-70 ulp tails)",
     "oracle_agreement", BOTH(softmax, x_minus_max_rounded)},
    {"serial_working_sum", "serial summation in the working precision", "oracle_agreement",
     BOTH(softmax, serial_working_sum)},
    {"flush_subnormals", "subnormal outputs flushed to zero", "oracle_agreement",
     BOTH(softmax, flush_subnormals)},
    {"online_from_neg_inf", "online softmax starting from max = -inf: exp(-inf - -inf) = NaN",
     "oracle_agreement", BOTH(softmax, online_from_neg_inf)},
    {"masked_row_nan", "a fully masked (all -inf) row gives NaN, not 0",
     "documented_special_values", BOTH(softmax, masked_row_nan)},
    {"masked_row_uniform", "a fully masked row gives the uniform 1/n", "documented_special_values",
     BOTH(softmax, masked_row_uniform)},
    {"nan_confined", "a NaN confined to its position, the rest of its row finite",
     "nan_spreads_to_its_row", BOTH(softmax, nan_confined)},
    {"single_class_zero", "off by one at C = 1: the only class gets 0", "oracle_agreement",
     BOTH(softmax, single_class_zero)},
    {"wrong_axis", "the wrong axis reduced when inner > 1", "oracle_agreement",
     BOTH(softmax, wrong_axis)},
    {"last_row_unwritten", "the last row of a batch left unwritten", "oracle_agreement",
     BOTH(softmax, last_row_unwritten)},
    {"writes_input", "the input overwritten by an out-of-place call", "inputs_unchanged",
     BOTH(softmax, writes_input)},
    {"thread_dependent", "a result that depends on the thread count", "thread_count_independent",
     [](softcheck_kernel_set &s) {
       s.f32.softmax = thread_dependent<float>;
       s.f64.softmax = thread_dependent<double>;
       s.set_num_threads = set_threads;
     }},
    {"alignment_dependent", "a result that depends on the buffer's alignment",
     "alignment_independent", BOTH(softmax, alignment_dependent)},
    {"log_of_softmax", "log(softmax(x)): -inf once the probability underflows", "oracle_agreement",
     BOTH(log_softmax, log_of_softmax)},
    {"max_logprob_zero",
     "(x - max) - log(sum) without log1p: the max element's log-probability is 0",
     "oracle_agreement", BOTH(log_softmax, max_logprob_zero)},
    {"positive_log_probability", "a positive log-probability (+1.43e-6 for the max element)",
     "log_softmax_nonpositive", BOTH(log_softmax, positive_log_probability)},
    {"single_class_log_softmax", "off by one at C = 1: log_softmax of one class is not 0",
     "documented_special_values", BOTH(log_softmax, single_class_log_softmax)},
    {"lse_working_precision", "logsumexp as max + log(sum) in the working precision",
     "oracle_agreement", BOTH(logsumexp, lse_working_precision)},
    {"confident_loss_zero", "a confident cross-entropy returned as 0 (lse - x_t, no log1p)",
     "oracle_agreement", BOTH(cross_entropy, confident_loss_zero)},
    {"keras_clipping", "Keras-style eps clipping inside the logits pipeline", "oracle_agreement",
     BOTH(cross_entropy, keras_clipping)},
    {"double_softmax", "the double softmax: softmax output fed to cross_entropy",
     "oracle_agreement", BOTH(cross_entropy, double_softmax)},
    {"smoothing_k_minus_one", "label smoothing as eps/(K-1) instead of eps/K",
     "label_smoothing_is_uniform", BOTH(cross_entropy, smoothing_k_minus_one)},
    {"smoothing_counts_ignored", "the smoothing term of the mean counts ignored targets",
     "ignored_targets_contribute_nothing", BOTH(cross_entropy, smoothing_counts_ignored)},
    {"ignored_in_denominator", "ignored targets counted in the mean's denominator",
     "ignored_targets_contribute_nothing", BOTH(cross_entropy, ignored_in_denominator)},
    {"weights_ignored_in_mean", "weights ignored in the mean's denominator",
     "mean_is_sum_over_weights", BOTH(cross_entropy, weights_ignored_in_mean)},
    {"default_ignore_index", "ignore_index taken as -100 whatever the options say",
     "oracle_agreement", BOTH(cross_entropy, default_ignore_index)},
    {"sum_for_mean", "a wrong reduction: the sum returned for the mean", "mean_is_sum_over_weights",
     BOTH(cross_entropy, sum_for_mean)},
    {"nll_backward_undivided", "nll_loss backward for the mean not divided by its denominator",
     "oracle_agreement", BOTH(nll_loss_backward, nll_backward_undivided)},
    {"backward_wrong_sign", "softmax backward with the wrong sign", "oracle_agreement",
     BOTH(softmax_backward, backward_wrong_sign)},
    {"backward_without_dot", "softmax backward without the <dy, y> term",
     "softmax_jacobian_rows_sum_to_zero", BOTH(softmax_backward, backward_without_dot)},
    {"backward_overwrites_dy", "a backward that overwrites its input gradient", "inputs_unchanged",
     BOTH(softmax_backward, backward_overwrites_dy)},
    {"log_backward_without_exp", "log_softmax backward without the exp of y", "oracle_agreement",
     BOTH(log_softmax_backward, log_backward_without_exp)},
    {"half_accumulator", "softmax's sum kept in bf16 / f16 (stalls after 256 / 2048 terms)",
     "oracle_agreement", HALVES(softmax, half_accumulator)},
    {"half_exp_without_max_shift", "exp(x) stored in the half format without the max shift",
     "oracle_agreement", HALVES(softmax, half_exp_without_max_shift)},
    {"truncated_to_half", "the float32 result truncated to bf16 / f16 instead of rounded",
     "oracle_agreement", HALVES(softmax, truncated_to_half)},
    {"float_stored_unrounded", "float32 results stored as float32 into the half output",
     "oracle_agreement", HALVES(softmax, float_stored_unrounded)},
};

} // namespace

extern "C" SOFTCHECK_EXPORT const softcheck_plugin *softcheck_plugin_v1(void) {
  static const std::vector<std::string> descriptions = [] {
    std::vector<std::string> d;
    for (const Mutant &m : kMutants)
      d.push_back(std::string(m.bug_class) + " [expected: " + m.expected + "]");
    return d;
  }();
  static const std::vector<softcheck_kernel_set> sets = [] {
    std::vector<softcheck_kernel_set> v;
    size_t i = 0;
    for (const Mutant &m : kMutants) {
      softcheck_kernel_set s = softcheck::builtin_kernel_set(); // ops and contract
      // One thread, as the mutants' bugs are written for; the one bug of
      // thread dependence gives itself set_num_threads.
      s.set_num_threads = nullptr;
      s.name = m.name;
      s.description = descriptions[i++].c_str();
      s.version = "zoo";
      m.edit(s);
      v.push_back(s);
    }
    return v;
  }();
  static const softcheck_plugin plugin{SOFTCHECK_ABI_VERSION, sizeof(softcheck_plugin), "bug zoo",
                                       sets.size(), sets.data()};
  return &plugin;
}
