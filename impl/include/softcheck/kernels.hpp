// softcheck built-in kernels: the C++ API.
//
// The semantics of every op (layout, special values, loss options, edge
// cases, bad input) are defined once, in <softcheck/plugin.h>; these
// functions implement exactly that definition for float and double.
//
// Contract of the built-in set `softcheck` (careful scalar kernels)
// ------------------------------------------------------------------
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
// Why 1 ulp: every elementwise value is computed in a wider format W
// (double for float, x87 long double for double; __float128 where the
// double logsumexp cancels) with relative error below 2^-(p+5), p the
// target precision, and rounded once to the target: |err| <= 1/2 ulp +
// 2^-5 ulp, so at most 1 ulp apart on the integer bit scale.
// - x - max is computed without loss: exactly in double for float inputs to
//   2^-53 relative, and as an unevaluated TwoSum pair for double inputs.
// - The normaliser is 1 + s, s = sum of exp(x_c - max) over the non-max
//   terms, accumulated with Neumaier compensation in W, and the log of it is
//   log1p(s): the max element's log-probability -log1p(s) keeps every digit
//   when s is 1e-30, and so does a confident cross-entropy loss.
// - (*) logsumexp = max + log1p(s) cancels when max is in (-log K, 0).
//   When |result| < 2^-5 |max| the row is recomputed in __float128; the
//   1 ulp bound then holds while |result| >= 2^-50 |max|.
// Reductions and backward ops sum signed terms, which may cancel; their
// error is bounded by the size of the terms (the scaled bound of plugin.h):
// compensated accumulation in W leaves 2 u_W + O(K u_W^2) of M, far below
// u, and the final rounding 1/2 ulp; declared as 4u M + 1 ulp.
//
// Special values: as in <softcheck/plugin.h> (NaN row -> NaN row; +inf ->
// logsumexp +inf, softmax NaN; all -inf row -> 0 / -inf / -inf; C = 1 ->
// 1 / 0 / x). Valid input range: every finite float/double. Subnormal
// outputs are produced, never flushed.
#pragma once

#include <softcheck/types.hpp>

#include <cstdint>

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

// The built-in kernel set `softcheck`, as the plugin ABI sees it.
const softcheck_kernel_set &builtin_kernel_set();
// The same set wrapped as a plugin description (what the plugin library returns).
const softcheck_plugin &builtin_plugin();

} // namespace softcheck
