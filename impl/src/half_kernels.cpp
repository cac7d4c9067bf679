// The bfloat16 and float16 kernels: float32 compute, one rounding per output.
//
// Every floating-point array of a call (x, y, dy, probability targets,
// weights, dout) is converted to float, which is exact; the float kernels
// compute the outputs (each within 1 ulp of float, plugin.h's contract for
// them); each output is rounded once to the format, to nearest even. The
// bad-input rules are checked first on the half arrays themselves, so a
// rejected call reads no more than it must and writes nothing.
//
// Contiguous rows (inner = 1) of the softmax family and its backward ops
// run on the half arrays themselves: the float path's vector code
// (fast_rows.hpp) widens each element as it loads it and rounds each result
// to the format as it stores it, with the bits of the float call on
// widened copies. nll_loss and cross_entropy read their half inputs in
// place too, in any layout (half_losses.hpp). Other layouts of the softmax
// family and the other losses go through float copies.
#include "fast_rows.hpp"
#include "half_convert.hpp"
#include "half_losses.hpp"

#include <softcheck/kernels.hpp>
#include <softcheck/validate.hpp>

#include <algorithm>
#include <cstring>
#include <new>
#include <vector>

namespace softcheck {
namespace {

using detail::Extent;
using detail::missing;

template <class H> std::vector<float> widen(const H *p, int64_t n) {
  std::vector<float> out(static_cast<size_t>(n));
  detail::widen(p, out.data(), out.size());
  return out;
}

template <class H> void narrow(const std::vector<float> &v, H *out) {
  detail::narrow(v.data(), out, v.size());
}

// The float call `run` on widened copies; outputs narrowed only on success.
// Allocation failure is an internal error, never an exception across the ABI.
template <class Run> Status guarded(Run &&run) {
  try {
    return run();
  } catch (const std::bad_alloc &) {
    return SOFTCHECK_ERR_INTERNAL;
  }
}

template <class H> LossOptions<float> widen_options(const LossOptions<H> &o, const float *w) {
  LossOptions<float> f;
  f.reduction = o.reduction;
  f.ignore_index = o.ignore_index;
  f.weight = o.weight ? w : nullptr;
  f.label_smoothing = o.label_smoothing;
  return f;
}

// The loss ops' bad-input rules, in the float kernels' order: shape, NULL
// pointers, options, targets. An op without an input tensor
// (nll_loss_backward) has no `input`; a forward op has no `dout`.
template <class H>
Status loss_checks(Shape s, const void *input, bool has_input, const void *target, bool target_full,
                   bool backward, const LossOptions<H> &o, const void *dout, const void *out,
                   Extent &e) {
  if (Status st = detail::check_shape<float>(s, e)) return st;
  const int64_t n_loss = detail::loss_out_count(o, e);
  if ((has_input && missing(input, e.elems)) || missing(target, target_full ? e.elems : e.rows) ||
      (backward && missing(dout, n_loss)) || missing(out, backward ? e.elems : n_loss))
    return SOFTCHECK_ERR_NULL_POINTER;
  if (Status st = detail::check_options(s, o)) return st;
  if (!target_full)
    if (Status st = detail::check_targets(static_cast<const int64_t *>(target), e.rows, s.classes,
                                          o.ignore_index))
      return st;
  return SOFTCHECK_OK;
}

// The softmax family and its backward ops on the other layouts (strided
// rows, empty rows) run in chunks of whole outer slices, about 64K
// elements, through per-thread float buffers: the float copies stay in
// cache and no call allocates once a thread's buffers have grown. Rows are
// independent and a row gives the same bits in any batch (the
// rows_are_independent property), so the chunks give the bits of one
// call. A shape with no elements per slice (classes or inner 0) is one call.
constexpr int64_t kChunkElements = 1 << 16;

float *scratch(int which, int64_t n) {
  thread_local std::vector<float> buffers[3];
  std::vector<float> &b = buffers[which];
  if (b.size() < size_t(n)) b.resize(size_t(n));
  return b.data();
}

// Whether a shape's rows take the fused path: contiguous, not empty.
bool fused(Shape s) { return s.inner == 1 && s.classes > 0; }

// logsumexp of contiguous half rows from their statistics, computed on the
// half rows: a finite row's max + log1p(rest), rounded to float as
// logsumexp<float> rounds it, then to the format. The rows whose value
// logsumexp<float> takes from more than the statistics (a lone max of 0, a
// sum that cancels the max: kernels.cpp's finite_lse) and the special rows
// are that kernel's, on a float copy of the row.
template <class H> void fused_logsumexp(const H *x, H *out, int64_t rows, int64_t n) {
  std::vector<fast::Stats> st(static_cast<size_t>(rows));
  fast::stats(x, rows, n, st.data());
  std::vector<float> row;
  for (int64_t r = 0; r < rows; ++r) {
    const fast::Stats &q = st[size_t(r)];
    float v;
    if (!(q.kind == fast::Kind::finite && fast::lse_from_stats(q, &v))) {
      row.resize(size_t(n));
      detail::widen(x + r * n, row.data(), row.size());
      logsumexp<float>(Shape{1, n, 1}, row.data(), &v); // a valid row: SOFTCHECK_OK
    }
    out[r] = H(v);
  }
}

template <class H> struct Kernels {
  // softmax, log_softmax (out: elems) and logsumexp (out: rows); `fast` is
  // the fused path's call (x, y, rows, classes).
  template <class F, class Fast>
  static Status unary(Shape s, const H *x, H *y, bool per_row, F &&f, Fast &&fast) {
    Extent e;
    if (Status st = detail::check_shape<float>(s, e)) return st;
    const int64_t n_out = per_row ? e.rows : e.elems;
    if (missing(x, e.elems) || missing(y, n_out)) return SOFTCHECK_ERR_NULL_POINTER;
    if (fused(s))
      return guarded([&] {
        fast(x, y, e.rows, s.classes);
        return SOFTCHECK_OK;
      });
    return guarded([&] {
      const int64_t slice = s.classes * s.inner, slice_out = per_row ? s.inner : slice;
      const int64_t step = slice > 0 ? std::max<int64_t>(1, kChunkElements / slice) : s.outer;
      for (int64_t o = 0; o < s.outer || (o == 0 && s.outer == 0); o += step) {
        const int64_t k = std::max<int64_t>(0, std::min(step, s.outer - o));
        const Shape part{k, s.classes, s.inner};
        float *xf = scratch(0, k * slice), *yf = scratch(1, k * slice_out);
        detail::widen(x + o * slice, xf, size_t(k * slice));
        if (Status st = f(part, xf, yf)) return st;
        detail::narrow(yf, y + o * slice_out, size_t(k * slice_out));
        if (s.outer == 0) break;
      }
      return SOFTCHECK_OK;
    });
  }

  template <class F, class Fast>
  static Status backward(Shape s, const H *y, const H *dy, H *dx, F &&f, Fast &&fast) {
    Extent e;
    if (Status st = detail::check_shape<float>(s, e)) return st;
    if (missing(y, e.elems) || missing(dy, e.elems) || missing(dx, e.elems))
      return SOFTCHECK_ERR_NULL_POINTER;
    if (fused(s))
      return guarded([&] {
        fast(y, dy, dx, e.rows, s.classes);
        return SOFTCHECK_OK;
      });
    return guarded([&] {
      const int64_t slice = s.classes * s.inner;
      const int64_t step = slice > 0 ? std::max<int64_t>(1, kChunkElements / slice) : s.outer;
      for (int64_t o = 0; o < s.outer || (o == 0 && s.outer == 0); o += step) {
        const int64_t k = std::max<int64_t>(0, std::min(step, s.outer - o));
        const Shape part{k, s.classes, s.inner};
        float *yf = scratch(0, k * slice), *dyf = scratch(1, k * slice),
              *dxf = scratch(2, k * slice);
        detail::widen(y + o * slice, yf, size_t(k * slice));
        detail::widen(dy + o * slice, dyf, size_t(k * slice));
        if (Status st = f(part, yf, dyf, dxf)) return st;
        detail::narrow(dxf, dx + o * slice, size_t(k * slice));
        if (s.outer == 0) break;
      }
      return SOFTCHECK_OK;
    });
  }

  // nll_loss and cross_entropy with their inputs read in place (`f`, of
  // half_losses.hpp): only the weights are widened.
  template <class F>
  static Status index_loss(Shape s, const H *input, const int64_t *target, const LossOptions<H> &o,
                           H *out, F &&f) {
    Extent e;
    if (Status st = loss_checks(s, input, true, target, false, false, o, nullptr, out, e))
      return st;
    return guarded([&] {
      std::vector<float> w = o.weight ? widen(o.weight, s.classes) : std::vector<float>();
      std::vector<float> res(static_cast<size_t>(detail::loss_out_count(o, e)));
      const Status st = f(s, input, target, widen_options(o, w.data()), res.data());
      if (st == SOFTCHECK_OK) narrow(res, out);
      return st;
    });
  }

  // The loss ops. `prob` is the probability target (elems) or NULL;
  // `dout` the incoming gradient (loss_out_count) or NULL for a forward op;
  // `out` holds elems (backward) or loss_out_count (forward) outputs.
  template <class F>
  static Status loss(Shape s, const H *input, bool has_input, const void *target, bool target_full,
                     bool backward, const LossOptions<H> &o, const H *dout, H *out, F &&f) {
    Extent e;
    if (Status st =
            loss_checks(s, input, has_input, target, target_full, backward, o, dout, out, e))
      return st;
    const int64_t n_loss = detail::loss_out_count(o, e);
    return guarded([&] {
      std::vector<float> in = has_input ? widen(input, e.elems) : std::vector<float>();
      std::vector<float> pf =
          target_full ? widen(static_cast<const H *>(target), e.elems) : std::vector<float>();
      std::vector<float> w = o.weight ? widen(o.weight, s.classes) : std::vector<float>();
      std::vector<float> g = backward ? widen(dout, n_loss) : std::vector<float>();
      std::vector<float> res(static_cast<size_t>(backward ? e.elems : n_loss));
      const LossOptions<float> fo = widen_options(o, w.data());
      const void *t = target_full ? static_cast<const void *>(pf.data()) : target;
      Status st = f(s, in.data(), t, fo, g.data(), res.data());
      if (st == SOFTCHECK_OK) narrow(res, out);
      return st;
    });
  }
};

} // namespace

#define SOFTCHECK_HALF_KERNELS(H)                                                                  \
  template <> Status softmax<H>(Shape s, const H *x, H *y) {                                       \
    return Kernels<H>::unary(s, x, y, false, softmax<float>, fast::softmax<H>);                    \
  }                                                                                                \
  template <> Status log_softmax<H>(Shape s, const H *x, H *y) {                                   \
    return Kernels<H>::unary(s, x, y, false, log_softmax<float>, fast::log_softmax<H>);            \
  }                                                                                                \
  template <> Status logsumexp<H>(Shape s, const H *x, H *out) {                                   \
    return Kernels<H>::unary(s, x, out, true, logsumexp<float>, fused_logsumexp<H>);               \
  }                                                                                                \
  template <> Status softmax_backward<H>(Shape s, const H *y, const H *dy, H *dx) {                \
    return Kernels<H>::backward(s, y, dy, dx, softmax_backward<float>, fast::softmax_backward<H>); \
  }                                                                                                \
  template <> Status log_softmax_backward<H>(Shape s, const H *y, const H *dy, H *dx) {            \
    return Kernels<H>::backward(s, y, dy, dx, log_softmax_backward<float>,                         \
                                fast::log_softmax_backward<H>);                                    \
  }                                                                                                \
  template <>                                                                                      \
  Status nll_loss<H>(Shape s, const H *logp, const int64_t *t, const LossOptions<H> &o, H *out) {  \
    return Kernels<H>::index_loss(s, logp, t, o, out, detail::nll_loss_half<H>);                   \
  }                                                                                                \
  template <>                                                                                      \
  Status nll_loss_backward<H>(Shape s, const int64_t *t, const LossOptions<H> &o, const H *dout,   \
                              H *dlogp) {                                                          \
    return Kernels<H>::loss(s, nullptr, false, t, false, true, o, dout, dlogp,                     \
                            [](Shape sh, const float *, const void *tt,                            \
                               const LossOptions<float> &fo, const float *g, float *r) {           \
                              return nll_loss_backward<float>(                                     \
                                  sh, static_cast<const int64_t *>(tt), fo, g, r);                 \
                            });                                                                    \
  }                                                                                                \
  template <>                                                                                      \
  Status cross_entropy<H>(Shape s, const H *x, const int64_t *t, const LossOptions<H> &o,          \
                          H *out) {                                                                \
    return Kernels<H>::index_loss(s, x, t, o, out, detail::cross_entropy_half<H>);                 \
  }                                                                                                \
  template <>                                                                                      \
  Status cross_entropy_backward<H>(Shape s, const H *x, const int64_t *t, const LossOptions<H> &o, \
                                   const H *dout, H *dx) {                                         \
    return Kernels<H>::loss(s, x, true, t, false, true, o, dout, dx,                               \
                            [](Shape sh, const float *in, const void *tt,                          \
                               const LossOptions<float> &fo, const float *g, float *r) {           \
                              return cross_entropy_backward<float>(                                \
                                  sh, in, static_cast<const int64_t *>(tt), fo, g, r);             \
                            });                                                                    \
  }                                                                                                \
  template <>                                                                                      \
  Status cross_entropy_prob<H>(Shape s, const H *x, const H *p, const LossOptions<H> &o, H *out) { \
    return Kernels<H>::loss(s, x, true, p, true, false, o, nullptr, out,                           \
                            [](Shape sh, const float *in, const void *tt,                          \
                               const LossOptions<float> &fo, const float *, float *r) {            \
                              return cross_entropy_prob<float>(                                    \
                                  sh, in, static_cast<const float *>(tt), fo, r);                  \
                            });                                                                    \
  }                                                                                                \
  template <>                                                                                      \
  Status cross_entropy_prob_backward<H>(Shape s, const H *x, const H *p, const LossOptions<H> &o,  \
                                        const H *dout, H *dx) {                                    \
    return Kernels<H>::loss(s, x, true, p, true, true, o, dout, dx,                                \
                            [](Shape sh, const float *in, const void *tt,                          \
                               const LossOptions<float> &fo, const float *g, float *r) {           \
                              return cross_entropy_prob_backward<float>(                           \
                                  sh, in, static_cast<const float *>(tt), fo, g, r);               \
                            });                                                                    \
  }
SOFTCHECK_HALF_KERNELS(bf16)
SOFTCHECK_HALF_KERNELS(f16)
#undef SOFTCHECK_HALF_KERNELS

} // namespace softcheck
