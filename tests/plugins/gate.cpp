// Two builds of one kernel set named "gate", for the report's baseline gate:
// the built-in kernels as they are, and (GATE_WORSE) the same kernels with
// log_softmax one ulp further from zero on every finite nonzero output, a
// regression too small for any property bound of 1 ulp to notice on correctly
// rounded outputs but one the gate must flag.
#include <softcheck/kernels.hpp>

#include <cmath>

namespace {

#ifdef GATE_WORSE
template <class T> softcheck_status worse_log_softmax(softcheck_shape s, const void *x, void *out) {
  const auto &set = softcheck::builtin_kernel_set();
  T *y = static_cast<T *>(out);
  softcheck_status st;
  if constexpr (sizeof(T) == 4)
    st = set.f32.log_softmax(s, x, out);
  else
    st = set.f64.log_softmax(s, x, out);
  if (st != SOFTCHECK_OK) return st;
  const int64_t n = s.outer * s.classes * s.inner;
  for (int64_t i = 0; i < n; ++i)
    if (std::isfinite(y[i]) && y[i] != 0) y[i] = std::nextafter(y[i], T(-INFINITY));
  return st;
}
#endif

// Accepts any thread count (the kernels are single-threaded): enough for
// the suite to run thread_count_independent through an isolated worker.
softcheck_status set_threads(int threads) {
  return threads >= 1 ? SOFTCHECK_OK : SOFTCHECK_ERR_UNSUPPORTED;
}

softcheck_kernel_set make_set() {
  softcheck_kernel_set s = softcheck::builtin_kernel_set();
  s.name = "gate";
#ifdef GATE_WORSE
  s.description = "the built-in kernels, log_softmax one ulp worse";
  s.f32.log_softmax = worse_log_softmax<float>;
  s.f64.log_softmax = worse_log_softmax<double>;
#else
  s.description = "the built-in kernels";
#endif
  s.contract = nullptr;
  s.set_num_threads = set_threads;
  return s;
}

const softcheck_kernel_set kSet = make_set();
const softcheck_plugin kPlugin = {SOFTCHECK_ABI_VERSION, sizeof(softcheck_plugin), "gate", 1,
                                  &kSet};

} // namespace

extern "C" SOFTCHECK_EXPORT const softcheck_plugin *softcheck_plugin_v1(void) { return &kPlugin; }
