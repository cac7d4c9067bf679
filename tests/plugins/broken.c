/*
 * Deliberately broken plugins for the loader's tests; one shared library per
 * BROKEN_* definition (see CMakeLists.txt).
 */
#include <softcheck/plugin.h>

#include <stddef.h>

/* Not static: the no-ops variant does not use it. */
softcheck_status identity(softcheck_shape s, const void *x, void *y) {
  (void)s, (void)x, (void)y;
  return SOFTCHECK_OK;
}

#define SET(name, fn)                                                                              \
  {                                                                                                \
    sizeof(softcheck_kernel_set), name, NULL, NULL,                                                \
        {fn, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL},                          \
        {NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL}, NULL, NULL, 0, {0},    \
        {0}, {0}, NULL                                                                             \
  }

#if defined(BROKEN_DUPLICATE_NAMES)
static const softcheck_kernel_set sets[] = {SET("twin", identity), SET("twin", identity)};
#elif defined(BROKEN_NO_OPS)
static const softcheck_kernel_set sets[] = {SET("empty", NULL)};
#elif defined(BROKEN_BAD_NAME)
static const softcheck_kernel_set sets[] = {SET("has space", identity)};
#else
static const softcheck_kernel_set sets[] = {SET("fine", identity)};
#endif

#if defined(BROKEN_WRONG_VERSION)
static const softcheck_plugin plugin = {2, sizeof(softcheck_plugin), "v2", 1, sets};
#elif defined(BROKEN_NO_SETS)
static const softcheck_plugin plugin = {SOFTCHECK_ABI_VERSION, sizeof(softcheck_plugin), "none", 0,
                                        sets + 1};
#else
static const softcheck_plugin plugin = {SOFTCHECK_ABI_VERSION, sizeof(softcheck_plugin), "broken",
                                        sizeof(sets) / sizeof(sets[0]), sets};
#endif

#if defined(BROKEN_NO_ENTRY)
SOFTCHECK_EXPORT const softcheck_plugin *softcheck_plugin_v0(void) { return &plugin; }
#elif defined(BROKEN_NULL_ENTRY)
SOFTCHECK_EXPORT const softcheck_plugin *softcheck_plugin_v1(void) {
  (void)plugin;
  return NULL;
}
#else
SOFTCHECK_EXPORT const softcheck_plugin *softcheck_plugin_v1(void) { return &plugin; }
#endif
