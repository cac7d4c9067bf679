// The built-in kernels behind the plugin ABI: the set `softcheck`.
#include <softcheck/kernels.hpp>

#include <initializer_list>

namespace softcheck {
namespace {

template <class T> const T *in(const void *p) { return static_cast<const T *>(p); }
template <class T> T *out(void *p) { return static_cast<T *>(p); }

template <class T> softcheck_ops ops_for() {
  softcheck_ops ops{};
  ops.softmax = [](Shape s, const void *x, void *y) { return softmax<T>(s, in<T>(x), out<T>(y)); };
  ops.log_softmax = [](Shape s, const void *x, void *y) {
    return log_softmax<T>(s, in<T>(x), out<T>(y));
  };
  ops.logsumexp = [](Shape s, const void *x, void *y) {
    return logsumexp<T>(s, in<T>(x), out<T>(y));
  };
  ops.softmax_backward = [](Shape s, const void *y, const void *dy, void *dx) {
    return softmax_backward<T>(s, in<T>(y), in<T>(dy), out<T>(dx));
  };
  ops.log_softmax_backward = [](Shape s, const void *y, const void *dy, void *dx) {
    return log_softmax_backward<T>(s, in<T>(y), in<T>(dy), out<T>(dx));
  };
  ops.nll_loss = [](Shape s, const void *x, const int64_t *t, const softcheck_loss_options *o,
                    void *y) {
    LossOptions<T> lo;
    if (!to_loss_options(o, lo)) return SOFTCHECK_ERR_NULL_POINTER;
    return nll_loss<T>(s, in<T>(x), t, lo, out<T>(y));
  };
  ops.nll_loss_backward = [](Shape s, const int64_t *t, const softcheck_loss_options *o,
                             const void *dout, void *dx) {
    LossOptions<T> lo;
    if (!to_loss_options(o, lo)) return SOFTCHECK_ERR_NULL_POINTER;
    return nll_loss_backward<T>(s, t, lo, in<T>(dout), out<T>(dx));
  };
  ops.cross_entropy = [](Shape s, const void *x, const int64_t *t, const softcheck_loss_options *o,
                         void *y) {
    LossOptions<T> lo;
    if (!to_loss_options(o, lo)) return SOFTCHECK_ERR_NULL_POINTER;
    return cross_entropy<T>(s, in<T>(x), t, lo, out<T>(y));
  };
  ops.cross_entropy_backward = [](Shape s, const void *x, const int64_t *t,
                                  const softcheck_loss_options *o, const void *dout, void *dx) {
    LossOptions<T> lo;
    if (!to_loss_options(o, lo)) return SOFTCHECK_ERR_NULL_POINTER;
    return cross_entropy_backward<T>(s, in<T>(x), t, lo, in<T>(dout), out<T>(dx));
  };
  ops.cross_entropy_prob = [](Shape s, const void *x, const void *t,
                              const softcheck_loss_options *o, void *y) {
    LossOptions<T> lo;
    if (!to_loss_options(o, lo)) return SOFTCHECK_ERR_NULL_POINTER;
    return cross_entropy_prob<T>(s, in<T>(x), in<T>(t), lo, out<T>(y));
  };
  ops.cross_entropy_prob_backward = [](Shape s, const void *x, const void *t,
                                       const softcheck_loss_options *o, const void *dout,
                                       void *dx) {
    LossOptions<T> lo;
    if (!to_loss_options(o, lo)) return SOFTCHECK_ERR_NULL_POINTER;
    return cross_entropy_prob_backward<T>(s, in<T>(x), in<T>(t), lo, in<T>(dout), out<T>(dx));
  };
  return ops;
}

softcheck_contract make_contract() {
  softcheck_contract c{};
  const softcheck_bound elementwise{contract::elementwise_ulp, -1.0};
  const softcheck_bound normwise{-1.0, contract::normwise_u};
  const softcheck_bound loss{contract::elementwise_ulp, contract::normwise_u};
  for (softcheck_bound *b : {c.f32, c.f64}) {
    b[SOFTCHECK_OP_SOFTMAX] = elementwise;
    b[SOFTCHECK_OP_LOG_SOFTMAX] = elementwise;
    b[SOFTCHECK_OP_LOGSUMEXP] = elementwise;
    b[SOFTCHECK_OP_SOFTMAX_BACKWARD] = normwise;
    b[SOFTCHECK_OP_LOG_SOFTMAX_BACKWARD] = normwise;
    b[SOFTCHECK_OP_NLL_LOSS] = loss;
    b[SOFTCHECK_OP_NLL_LOSS_BACKWARD] = normwise;
    b[SOFTCHECK_OP_CROSS_ENTROPY] = loss;
    b[SOFTCHECK_OP_CROSS_ENTROPY_BACKWARD] = normwise;
    b[SOFTCHECK_OP_CROSS_ENTROPY_PROB] = normwise;
    b[SOFTCHECK_OP_CROSS_ENTROPY_PROB_BACKWARD] = normwise;
  }
  return c;
}

} // namespace

const softcheck_kernel_set &builtin_kernel_set() {
  static const softcheck_contract contract = make_contract();
  static const softcheck_kernel_set set = [] {
    softcheck_kernel_set s{};
    s.struct_size = sizeof(softcheck_kernel_set);
    s.name = "softcheck";
    s.description = "softcheck's careful scalar kernels (wide accumulation, log1p, exact x - max)";
    s.version = SOFTCHECK_VERSION;
    s.f32 = ops_for<float>();
    s.f64 = ops_for<double>();
    s.contract = &contract;
    s.set_num_threads = nullptr;
    return s;
  }();
  return set;
}

const softcheck_plugin &builtin_plugin() {
  static const softcheck_plugin plugin{SOFTCHECK_ABI_VERSION, sizeof(softcheck_plugin),
                                       "softcheck built-in", 1, &builtin_kernel_set()};
  return plugin;
}

} // namespace softcheck
