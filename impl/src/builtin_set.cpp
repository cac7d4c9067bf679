// The built-in kernels behind the plugin ABI: the set `softcheck`.
#include <softcheck/adapt.hpp>
#include <softcheck/kernels.hpp>

#include <initializer_list>

namespace softcheck {
namespace {

SOFTCHECK_KERNELS_OF_NAMESPACE(Builtin, softcheck)

softcheck_contract make_contract() {
  softcheck_contract c{};
  const softcheck_bound elementwise{contract::elementwise_ulp, -1.0};
  const softcheck_bound scaled{-1.0, contract::scaled_u};
  const softcheck_bound loss{contract::elementwise_ulp, contract::scaled_u};
  for (softcheck_bound *b : {c.f32, c.f64}) {
    b[SOFTCHECK_OP_SOFTMAX] = elementwise;
    b[SOFTCHECK_OP_LOG_SOFTMAX] = elementwise;
    b[SOFTCHECK_OP_LOGSUMEXP] = elementwise;
    b[SOFTCHECK_OP_SOFTMAX_BACKWARD] = scaled;
    b[SOFTCHECK_OP_LOG_SOFTMAX_BACKWARD] = scaled;
    b[SOFTCHECK_OP_NLL_LOSS] = loss;
    b[SOFTCHECK_OP_NLL_LOSS_BACKWARD] = scaled;
    b[SOFTCHECK_OP_CROSS_ENTROPY] = loss;
    b[SOFTCHECK_OP_CROSS_ENTROPY_BACKWARD] = scaled;
    b[SOFTCHECK_OP_CROSS_ENTROPY_PROB] = scaled;
    b[SOFTCHECK_OP_CROSS_ENTROPY_PROB_BACKWARD] = scaled;
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
    s.f32 = make_ops<Builtin, float>();
    s.f64 = make_ops<Builtin, double>();
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
