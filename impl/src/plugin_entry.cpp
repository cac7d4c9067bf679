// The built-in kernels as a plugin shared library, loadable like any user's.
#include <softcheck/kernels.hpp>

extern "C" SOFTCHECK_EXPORT const softcheck_plugin *softcheck_plugin_v1(void) {
  return &softcheck::builtin_plugin();
}
