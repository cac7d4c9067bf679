/*
 * An example plugin with two kernel sets, both in the working precision:
 *
 *   textbook  the max-shifted softmax, log_softmax, logsumexp and
 *             cross-entropy that most code has: x - max - log(sum). It
 *             fails softcheck: the max element's log-probability and
 *             confident losses round to 0, -inf rows become NaN.
 *   careful   the same ops as Blanchard, Higham & Higham (2021) recommend:
 *             log1p of the sum of the non-max terms, plus the special-value
 *             semantics of softcheck/plugin.h. It passes softcheck's default
 *             bounds.
 *
 * Build it as a shared library:
 *
 *   cc -std=c99 -O2 -shared -fPIC -I<softcheck>/abi/include textbook.c -o libtextbook.so -lm
 *
 * and verify it with `softcheck kernels --plugin ./libtextbook.so`.
 */
#include <softcheck/plugin.h>
#include <softcheck/plugin_util.h>

#include <math.h>

/* Shapes from a caller may be hostile: reject what we cannot index, with
 * the statuses plugin.h lists (plugin_util.h has its rules as code). */
static softcheck_status check(softcheck_shape s, const void *a, const void *b, int64_t *rows) {
  softcheck_extent e;
  softcheck_status st = softcheck_check_shape(s, sizeof(double), &e);
  if (st != SOFTCHECK_OK) return st;
  *rows = e.rows;
  if (softcheck_missing(a, e.elems) || softcheck_missing(b, e.elems))
    return SOFTCHECK_ERR_NULL_POINTER;
  return SOFTCHECK_OK;
}

/* The options and targets of a loss: bad input first (plugin.h's status),
 * then what this kernel declines (weights, label smoothing). */
static softcheck_status check_loss(softcheck_shape s, size_t size, const int64_t *t,
                                   const softcheck_loss_options *o, const void *y, int64_t rows) {
  softcheck_extent e;
  softcheck_status st;
  e.rows = rows;
  e.elems = rows * s.classes;
  if (softcheck_missing(y, softcheck_loss_out_count(o, e))) return SOFTCHECK_ERR_NULL_POINTER;
  st = softcheck_check_options(s, size, o);
  if (st != SOFTCHECK_OK) return st;
  st = softcheck_check_targets(t, rows, s.classes, o->ignore_index);
  if (st != SOFTCHECK_OK) return st;
  if (o->weight != NULL || o->label_smoothing != 0) return SOFTCHECK_ERR_UNSUPPORTED;
  return SOFTCHECK_OK;
}

/* Element c of row r. */
#define AT(p, s, r, c) (p)[((r) / (s).inner * (s).classes + (c)) * (s).inner + (r) % (s).inner]

#define TEXTBOOK_KERNELS(T, SUFFIX, EXP, LOG)                                                      \
  static T row_max_##SUFFIX(softcheck_shape s, const T *x, int64_t r) {                            \
    T m = AT(x, s, r, 0);                                                                          \
    for (int64_t c = 1; c < s.classes; ++c)                                                        \
      if (AT(x, s, r, c) > m) m = AT(x, s, r, c);                                                  \
    return m;                                                                                      \
  }                                                                                                \
  static T row_sum_##SUFFIX(softcheck_shape s, const T *x, int64_t r, T m) {                       \
    T sum = 0;                                                                                     \
    for (int64_t c = 0; c < s.classes; ++c) sum += EXP(AT(x, s, r, c) - m);                        \
    return sum;                                                                                    \
  }                                                                                                \
  static softcheck_status softmax_##SUFFIX(softcheck_shape s, const void *xv, void *yv) {          \
    const T *x = (const T *)xv;                                                                    \
    T *y = (T *)yv;                                                                                \
    int64_t rows;                                                                                  \
    softcheck_status st = check(s, xv, yv, &rows);                                                 \
    if (st != SOFTCHECK_OK || s.classes == 0) return st;                                           \
    for (int64_t r = 0; r < rows; ++r) {                                                           \
      T m = row_max_##SUFFIX(s, x, r), sum = row_sum_##SUFFIX(s, x, r, m);                         \
      for (int64_t c = 0; c < s.classes; ++c) AT(y, s, r, c) = EXP(AT(x, s, r, c) - m) / sum;      \
    }                                                                                              \
    return SOFTCHECK_OK;                                                                           \
  }                                                                                                \
  static softcheck_status log_softmax_##SUFFIX(softcheck_shape s, const void *xv, void *yv) {      \
    const T *x = (const T *)xv;                                                                    \
    T *y = (T *)yv;                                                                                \
    int64_t rows;                                                                                  \
    softcheck_status st = check(s, xv, yv, &rows);                                                 \
    if (st != SOFTCHECK_OK || s.classes == 0) return st;                                           \
    for (int64_t r = 0; r < rows; ++r) {                                                           \
      T m = row_max_##SUFFIX(s, x, r), lse = LOG(row_sum_##SUFFIX(s, x, r, m));                    \
      for (int64_t c = 0; c < s.classes; ++c) AT(y, s, r, c) = AT(x, s, r, c) - m - lse;           \
    }                                                                                              \
    return SOFTCHECK_OK;                                                                           \
  }                                                                                                \
  static softcheck_status logsumexp_##SUFFIX(softcheck_shape s, const void *xv, void *yv) {        \
    const T *x = (const T *)xv;                                                                    \
    T *y = (T *)yv;                                                                                \
    int64_t rows;                                                                                  \
    softcheck_status st = check(s, xv, yv, &rows);                                                 \
    if (st != SOFTCHECK_OK) return st;                                                             \
    for (int64_t r = 0; r < rows; ++r) {                                                           \
      if (s.classes == 0) {                                                                        \
        y[r] = -INFINITY;                                                                          \
        continue;                                                                                  \
      }                                                                                            \
      T m = row_max_##SUFFIX(s, x, r);                                                             \
      y[r] = m + LOG(row_sum_##SUFFIX(s, x, r, m));                                                \
    }                                                                                              \
    return SOFTCHECK_OK;                                                                           \
  }                                                                                                \
  static softcheck_status cross_entropy_##SUFFIX(softcheck_shape s, const void *xv,                \
                                                 const int64_t *t,                                 \
                                                 const softcheck_loss_options *o, void *yv) {      \
    const T *x = (const T *)xv;                                                                    \
    T *y = (T *)yv;                                                                                \
    int64_t rows;                                                                                  \
    if (o == NULL) return SOFTCHECK_ERR_NULL_POINTER;                                              \
    softcheck_status st = check(s, xv, t, &rows);                                                  \
    if (st != SOFTCHECK_OK) return st;                                                             \
    st = check_loss(s, sizeof(T), t, o, yv, rows);                                                 \
    if (st != SOFTCHECK_OK) return st;                                                             \
    T total = 0;                                                                                   \
    int64_t counted = 0;                                                                           \
    for (int64_t r = 0; r < rows; ++r) {                                                           \
      T loss = 0;                                                                                  \
      if (t[r] != o->ignore_index) {                                                               \
        T m = row_max_##SUFFIX(s, x, r);                                                           \
        loss = m + LOG(row_sum_##SUFFIX(s, x, r, m)) - AT(x, s, r, t[r]);                          \
        ++counted;                                                                                 \
      }                                                                                            \
      if (o->reduction == SOFTCHECK_REDUCTION_NONE) y[r] = loss;                                   \
      total += loss;                                                                               \
    }                                                                                              \
    if (o->reduction == SOFTCHECK_REDUCTION_SUM) y[0] = total;                                     \
    if (o->reduction == SOFTCHECK_REDUCTION_MEAN) /* 0 / 0: NaN, without dividing by 0 */          \
      y[0] = counted == 0 ? (T)NAN : total / (T)counted;                                           \
    return SOFTCHECK_OK;                                                                           \
  }

TEXTBOOK_KERNELS(float, f32, expf, logf)
TEXTBOOK_KERNELS(double, f64, exp, log)

/* ------------------------------------------------------------- careful */

/* A row's special-value class (plugin.h): 0 finite, 1 NaN, 2 +inf, 3 all -inf. */
/* Losses are accumulated in the wider type W: a loss of 2 * FLT_MAX (max - x_t
 * for logits at both ends of the range) is finite there, and so is its mean. */
#define CAREFUL_KERNELS(T, W, SUFFIX, EXP, LOG1P, ISNAN)                                           \
  static int careful_scan_##SUFFIX(softcheck_shape s, const T *x, int64_t r, T *m, int64_t *k,     \
                                   T *rest) {                                                      \
    int nan = 0;                                                                                   \
    *m = -INFINITY;                                                                                \
    *k = 0;                                                                                        \
    for (int64_t c = 0; c < s.classes; ++c) {                                                      \
      T v = AT(x, s, r, c);                                                                        \
      if (ISNAN(v))                                                                                \
        nan = 1;                                                                                   \
      else if (v > *m || (c == 0)) {                                                               \
        if (c == 0 || v > *m) *m = v, *k = c;                                                      \
      }                                                                                            \
    }                                                                                              \
    if (nan) return 1;                                                                             \
    if (*m == INFINITY) return 2;                                                                  \
    if (*m == -INFINITY) return 3;                                                                 \
    *rest = 0;                                                                                     \
    for (int64_t c = 0; c < s.classes; ++c)                                                        \
      if (c != *k) *rest += EXP(AT(x, s, r, c) - *m);                                              \
    return 0;                                                                                      \
  }                                                                                                \
  static softcheck_status careful_softmax_##SUFFIX(softcheck_shape s, const void *xv, void *yv) {  \
    const T *x = (const T *)xv;                                                                    \
    T *y = (T *)yv;                                                                                \
    int64_t rows, k;                                                                               \
    T m, rest = 0;                                                                                 \
    softcheck_status st = check(s, xv, yv, &rows);                                                 \
    if (st != SOFTCHECK_OK || s.classes == 0) return st;                                           \
    for (int64_t r = 0; r < rows; ++r) {                                                           \
      int kind = careful_scan_##SUFFIX(s, x, r, &m, &k, &rest);                                    \
      for (int64_t c = 0; c < s.classes; ++c)                                                      \
        AT(y, s, r, c) = kind == 0   ? EXP(AT(x, s, r, c) - m) / (1 + rest)                        \
                         : kind == 3 ? (T)0                                                        \
                                     : (T)NAN;                                                     \
    }                                                                                              \
    return SOFTCHECK_OK;                                                                           \
  }                                                                                                \
  static softcheck_status careful_log_softmax_##SUFFIX(softcheck_shape s, const void *xv,          \
                                                       void *yv) {                                 \
    const T *x = (const T *)xv;                                                                    \
    T *y = (T *)yv;                                                                                \
    int64_t rows, k;                                                                               \
    T m, rest = 0;                                                                                 \
    softcheck_status st = check(s, xv, yv, &rows);                                                 \
    if (st != SOFTCHECK_OK || s.classes == 0) return st;                                           \
    for (int64_t r = 0; r < rows; ++r) {                                                           \
      int kind = careful_scan_##SUFFIX(s, x, r, &m, &k, &rest);                                    \
      T l = kind == 0 ? LOG1P(rest) : 0;                                                           \
      for (int64_t c = 0; c < s.classes; ++c)                                                      \
        AT(y, s, r, c) = kind == 0 ? (AT(x, s, r, c) - m) - l : kind == 3 ? (T)-INFINITY : (T)NAN; \
    }                                                                                              \
    return SOFTCHECK_OK;                                                                           \
  }                                                                                                \
  static softcheck_status careful_logsumexp_##SUFFIX(softcheck_shape s, const void *xv,            \
                                                     void *yv) {                                   \
    const T *x = (const T *)xv;                                                                    \
    T *y = (T *)yv;                                                                                \
    int64_t rows, k;                                                                               \
    T m, rest = 0;                                                                                 \
    softcheck_status st = check(s, xv, yv, &rows);                                                 \
    if (st != SOFTCHECK_OK) return st;                                                             \
    if (rows > 0 && y == NULL) return SOFTCHECK_ERR_NULL_POINTER;                                  \
    for (int64_t r = 0; r < rows; ++r) {                                                           \
      int kind = s.classes == 0 ? 3 : careful_scan_##SUFFIX(s, x, r, &m, &k, &rest);               \
      y[r] = kind == 0   ? m + LOG1P(rest)                                                         \
             : kind == 1 ? (T)NAN                                                                  \
             : kind == 2 ? (T)INFINITY                                                             \
                         : (T)-INFINITY;                                                           \
    }                                                                                              \
    return SOFTCHECK_OK;                                                                           \
  }                                                                                                \
  static softcheck_status careful_cross_entropy_##SUFFIX(                                          \
      softcheck_shape s, const void *xv, const int64_t *t, const softcheck_loss_options *o,        \
      void *yv) {                                                                                  \
    const T *x = (const T *)xv;                                                                    \
    T *y = (T *)yv;                                                                                \
    int64_t rows, k;                                                                               \
    T m, rest = 0;                                                                                 \
    if (o == NULL) return SOFTCHECK_ERR_NULL_POINTER;                                              \
    softcheck_status st = check(s, xv, t, &rows);                                                  \
    if (st != SOFTCHECK_OK) return st;                                                             \
    st = check_loss(s, sizeof(T), t, o, yv, rows);                                                 \
    if (st != SOFTCHECK_OK) return st;                                                             \
    W total = 0, counted = 0;                                                                      \
    for (int64_t r = 0; r < rows; ++r) {                                                           \
      W loss = 0;                                                                                  \
      if (t[r] != o->ignore_index) {                                                               \
        int kind = careful_scan_##SUFFIX(s, x, r, &m, &k, &rest);                                  \
        /* -log_softmax at the target: (max - x_t) + log1p(rest) */                                \
        loss = kind == 0   ? ((W)m - (W)AT(x, s, r, t[r])) + (W)LOG1P(rest)                        \
               : kind == 3 ? (W)INFINITY                                                           \
                           : (W)NAN;                                                               \
        counted += 1;                                                                              \
      }                                                                                            \
      if (o->reduction == SOFTCHECK_REDUCTION_NONE) y[r] = (T)loss;                                \
      total += loss;                                                                               \
    }                                                                                              \
    if (o->reduction == SOFTCHECK_REDUCTION_SUM) y[0] = (T)total;                                  \
    if (o->reduction == SOFTCHECK_REDUCTION_MEAN)                                                  \
      y[0] = counted == 0 ? (T)NAN : (T)(total / counted);                                         \
    return SOFTCHECK_OK;                                                                           \
  }

CAREFUL_KERNELS(float, double, f32, expf, log1pf, isnan)
CAREFUL_KERNELS(double, long double, f64, exp, log1p, isnan)

static const softcheck_kernel_set sets[] = {
    {
        sizeof(softcheck_kernel_set),
        "textbook",
        "max-shifted softmax in the working precision, no log1p, plain summation",
        "1.0",
        {softmax_f32, log_softmax_f32, logsumexp_f32, NULL, NULL, NULL, NULL, cross_entropy_f32,
         NULL, NULL, NULL},
        {softmax_f64, log_softmax_f64, logsumexp_f64, NULL, NULL, NULL, NULL, cross_entropy_f64,
         NULL, NULL, NULL},
        NULL, /* no declared contract: the suite's default bounds apply */
        NULL, /* no set_num_threads */
        0,    /* reads nothing past its inputs */
        {0},  /* softcheck's conventions everywhere (plugin.h) */
        {0},  /* no bfloat16 kernels */
        {0},  /* no float16 kernels */
        NULL, /* no half contract */
    },
    {
        sizeof(softcheck_kernel_set),
        "careful",
        "shifted softmax with log1p of the non-max terms, in the working precision",
        "1.0",
        {careful_softmax_f32, careful_log_softmax_f32, careful_logsumexp_f32, NULL, NULL, NULL,
         NULL, careful_cross_entropy_f32, NULL, NULL, NULL},
        {careful_softmax_f64, careful_log_softmax_f64, careful_logsumexp_f64, NULL, NULL, NULL,
         NULL, careful_cross_entropy_f64, NULL, NULL, NULL},
        NULL,
        NULL,
        0,
        {0},
        {0},
        {0},
        NULL,
    },
};

static const softcheck_plugin plugin = {SOFTCHECK_ABI_VERSION, sizeof(softcheck_plugin),
                                        "textbook example", 2, sets};

SOFTCHECK_EXPORT const softcheck_plugin *softcheck_plugin_v1(void) { return &plugin; }
