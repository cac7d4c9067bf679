// The float32 kernels on contiguous rows (inner = 1): the vector building
// blocks of simd.hpp driven over rows and threads. Every row is cut into
// pieces of simd::kChunk elements; a piece's partial results are combined
// in piece order, so the bits never depend on the thread count or on
// which thread computed a piece. Rows are spread over threads; when there
// are fewer rows than threads, the pieces of each row are.
#pragma once

#include "simd.hpp"

#include <cstdint>

namespace softcheck::fast {

// The special-value class of a row (plugin.h).
enum class Kind { finite, nan, pos_inf, all_neg_inf, empty };

// A float row's max, kind, rest = sum over the non-max terms of exp(x - max)
// (one max element left out; ties count 1 each) and log_s = log1p(rest).
struct Stats {
  Kind kind = Kind::empty;
  float max = 0;
  double rest = 0, log_s = 0;
};

// One row on this thread, with the accurate exp (2^-51: for the backward
// ops and the scalar paths); every row on all threads, with the fast exp
// (2^-33: for logsumexp and cross_entropy, rounded to float at once).
Stats analyze(const float *x, int64_t n);
//
// stats and the ops below take E = float, bf16 or f16 storage: a half row
// gives the bits of its widened copy's float call, narrowed (simd.hpp).
template <class E> void stats(const E *x, int64_t rows, int64_t n, Stats *out);

// *out = logsumexp<float> of a finite row from its Stats alone (kernels.cpp),
// where that kernel takes it from them; false where it reads the row again.
bool lse_from_stats(const Stats &st, float *out);

template <class E> void softmax(const E *x, E *y, int64_t rows, int64_t n);
template <class E> void log_softmax(const E *x, E *y, int64_t rows, int64_t n);
template <class E> void softmax_backward(const E *y, const E *dy, E *dx, int64_t rows, int64_t n);
template <class E>
void log_softmax_backward(const E *y, const E *dy, E *dx, int64_t rows, int64_t n);

// Cross-entropy backward with class-index targets and no class weights:
// dx[r, k] = float(g * (sr * p_k - a_k)), a_k = a0 except a_t at the
// target t. Rows that are not active are left untouched.
using CrossEntropyRow = simd::CeRow;
void cross_entropy_backward(const float *x, float *dx, int64_t rows, int64_t n,
                            const CrossEntropyRow *row);

} // namespace softcheck::fast
