/*
 * mykernels: softmax, log_softmax and logsumexp over the classes axis, in
 * float32 and float64, as a softcheck plugin (one kernel set, "mykernels").
 *
 * The row's maximum m is taken out first and the sum of the other terms,
 * rest = sum over c != argmax of exp(x_c - m), is added as log1p(rest), so
 * the maximum's log-probability -log1p(rest) keeps its digits when rest is
 * tiny (Blanchard, Higham and Higham, 2021). float32 rows are computed in
 * double and rounded once. Special values follow softcheck/plugin.h: a NaN
 * in the row, or +inf, gives NaN (logsumexp: +inf for +inf); a row of -inf
 * gives softmax 0, log_softmax and logsumexp -inf.
 *
 * Built with MYKERNELS_BROKEN, softmax leaves out the max shift: exp(x)
 * overflows for logits past about 709 (float32 rows, in double) and
 * underflows below about -745, and the row turns to NaN (inf / inf, 0 / 0).
 */
#include <softcheck/plugin.h>
#include <softcheck/plugin_util.h>

#include <math.h>

#ifdef MYKERNELS_BROKEN
#define BROKEN_SOFTMAX 1
#else
#define BROKEN_SOFTMAX 0
#endif

enum row_kind { FINITE, HAS_NAN, HAS_POS_INF, ALL_NEG_INF };

/* The row's kind; when FINITE, its maximum m and rest (computed in double,
 * or in long double for float64 rows, whose terms need the extra bits). */
#define ROW_SCAN(T, W, SUFFIX, EXP)                                                                \
  static enum row_kind scan_##SUFFIX(softcheck_shape s, const T *x, int64_t r, W *m, W *rest) {    \
    int64_t c, k = 0;                                                                              \
    int nan = 0;                                                                                   \
    W best = -INFINITY, sum = 0;                                                                   \
    for (c = 0; c < s.classes; ++c) {                                                              \
      W v = x[softcheck_index(s, r, c)];                                                           \
      if (isnan(v))                                                                                \
        nan = 1;                                                                                   \
      else if (c == 0 || v > best)                                                                 \
        best = v, k = c;                                                                           \
    }                                                                                              \
    if (nan) return HAS_NAN;                                                                       \
    if (best == INFINITY) return HAS_POS_INF;                                                      \
    if (best == -INFINITY) return ALL_NEG_INF;                                                     \
    for (c = 0; c < s.classes; ++c)                                                                \
      if (c != k) sum += EXP(x[softcheck_index(s, r, c)] - best);                                  \
    *m = best;                                                                                     \
    *rest = sum;                                                                                   \
    return FINITE;                                                                                 \
  }

#define KERNELS(T, W, SUFFIX, EXP, LOG1P)                                                          \
  ROW_SCAN(T, W, SUFFIX, EXP)                                                                      \
  static softcheck_status softmax_##SUFFIX(softcheck_shape s, const void *xv, void *yv) {          \
    const T *x = (const T *)xv;                                                                    \
    T *y = (T *)yv;                                                                                \
    softcheck_extent e;                                                                            \
    int64_t r, c;                                                                                  \
    softcheck_status st = softcheck_check_forward(s, sizeof(T), xv, yv, 0, &e);                    \
    if (st != SOFTCHECK_OK) return st;                                                             \
    for (r = 0; r < e.rows && s.classes > 0; ++r) {                                                \
      W m = 0, rest = 0, plain = 0;                                                                \
      enum row_kind kind = scan_##SUFFIX(s, x, r, &m, &rest);                                      \
      if (BROKEN_SOFTMAX) /* the bug: sum of exp(x) with no shift, overflows */                    \
        for (c = 0; c < s.classes; ++c) plain += EXP((W)x[softcheck_index(s, r, c)]);              \
      for (c = 0; c < s.classes; ++c) {                                                            \
        const int64_t i = softcheck_index(s, r, c);                                                \
        if (kind == FINITE)                                                                        \
          y[i] = BROKEN_SOFTMAX ? (T)(EXP((W)x[i]) / plain) : (T)(EXP(x[i] - m) / (1 + rest));     \
        else                                                                                       \
          y[i] = kind == ALL_NEG_INF ? (T)0 : (T)NAN;                                              \
      }                                                                                            \
    }                                                                                              \
    return SOFTCHECK_OK;                                                                           \
  }                                                                                                \
  static softcheck_status log_softmax_##SUFFIX(softcheck_shape s, const void *xv, void *yv) {      \
    const T *x = (const T *)xv;                                                                    \
    T *y = (T *)yv;                                                                                \
    softcheck_extent e;                                                                            \
    int64_t r, c;                                                                                  \
    softcheck_status st = softcheck_check_forward(s, sizeof(T), xv, yv, 0, &e);                    \
    if (st != SOFTCHECK_OK) return st;                                                             \
    for (r = 0; r < e.rows && s.classes > 0; ++r) {                                                \
      W m = 0, rest = 0;                                                                           \
      enum row_kind kind = scan_##SUFFIX(s, x, r, &m, &rest);                                      \
      const W l = kind == FINITE ? LOG1P(rest) : 0;                                                \
      for (c = 0; c < s.classes; ++c) {                                                            \
        const int64_t i = softcheck_index(s, r, c);                                                \
        y[i] = kind == FINITE        ? (T)(((W)x[i] - m) - l)                                      \
               : kind == ALL_NEG_INF ? (T)-INFINITY                                                \
                                     : (T)NAN;                                                     \
      }                                                                                            \
    }                                                                                              \
    return SOFTCHECK_OK;                                                                           \
  }                                                                                                \
  static softcheck_status logsumexp_##SUFFIX(softcheck_shape s, const void *xv, void *yv) {        \
    const T *x = (const T *)xv;                                                                    \
    T *y = (T *)yv;                                                                                \
    softcheck_extent e;                                                                            \
    int64_t r;                                                                                     \
    softcheck_status st = softcheck_check_forward(s, sizeof(T), xv, yv, 1, &e);                    \
    if (st != SOFTCHECK_OK) return st;                                                             \
    for (r = 0; r < e.rows; ++r) {                                                                 \
      W m = 0, rest = 0;                                                                           \
      enum row_kind kind = s.classes == 0 ? ALL_NEG_INF : scan_##SUFFIX(s, x, r, &m, &rest);       \
      y[r] = kind == FINITE        ? (T)(m + LOG1P(rest))                                          \
             : kind == HAS_NAN     ? (T)NAN                                                        \
             : kind == HAS_POS_INF ? (T)INFINITY                                                   \
                                   : (T)-INFINITY;                                                 \
    }                                                                                              \
    return SOFTCHECK_OK;                                                                           \
  }

KERNELS(float, double, f32, exp, log1p)
KERNELS(double, long double, f64, expl, log1pl)

static const softcheck_kernel_set sets[] = {{
    sizeof(softcheck_kernel_set),
    "mykernels",
    "softmax, log_softmax and logsumexp with log1p of the non-max terms",
    "1.0",
    {softmax_f32, log_softmax_f32, logsumexp_f32, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL},
    {softmax_f64, log_softmax_f64, logsumexp_f64, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL},
    NULL, /* no declared contract: softcheck's default bounds apply */
    NULL, /* single-threaded */
    0,    /* reads nothing past its inputs */
    {0},  /* softcheck's conventions for special cases */
    {0},  /* no bfloat16 kernels */
    {0},  /* no float16 kernels */
    NULL,
}};

static const softcheck_plugin plugin = {SOFTCHECK_ABI_VERSION, sizeof(softcheck_plugin),
                                        "mykernels", 1, sets};

SOFTCHECK_EXPORT const softcheck_plugin *softcheck_plugin_v1(void) { return &plugin; }
