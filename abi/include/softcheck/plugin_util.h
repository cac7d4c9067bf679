/*
 * Helpers for plugin authors: the bad-input rules of <softcheck/plugin.h>
 * ("Bad input") and its layout, as plain C99 inline functions, so a plugin
 * returns the status softcheck expects without writing the rules again.
 * Nothing here allocates or needs a library; every check runs before a
 * kernel writes anything, so a rejected call leaves its outputs untouched.
 *
 *   softcheck_extent e;
 *   softcheck_status st = softcheck_check_forward(shape, sizeof(float), x, y, 0, &e);
 *   if (st != SOFTCHECK_OK) return st;
 *
 * and for a loss: softcheck_check_shape, softcheck_missing for each data
 * pointer (its count: e.elems, e.rows, or softcheck_loss_out_count),
 * softcheck_check_options, then softcheck_check_targets, in that order.
 *   for (int64_t r = 0; r < e.rows; ++r)
 *     for (int64_t c = 0; c < shape.classes; ++c)
 *       ... x[softcheck_index(shape, r, c)] ...
 *
 * A kernel that lacks a layout, size or option returns
 * SOFTCHECK_ERR_UNSUPPORTED for it (plugin.h, "Declined cases"), after these
 * checks: bad input gets its own status first.
 */
#ifndef SOFTCHECK_PLUGIN_UTIL_H
#define SOFTCHECK_PLUGIN_UTIL_H

#include <softcheck/plugin.h>

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct softcheck_extent {
  int64_t rows;  /* outer * inner: the rows, and the size of per-row outputs */
  int64_t elems; /* outer * classes * inner */
} softcheck_extent;

/* Negative sizes, and element counts whose bytes (elem_size each) pass
 * INT64_MAX, SIZE_MAX or PTRDIFF_MAX. */
static inline softcheck_status softcheck_check_shape(softcheck_shape s, size_t elem_size,
                                                     softcheck_extent *e) {
  const uint64_t limit = (uint64_t)(PTRDIFF_MAX < SIZE_MAX ? PTRDIFF_MAX : SIZE_MAX);
  uint64_t rows, elems;
  if (s.outer < 0 || s.classes < 0 || s.inner < 0) return SOFTCHECK_ERR_NEGATIVE_SIZE;
  if (s.inner != 0 && (uint64_t)s.outer > (uint64_t)INT64_MAX / (uint64_t)s.inner)
    return SOFTCHECK_ERR_SIZE_OVERFLOW;
  rows = (uint64_t)s.outer * (uint64_t)s.inner;
  if (s.classes != 0 && rows > (uint64_t)INT64_MAX / (uint64_t)s.classes)
    return SOFTCHECK_ERR_SIZE_OVERFLOW;
  elems = rows * (uint64_t)s.classes;
  if (elem_size == 0) elem_size = 1;
  if (elems > limit / elem_size || rows > limit / elem_size) return SOFTCHECK_ERR_SIZE_OVERFLOW;
  e->rows = (int64_t)rows;
  e->elems = (int64_t)elems;
  return SOFTCHECK_OK;
}

/* A data pointer may be NULL only when it addresses no elements. */
static inline int softcheck_missing(const void *p, int64_t count) { return count > 0 && p == NULL; }

/* The offset of element (row r, class c): rows are the outer * inner
 * (o, i) pairs, r = o * inner + i, and a row's classes are inner apart. */
static inline int64_t softcheck_index(softcheck_shape s, int64_t r, int64_t c) {
  return (r / s.inner * s.classes + c) * s.inner + r % s.inner;
}

/* softmax, log_softmax (per_row = 0) and logsumexp (per_row = 1). */
static inline softcheck_status softcheck_check_forward(softcheck_shape s, size_t elem_size,
                                                       const void *x, const void *out, int per_row,
                                                       softcheck_extent *e) {
  softcheck_status st = softcheck_check_shape(s, elem_size, e);
  if (st != SOFTCHECK_OK) return st;
  if (softcheck_missing(x, e->elems) || softcheck_missing(out, per_row ? e->rows : e->elems))
    return SOFTCHECK_ERR_NULL_POINTER;
  return SOFTCHECK_OK;
}

/* softmax_backward and log_softmax_backward. */
static inline softcheck_status softcheck_check_backward(softcheck_shape s, size_t elem_size,
                                                        const void *y, const void *dy,
                                                        const void *dx, softcheck_extent *e) {
  softcheck_status st = softcheck_check_shape(s, elem_size, e);
  if (st != SOFTCHECK_OK) return st;
  if (softcheck_missing(y, e->elems) || softcheck_missing(dy, e->elems) ||
      softcheck_missing(dx, e->elems))
    return SOFTCHECK_ERR_NULL_POINTER;
  return SOFTCHECK_OK;
}

/* How many elements a loss writes (and its backward reads from dout). */
static inline int64_t softcheck_loss_out_count(const softcheck_loss_options *o,
                                               softcheck_extent e) {
  return o->reduction == SOFTCHECK_REDUCTION_NONE ? e.rows : 1;
}

/* The options of a loss op: not NULL, a known reduction, label_smoothing in
 * [0, 1] (NaN is not), every weight finite (weights have the table's dtype:
 * elem_size 4 for float, 8 for double). */
static inline softcheck_status softcheck_check_options(softcheck_shape s, size_t elem_size,
                                                       const softcheck_loss_options *o) {
  int64_t k;
  if (o == NULL) return SOFTCHECK_ERR_NULL_POINTER;
  if (o->reduction != SOFTCHECK_REDUCTION_NONE && o->reduction != SOFTCHECK_REDUCTION_MEAN &&
      o->reduction != SOFTCHECK_REDUCTION_SUM)
    return SOFTCHECK_ERR_BAD_REDUCTION;
  if (!(o->label_smoothing >= 0.0 && o->label_smoothing <= 1.0)) return SOFTCHECK_ERR_BAD_SMOOTHING;
  if (o->weight != NULL)
    for (k = 0; k < s.classes; ++k) {
      const double w = elem_size == sizeof(float) ? (double)((const float *)o->weight)[k]
                                                  : ((const double *)o->weight)[k];
      if (!(w - w == 0)) return SOFTCHECK_ERR_BAD_WEIGHT; /* NaN or infinite */
    }
  return SOFTCHECK_OK;
}

/* Class-index targets: each in [0, classes) or equal to ignore_index. */
static inline softcheck_status softcheck_check_targets(const int64_t *t, int64_t rows,
                                                       int64_t classes, int64_t ignore_index) {
  int64_t r;
  for (r = 0; r < rows; ++r)
    if (t[r] != ignore_index && (t[r] < 0 || t[r] >= classes)) return SOFTCHECK_ERR_TARGET_RANGE;
  return SOFTCHECK_OK;
}

#ifdef __cplusplus
}
#endif

#endif /* SOFTCHECK_PLUGIN_UTIL_H */
