/*
 * An example plugin: the textbook softmax, log_softmax, logsumexp and
 * cross-entropy (class-index targets), in the working precision, with the
 * max shift and nothing more. This is what most code does; softcheck shows
 * where it loses accuracy. Build it as a shared library:
 *
 *   cc -std=c99 -O2 -shared -fPIC -I<softcheck>/abi/include textbook.c -o libtextbook.so -lm
 *
 * and verify it with `softcheck kernels --plugin ./libtextbook.so`.
 */
#include <softcheck/plugin.h>

#include <math.h>

/* Shapes from a caller may be hostile: reject what we cannot index. */
static softcheck_status check(softcheck_shape s, const void *a, const void *b, int64_t *rows) {
  if (s.outer < 0 || s.classes < 0 || s.inner < 0) return SOFTCHECK_ERR_NEGATIVE_SIZE;
  if (s.inner != 0 && s.outer > INT64_MAX / s.inner) return SOFTCHECK_ERR_SIZE_OVERFLOW;
  *rows = s.outer * s.inner;
  if (s.classes != 0 && *rows > INT64_MAX / 8 / s.classes) return SOFTCHECK_ERR_SIZE_OVERFLOW;
  if (*rows * s.classes > 0 && (a == NULL || b == NULL)) return SOFTCHECK_ERR_NULL_POINTER;
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
    if (o->reduction < 0 || o->reduction > 2) return SOFTCHECK_ERR_BAD_REDUCTION;                  \
    if (o->weight != NULL || o->label_smoothing != 0) return SOFTCHECK_ERR_UNSUPPORTED;            \
    if (y == NULL) return SOFTCHECK_ERR_NULL_POINTER;                                              \
    for (int64_t r = 0; r < rows; ++r)                                                             \
      if (t[r] != o->ignore_index && (t[r] < 0 || t[r] >= s.classes))                              \
        return SOFTCHECK_ERR_TARGET_RANGE;                                                         \
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
    if (o->reduction == SOFTCHECK_REDUCTION_MEAN) y[0] = total / (T)counted;                       \
    return SOFTCHECK_OK;                                                                           \
  }

TEXTBOOK_KERNELS(float, f32, expf, logf)
TEXTBOOK_KERNELS(double, f64, exp, log)

static const softcheck_kernel_set sets[] = {{
    sizeof(softcheck_kernel_set),
    "textbook",
    "max-shifted softmax in the working precision, no log1p, plain summation",
    "1.0",
    {softmax_f32, log_softmax_f32, logsumexp_f32, NULL, NULL, NULL, NULL, cross_entropy_f32, NULL,
     NULL, NULL},
    {softmax_f64, log_softmax_f64, logsumexp_f64, NULL, NULL, NULL, NULL, cross_entropy_f64, NULL,
     NULL, NULL},
    NULL, /* no declared contract: the suite's default bounds apply */
    NULL,
}};

static const softcheck_plugin plugin = {SOFTCHECK_ABI_VERSION, sizeof(softcheck_plugin),
                                        "textbook example", 1, sets};

SOFTCHECK_EXPORT const softcheck_plugin *softcheck_plugin_v1(void) { return &plugin; }
