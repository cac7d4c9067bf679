// softcheck built-in kernels: the C++ API.
//
// The semantics of every op (layout, special values, loss options, edge
// cases, bad input) are defined once, in <softcheck/plugin.h>; these
// functions implement exactly that definition for float, double, bfloat16
// and float16.
//
// Contract of the built-in set `softcheck`
// ---------------------------------------
// Accuracy, against the correctly rounded result of the exact inputs,
// for finite rows (the special values are exact by definition):
//
//   op                      f32 ulp   f64 ulp   scaled (u, see plugin.h)
//   softmax                  1         1          -
//   log_softmax              1         1          -
//   logsumexp                1         1 (*)      -
//   nll_loss (none)          1         1          -   (4 with negative weights)
//   cross_entropy (none)     1         1          -   (4 with negative weights)
//   cross_entropy_prob(none) -         -          4   (sum of signed terms)
//   *_backward               -         -          4
//   mean / sum reductions    -         -          4
//
// Two implementations keep it:
// - float rows (any inner: strided rows are gathered first, so a row gives
//   the same bits in every layout) run in SIMD, Highway with dispatch at
//   run time (AVX-512, AVX2, a portable fallback), every target the same
//   bits; threads split rows, or the pieces of a row, never the bits.
//   Everything per element is in double lanes: x - max is exact (float
//   differences fit in double), exp has relative error below 2^-33 for the
//   forward ops and 2^-51 for the backward ops (whose results may cancel),
//   sums run over 16 fixed accumulators and pieces of 4096 combined in
//   order with Neumaier compensation (error below (256 + 20) 2^-53 of the
//   sum), log1p of the rest below 2^-40. A float result is the double
//   value rounded once: |err| <= 1/2 ulp + 2^-9 ulp, at most 1 ulp apart.
// - double rows (any inner, gathered like float rows) run in SIMD too, in
//   double lanes with double-double arithmetic where one rounding is not
//   enough: x - max exactly (TwoSum), exp(x - max) as a double-double with
//   relative error below 2^-56.5, sums in double-double (8 fixed
//   accumulators, every target the same bits), 1 / (1 + rest) and
//   log1p(rest) once per row in long double; a probability errs by less
//   than 2^-55.3 and a log-probability by less than 2^-56.2 before its one
//   rounding (below 1/4 ulp: within 1 ulp), the backward ops by less than
//   2^-55 of their terms. Rows the vector code does not take (a NaN or
//   infinity, an entry of 2^1020 or more, max - min > 700, one class;
//   backward: y outside [-700, 0], products past 2^1000) go to the scalar
//   code, as do class-weighted losses and the losses' per-row terms: every
//   elementwise value computed in a wider format W (x87 long double;
//   __float128 where the logsumexp cancels) with relative error below
//   2^-(53+5), and rounded once.
// Both: x - max without loss; the normaliser is 1 + s, s = sum of
// exp(x_c - max) over the non-max terms, and its log is log1p(s): the max
// element's log-probability -log1p(s) keeps every digit when s is 1e-30,
// and so does a confident cross-entropy loss.
// - (*) logsumexp = max + log1p(s) cancels when max is in (-log K, 0).
//   When |result| < 2^-5 |max| the row is recomputed in the fallback
//   format (long double for float, __float128 for double); the 1 ulp bound
//   then holds while |result| >= 2^-50 |max|.
// Reductions and backward ops sum signed terms, which may cancel; their
// error is bounded by the size of the terms (the scaled bound of plugin.h):
// the accumulation leaves at most a few 2^-51 of M (float) or 2 u_W of M
// (double), far below u, and the final rounding 1/2 ulp; declared as
// 4u M + 1 ulp.
//
// Special values: as in <softcheck/plugin.h> (NaN row -> NaN row; +inf ->
// logsumexp +inf, softmax NaN; all -inf row -> 0 / -inf / -inf; C = 1 ->
// 1 / 0 / x). Valid input range: every finite float/double. Subnormal
// outputs are produced, never flushed (and the kernels never set FTZ/DAZ).
#pragma once

#include <softcheck/types.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace softcheck {

// The numbers of the contract above; the built-in set's softcheck_contract
// is made of these, and the properties read it from there.
namespace contract {
inline constexpr double elementwise_ulp = 1.0; // forward ops, per-row losses
inline constexpr double scaled_u = 4.0;        // backward ops, reductions
} // namespace contract

// Forward.
template <class T> Status softmax(Shape shape, const T *x, T *y);
template <class T> Status log_softmax(Shape shape, const T *x, T *y);
template <class T> Status logsumexp(Shape shape, const T *x, T *out);

// Backward from the forward output y and the incoming gradient dy.
template <class T> Status softmax_backward(Shape shape, const T *y, const T *dy, T *dx);
template <class T> Status log_softmax_backward(Shape shape, const T *y, const T *dy, T *dx);

// Losses with class-index targets [outer, inner].
template <class T>
Status nll_loss(Shape shape, const T *logp, const int64_t *target, const LossOptions<T> &options,
                T *out);
template <class T>
Status nll_loss_backward(Shape shape, const int64_t *target, const LossOptions<T> &options,
                         const T *dout, T *dlogp);
template <class T>
Status cross_entropy(Shape shape, const T *logits, const int64_t *target,
                     const LossOptions<T> &options, T *out);
template <class T>
Status cross_entropy_backward(Shape shape, const T *logits, const int64_t *target,
                              const LossOptions<T> &options, const T *dout, T *dlogits);

// Cross-entropy with probability targets of the logits' shape.
template <class T>
Status cross_entropy_prob(Shape shape, const T *logits, const T *target,
                          const LossOptions<T> &options, T *out);
template <class T>
Status cross_entropy_prob_backward(Shape shape, const T *logits, const T *target,
                                   const LossOptions<T> &options, const T *dout, T *dlogits);

// bfloat16 and float16: every floating-point array converted to float
// (exactly), the float kernels above, and each output rounded once to the
// format (round to nearest even; impl/src/half_kernels.cpp). An output errs
// by at most 1/2 ulp of the format plus the float result's error, which is
// below 2^-12 (f16) or 2^-15 (bf16) of a half ulp: within 1 ulp, nearly
// correctly rounded. Their contract is the suite's default for a kernel that
// computes in float32 and rounds once (none declared).
#define SOFTCHECK_DECLARE_KERNELS(T)                                                               \
  template <> Status softmax<T>(Shape, const T *, T *);                                            \
  template <> Status log_softmax<T>(Shape, const T *, T *);                                        \
  template <> Status logsumexp<T>(Shape, const T *, T *);                                          \
  template <> Status softmax_backward<T>(Shape, const T *, const T *, T *);                        \
  template <> Status log_softmax_backward<T>(Shape, const T *, const T *, T *);                    \
  template <> Status nll_loss<T>(Shape, const T *, const int64_t *, const LossOptions<T> &, T *);  \
  template <>                                                                                      \
  Status nll_loss_backward<T>(Shape, const int64_t *, const LossOptions<T> &, const T *, T *);     \
  template <>                                                                                      \
  Status cross_entropy<T>(Shape, const T *, const int64_t *, const LossOptions<T> &, T *);         \
  template <>                                                                                      \
  Status cross_entropy_backward<T>(Shape, const T *, const int64_t *, const LossOptions<T> &,      \
                                   const T *, T *);                                                \
  template <>                                                                                      \
  Status cross_entropy_prob<T>(Shape, const T *, const T *, const LossOptions<T> &, T *);          \
  template <>                                                                                      \
  Status cross_entropy_prob_backward<T>(Shape, const T *, const T *, const LossOptions<T> &,       \
                                        const T *, T *);
SOFTCHECK_DECLARE_KERNELS(bf16)
SOFTCHECK_DECLARE_KERNELS(f16)
#undef SOFTCHECK_DECLARE_KERNELS

// The vector target the float kernels run on ("AVX3", "AVX2", "EMU128"),
// and every target compiled in that this CPU supports, best first. The
// environment variable SOFTCHECK_SIMD_TARGET, read when the built-in set is
// first made, pins one.
std::string simd_target();
std::vector<std::string> simd_targets();

// The built-in kernel set `softcheck`, as the plugin ABI sees it.
const softcheck_kernel_set &builtin_kernel_set();
// The same set wrapped as a plugin description (what the plugin library returns).
const softcheck_plugin &builtin_plugin();

} // namespace softcheck
