/*
 * A plugin as it was built against the first version of plugin.h, whose
 * softcheck_kernel_set ended at set_num_threads: its array of sets has the
 * old, smaller stride. The host must read both sets, and read no
 * input_padding_bytes from it.
 */
#include <softcheck/plugin.h>

#include <stddef.h>

typedef struct v1_kernel_set {
  uint32_t struct_size;
  const char *name;
  const char *description;
  const char *version;
  softcheck_ops f32;
  softcheck_ops f64;
  const softcheck_contract *contract;
  softcheck_status (*set_num_threads)(int threads);
} v1_kernel_set;

static softcheck_status one_class(softcheck_shape s, const void *x, void *y) {
  /* softmax for rows of one class: 1 (what the property suite checks here
   * is that the call arrives at all). */
  (void)x;
  if (s.outer < 0 || s.classes < 0 || s.inner < 0) return SOFTCHECK_ERR_NEGATIVE_SIZE;
  if (s.classes != 1) return SOFTCHECK_ERR_UNSUPPORTED;
  for (int64_t i = 0; i < s.outer * s.inner; ++i) ((float *)y)[i] = 1.0f;
  return SOFTCHECK_OK;
}

#define NO_OPS NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
static const v1_kernel_set sets[] = {
    {sizeof(v1_kernel_set),
     "first_v1",
     "a set of a v1 plugin",
     "1",
     {one_class, NO_OPS},
     {NULL, NO_OPS},
     NULL,
     NULL},
    {sizeof(v1_kernel_set),
     "second_v1",
     "its second set",
     "1",
     {one_class, NO_OPS},
     {NULL, NO_OPS},
     NULL,
     NULL},
};

static const softcheck_plugin plugin = {SOFTCHECK_ABI_VERSION, sizeof(softcheck_plugin), "v1", 2,
                                        (const softcheck_kernel_set *)(const void *)sets};

SOFTCHECK_EXPORT const softcheck_plugin *softcheck_plugin_v1(void) { return &plugin; }
