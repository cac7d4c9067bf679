/*
 * A kernel that reports what it was handed: softmax of one row of at least
 * three classes writes, instead of probabilities, y[0] = 1 when y is x (in
 * place), y[1] and y[2] the offsets of x and y within their pages.
 */
#include <softcheck/plugin.h>

#include <stddef.h>
#include <stdint.h>

static softcheck_status probe(softcheck_shape s, const void *x, void *y) {
  if (s.outer != 1 || s.classes < 3 || s.inner != 1) return SOFTCHECK_ERR_UNSUPPORTED;
  const float same = x == y ? 1.0f : 0.0f;
  const float x_off = (float)((uintptr_t)x % 4096), y_off = (float)((uintptr_t)y % 4096);
  float *out = (float *)y;
  out[0] = same;
  out[1] = x_off;
  out[2] = y_off;
  for (int64_t c = 3; c < s.classes; ++c) out[c] = 0.0f;
  return SOFTCHECK_OK;
}

#define NO_OPS NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
static const softcheck_kernel_set sets[] = {{sizeof(softcheck_kernel_set),
                                             "probe",
                                             NULL,
                                             NULL,
                                             {probe, NO_OPS},
                                             {NULL, NO_OPS},
                                             NULL,
                                             NULL,
                                             0,
                                             {0},
                                             {0},
                                             {0},
                                             NULL}};
static const softcheck_plugin plugin = {SOFTCHECK_ABI_VERSION, sizeof(softcheck_plugin), "probe", 1,
                                        sets};

SOFTCHECK_EXPORT const softcheck_plugin *softcheck_plugin_v1(void) { return &plugin; }
