// The oracle behind the plugin ABI: the kernel set `oracle`.
#include <softcheck/adapt.hpp>
#include <softcheck/oracle.hpp>

namespace softcheck::oracle {
namespace {

SOFTCHECK_KERNELS_OF_NAMESPACE(Oracle, softcheck::oracle)

// Correctly rounded: 0.5 ulp from the exact result, for every op.
softcheck_contract make_contract() {
  softcheck_contract c{};
  for (int op = 0; op < SOFTCHECK_OP_COUNT; ++op) c.f32[op] = c.f64[op] = {0.5, -1.0};
  return c;
}

softcheck_half_contract make_half_contract() {
  softcheck_half_contract c{};
  for (int op = 0; op < SOFTCHECK_OP_COUNT; ++op) c.bf16[op] = c.f16[op] = {0.5, -1.0};
  return c;
}

const Config *&current() {
  static thread_local const Config *c = nullptr;
  return c;
}

} // namespace

const Config &current_config() {
  static const Config defaults;
  return current() ? *current() : defaults;
}

ScopedConfig::ScopedConfig(const Config &c) : previous_(current()) { current() = &c; }
ScopedConfig::~ScopedConfig() { current() = previous_; }

const softcheck_kernel_set &kernel_set() {
  static const softcheck_contract contract = make_contract();
  static const softcheck_half_contract half_contract = make_half_contract();
  static const softcheck_kernel_set set = [] {
    softcheck_kernel_set s{};
    s.struct_size = sizeof(softcheck_kernel_set);
    s.name = "oracle";
    s.description = "correctly rounded reference (MPFR interval arithmetic, Ziv's strategy)";
    s.version = SOFTCHECK_VERSION;
    s.f32 = make_ops<Oracle, float>();
    s.f64 = make_ops<Oracle, double>();
    s.contract = &contract;
    s.bf16 = make_ops<Oracle, bf16>();
    s.f16 = make_ops<Oracle, f16>();
    s.half_contract = &half_contract;
    return s;
  }();
  return set;
}

} // namespace softcheck::oracle
