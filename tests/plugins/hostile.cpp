// Hostile kernel sets built from the built-in kernels, each with one fault
// a fuzzer or a harness must catch (named by HOSTILE_<KIND>):
//   SCRIBBLE      softmax writes one element past the end of its output
//                 when the last logit is above 100
//   INPUT_WRITER  log_softmax overwrites its first input
//   CRASH         softmax writes through a null pointer (SIGSEGV)
//   ABORT         softmax calls abort()
//   HANG          softmax never returns
//   EXIT          softmax calls exit(3)
//   LEAK          softmax allocates (and touches) memory without bound
//   UNWRITTEN     softmax returns ok without writing its last output
// Every other op is the built-in kernel, so the rest of a run goes on.
#include <softcheck/kernels.hpp>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <vector>

namespace {

const softcheck_ops &builtin(bool f32) {
  return f32 ? softcheck::builtin_kernel_set().f32 : softcheck::builtin_kernel_set().f64;
}

template <class T> int64_t count(softcheck_shape s) { return s.outer * s.classes * s.inner; }

#if defined(HOSTILE_SCRIBBLE)
template <class T> softcheck_status softmax(softcheck_shape s, const void *x, void *y) {
  const softcheck_status st = builtin(sizeof(T) == 4).softmax(s, x, y);
  const int64_t n = count<T>(s);
  if (st == SOFTCHECK_OK && n > 0 && static_cast<const T *>(x)[n - 1] > 100)
    static_cast<T *>(y)[n] = T(0.5); // one past the end
  return st;
}
#elif defined(HOSTILE_INPUT_WRITER)
template <class T> softcheck_status log_softmax(softcheck_shape s, const void *x, void *y) {
  const softcheck_status st = builtin(sizeof(T) == 4).log_softmax(s, x, y);
  T *first = const_cast<T *>(static_cast<const T *>(x));
  if (st == SOFTCHECK_OK && count<T>(s) > 0) *first = *first == T(42) ? T(43) : T(42);
  return st;
}
#else
template <class T> softcheck_status softmax(softcheck_shape s, const void *x, void *y) {
#if defined(HOSTILE_CRASH)
  volatile T *nowhere = nullptr;
  *nowhere = T(1);
#elif defined(HOSTILE_ABORT)
  std::abort();
#elif defined(HOSTILE_HANG)
  for (volatile int forever = 1; forever;) {
  }
#elif defined(HOSTILE_EXIT)
  std::exit(3);
#elif defined(HOSTILE_LEAK)
  static std::vector<char *> kept;
  for (;;) {
    char *p = static_cast<char *>(std::malloc(64 << 20));
    std::memset(p, 1, 64 << 20); // a null p (the limit) crashes here, as a kernel would
    kept.push_back(p);
  }
#endif
#if defined(HOSTILE_UNWRITTEN)
  // Computed aside; every element but the last copied out.
  const int64_t n = count<T>(s);
  std::vector<T> aside(size_t(n > 0 ? n : 1));
  const softcheck_status st = builtin(sizeof(T) == 4).softmax(s, x, aside.data());
  if (st == SOFTCHECK_OK && n > 1) std::memcpy(y, aside.data(), size_t(n - 1) * sizeof(T));
  return st;
#else
  return builtin(sizeof(T) == 4).softmax(s, x, y);
#endif
}
#endif

softcheck_kernel_set make_set() {
  softcheck_kernel_set s = softcheck::builtin_kernel_set();
  s.contract = nullptr;
#if defined(HOSTILE_SCRIBBLE)
  s.name = "scribble";
  s.description = "softmax writes past the end of its output when the last logit is > 100";
  s.f32.softmax = softmax<float>;
  s.f64.softmax = softmax<double>;
#elif defined(HOSTILE_INPUT_WRITER)
  s.name = "input_writer";
  s.description = "log_softmax overwrites its first input";
  s.f32.log_softmax = log_softmax<float>;
  s.f64.log_softmax = log_softmax<double>;
#else
#if defined(HOSTILE_CRASH)
  s.name = "crash";
#elif defined(HOSTILE_ABORT)
  s.name = "abort";
#elif defined(HOSTILE_HANG)
  s.name = "hang";
#elif defined(HOSTILE_EXIT)
  s.name = "exit3";
#elif defined(HOSTILE_LEAK)
  s.name = "leak";
#elif defined(HOSTILE_UNWRITTEN)
  s.name = "unwritten";
#endif
  s.description = "the built-in kernels, softmax hostile";
  s.f32.softmax = softmax<float>;
  s.f64.softmax = softmax<double>;
#endif
  return s;
}

const softcheck_kernel_set kSet = make_set();
const softcheck_plugin kPlugin = {SOFTCHECK_ABI_VERSION, sizeof(softcheck_plugin), "hostile", 1,
                                  &kSet};

} // namespace

extern "C" SOFTCHECK_EXPORT const softcheck_plugin *softcheck_plugin_v1(void) { return &kPlugin; }
