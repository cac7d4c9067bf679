// The oracle: the correctly rounded result of every op of the kernel API,
// for the exact float/double inputs, with the semantics of
// <softcheck/plugin.h> for special values and bad input.
//
// How it knows it is right: every op is evaluated in interval arithmetic
// over MPFR (directed rounding), which encloses the exact result. Both ends
// of the enclosure are rounded to the target format (round to nearest
// even, with the target's subnormal range and overflow); when they agree,
// that is the correctly rounded value. When they do not, the precision is
// doubled and the row is evaluated again (Ziv's strategy), up to
// `max_precision` bits. Exact results (rational ones, like the backward of
// softmax, can sit on a rounding midpoint) are reached exactly once the
// precision holds them, so they round correctly too.
#pragma once

#include <softcheck/case.hpp>
#include <softcheck/types.hpp>

#include <cstdint>

namespace softcheck::oracle {

enum class Backend {
  mpfr_interval, // the oracle: enclosures with Ziv's strategy
  cpp_bin_float, // Boost.Multiprecision cpp_bin_float<256>, round to nearest:
                 // an independent second backend for self-checks only
};

struct Stats {
  int64_t evaluations = 0;      // row or whole-op evaluations, retries included
  int64_t retries = 0;          // evaluations repeated at a higher precision
  int64_t max_precision = 0;    // highest precision used, bits
  int64_t unresolved = 0;       // outputs still ambiguous at max_precision
  int64_t fast_settled = 0;     // rows (or whole reductions) settled by the fast phase
  int64_t fast_outputs = 0;     // their outputs
  int64_t interval_outputs = 0; // outputs the interval path evaluated (first pass)
};

struct Config {
  Backend backend = Backend::mpfr_interval;
  int64_t start_precision = 0; // bits; 0: 64 for float, 128 for double
  int64_t max_precision = 1 << 16;
  Stats *stats = nullptr; // optional, accumulated into
  // First try each row (or loss) in double or double-double with a
  // rigorous error bound, every op and format, and keep MPFR for what that
  // cannot settle (oracle/src/fast.hpp). Same results either way.
  bool fast = true;
  // For self-checks only: < 1 shrinks the fast phase's error bounds, which
  // the comparison with the interval path must then catch.
  double fast_bound_scale = 1;
  // Use the open ends of enclosures when rounding (see oracle/src/
  // interval.hpp); off, an exact value a hair from a midpoint needs the
  // precision that resolves the hair. For self-checks.
  bool open_ends = true;
};

// The configuration ops use when none is passed: Config{} unless a
// ScopedConfig on this thread says otherwise (so the oracle's kernel set,
// called through the plugin ABI, can be configured too).
const Config &current_config();
class ScopedConfig {
public:
  explicit ScopedConfig(const Config &c);
  ~ScopedConfig();
  ScopedConfig(const ScopedConfig &) = delete;
  ScopedConfig &operator=(const ScopedConfig &) = delete;

private:
  const Config *previous_;
};

template <class T> Status softmax(Shape s, const T *x, T *y, const Config &c = current_config());
template <class T>
Status log_softmax(Shape s, const T *x, T *y, const Config &c = current_config());
template <class T>
Status logsumexp(Shape s, const T *x, T *out, const Config &c = current_config());
template <class T>
Status softmax_backward(Shape s, const T *y, const T *dy, T *dx,
                        const Config &c = current_config());
template <class T>
Status log_softmax_backward(Shape s, const T *y, const T *dy, T *dx,
                            const Config &c = current_config());
template <class T>
Status nll_loss(Shape s, const T *logp, const int64_t *target, const LossOptions<T> &o, T *out,
                const Config &c = current_config());
template <class T>
Status nll_loss_backward(Shape s, const int64_t *target, const LossOptions<T> &o, const T *dout,
                         T *dlogp, const Config &c = current_config());
template <class T>
Status cross_entropy(Shape s, const T *logits, const int64_t *target, const LossOptions<T> &o,
                     T *out, const Config &c = current_config());
template <class T>
Status cross_entropy_backward(Shape s, const T *logits, const int64_t *target,
                              const LossOptions<T> &o, const T *dout, T *dlogits,
                              const Config &c = current_config());
template <class T>
Status cross_entropy_prob(Shape s, const T *logits, const T *target, const LossOptions<T> &o,
                          T *out, const Config &c = current_config());
template <class T>
Status cross_entropy_prob_backward(Shape s, const T *logits, const T *target,
                                   const LossOptions<T> &o, const T *dout, T *dlogits,
                                   const Config &c = current_config());

// Frees the calling thread's MPFR caches (constants such as log 2). A
// thread that ran the oracle calls it before it ends.
void release_thread_caches();

// The oracle as a kernel set (`oracle`), so tools call it like any kernel.
const softcheck_kernel_set &kernel_set();

// For the softmax/log_softmax backward ops, whose x is a forward output:
// replaces the logits in c.x by their correctly rounded softmax or
// log_softmax. Other ops are left as they are.
template <class T> void logits_to_forward_output(Case<T> &c) {
  if (c.op != SOFTCHECK_OP_SOFTMAX_BACKWARD && c.op != SOFTCHECK_OP_LOG_SOFTMAX_BACKWARD) return;
  std::vector<T> y(c.x.size());
  if (c.op == SOFTCHECK_OP_SOFTMAX_BACKWARD)
    oracle::softmax<T>(c.shape, c.x.data(), y.data());
  else
    oracle::log_softmax<T>(c.shape, c.x.data(), y.data());
  c.x = std::move(y);
}

// Runs one case (see softcheck/case.hpp) on the oracle with configuration c.
template <class T> Status call(const Case<T> &cs, T *out, const Config &c = current_config()) {
  ScopedConfig scope(c);
  return softcheck::call(ops_of<T>(kernel_set()), cs, data_of(cs), out);
}

} // namespace softcheck::oracle
