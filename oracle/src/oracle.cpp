// The oracle's ops: validation (the same rules as every kernel), the
// special-value semantics, and the evaluation policy of each backend.
#include "bin.hpp"
#include "fast.hpp"
#include "formulas.hpp"
#include "interval.hpp"

#include <softcheck/oracle.hpp>
#include <softcheck/validate.hpp>

#include <algorithm>
#include <type_traits>
#include <vector>

namespace softcheck::oracle {
namespace {

using detail::Extent;
using detail::missing;

// MPFR's own exponent range is set to its widest once per thread, so that
// no intermediate (exp of -2 DBL_MAX, say) overflows or underflows early.
void widen_mpfr_range() {
  static thread_local bool done = false;
  if (!done) {
    mpfr_set_emin(mpfr_get_emin_min());
    mpfr_set_emax(mpfr_get_emax_max());
    done = true;
  }
}

// Counts a row (or a whole reduction) of n outputs the fast phase settled.
void settled_fast(const Config &c, int64_t n) {
  if (c.stats == nullptr) return;
  c.stats->fast_settled++;
  c.stats->fast_outputs += n;
}

// Runs `job` (which returns the values of a group of outputs: a row, or a
// whole reduction) and hands each correctly rounded value to `put`.
template <class N> struct Evaluate;

template <> struct Evaluate<Ival> {
  template <class T, class Job, class Put> static void run(const Config &c, Job &&job, Put &&put) {
    widen_mpfr_range();
    int64_t p = c.start_precision > 0 ? c.start_precision
                                      : (std::numeric_limits<T>::digits <= 24 ? 64 : 128);
    std::vector<T> rounded;
    for (bool first = true;; first = false) {
      Ival::precision() = mpfr_prec_t(p);
      std::vector<Ival> v = job();
      rounded.resize(v.size());
      bool all = true;
      for (size_t i = 0; i < v.size(); ++i) {
        bool ok = true;
        rounded[i] = round_to<T>(v[i], ok, c.open_ends);
        all = all && ok;
      }
      if (c.stats) {
        c.stats->evaluations++;
        c.stats->interval_outputs += first ? int64_t(v.size()) : 0;
        c.stats->retries += first ? 0 : 1;
        c.stats->max_precision = std::max(c.stats->max_precision, p);
      }
      if (all || p >= c.max_precision) {
        if (!all && c.stats) {
          for (size_t i = 0; i < v.size(); ++i) {
            bool ok = true;
            round_to<T>(v[i], ok, c.open_ends);
            c.stats->unresolved += ok ? 0 : 1;
          }
        }
        break;
      }
      p = std::min(2 * p, c.max_precision);
    }
    for (size_t i = 0; i < rounded.size(); ++i) put(i, rounded[i]);
  }
};

template <> struct Evaluate<Bin> {
  template <class T, class Job, class Put> static void run(const Config &c, Job &&job, Put &&put) {
    std::vector<Bin> v = job();
    if (c.stats) {
      c.stats->evaluations++;
      c.stats->max_precision = std::max<int64_t>(c.stats->max_precision, 256);
    }
    for (size_t i = 0; i < v.size(); ++i) put(i, round_bin<T>(v[i]));
  }
};

template <class N> int64_t precision_of() {
  if constexpr (std::is_same_v<N, Ival>)
    return Ival::precision();
  else
    return 256;
}

template <class N, class T, class Job, class Put>
void evaluate(const Config &c, Job &&job, Put &&put) {
  Evaluate<N>::template run<T>(c, std::forward<Job>(job), std::forward<Put>(put));
}

// ------------------------------------------------------------ forward ops

enum class Forward { softmax, log_softmax };

// The fast phase (interval backend): true when every output of the row was
// settled, in double for the formats double holds (RowState) and in
// double-double for float64 (RowState64).
template <class T>
using FastRow = std::conditional_t<std::is_same_v<T, double>, fast::RowState64, fast::RowState<T>>;

// The formats the double fast phase serves: those double holds exactly.
template <class N, class T>
constexpr bool has_fast_phase = std::is_same_v<N, Ival> && !std::is_same_v<T, double>;

template <class N, class T>
bool fast_forward(Forward f, RowView<T> xr, Shape s, int64_t r, T *y, const Config &c) {
  if constexpr (std::is_same_v<N, Ival>) {
    if (!c.fast) return false;
    static thread_local FastRow<T> st;
    static thread_local std::vector<T> vals;
    if (!fast::prepare(xr, st)) return false;
    vals.resize(size_t(xr.n));
    for (int64_t k = 0; k < xr.n; ++k)
      if (!(f == Forward::softmax ? fast::softmax(st, k, vals[size_t(k)], c.fast_bound_scale)
                                  : fast::log_softmax(st, k, vals[size_t(k)], c.fast_bound_scale)))
        return false;
    for (int64_t k = 0; k < xr.n; ++k) y[offset(s, r, k)] = vals[size_t(k)];
    settled_fast(c, xr.n);
    return true;
  } else {
    (void)f, (void)xr, (void)s, (void)r, (void)y, (void)c;
    return false;
  }
}

// The fast phase for one row's logsumexp.
template <class N, class T> bool fast_logsumexp(RowView<T> xr, T &out, const Config &c) {
  if constexpr (std::is_same_v<N, Ival>) {
    static thread_local FastRow<T> st;
    if (!c.fast || !fast::prepare(xr, st) || !fast::logsumexp(st, out, c.fast_bound_scale))
      return false;
    settled_fast(c, 1);
    return true;
  } else {
    (void)xr, (void)out, (void)c;
    return false;
  }
}

// A row whose entries are all -inf but one finite x: lse = x exactly
// (plugin.h: x for classes = 1), the sign of a zero included. The interval
// path would give +0 for -0: an exact zero is rounded to +0 there.
template <class T> bool lone_entry(RowView<T> x, T &out) {
  int64_t found = -1;
  for (int64_t c = 0; c < x.n; ++c) {
    if (x[c] == -INFINITY) continue;
    if (found >= 0 || !std::isfinite(x[c])) return false;
    found = c;
  }
  if (found < 0) return false;
  out = x[found];
  return true;
}

template <class N, class T>
void forward(Forward f, Shape s, const T *x, T *y, const Config &c, int64_t rows) {
  for (int64_t r = 0; r < rows; ++r) {
    RowView<T> xr = row_at(x, s, r);
    if (fast_forward<N, T>(f, xr, s, r, y, c)) continue;
    evaluate<N, T>(
        c,
        [&] {
          RowMath<N, T> row(xr);
          std::vector<N> v;
          v.reserve(size_t(xr.n));
          for (int64_t k = 0; k < xr.n; ++k)
            v.push_back(f == Forward::softmax ? row.prob(xr[k]) : row.log_prob(xr[k]));
          return v;
        },
        [&](size_t k, T value) { y[offset(s, r, int64_t(k))] = value; });
  }
}

template <class T> Status check_forward(Shape s, const T *x, const T *y, bool per_row, Extent &e) {
  if (Status st = detail::check_shape<T>(s, e)) return st;
  if (missing(x, e.elems) || missing(y, per_row ? e.rows : e.elems))
    return SOFTCHECK_ERR_NULL_POINTER;
  return SOFTCHECK_OK;
}

// Losses: `out` is the loss output (forward) or the input gradient
// (backward, with `dout` the gradient of the loss output).
template <class T>
Status check_loss(Shape s, const T *input, const void *target, bool prob, const LossOptions<T> &o,
                  const T *out, bool backward, const T *dout, Extent &e) {
  if (Status st = detail::check_shape<T>(s, e)) return st;
  int64_t out_count = detail::loss_out_count(o, e);
  if (missing(input, e.elems) || missing(target, prob ? e.elems : e.rows))
    return SOFTCHECK_ERR_NULL_POINTER;
  if (backward ? missing(dout, out_count) || missing(out, e.elems) : missing(out, out_count))
    return SOFTCHECK_ERR_NULL_POINTER;
  if (Status st = detail::check_options(s, o)) return st;
  if (!prob)
    if (Status st = detail::check_targets(static_cast<const int64_t *>(target), e.rows, s.classes,
                                          o.ignore_index))
      return st;
  return SOFTCHECK_OK;
}

// ---------------------------------------------------------------- losses

// Whether a probability target makes a coefficient of row r infinite: the
// row's loss and gradient are then undefined (plugin.h).
template <class T> bool infinite_coefficient(const LossSpec<T> &spec, int64_t r) {
  if (spec.prob == nullptr || spec.eps() == 1) return false;
  for (int64_t k = 0; k < spec.shape.classes; ++k)
    if (std::isinf(spec.prob[offset(spec.shape, r, k)]) && spec.weight(k) != 0) return true;
  return false;
}

// An array as doubles: itself for float64, else a converted copy (one per
// slot and thread, kept until the next call).
template <class T> const double *as_doubles(const T *p, int64_t n, int slot = 0) {
  if constexpr (std::is_same_v<T, double>) {
    (void)n, (void)slot;
    return p;
  } else {
    static thread_local std::vector<double> copies[2];
    std::vector<double> &v = copies[slot];
    v.resize(size_t(n));
    for (int64_t i = 0; i < n; ++i) v[size_t(i)] = fast::to_double(p[i]);
    return v.data();
  }
}

template <class N, class T>
void loss_forward(const LossSpec<T> &spec, const T *input, bool logits, T *out, const Config &c,
                  int64_t rows) {
  if constexpr (has_fast_phase<N, T>)
    if (c.fast && !logits && spec.prob == nullptr &&
        fast::nll_loss(spec, input, rows, out, c.fast_bound_scale)) {
      settled_fast(c, spec.opt.reduction == Reduction::none ? rows : 1);
      return;
    }
  // Every loss of float64, and cross entropy of the other formats, in
  // double-double: a reduction whole, and without one row by row.
  const bool dd_path = std::is_same_v<N, Ival> && c.fast && (std::is_same_v<T, double> || logits);
  const double *input64 = dd_path ? as_doubles(input, rows * spec.shape.classes) : nullptr;
  if (dd_path && spec.opt.reduction != Reduction::none &&
      fast::loss64(spec, input64, logits, rows, out, c.fast_bound_scale)) {
    settled_fast(c, 1);
    return;
  }
  auto row_value = [&](int64_t r) -> N {
    if (spec.ignored(r)) return N();
    if (infinite_coefficient(spec, r)) return N::nan();
    RowView<T> xr = row_at(input, spec.shape, r);
    if (!logits) return row_loss<N>(spec, r, [&](int64_t k) { return N::of(xr[k]); });
    RowMath<N, T> row(xr);
    return row_loss<N>(spec, r, [&](int64_t k) { return row.log_prob(xr[k]); });
  };
  if (spec.opt.reduction == Reduction::none) {
    for (int64_t r = 0; r < rows; ++r) {
      if (dd_path && fast::loss_row_settled(spec, r, input64, logits, out[r], c.fast_bound_scale)) {
        settled_fast(c, 1);
        continue;
      }
      evaluate<N, T>(
          c, [&] { return std::vector<N>{row_value(r)}; }, [&](size_t, T v) { out[r] = v; });
    }
    return;
  }
  evaluate<N, T>(
      c,
      [&] {
        N total;
        for (int64_t r = 0; r < rows; ++r) total = total + row_value(r);
        if (spec.opt.reduction == Reduction::mean) total = total / denominator<N>(spec, rows);
        return std::vector<N>{total};
      },
      [&](size_t, T v) { out[0] = v; });
}

// The logits' gradient with an infinite upstream gradient (an infinite
// dout, or cross_entropy_backward under a mean whose denominator is 0) or an
// infinite coefficient (an infinite probability target): NaN
// wherever a coefficient is not omitted (plugin.h), 0 elsewhere.
template <class N, class T>
std::vector<N> undefined_gradient_row(const LossSpec<T> &spec, int64_t r) {
  N a;
  bool any = false;
  for (int64_t k = 0; k < spec.shape.classes; ++k)
    any = any || spec.template coefficient<N>(r, k, a);
  return std::vector<N>(size_t(spec.shape.classes), any ? N::nan() : N());
}

template <class N, class T>
void loss_backward(const LossSpec<T> &spec, const T *logits, const T *dout, T *dinput,
                   const Config &c, int64_t rows) {
  const Shape s = spec.shape;
  // The mean's denominator, once per working precision.
  int64_t den_precision = -1;
  N den = N::of(1);
  auto denominator_now = [&]() -> const N & {
    int64_t p = precision_of<N>();
    if (spec.opt.reduction == Reduction::mean && p != den_precision) {
      den = denominator<N>(spec, rows);
      den_precision = p;
    }
    return den;
  };
  // The fast phase, row by row: nll_loss_backward in the formats double
  // holds, nll_loss_backward and cross_entropy_backward in float64.
  double W = 0, eW = 0;
  const bool fast_nll = has_fast_phase<N, T> && c.fast && logits == nullptr;
  if (fast_nll && spec.opt.reduction == Reduction::mean) fast::nll_denominator(spec, rows, W, eW);
  // Every format's cross_entropy_backward, and float64's nll_loss_backward,
  // in double-double (the inputs as doubles).
  constexpr bool f64 = std::is_same_v<N, Ival> && std::is_same_v<T, double>;
  constexpr bool dd_path = std::is_same_v<N, Ival>;
  const bool fast64 =
      dd_path && c.fast && (f64 || logits != nullptr) && fast::finite_targets(spec, rows);
  dd::DE W64;
  const double *logits64 = nullptr, *dout64 = nullptr;
  if (fast64) {
    if (spec.opt.reduction == Reduction::mean) W64 = fast::denominator64(spec, rows);
    if (logits != nullptr) logits64 = as_doubles(logits, rows * s.classes);
    dout64 = as_doubles(dout, spec.opt.reduction == Reduction::none ? rows : 1, 1);
  }
  for (int64_t r = 0; r < rows; ++r) {
    if constexpr (has_fast_phase<N, T>)
      if (fast_nll &&
          fast::nll_loss_backward_row(spec, r, dout, W, eW, dinput, c.fast_bound_scale)) {
        settled_fast(c, s.classes);
        continue;
      }
    if (fast64) {
      bool done = false;
      if (logits != nullptr)
        done = fast::ce_grad_row64(spec, r, logits64, dout64, W64, dinput, c.fast_bound_scale);
      else if constexpr (f64)
        done = fast::nll_grad_row64(spec, r, dout, W64, dinput, c.fast_bound_scale);
      if (done) {
        settled_fast(c, s.classes);
        continue;
      }
    }
    evaluate<N, T>(
        c,
        [&] {
          if (spec.ignored(r)) return std::vector<N>(size_t(s.classes));
          N g = upstream<N>(spec, dout, r, denominator_now());
          if (logits == nullptr) return nll_grad_row<N>(spec, r, g);
          if (spec.opt.reduction == Reduction::mean && spec.prob == nullptr &&
              exactly_zero(denominator_now()))
            return undefined_gradient_row<N>(spec, r);
          const T d = spec.opt.reduction == Reduction::none ? dout[r] : dout[0];
          if (std::isinf(d) || infinite_coefficient(spec, r))
            return undefined_gradient_row<N>(spec, r); // plugin.h
          return logits_grad_row<N>(spec, r, row_at(logits, s, r), g);
        },
        [&](size_t k, T v) { dinput[offset(s, r, int64_t(k))] = v; });
  }
}

template <class T>
LossSpec<T> spec_of(Shape s, const LossOptions<T> &o, const int64_t *t, const T *prob) {
  LossSpec<T> spec;
  spec.shape = s;
  spec.opt = o;
  spec.target = t;
  spec.prob = prob;
  return spec;
}

// Dispatch on the backend.
template <class T, class F> void with_backend(const Config &c, F &&f) {
  if (c.backend == Backend::cpp_bin_float)
    f(Bin());
  else
    f(Ival());
}

} // namespace

void release_thread_caches() { mpfr_free_cache2(MPFR_FREE_LOCAL_CACHE); }

template <class T> Status softmax(Shape s, const T *x, T *y, const Config &c) {
  Extent e;
  if (Status st = check_forward(s, x, y, false, e)) return st;
  with_backend<T>(c,
                  [&](auto n) { forward<decltype(n), T>(Forward::softmax, s, x, y, c, e.rows); });
  return SOFTCHECK_OK;
}

template <class T> Status log_softmax(Shape s, const T *x, T *y, const Config &c) {
  Extent e;
  if (Status st = check_forward(s, x, y, false, e)) return st;
  with_backend<T>(
      c, [&](auto n) { forward<decltype(n), T>(Forward::log_softmax, s, x, y, c, e.rows); });
  return SOFTCHECK_OK;
}

template <class T> Status logsumexp(Shape s, const T *x, T *out, const Config &c) {
  Extent e;
  if (Status st = check_forward(s, x, out, true, e)) return st;
  with_backend<T>(c, [&](auto n) {
    using N = decltype(n);
    for (int64_t r = 0; r < e.rows; ++r) {
      if (lone_entry(row_at(x, s, r), out[r])) continue;
      if (fast_logsumexp<N, T>(row_at(x, s, r), out[r], c)) continue;
      evaluate<N, T>(
          c, [&] { return std::vector<N>{RowMath<N, T>(row_at(x, s, r)).lse()}; },
          [&](size_t, T v) { out[r] = v; });
    }
  });
  return SOFTCHECK_OK;
}

namespace {

enum class Backward { softmax, log_softmax };

// The fast phase of one row of softmax_backward or log_softmax_backward.
template <class N, class T>
bool fast_backward(Backward b, RowView<T> yr, RowView<T> dyr, Shape s, int64_t r, T *dx,
                   const Config &c) {
  // Every format but float64 in double; float64 in double-double.
  if constexpr (std::is_same_v<N, Ival>) {
    static thread_local std::vector<T> vals;
    if (!c.fast ||
        !(b == Backward::softmax ? fast::softmax_backward(yr, dyr, vals, c.fast_bound_scale)
                                 : fast::log_softmax_backward(yr, dyr, vals, c.fast_bound_scale)))
      return false;
    for (int64_t k = 0; k < yr.n; ++k) dx[offset(s, r, k)] = vals[size_t(k)];
    settled_fast(c, yr.n);
    return true;
  } else {
    (void)b, (void)yr, (void)dyr, (void)s, (void)r, (void)dx, (void)c;
    return false;
  }
}

// softmax_backward and log_softmax_backward: checks, then `row` per row.
template <class T, class RowFn>
Status softmax_family_backward(Backward b, Shape s, const T *y, const T *dy, T *dx, const Config &c,
                               RowFn row) {
  Extent e;
  if (Status st = detail::check_shape<T>(s, e)) return st;
  if (missing(y, e.elems) || missing(dy, e.elems) || missing(dx, e.elems))
    return SOFTCHECK_ERR_NULL_POINTER;
  with_backend<T>(c, [&](auto n) {
    using N = decltype(n);
    for (int64_t r = 0; r < e.rows; ++r) {
      if (fast_backward<N, T>(b, row_at(y, s, r), row_at(dy, s, r), s, r, dx, c)) continue;
      evaluate<N, T>(
          c, [&] { return row(N(), row_at(y, s, r), row_at(dy, s, r)); },
          [&](size_t k, T v) { dx[offset(s, r, int64_t(k))] = v; });
    }
  });
  return SOFTCHECK_OK;
}

} // namespace

template <class T>
Status softmax_backward(Shape s, const T *y, const T *dy, T *dx, const Config &c) {
  return softmax_family_backward(Backward::softmax, s, y, dy, dx, c,
                                 [](auto n, RowView<T> yr, RowView<T> dyr) {
                                   return softmax_backward_row<decltype(n)>(yr, dyr);
                                 });
}

template <class T>
Status log_softmax_backward(Shape s, const T *y, const T *dy, T *dx, const Config &c) {
  return softmax_family_backward(Backward::log_softmax, s, y, dy, dx, c,
                                 [](auto n, RowView<T> yr, RowView<T> dyr) {
                                   using N = decltype(n);
                                   // An infinite dy: the row is undefined (plugin.h).
                                   for (int64_t k = 0; k < yr.n; ++k)
                                     if (std::isinf(dyr[k]))
                                       return std::vector<N>(size_t(yr.n), N::nan());
                                   return log_softmax_backward_row<N>(yr, dyr);
                                 });
}

template <class T>
Status nll_loss(Shape s, const T *logp, const int64_t *target, const LossOptions<T> &o, T *out,
                const Config &c) {
  Extent e;
  if (Status st = check_loss<T>(s, logp, target, false, o, out, false, nullptr, e)) return st;
  auto spec = spec_of<T>(s, o, target, nullptr);
  with_backend<T>(c,
                  [&](auto n) { loss_forward<decltype(n), T>(spec, logp, false, out, c, e.rows); });
  return SOFTCHECK_OK;
}

template <class T>
Status cross_entropy(Shape s, const T *logits, const int64_t *target, const LossOptions<T> &o,
                     T *out, const Config &c) {
  Extent e;
  if (Status st = check_loss<T>(s, logits, target, false, o, out, false, nullptr, e)) return st;
  auto spec = spec_of<T>(s, o, target, nullptr);
  with_backend<T>(
      c, [&](auto n) { loss_forward<decltype(n), T>(spec, logits, true, out, c, e.rows); });
  return SOFTCHECK_OK;
}

template <class T>
Status cross_entropy_prob(Shape s, const T *logits, const T *target, const LossOptions<T> &o,
                          T *out, const Config &c) {
  Extent e;
  if (Status st = check_loss<T>(s, logits, target, true, o, out, false, nullptr, e)) return st;
  auto spec = spec_of<T>(s, o, nullptr, target);
  with_backend<T>(
      c, [&](auto n) { loss_forward<decltype(n), T>(spec, logits, true, out, c, e.rows); });
  return SOFTCHECK_OK;
}

template <class T>
Status nll_loss_backward(Shape s, const int64_t *target, const LossOptions<T> &o, const T *dout,
                         T *dlogp, const Config &c) {
  Extent e;
  if (Status st = check_loss<T>(s, dlogp, target, false, o, dlogp, true, dout, e)) return st;
  auto spec = spec_of<T>(s, o, target, nullptr);
  with_backend<T>(
      c, [&](auto n) { loss_backward<decltype(n), T>(spec, nullptr, dout, dlogp, c, e.rows); });
  return SOFTCHECK_OK;
}

template <class T>
Status cross_entropy_backward(Shape s, const T *logits, const int64_t *target,
                              const LossOptions<T> &o, const T *dout, T *dlogits, const Config &c) {
  Extent e;
  if (Status st = check_loss<T>(s, logits, target, false, o, dlogits, true, dout, e)) return st;
  auto spec = spec_of<T>(s, o, target, nullptr);
  with_backend<T>(
      c, [&](auto n) { loss_backward<decltype(n), T>(spec, logits, dout, dlogits, c, e.rows); });
  return SOFTCHECK_OK;
}

template <class T>
Status cross_entropy_prob_backward(Shape s, const T *logits, const T *target,
                                   const LossOptions<T> &o, const T *dout, T *dlogits,
                                   const Config &c) {
  Extent e;
  if (Status st = check_loss<T>(s, logits, target, true, o, dlogits, true, dout, e)) return st;
  auto spec = spec_of<T>(s, o, nullptr, target);
  with_backend<T>(
      c, [&](auto n) { loss_backward<decltype(n), T>(spec, logits, dout, dlogits, c, e.rows); });
  return SOFTCHECK_OK;
}

#define SOFTCHECK_ORACLE_INSTANTIATE(T)                                                            \
  template Status softmax<T>(Shape, const T *, T *, const Config &);                               \
  template Status log_softmax<T>(Shape, const T *, T *, const Config &);                           \
  template Status logsumexp<T>(Shape, const T *, T *, const Config &);                             \
  template Status softmax_backward<T>(Shape, const T *, const T *, T *, const Config &);           \
  template Status log_softmax_backward<T>(Shape, const T *, const T *, T *, const Config &);       \
  template Status nll_loss<T>(Shape, const T *, const int64_t *, const LossOptions<T> &, T *,      \
                              const Config &);                                                     \
  template Status nll_loss_backward<T>(Shape, const int64_t *, const LossOptions<T> &, const T *,  \
                                       T *, const Config &);                                       \
  template Status cross_entropy<T>(Shape, const T *, const int64_t *, const LossOptions<T> &, T *, \
                                   const Config &);                                                \
  template Status cross_entropy_backward<T>(                                                       \
      Shape, const T *, const int64_t *, const LossOptions<T> &, const T *, T *, const Config &);  \
  template Status cross_entropy_prob<T>(Shape, const T *, const T *, const LossOptions<T> &, T *,  \
                                        const Config &);                                           \
  template Status cross_entropy_prob_backward<T>(                                                  \
      Shape, const T *, const T *, const LossOptions<T> &, const T *, T *, const Config &);
SOFTCHECK_ORACLE_INSTANTIATE(float)
SOFTCHECK_ORACLE_INSTANTIATE(double)
SOFTCHECK_ORACLE_INSTANTIATE(bf16)
SOFTCHECK_ORACLE_INSTANTIATE(f16)
#undef SOFTCHECK_ORACLE_INSTANTIATE

} // namespace softcheck::oracle
