// The built-in kernels behind the plugin ABI: the set `softcheck`.
#include "parallel.hpp"
#include "simd.hpp"

#include <softcheck/adapt.hpp>
#include <softcheck/kernels.hpp>

#include <cstdio>
#include <cstdlib>
#include <initializer_list>
#include <string>

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

softcheck_status set_threads(int threads) {
  if (threads < 1) return SOFTCHECK_ERR_UNSUPPORTED;
  detail::set_num_threads(threads);
  return SOFTCHECK_OK;
}

// SOFTCHECK_SIMD_TARGET=AVX3|AVX2|portable (or a target's name) pins the vector target (to test
// one on a machine that has a better one). An unknown or unsupported name
// is said on stderr and the best target stays.
std::string choose_target() {
  if (const char *want = std::getenv("SOFTCHECK_SIMD_TARGET"); want && *want) {
    if (!simd::select_target(want)) {
      std::string have;
      for (const auto &t : simd::targets()) have += (have.empty() ? "" : ", ") + t;
      std::fprintf(stderr, "softcheck: SOFTCHECK_SIMD_TARGET=%s is not a target of this CPU (%s)\n",
                   want, have.c_str());
    }
  }
  return simd::current_target();
}

} // namespace

std::string simd_target() { return simd::current_target(); }
std::vector<std::string> simd_targets() { return simd::targets(); }

const softcheck_kernel_set &builtin_kernel_set() {
  static const softcheck_contract contract = make_contract();
  static const std::string description =
      "softcheck's kernels: float and double rows in SIMD (" + choose_target() +
      "; double lanes, double-double for float64, exact x - max, log1p), the rest careful "
      "scalar (wide accumulation)";
  static const softcheck_kernel_set set = [] {
    softcheck_kernel_set s{};
    s.struct_size = sizeof(softcheck_kernel_set);
    s.name = "softcheck";
    s.description = description.c_str();
    s.version = SOFTCHECK_VERSION;
    s.f32 = make_ops<Builtin, float>();
    s.f64 = make_ops<Builtin, double>();
    s.contract = &contract;
    // Half kernels: no declared half contract, the suite's default for a
    // float32-compute kernel that rounds once applies (kernels.hpp).
    s.bf16 = make_ops<Builtin, bf16>();
    s.f16 = make_ops<Builtin, f16>();
    s.set_num_threads = set_threads;
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
