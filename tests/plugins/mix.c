/*
 * A softmax with the mix a real library showed: a convention (fully masked
 * rows are NaN, declared), a special-value defect (a NaN is dropped, so its
 * row comes out finite) and a finite-accuracy defect (normal outputs just
 * above 2^-126 are 41% low, as a flush-to-zero path gives them). softcheck
 * must list the convention once, report both defects with their own
 * counterexamples, and keep fuzz's finite error apart from the NaN ones.
 */
#include <softcheck/plugin.h>

#include <float.h>
#include <math.h>

static softcheck_status softmax(softcheck_shape s, const void *xv, void *yv) {
  const float *x = (const float *)xv;
  float *y = (float *)yv;
  if (s.outer < 0 || s.classes < 0 || s.inner < 0) return SOFTCHECK_ERR_NEGATIVE_SIZE;
  if (s.inner != 1) return SOFTCHECK_ERR_UNSUPPORTED; /* rows of stride 1 only */
  for (int64_t o = 0; o < s.outer; ++o) {
    const float *xr = x + o * s.classes;
    float *yr = y + o * s.classes;
    float m = -INFINITY;
    for (int64_t c = 0; c < s.classes; ++c) m = fmaxf(m, xr[c]); /* fmaxf drops a NaN */
    double sum = 0;
    for (int64_t c = 0; c < s.classes; ++c)
      if (!isnan(xr[c])) sum += exp((double)xr[c] - (double)m); /* NaN - NaN for m = -inf */
    for (int64_t c = 0; c < s.classes; ++c) {
      float v = isnan(xr[c]) ? 0.0f : (float)(exp((double)xr[c] - (double)m) / sum);
      if (v >= FLT_MIN && v < 0x1p-120f) v *= 0.59f; /* the finite defect */
      yr[c] = v;
    }
  }
  return SOFTCHECK_OK;
}

#define NO_OPS NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
static const softcheck_kernel_set sets[] = {{
    sizeof(softcheck_kernel_set),
    "mix",
    "softmax: masked rows NaN (declared), a NaN dropped, outputs near 2^-126 41% low",
    "1.0",
    {softmax, NO_OPS},
    {NULL, NO_OPS},
    NULL,
    NULL,
    0,
    {SOFTCHECK_CONVENTION_NAN /* SOFTCHECK_CLASS_MASKED_ROW */},
    {0},
    {0},
    NULL,
}};
static const softcheck_plugin plugin = {SOFTCHECK_ABI_VERSION, sizeof(softcheck_plugin), "mix", 1,
                                        sets};

SOFTCHECK_EXPORT const softcheck_plugin *softcheck_plugin_v1(void) { return &plugin; }
