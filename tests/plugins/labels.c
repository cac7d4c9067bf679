/*
 * A plugin whose text attacks wherever softcheck writes it out: its
 * description and version hold a live <script>, a Markdown heading and a
 * fake table row, a remote image, terminal escapes, a right-to-left
 * override and bytes that are not UTF-8. Its logsumexp is wrong (the max
 * alone), so `check` fails and prints a reproduce line; the test copies the
 * library into a folder whose name is shell syntax.
 */
#include <softcheck/plugin.h>

#include <math.h>
#include <stddef.h>

static softcheck_status max_only(softcheck_shape s, const void *x, void *y) {
  if (s.outer < 0 || s.classes < 0 || s.inner < 0) return SOFTCHECK_ERR_NEGATIVE_SIZE;
  if (s.outer * s.classes * s.inner > 0 && (x == NULL || y == NULL))
    return SOFTCHECK_ERR_NULL_POINTER;
  const float *in = (const float *)x;
  float *out = (float *)y;
  for (int64_t o = 0; o < s.outer; ++o)
    for (int64_t i = 0; i < s.inner; ++i) {
      float m = -INFINITY;
      for (int64_t c = 0; c < s.classes; ++c) {
        const float v = in[(o * s.classes + c) * s.inner + i];
        m = v > m ? v : m;
      }
      out[o * s.inner + i] = m;
    }
  return SOFTCHECK_OK;
}

#define NO_OPS NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
static const softcheck_kernel_set sets[] = {{
    sizeof(softcheck_kernel_set),
    "labels",
    "<script>alert(1)</script>\n# Forged heading\n| fake | PASSED |\n"
    "![x](http://example.invalid/x.png) \x1b[2J\x1b[31mred\x1b[0m \xe2\x80\xae\x64\x6c\x72\x6f\x77 "
    "\xff\xfe end",
    "1.0\x1b]0;title\x07 `rm -rf ~` <b>",
    {NULL, NULL, max_only, NO_OPS},
    {NULL, NULL, NULL, NO_OPS},
    NULL,
    NULL,
    0,
    {0},
    {0},
    {0},
    NULL,
}};

static const softcheck_plugin plugin = {SOFTCHECK_ABI_VERSION, sizeof(softcheck_plugin),
                                        "labels \x1b[31m", 1, sets};

SOFTCHECK_EXPORT const softcheck_plugin *softcheck_plugin_v1(void) { return &plugin; }
