// The built-in kernels: float and double rows to the vector code (fast_rows,
// simd.hpp), the rest careful scalar code. Semantics: <softcheck/plugin.h>;
// contract and error analysis: <softcheck/kernels.hpp>.
#include "fast_rows.hpp"
#include "half_losses.hpp"
#include "parallel.hpp"
#include "simd.hpp"
#include "wide.hpp"

#include <softcheck/kernels.hpp>
#include <softcheck/validate.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>
#include <vector>

namespace softcheck {
namespace {

using detail::CompensatedSum;
using detail::Extent;
using detail::missing;

template <class T> constexpr T nan_v = std::numeric_limits<T>::quiet_NaN();
template <class T> constexpr T inf_v = std::numeric_limits<T>::infinity();

// A strided view of one row: classes elements, `stride` apart.
template <class P> struct Row {
  P *p;
  int64_t n, stride;
  P &operator[](int64_t c) const { return p[c * stride]; }
};

// A row of no classes may come with a NULL base (plugin.h): no pointer
// arithmetic on it then (UB even when nothing is dereferenced).
template <class P> Row<P> row_of(P *base, Shape s, int64_t r) {
  int64_t o = r / s.inner, i = r % s.inner;
  if (s.classes == 0) return {base, 0, s.inner};
  return {base + o * s.classes * s.inner + i, s.classes, s.inner};
}

using Kind = fast::Kind;

// Float rows go through the vector kernels (fast_rows.hpp), strided rows
// (inner > 1) gathered first so that a row gives the same bits in every
// layout; double rows, and the losses' per-row terms, through the scalar
// code here.
template <class T> constexpr bool is_f32 = std::is_same_v<T, float>;

// Everything the forward ops need to know about a row: its special-value
// class, its max and first argmax, and log1p(sum of the non-max terms).
template <class T> struct RowInfo {
  using W = typename detail::Wide<T>::W;
  Kind kind = Kind::empty;
  T max = 0;
  int64_t argmax = 0;
  W rest = 0;  // sum_{c != argmax} exp(x_c - max), in W
  W log_s = 0; // log1p(rest) = lse - max
};

RowInfo<float> from_stats(const fast::Stats &st) {
  RowInfo<float> info;
  info.kind = st.kind;
  info.max = st.max;
  info.argmax = -1; // found when needed (finite_lse)
  info.rest = st.rest;
  info.log_s = st.log_s;
  return info;
}

// Rows of stride > 1 are gathered first, so a row gives the same bits
// whatever its layout.
template <class T> std::vector<T> gather(Row<const T> x) {
  std::vector<T> v(static_cast<size_t>(x.n));
  for (int64_t c = 0; c < x.n; ++c) v[size_t(c)] = x[c];
  return v;
}

// A row's RowInfo by the careful scalar code (every row of any dtype).
template <class T> RowInfo<T> scalar_analyze(Row<const T> x) {
  using W = typename detail::Wide<T>::W;
  RowInfo<T> info;
  if (x.n == 0) return info;
  bool has_nan = false;
  T m = x[0];
  int64_t k = 0;
  for (int64_t c = 0; c < x.n; ++c) {
    T v = x[c];
    if (std::isnan(v))
      has_nan = true;
    else if (v > m || std::isnan(m))
      m = v, k = c;
  }
  info.max = m;
  info.argmax = k;
  if (has_nan)
    info.kind = Kind::nan;
  else if (m == inf_v<T>)
    info.kind = Kind::pos_inf;
  else if (m == -inf_v<T>)
    info.kind = Kind::all_neg_inf;
  else {
    info.kind = Kind::finite;
    CompensatedSum<W> sum;
    for (int64_t c = 0; c < x.n; ++c)
      if (c != k) sum.add(detail::exp_of(detail::diff_in(W(), x[c], m)));
    info.rest = sum.value();
    info.log_s = detail::wlog1p(info.rest);
  }
  return info;
}

using simd::rest_of;

// The RowInfo of the double row of n elements at x (stride 1) whose
// vector statistics (simd.hpp) are st; a special row's by the scalar code.
// rest = (ties - 1) + the double-double sum, in long double (2^-64 per
// step): relative error below 2^-56.4, so a probability e / (1 + rest)
// errs by less than 2^-55.4 before its one rounding. log_s =
// simd::log1p_rest_f64 from the double-double sum itself: the sum's 2^-56.4
// (r / ((1 + r) log1p(r)) <= 1), the log's 2^-60.5 and long double's 2^-64
// keep it below 2^-56.3. log_s is left 0 on a vector row when with_log is
// false (softmax needs only rest).
RowInfo<double> info_of(const double *x, int64_t n, const simd::RowF64 &st, bool with_log = true) {
  if (st.special) return scalar_analyze(Row<const double>{x, n, 1});
  RowInfo<double> info;
  info.kind = Kind::finite;
  info.max = st.max;
  info.argmax = -1; // found when needed
  info.rest = rest_of(st);
  if (with_log) info.log_s = st.log_s >= 0 ? st.log_s : simd::log1p_rest_f64(st);
  return info;
}

// A double row of stride 1 by the vector statistics where they apply
// (*vector set), else by the scalar code.
RowInfo<double> analyze_f64(const double *x, int64_t n, double *eh, double *el, bool *vector,
                            bool with_log = true) {
  simd::RowF64 st;
  simd::row_stats_f64(x, n, eh, el, &st);
  *vector = !st.special;
  return info_of(x, n, st, with_log);
}

// Whether double rows of n elements take the lane path (simd::short_rows_f64).
bool short_f64(int64_t n) { return n >= 2 && n <= simd::kShortRow64; }

template <class T> RowInfo<T> analyze(Row<const T> x) {
  if (x.n == 0) return RowInfo<T>{};
  if constexpr (is_f32<T>) {
    if (x.stride == 1) return from_stats(fast::analyze(x.p, x.n));
    const std::vector<float> v = gather(x);
    return from_stats(fast::analyze(v.data(), x.n));
  } else {
    bool vector = false;
    if (x.stride == 1) return analyze_f64(x.p, x.n, nullptr, nullptr, &vector);
    const std::vector<double> v = gather(x);
    return analyze_f64(v.data(), x.n, nullptr, nullptr, &vector);
  }
}

// The first index of a row's max (RowInfo::argmax, or found).
template <class T> int64_t argmax_of(Row<const T> x, const RowInfo<T> &info) {
  int64_t k = info.argmax;
  for (int64_t c = 0; k < 0 && c < x.n; ++c)
    if (x[c] == info.max) k = c;
  return k;
}

// log_softmax(x)_c in W for a finite row: (x_c - max) - log1p(rest).
// v rounded to long double to odd: toward zero, then the last bit set when
// inexact. A value so rounded to p >= 53 + 2 bits rounds to double exactly
// as v itself would (Boldo & Melquiond, "Emulation of FMA and correctly
// rounded sums: proved algorithms using rounding to odd", 2008).
inline long double round_to_odd(__float128 v) {
  long double w = static_cast<long double>(v);
  if (__float128(w) == v) return w;
  if (detail::wabs(__float128(w)) > detail::wabs(v)) w = std::nextafter(w, 0.0L);
  int e;
  const long double m = std::ldexp(std::frexp(w, &e), std::numeric_limits<long double>::digits);
  if (std::fmod(m, 2.0L) == 0) w = std::nextafter(w, w < 0 ? -INFINITY : INFINITY);
  return w;
}

// Near -DBL_MAX the value is redone in binary128 and rounded to odd: W =
// long double holds 64 bits, and a W result on the midpoint between
// -DBL_MAX and the overflow threshold rounds again, to -inf, where the
// answer is -DBL_MAX (x = [2^970, -DBL_MAX]). hi + lo is x - max exactly,
// so the binary128 sum errs by at most 2^-113 relative, and the odd
// rounding makes the caller's one rounding to double the right one (and
// losses that scale it keep 64 bits).
template <class T> typename detail::Wide<T>::W log_prob(const RowInfo<T> &info, T xc) {
  using W = typename detail::Wide<T>::W;
  auto d = detail::diff_in(W(), xc, info.max);
  W r = (d.hi - info.log_s) + d.lo;
  if constexpr (!is_f32<T>)
    if (detail::wabs(r) >= W(0x1p1023)) {
      using V = typename detail::Wide<T>::V;
      return round_to_odd((V(d.hi) + V(d.lo)) - V(info.log_s));
    }
  return r;
}

// Whether every entry but the one at `keep` is -inf: the only rows whose
// log_softmax at the max, or logsumexp, is exactly max - max = +0 or max.
template <class T> bool lone_entry(Row<const T> x, int64_t keep) {
  for (int64_t c = 0; c < x.n; ++c)
    if (c != keep && x[c] != -inf_v<T>) return false;
  return true;
}

template <class T> typename detail::Wide<T>::W prob(const RowInfo<T> &info, T xc) {
  using W = typename detail::Wide<T>::W;
  return detail::exp_of(detail::diff_in(W(), xc, info.max)) / (W(1) + info.rest);
}

// logsumexp of a finite row. max + log1p(rest) cancels when max is in
// (-log K, 0); such rows are recomputed in the fallback format V.
// *out = the logsumexp of a finite row from its max and log_s alone, where
// finite_lse takes it from them (false: it needs the row).
template <class T> bool lse_from_info(const RowInfo<T> &info, T *out) {
  using W = typename detail::Wide<T>::W;
  const W r = W(info.max) + info.log_s;
  if ((info.rest == 0 && info.max == 0) ||
      (info.max < 0 && detail::wabs(r) < detail::wabs(W(info.max)) * W(1.0 / 32)))
    return false;
  *out = T(r);
  return true;
}

template <class T> T finite_lse(Row<const T> x, const RowInfo<T> &info) {
  using V = typename detail::Wide<T>::V;
  if (T v; lse_from_info(info, &v)) return v;
  if (info.rest == 0 && info.max == 0) {
    // max + a sum that is 0 or underflowed: the sign of the zero says which
    // (lse = x exactly for a lone entry, plugin.h; + tiny rounds to +0).
    int64_t argmax = info.argmax;
    for (int64_t c = 0; argmax < 0 && c < x.n; ++c)
      if (x[c] == info.max) argmax = c;
    return lone_entry(x, argmax) ? info.max : T(0);
  }
  int64_t argmax = info.argmax;
  for (int64_t c = 0; argmax < 0 && c < x.n; ++c)
    if (x[c] == info.max) argmax = c;
  CompensatedSum<V> sum;
  for (int64_t c = 0; c < x.n; ++c)
    if (c != argmax) sum.add(detail::exp_of(detail::diff_in(V(), x[c], info.max)));
  return T(V(info.max) + detail::wlog1p(sum.value()));
}

} // namespace

bool fast::lse_from_stats(const Stats &st, float *out) {
  return lse_from_info(from_stats(st), out);
}

namespace {

// ---------------------------------------------------------------- forward

template <class T>
Status forward_checks(Shape s, const void *x, const void *y, Extent &e, int64_t y_count_rows) {
  if (Status st = detail::check_shape<T>(s, e)) return st;
  if (missing(x, e.elems) || missing(y, y_count_rows ? e.rows : e.elems))
    return SOFTCHECK_ERR_NULL_POINTER;
  return SOFTCHECK_OK;
}

// The rows of a strided float tensor laid out [rows, classes].
template <class T> std::vector<T> gather_rows(const T *base, Shape s, int64_t rows) {
  std::vector<T> v(static_cast<size_t>(rows * s.classes));
  for (int64_t r = 0; r < rows; ++r) {
    Row<const T> row = row_of(base, s, r);
    for (int64_t c = 0; c < s.classes; ++c) v[size_t(r * s.classes + c)] = row[c];
  }
  return v;
}

// Runs f(in..., out) on float rows of stride 1: directly when inner = 1,
// else on copies of the rows laid out [rows, classes], scattered back.
template <class T, class F, class... In>
void contiguous(Shape s, int64_t rows, F &&f, T *out, const In *...in) {
  if (s.inner == 1) return f(in..., out);
  std::vector<T> o(static_cast<size_t>(rows * s.classes));
  f(gather_rows(in, s, rows).data()..., o.data());
  for (int64_t r = 0; r < rows; ++r) {
    Row<T> row = row_of(out, s, r);
    for (int64_t c = 0; c < s.classes; ++c) row[c] = o[size_t(r * s.classes + c)];
  }
}

// Every float-compute row's Stats (fast::stats), in any layout; X is the
// storage (float, or a half format widened as it is read).
template <class X> std::vector<fast::Stats> float_row_stats(const X *x, Shape s, int64_t rows) {
  std::vector<fast::Stats> stats(static_cast<size_t>(rows)); // Kind::empty for classes = 0
  if (s.inner == 1)
    fast::stats(x, rows, s.classes, stats.data());
  else
    fast::stats(gather_rows(x, s, rows).data(), rows, s.classes, stats.data());
  return stats;
}

// f(r) for rows [0, rows) of `elements` elements in all, on all threads
// (each call writes its own row: the bits never depend on the thread).
template <class F> void each_row(int64_t rows, int64_t elements, F &&f) {
  detail::parallel_for(
      rows,
      [&](int64_t r0, int64_t r1) {
        for (int64_t r = r0; r < r1; ++r) f(r);
      },
      elements);
}

// f(b, k) for the blocks [b, b + k) of at most 64 rows of n elements,
// spread over threads: the lane paths' batches (simd::short_rows_f64,
// simd::short_backward_f64), with room for a block's flags on the stack.
inline constexpr int64_t kBlockRows = 64;
template <class F> void row_blocks(int64_t rows, int64_t n, F &&f) {
  detail::parallel_for(
      rows,
      [&](int64_t r0, int64_t r1) {
        for (int64_t b = r0; b < r1; b += kBlockRows) f(b, std::min(kBlockRows, r1 - b));
      },
      rows * n);
}

// Double rows of 2 to kShortRow64 elements through simd::short_rows_f64:
// op stats gives every row's RowInfo to special(r, info), softmax and
// log_softmax only the special rows' (which the lanes leave to the scalar
// code).
template <class F>
void short_rows_f64(const double *x, double *y, int64_t rows, int64_t n, simd::ShortOp op,
                    F &&special) {
  row_blocks(rows, n, [&](int64_t b, int64_t k) {
    simd::RowF64 st[kBlockRows];
    simd::short_rows_f64(x + b * n, k, n, op, y ? y + b * n : nullptr, st);
    for (int64_t i = 0; i < k; ++i)
      if (op == simd::ShortOp::stats || st[i].special)
        special(b + i, info_of(x + (b + i) * n, n, st[i]));
  });
}

// Every row's RowInfo, on all threads (a row's never depends on the thread).
// X is T's storage: T itself, or (T float) a half format.
template <class T, class X> std::vector<RowInfo<T>> row_infos(const X *x, Shape s, int64_t rows) {
  std::vector<RowInfo<T>> infos(static_cast<size_t>(rows)); // Kind::empty for classes = 0
  if (s.classes == 0) return infos;
  if constexpr (is_f32<T>) {
    const std::vector<fast::Stats> stats = float_row_stats(x, s, rows);
    for (int64_t r = 0; r < rows; ++r) infos[size_t(r)] = from_stats(stats[size_t(r)]);
  } else {
    if (s.inner == 1 && short_f64(s.classes))
      short_rows_f64(x, nullptr, rows, s.classes, simd::ShortOp::stats,
                     [&](int64_t r, const RowInfo<T> &info) { infos[size_t(r)] = info; });
    else
      each_row(rows, rows * s.classes,
               [&](int64_t r) { infos[size_t(r)] = analyze(row_of(x, s, r)); });
  }
  return infos;
}

} // namespace

template <class T> void softmax_row(Row<const T> xr, Row<T> yr, const RowInfo<T> &info) {
  for (int64_t c = 0; c < xr.n; ++c) {
    switch (info.kind) {
    case Kind::finite: yr[c] = T(prob(info, xr[c])); break;
    case Kind::all_neg_inf: yr[c] = T(0); break;
    default: yr[c] = nan_v<T>; break;
    }
  }
}

template <class T> void log_softmax_row(Row<const T> xr, Row<T> yr, const RowInfo<T> &info) {
  // A zero is -0 (x_c - lse < 0, rounded) unless the row has one entry
  // that is not -inf: then x_c - lse is x_c - x_c = +0 exactly. Known
  // before any of y is written (y may be x, in place).
  const bool one_entry = info.kind == Kind::finite && lone_entry(xr, argmax_of(xr, info));
  for (int64_t c = 0; c < xr.n; ++c) {
    switch (info.kind) {
    case Kind::finite: {
      const T v = T(log_prob(info, xr[c]));
      yr[c] = v != 0 ? v : one_entry ? T(0) : -T(0);
      break;
    }
    case Kind::all_neg_inf: yr[c] = -inf_v<T>; break;
    default: yr[c] = nan_v<T>; break;
    }
  }
}

// Double rows of stride 1, spread over threads (a row's bits never depend
// on the thread that computed it): the vector path where analyze_f64 takes
// the row, else the scalar one. softmax: p = e (1 / (1 + rest)), e =
// exp(x - max) in double-double (its high parts wait in y, its low parts
// in a buffer of the thread's), 1 / (1 + rest) in long double split in
// two doubles (2^-63), the product in double-double: before the one
// rounding, p errs by less than 2^-55.3 relative (below 1/4 ulp).
void softmax_rows_f64(const double *x, double *y, int64_t rows, int64_t n) {
  if (n == 0) return;
  if (short_f64(n))
    return short_rows_f64(x, y, rows, n, simd::ShortOp::softmax, [&](int64_t r, const auto &info) {
      softmax_row(Row<const double>{x + r * n, n, 1}, Row<double>{y + r * n, n, 1}, info);
    });
  each_row(rows, rows * n, [&](int64_t r) {
    thread_local std::vector<double> lo;
    if (lo.size() < size_t(n)) lo.resize(size_t(n));
    const double *xr = x + r * n;
    double *yr = y + r * n;
    bool vector = false;
    // x may be y: pass 2 reads each x before it writes that e.
    const RowInfo<double> info = analyze_f64(xr, n, yr, lo.data(), &vector, false);
    if (!vector) return softmax_row(Row<const double>{xr, n, 1}, Row<double>{yr, n, 1}, info);
    const long double inv = 1.0L / (1.0L + info.rest);
    const double ih = double(inv), il = double(inv - ih);
    simd::softmax_f64(yr, lo.data(), n, ih, il, yr);
  });
}

// log_softmax: y = (x - max) - log1p(rest), x - max exact, log1p(rest) in
// long double split in two doubles, the differences in double-double: |y|
// >= log1p(rest) (x - max <= 0), so y errs by less than 2^-56.2 relative
// before its one rounding. rest > 0 on every vector row (n >= 2 and no
// exp below e^-700), so y is never 0 there.
void log_softmax_rows_f64(const double *x, double *y, int64_t rows, int64_t n) {
  if (n == 0) return;
  if (short_f64(n))
    return short_rows_f64(
        x, y, rows, n, simd::ShortOp::log_softmax, [&](int64_t r, const auto &info) {
          log_softmax_row(Row<const double>{x + r * n, n, 1}, Row<double>{y + r * n, n, 1}, info);
        });
  each_row(rows, rows * n, [&](int64_t r) {
    const double *xr = x + r * n;
    double *yr = y + r * n;
    bool vector = false;
    const RowInfo<double> info = analyze_f64(xr, n, nullptr, nullptr, &vector);
    if (!vector) return log_softmax_row(Row<const double>{xr, n, 1}, Row<double>{yr, n, 1}, info);
    const double lh = double(info.log_s), ll = double(info.log_s - lh);
    simd::log_softmax_f64(xr, n, info.max, lh, ll, yr);
  });
}

// An op's row kernel for T (the float one or the double one, both
// k(in..., out, rows, classes)) on rows of stride 1, through contiguous().
template <class T, class K32, class K64, class... In>
void rows_kernel(Shape s, int64_t rows, K32 &&k32, K64 &&k64, T *out, const In *...in) {
  contiguous(
      s, rows,
      [&](const In *...c, T *o) {
        if constexpr (is_f32<T>)
          k32(c..., o, rows, s.classes);
        else
          k64(c..., o, rows, s.classes);
      },
      out, in...);
}

template <class T> Status softmax(Shape s, const T *x, T *y) {
  Extent e;
  if (Status st = forward_checks<T>(s, x, y, e, 0)) return st;
  rows_kernel(s, e.rows, fast::softmax<float>, softmax_rows_f64, y, x);
  return SOFTCHECK_OK;
}

template <class T> Status log_softmax(Shape s, const T *x, T *y) {
  Extent e;
  if (Status st = forward_checks<T>(s, x, y, e, 0)) return st;
  rows_kernel(s, e.rows, fast::log_softmax<float>, log_softmax_rows_f64, y, x);
  return SOFTCHECK_OK;
}

template <class T> Status logsumexp(Shape s, const T *x, T *out) {
  Extent e;
  if (Status st = forward_checks<T>(s, x, out, e, 1)) return st;
  const std::vector<RowInfo<T>> infos = row_infos<T>(x, s, e.rows);
  for (int64_t r = 0; r < e.rows; ++r) {
    Row<const T> xr = row_of(x, s, r);
    const RowInfo<T> &info = infos[size_t(r)];
    T v;
    switch (info.kind) {
    case Kind::finite: v = finite_lse(xr, info); break;
    case Kind::nan: v = nan_v<T>; break;
    case Kind::pos_inf: v = inf_v<T>; break;
    default: v = -inf_v<T>; break; // all -inf, or classes = 0
    }
    out[r] = v; // [outer, inner] is row-major in r
  }
  return SOFTCHECK_OK;
}

// --------------------------------------------------------------- backward

template <class T> void softmax_backward_row(Row<const T> yr, Row<const T> dyr, Row<T> dxr) {
  using W = typename detail::Wide<T>::W;
  CompensatedSum<W> dot;
  for (int64_t c = 0; c < yr.n; ++c) dot.add(W(dyr[c]) * W(yr[c]));
  W d = dot.value();
  for (int64_t c = 0; c < yr.n; ++c) dxr[c] = T(W(yr[c]) * (W(dyr[c]) - d));
}

// Double backward rows of 2 to kShortRow64 elements through
// simd::short_backward_f64; the rows it leaves to the scalar code go to
// scalar(offset of the row).
template <class F>
void short_backward_f64(const double *y, const double *dy, double *dx, int64_t rows, int64_t n,
                        bool log, F &&scalar) {
  row_blocks(rows, n, [&](int64_t b, int64_t k) {
    uint8_t flag[kBlockRows];
    simd::short_backward_f64(y + b * n, dy + b * n, k, n, log, dx + b * n, flag);
    for (int64_t i = 0; i < k; ++i)
      if (flag[i]) scalar((b + i) * n);
  });
}

// Double rows of stride 1: the dot product in double-double (2^-100 of
// the sum of |y dy|), dy - dot in double-double, times y: one rounding of
// a value within 2^-100 of the terms. Rows with an entry of 2^500 or more,
// inf or NaN: the scalar code.
void softmax_backward_rows_f64(const double *y, const double *dy, double *dx, int64_t rows,
                               int64_t n) {
  if (n == 0) return;
  if (short_f64(n))
    return short_backward_f64(y, dy, dx, rows, n, false, [&](int64_t o) {
      softmax_backward_row(Row<const double>{y + o, n, 1}, Row<const double>{dy + o, n, 1},
                           Row<double>{dx + o, n, 1});
    });
  each_row(rows, rows * n, [&](int64_t r) {
    const int64_t o = r * n;
    double hi = 0, lo = 0;
    bool nonfinite = false;
    simd::dot_f64(y + o, dy + o, n, &hi, &lo, &nonfinite);
    if (nonfinite)
      softmax_backward_row(Row<const double>{y + o, n, 1}, Row<const double>{dy + o, n, 1},
                           Row<double>{dx + o, n, 1});
    else
      simd::softmax_backward_f64(y + o, dy + o, n, hi, lo, dx + o);
  });
}

template <class T> Status softmax_backward(Shape s, const T *y, const T *dy, T *dx) {
  Extent e;
  if (Status st = detail::check_shape<T>(s, e)) return st;
  if (missing(y, e.elems) || missing(dy, e.elems) || missing(dx, e.elems))
    return SOFTCHECK_ERR_NULL_POINTER;
  rows_kernel(s, e.rows, fast::softmax_backward<float>, softmax_backward_rows_f64, dx, y, dy);
  return SOFTCHECK_OK;
}

// dy_c - exp(y_c) * 0: dy_c even where exp(y_c) overflows (y_c > 0 is a
// finite real), but NaN for a NaN or +inf y_c (NaN * 0, inf * 0).
template <class T> T zero_sum_gradient(T y, T dy) {
  return std::isnan(y) || y == inf_v<T> ? nan_v<T> : dy;
}

template <class T> void log_softmax_backward_row(Row<const T> yr, Row<const T> dyr, Row<T> dxr) {
  using W = typename detail::Wide<T>::W;
  CompensatedSum<W> sum;
  bool infinite = false;
  for (int64_t c = 0; c < yr.n; ++c) {
    sum.add(W(dyr[c]));
    infinite = infinite || std::isinf(dyr[c]);
  }
  W total = sum.value();
  for (int64_t c = 0; c < yr.n; ++c)
    dxr[c] = infinite     ? nan_v<T> // undefined (plugin.h)
             : total == 0 ? zero_sum_gradient(yr[c], dyr[c])
                          : T(W(dyr[c]) - detail::wexp(W(yr[c])) * total);
}

// Double rows of stride 1: sum of dy in double-double, exp(y) in
// double-double for y in [-700, 0], dy - e total in double-double: before
// the one rounding the error is below 2^-56 of the terms.
// Other rows (a non-finite dy, a zero sum, some y outside [-700, 0]): the
// scalar code.
void log_softmax_backward_rows_f64(const double *y, const double *dy, double *dx, int64_t rows,
                                   int64_t n) {
  if (n == 0) return;
  if (short_f64(n))
    return short_backward_f64(y, dy, dx, rows, n, true, [&](int64_t o) {
      log_softmax_backward_row(Row<const double>{y + o, n, 1}, Row<const double>{dy + o, n, 1},
                               Row<double>{dx + o, n, 1});
    });
  each_row(rows, rows * n, [&](int64_t r) {
    const int64_t o = r * n;
    double hi = 0, lo = 0;
    bool nonfinite = false;
    simd::sum_f64(dy + o, n, &hi, &lo, &nonfinite);
    if (nonfinite || hi == 0 || !simd::log_softmax_backward_f64(y + o, dy + o, n, hi, lo, dx + o))
      log_softmax_backward_row(Row<const double>{y + o, n, 1}, Row<const double>{dy + o, n, 1},
                               Row<double>{dx + o, n, 1});
  });
}

template <class T> Status log_softmax_backward(Shape s, const T *y, const T *dy, T *dx) {
  Extent e;
  if (Status st = detail::check_shape<T>(s, e)) return st;
  if (missing(y, e.elems) || missing(dy, e.elems) || missing(dx, e.elems))
    return SOFTCHECK_ERR_NULL_POINTER;
  rows_kernel(s, e.rows, fast::log_softmax_backward<float>, log_softmax_backward_rows_f64, dx, y,
              dy);
  return SOFTCHECK_OK;
}

// ----------------------------------------------------------------- losses

namespace {

// The coefficients a_{r,k} of one row's loss l_r = -sum_k a_{r,k} logp_{r,k}
// (see <softcheck/plugin.h>), for class-index or probability targets.
template <class T> struct Coefficients {
  using W = typename detail::Wide<T>::W;
  const LossOptions<T> *opt;
  int64_t classes;
  W one_minus_eps, eps_over_k;

  Coefficients(const LossOptions<T> &o, int64_t k)
      : opt(&o), classes(k), one_minus_eps(W(1) - W(o.label_smoothing)),
        eps_over_k(k > 0 ? W(o.label_smoothing) / W(k) : W(0)) {}

  W weight(int64_t k) const { return opt->weight ? W(opt->weight[k]) : W(1); }
  bool zero_weight(int64_t k) const { return opt->weight && opt->weight[k] == 0; }
  // a_k for class-index target t (not ignored); false when the term is
  // omitted (its coefficient is zero by construction).
  bool index(int64_t t, int64_t k, W &a) const {
    bool smooth = opt->label_smoothing != 0 && !zero_weight(k);
    bool hit = k == t && opt->label_smoothing != 1 && !zero_weight(k);
    a = smooth ? eps_over_k * weight(k) : W(0);
    if (hit) a += one_minus_eps * weight(k);
    return smooth || hit;
  }
  // a_k for a probability target value p.
  bool prob(T p, int64_t k, W &a) const {
    if (zero_weight(k) || (p == 0 && opt->label_smoothing == 0)) return false;
    a = weight(k) * (one_minus_eps * W(p) + eps_over_k);
    return true;
  }
};

// -sum_k a_k * logp_k with zero-coefficient terms omitted; logp from `lp`.
// `only` >= 0: every other term is known to be omitted.
template <class T, class A, class LP>
typename detail::Wide<T>::W row_loss(int64_t classes, A &&coef, LP &&lp, int64_t only = -1) {
  using W = typename detail::Wide<T>::W;
  CompensatedSum<W> sum;
  W a;
  for (int64_t k = only < 0 ? 0 : only; k < (only < 0 ? classes : only + 1); ++k)
    if (coef(k, a)) {
      // An infinite coefficient (an infinite probability target) times a
      // log-probability that may be a nonzero below every format: undefined
      // (plugin.h).
      if (std::isinf(a)) return std::numeric_limits<W>::quiet_NaN();
      sum.add(-a * lp(k));
    }
  return sum.value();
}

// log-probability of class c of a row of logits, per the log_softmax semantics.
template <class T> typename detail::Wide<T>::W logit_logp(const RowInfo<T> &info, T xc) {
  using W = typename detail::Wide<T>::W;
  switch (info.kind) {
  case Kind::finite: return log_prob(info, xc);
  case Kind::all_neg_inf: return -std::numeric_limits<W>::infinity();
  default: return std::numeric_limits<W>::quiet_NaN();
  }
}

// probability of class c, per the softmax semantics.
template <class T> typename detail::Wide<T>::W logit_p(const RowInfo<T> &info, T xc) {
  using W = typename detail::Wide<T>::W;
  switch (info.kind) {
  case Kind::finite: return prob(info, xc);
  case Kind::all_neg_inf: return W(0);
  default: return std::numeric_limits<W>::quiet_NaN();
  }
}

template <class T>
Status loss_checks(Shape s, const void *input, const void *target, bool target_full,
                   const LossOptions<T> &o, const void *out, Extent &e) {
  if (Status st = detail::check_shape<T>(s, e)) return st;
  if (missing(input, e.elems) || missing(target, target_full ? e.elems : e.rows) ||
      missing(out, detail::loss_out_count(o, e)))
    return SOFTCHECK_ERR_NULL_POINTER;
  if (Status st = detail::check_options(s, o)) return st;
  if (!target_full)
    if (Status st = detail::check_targets(static_cast<const int64_t *>(target), e.rows, s.classes,
                                          o.ignore_index))
      return st;
  return SOFTCHECK_OK;
}

// Reduce per-row losses l (computed by `row`) into out, per the reduction.
// `denominator_of(r)` is row r's share of the mean's denominator.
template <class T, class RowLoss, class Den>
void reduce(const LossOptions<T> &o, int64_t rows, T *out, RowLoss &&row, Den &&den) {
  using W = typename detail::Wide<T>::W;
  if (o.reduction == Reduction::none) {
    for (int64_t r = 0; r < rows; ++r) out[r] = T(row(r));
    return;
  }
  CompensatedSum<W> total, denominator;
  for (int64_t r = 0; r < rows; ++r) {
    total.add(row(r));
    denominator.add(den(r));
  }
  out[0] = o.reduction == Reduction::sum ? T(total.value())
                                         : T(ieee_divide(total.value(), denominator.value()));
}

template <class T>
typename detail::Wide<T>::W index_denominator(const LossOptions<T> &o, const int64_t *t,
                                              int64_t rows) {
  using W = typename detail::Wide<T>::W;
  CompensatedSum<W> d;
  for (int64_t r = 0; r < rows; ++r)
    if (t[r] != o.ignore_index) d.add(o.weight ? W(o.weight[t[r]]) : W(1));
  return d.value();
}

} // namespace

namespace {

// nll_loss and cross_entropy: the same loss of class-index targets, from
// log-probabilities `logp_row(r)` returns a per-class function for.
template <class T, class Prepare, class LogpRow>
Status class_index_loss(Shape s, const void *input, const int64_t *target, const LossOptions<T> &o,
                        T *out, Prepare &&prepare, LogpRow logp_row) {
  using W = typename detail::Wide<T>::W;
  Extent e;
  if (Status st = loss_checks<T>(s, input, target, false, o, out, e)) return st;
  prepare(e);
  Coefficients<T> coef(o, s.classes);
  reduce<T>(
      o, e.rows, out,
      [&](int64_t r) -> W {
        if (target[r] == o.ignore_index) return W(0);
        // Without smoothing only the target's term has a coefficient.
        return row_loss<T>(
            s.classes, [&](int64_t k, W &a) { return coef.index(target[r], k, a); }, logp_row(r),
            o.label_smoothing == 0 ? target[r] : -1);
      },
      [&](int64_t r) -> W {
        if (target[r] == o.ignore_index) return W(0);
        return o.weight ? W(o.weight[target[r]]) : W(1);
      });
  return SOFTCHECK_OK;
}

} // namespace

// nll_loss and cross_entropy in T on inputs stored as X: T itself, or (T
// float) a half format read in place, each element widened as it is read
// (half_losses.hpp).
template <class T, class X>
Status nll_loss_of(Shape s, const X *logp, const int64_t *target, const LossOptions<T> &o, T *out) {
  using W = typename detail::Wide<T>::W;
  return class_index_loss(
      s, logp, target, o, out, [](const Extent &) {},
      [&](int64_t r) { return [lp = row_of(logp, s, r)](int64_t k) { return W(T(lp[k])); }; });
}

template <class T, class X>
Status cross_entropy_of(Shape s, const X *logits, const int64_t *target, const LossOptions<T> &o,
                        T *out) {
  // Every row's max and sum on all threads (once the arguments are
  // checked), a block of rows at a time when rows are contiguous: the
  // losses read the block's target logits while it is still in cache
  // (else each row's costs a miss). Row order is kept, and a row's
  // statistics never depend on the block: the bits of one pass.
  constexpr int64_t kBlockElements = int64_t(1) << 17;
  std::vector<RowInfo<T>> infos;
  int64_t rows = 0, done = 0, block = 0;
  auto prepare = [&](const Extent &e) {
    rows = e.rows;
    if (s.inner != 1 || s.classes == 0) {
      infos = row_infos<T>(logits, s, rows);
      done = rows;
    } else {
      infos.resize(size_t(rows));
      block = std::max<int64_t>(1, kBlockElements / s.classes);
    }
  };
  return class_index_loss(s, logits, target, o, out, prepare, [&](int64_t r) {
    if (r >= done) { // rows [done, r) are ignored ones: no statistics needed
      const int64_t r1 = std::min(rows, r + block);
      const std::vector<RowInfo<T>> b = row_infos<T>(logits + r * s.classes, s, r1 - r);
      std::copy(b.begin(), b.end(), infos.begin() + r);
      done = r1;
    }
    Row<const X> x = row_of(logits, s, r);
    const RowInfo<T> info = infos[size_t(r)];
    return [x, info](int64_t k) { return logit_logp(info, T(x[k])); };
  });
}

template <class T>
Status nll_loss(Shape s, const T *logp, const int64_t *target, const LossOptions<T> &o, T *out) {
  return nll_loss_of(s, logp, target, o, out);
}

template <class T>
Status cross_entropy(Shape s, const T *logits, const int64_t *target, const LossOptions<T> &o,
                     T *out) {
  return cross_entropy_of(s, logits, target, o, out);
}

template <class H>
Status detail::nll_loss_half(Shape s, const H *logp, const int64_t *target,
                             const LossOptions<float> &o, float *out) {
  return nll_loss_of(s, logp, target, o, out);
}

template <class H>
Status detail::cross_entropy_half(Shape s, const H *logits, const int64_t *target,
                                  const LossOptions<float> &o, float *out) {
  return cross_entropy_of(s, logits, target, o, out);
}

#define SOFTCHECK_HALF_LOSSES(H)                                                                   \
  template Status detail::nll_loss_half<H>(Shape, const H *, const int64_t *,                      \
                                           const LossOptions<float> &, float *);                   \
  template Status detail::cross_entropy_half<H>(Shape, const H *, const int64_t *,                 \
                                                const LossOptions<float> &, float *);
SOFTCHECK_HALF_LOSSES(bf16)
SOFTCHECK_HALF_LOSSES(f16)
#undef SOFTCHECK_HALF_LOSSES

template <class T>
Status cross_entropy_prob(Shape s, const T *logits, const T *target, const LossOptions<T> &o,
                          T *out) {
  using W = typename detail::Wide<T>::W;
  Extent e;
  if (Status st = loss_checks<T>(s, logits, target, true, o, out, e)) return st;
  Coefficients<T> coef(o, s.classes);
  reduce<T>(
      o, e.rows, out,
      [&](int64_t r) -> W {
        Row<const T> x = row_of(logits, s, r), p = row_of(target, s, r);
        RowInfo<T> info = analyze(x);
        return row_loss<T>(
            s.classes, [&](int64_t k, W &a) { return coef.prob(p[k], k, a); },
            [&](int64_t k) { return logit_logp(info, x[k]); });
      },
      [](int64_t) { return W(1); });
  return SOFTCHECK_OK;
}

// ------------------------------------------------------- loss backward ops

namespace {

template <class T>
Status loss_backward_checks(Shape s, const void *input, const void *target, bool target_full,
                            const LossOptions<T> &o, const void *dout, const void *dinput,
                            Extent &e) {
  if (Status st = detail::check_shape<T>(s, e)) return st;
  if (missing(input, e.elems) || missing(target, target_full ? e.elems : e.rows) ||
      missing(dout, detail::loss_out_count(o, e)) || missing(dinput, e.elems))
    return SOFTCHECK_ERR_NULL_POINTER;
  if (Status st = detail::check_options(s, o)) return st;
  if (!target_full)
    if (Status st = detail::check_targets(static_cast<const int64_t *>(target), e.rows, s.classes,
                                          o.ignore_index))
      return st;
  return SOFTCHECK_OK;
}

template <class T>
typename detail::Wide<T>::W g_of(const LossOptions<T> &o, const T *dout, int64_t r,
                                 typename detail::Wide<T>::W denominator) {
  using W = typename detail::Wide<T>::W;
  switch (o.reduction) {
  case Reduction::none: return W(dout[r]);
  case Reduction::sum: return W(dout[0]);
  default: return ieee_divide(W(dout[0]), denominator);
  }
}

// dx[r, k] = g_r * (s_r * p_k - a_k), zero where every term is omitted.
template <class T, class A>
void logits_grad_row(const RowInfo<T> &info, Row<const T> x, Row<T> dx,
                     typename detail::Wide<T>::W g, A &&coef) {
  using W = typename detail::Wide<T>::W;
  CompensatedSum<W> total;
  bool any = false;
  W a;
  for (int64_t k = 0; k < x.n; ++k)
    if (coef(k, a)) total.add(a), any = true;
  if (!any) {
    for (int64_t k = 0; k < x.n; ++k) dx[k] = T(0);
    return;
  }
  W sr = total.value();
  for (int64_t k = 0; k < x.n; ++k) {
    W v = sr * logit_p(info, x[k]);
    if (coef(k, a)) v -= a;
    dx[k] = T(g * v);
  }
}

// A double row of stride 1 without class weights by the vector code:
// dx_k = g (sr p_k - a0), sr = the sum of the coefficients, a0 every
// coefficient but the target's; g sr and g a0 in long double split in two
// doubles, p in double-double (2^-55.3), the product and difference in
// double-double: below 2^-55 of g (sr p + a0) before the one rounding. The
// target's element from its e in long double (2^-56.4 of g sr p_t). False
// (nothing written) when the row is not a vector row.
template <class A>
bool ce_backward_row_f64(const double *x, double *dx, int64_t n, int64_t t, long double g,
                         A &&coefficient) {
  if (n < 2 || t < 0 || t >= n) return false;
  long double a0 = 0, at = 0;
  coefficient(t == 0 ? 1 : 0, a0);
  coefficient(t, at);
  const long double sr = at + static_cast<long double>(n - 1) * a0;
  thread_local std::vector<double> lo;
  if (lo.size() < size_t(n)) lo.resize(size_t(n));
  simd::RowF64 st;
  simd::row_stats_f64(x, n, dx, lo.data(), &st);
  if (st.special) return false;
  const long double inv = 1.0L / (1.0L + rest_of(st));
  const double ih = double(inv), il = double(inv - ih);
  // The target's e, before dx is written: p_t = e_t / (1 + rest) in long double.
  const long double pt = (static_cast<long double>(dx[t]) + lo[size_t(t)]) * inv;
  const long double gs = g * sr, ga = g * a0;
  const double gh = double(gs), ah = double(ga);
  simd::ce_backward_f64(dx, lo.data(), n, ih, il, gh, double(gs - gh), ah, double(ga - ah), dx);
  dx[t] = double(g * (sr * pt - at));
  return true;
}

} // namespace

template <class T>
Status nll_loss_backward(Shape s, const int64_t *target, const LossOptions<T> &o, const T *dout,
                         T *dlogp) {
  using W = typename detail::Wide<T>::W;
  Extent e;
  // nll_loss_backward has no input tensor; pass dlogp as the "input" slot so
  // only the pointers that are really read are required.
  if (Status st = loss_backward_checks<T>(s, dlogp, target, false, o, dout, dlogp, e)) return st;
  Coefficients<T> coef(o, s.classes);
  W den = o.reduction == Reduction::mean ? index_denominator(o, target, e.rows) : W(1);
  for (int64_t r = 0; r < e.rows; ++r) {
    Row<T> d = row_of(dlogp, s, r);
    bool ignored = target[r] == o.ignore_index;
    W g = ignored ? W(0) : g_of(o, dout, r, den);
    W a;
    for (int64_t k = 0; k < s.classes; ++k)
      d[k] = !ignored && coef.index(target[r], k, a) ? T(-g * a) : T(0);
  }
  return SOFTCHECK_OK;
}

// A row whose upstream gradient is infinite: NaN wherever a coefficient is
// present, 0 elsewhere (plugin.h).
template <class T, class Coefficient>
void undefined_row(Row<T> dx, int64_t classes, Coefficient coefficient) {
  typename detail::Wide<T>::W a;
  bool any = false;
  for (int64_t k = 0; k < classes; ++k) any = any || coefficient(k, a);
  for (int64_t k = 0; k < classes; ++k) dx[k] = any ? nan_v<T> : T(0);
}

template <class T>
Status cross_entropy_backward(Shape s, const T *logits, const int64_t *target,
                              const LossOptions<T> &o, const T *dout, T *dlogits) {
  using W = typename detail::Wide<T>::W;
  Extent e;
  if (Status st = loss_backward_checks<T>(s, logits, target, false, o, dout, dlogits, e)) return st;
  Coefficients<T> coef(o, s.classes);
  W den = o.reduction == Reduction::mean ? index_denominator(o, target, e.rows) : W(1);
  // Float rows of stride 1 without class weights: every coefficient but the
  // target's is the same a0, and the rows go to the vector kernels.
  std::vector<fast::CrossEntropyRow> fast_rows;
  if constexpr (is_f32<T>)
    if (!o.weight && s.classes > 0) fast_rows.resize(size_t(e.rows));
  // Rows on all threads: each writes its own row of dx (and fast_rows[r]).
  auto one_row = [&](int64_t r) {
    Row<const T> x = row_of(logits, s, r);
    Row<T> dx = row_of(dlogits, s, r);
    bool ignored = target[r] == o.ignore_index;
    if (ignored) {
      for (int64_t k = 0; k < s.classes; ++k) dx[k] = T(0);
      return;
    }
    auto coefficient = [&](int64_t k, W &a) { return coef.index(target[r], k, a); };
    const W g = g_of(o, dout, r, den);
    if ((o.reduction == Reduction::mean && den == 0) || std::isinf(g)) {
      undefined_row(dx, s.classes, coefficient); // infinite upstream gradient (plugin.h)
      return;
    }
    if (!fast_rows.empty()) {
      fast::CrossEntropyRow &fr = fast_rows[size_t(r)];
      const int64_t t = target[r];
      W a0 = 0, at = 0;
      if (t + 1 < s.classes || t > 0) coefficient(t == 0 ? 1 : 0, a0);
      coefficient(t, at);
      fr = {true, t, double(g), double(at + W(s.classes - 1) * a0), double(a0), double(at)};
      return;
    }
    if constexpr (!is_f32<T>)
      if (!o.weight && x.stride == 1 &&
          ce_backward_row_f64(x.p, dx.p, s.classes, target[r], g, coefficient))
        return;
    RowInfo<T> info = analyze(x);
    logits_grad_row(info, x, dx, g, coefficient);
  };
  each_row(e.rows, e.rows * s.classes, [&](int64_t r) { one_row(r); });
  if constexpr (is_f32<T>)
    if (!fast_rows.empty()) {
      // Rows that are not active keep what the loop above wrote.
      contiguous(
          s, e.rows,
          [&](const float *xc, float *dxc) {
            if (s.inner > 1) // inactive rows: keep their values through the copy
              for (int64_t r = 0; r < e.rows; ++r)
                if (!fast_rows[size_t(r)].active) {
                  Row<const float> d = row_of(static_cast<const float *>(dlogits), s, r);
                  for (int64_t c = 0; c < s.classes; ++c) dxc[r * s.classes + c] = d[c];
                }
            fast::cross_entropy_backward(xc, dxc, e.rows, s.classes, fast_rows.data());
          },
          dlogits, logits);
    }
  return SOFTCHECK_OK;
}

template <class T>
Status cross_entropy_prob_backward(Shape s, const T *logits, const T *target,
                                   const LossOptions<T> &o, const T *dout, T *dlogits) {
  using W = typename detail::Wide<T>::W;
  Extent e;
  if (Status st = loss_backward_checks<T>(s, logits, target, true, o, dout, dlogits, e)) return st;
  Coefficients<T> coef(o, s.classes);
  W den = W(e.rows);
  for (int64_t r = 0; r < e.rows; ++r) {
    Row<const T> x = row_of(logits, s, r), p = row_of(target, s, r);
    Row<T> dx = row_of(dlogits, s, r);
    auto coefficient = [&](int64_t k, W &a) { return coef.prob(p[k], k, a); };
    const W g = g_of(o, dout, r, den);
    bool infinite_a = false;
    for (int64_t k = 0; k < s.classes; ++k) {
      W a;
      infinite_a = infinite_a || (coefficient(k, a) && std::isinf(a));
    }
    if (std::isinf(g) || infinite_a) {
      undefined_row(dx, s.classes, coefficient); // infinite upstream gradient (plugin.h)
      continue;
    }
    RowInfo<T> info = analyze(x);
    logits_grad_row(info, x, dx, g, coefficient);
  }
  return SOFTCHECK_OK;
}

#define SOFTCHECK_INSTANTIATE(T)                                                                   \
  template Status softmax<T>(Shape, const T *, T *);                                               \
  template Status log_softmax<T>(Shape, const T *, T *);                                           \
  template Status logsumexp<T>(Shape, const T *, T *);                                             \
  template Status softmax_backward<T>(Shape, const T *, const T *, T *);                           \
  template Status log_softmax_backward<T>(Shape, const T *, const T *, T *);                       \
  template Status nll_loss<T>(Shape, const T *, const int64_t *, const LossOptions<T> &, T *);     \
  template Status nll_loss_backward<T>(Shape, const int64_t *, const LossOptions<T> &, const T *,  \
                                       T *);                                                       \
  template Status cross_entropy<T>(Shape, const T *, const int64_t *, const LossOptions<T> &,      \
                                   T *);                                                           \
  template Status cross_entropy_backward<T>(Shape, const T *, const int64_t *,                     \
                                            const LossOptions<T> &, const T *, T *);               \
  template Status cross_entropy_prob<T>(Shape, const T *, const T *, const LossOptions<T> &, T *); \
  template Status cross_entropy_prob_backward<T>(Shape, const T *, const T *,                      \
                                                 const LossOptions<T> &, const T *, T *);
SOFTCHECK_INSTANTIATE(float)
SOFTCHECK_INSTANTIATE(double)
#undef SOFTCHECK_INSTANTIATE

} // namespace softcheck
