// The "bad input" rules of <softcheck/plugin.h> as code, for the built-in
// kernels and the oracle. Each check runs before anything is written, so a
// rejected call leaves its outputs untouched.
#pragma once

#include <softcheck/types.hpp>

#include <cmath>
#include <cstddef>
#include <cstdint>

namespace softcheck::detail {

struct Extent {
  int64_t rows = 0;  // outer * inner
  int64_t elems = 0; // outer * classes * inner
};

// Sizes are non-negative and both element counts, in bytes of T, fit int64,
// size_t and ptrdiff_t.
template <class T> Status check_shape(Shape s, Extent &e) {
  if (s.outer < 0 || s.classes < 0 || s.inner < 0) return SOFTCHECK_ERR_NEGATIVE_SIZE;
  int64_t rows = 0, elems = 0, bytes = 0;
  if (__builtin_mul_overflow(s.outer, s.inner, &rows)) return SOFTCHECK_ERR_SIZE_OVERFLOW;
  if (__builtin_mul_overflow(rows, s.classes, &elems)) return SOFTCHECK_ERR_SIZE_OVERFLOW;
  if (__builtin_mul_overflow(elems, static_cast<int64_t>(sizeof(T)), &bytes))
    return SOFTCHECK_ERR_SIZE_OVERFLOW;
  if (__builtin_mul_overflow(rows, static_cast<int64_t>(sizeof(T)), &bytes))
    return SOFTCHECK_ERR_SIZE_OVERFLOW;
  if (static_cast<uint64_t>(bytes) > static_cast<uint64_t>(PTRDIFF_MAX))
    return SOFTCHECK_ERR_SIZE_OVERFLOW;
  e.rows = rows;
  e.elems = elems;
  return SOFTCHECK_OK;
}

// A pointer may be null only when it addresses no elements.
inline bool missing(const void *p, int64_t count) { return count > 0 && p == nullptr; }

template <class T> Status check_options(Shape s, const LossOptions<T> &o) {
  if (o.reduction != Reduction::none && o.reduction != Reduction::mean &&
      o.reduction != Reduction::sum)
    return SOFTCHECK_ERR_BAD_REDUCTION;
  if (!(o.label_smoothing >= 0.0 && o.label_smoothing <= 1.0)) return SOFTCHECK_ERR_BAD_SMOOTHING;
  if (o.weight != nullptr)
    for (int64_t k = 0; k < s.classes; ++k)
      if (!std::isfinite(o.weight[k])) return SOFTCHECK_ERR_BAD_WEIGHT;
  return SOFTCHECK_OK;
}

inline Status check_targets(const int64_t *t, int64_t rows, int64_t classes, int64_t ignore_index) {
  for (int64_t r = 0; r < rows; ++r)
    if (t[r] != ignore_index && (t[r] < 0 || t[r] >= classes)) return SOFTCHECK_ERR_TARGET_RANGE;
  return SOFTCHECK_OK;
}

// Number of elements a loss writes (or reads, for dout).
template <class T> int64_t loss_out_count(const LossOptions<T> &o, const Extent &e) {
  return o.reduction == Reduction::none ? e.rows : 1;
}

} // namespace softcheck::detail
