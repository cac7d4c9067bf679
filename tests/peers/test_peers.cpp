// The peer plugins (PyTorch, oneDNN) load through the ABI and are wired to
// the right ops: on the seed example (logits [2, 3], target 1, dy = [1, -2],
// every reduction) each op they provide agrees with the oracle to 1e-5
// relative in f32 and f64, and to 4 ulps of the format (4 * 2^-p, p its
// digits: 1.6e-2 for bf16, torch.testing's own tolerance there) in bf16 and
// f16 at the scale of the terms, where a loss through a log_softmax stored
// in the format carries two roundings (a wrong op, axis, layout or
// reduction is off by far more). How accurate they are is what `softcheck
// check` and `make report-peers` tell; this test does not ask them to pass.
#include <softcheck/case.hpp>
#include <softcheck/host.hpp>
#include <softcheck/oracle.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

namespace {

template <class T> softcheck::Case<T> seed_case(softcheck_op op, softcheck::Reduction red) {
  softcheck::Case<T> c;
  c.op = op;
  c.shape = {1, 2, 1};
  c.x = {2, 3};
  c.aux = op == SOFTCHECK_OP_CROSS_ENTROPY_PROB || op == SOFTCHECK_OP_CROSS_ENTROPY_PROB_BACKWARD
              ? std::vector<T>{T(0.25), T(0.75)}
              : std::vector<T>{1, -2};
  c.target = {1};
  c.reduction = red;
  c.dout = {T(0.5)}; // one row: one loss output for every reduction
  if (op == SOFTCHECK_OP_NLL_LOSS) c.x = {T(-1.3132616875182228), T(-0.31326168751822286)};
  softcheck::oracle::logits_to_forward_output(c);
  return c;
}

template <class T> void check_set(const softcheck_kernel_set &set, softcheck_dtype dtype) {
  for (int o = 0; o < SOFTCHECK_OP_COUNT; ++o) {
    const auto op = softcheck_op(o);
    if (!softcheck::provides(set, dtype, op)) continue;
    for (auto red :
         {softcheck::Reduction::none, softcheck::Reduction::mean, softcheck::Reduction::sum}) {
      softcheck::Case<T> c = seed_case<T>(op, red);
      if (!c.is_loss() && red != softcheck::Reduction::mean) continue;
      std::vector<T> got(size_t(c.output_count())), want(got.size());
      const softcheck_ops &ops = softcheck::ops_of(set, dtype);
      INFO(set.name << " " << softcheck_op_name(op) << " " << softcheck_dtype_name(dtype)
                    << " reduction " << int(red));
      REQUIRE(softcheck::call(ops, c, softcheck::data_of(c), got.data()) == SOFTCHECK_OK);
      REQUIRE(softcheck::oracle::call(c, want.data()) == SOFTCHECK_OK);
      // The gradients are differences of terms of order 1 (softmax - p):
      // in a half format the 4 ulps are at that scale, not the output's.
      const bool half = softcheck::is_half_v<T>;
      const double rel = half ? std::ldexp(4.0, -std::numeric_limits<T>::digits) : 1e-5;
      for (size_t i = 0; i < got.size(); ++i) {
        INFO("output " << i << ": got " << double(got[i]) << ", oracle " << double(want[i]));
        const double scale = std::abs(double(want[i])) + (half ? 1 : 0);
        CHECK(std::abs(double(got[i]) - double(want[i])) <= rel * scale + 1e-7);
      }
    }
  }
}

} // namespace

TEST_CASE("the peer plugins load and agree with the oracle on the seed example", "[peers]") {
  const std::vector<std::string> plugins = {SOFTCHECK_PEER_PLUGINS};
  REQUIRE(!plugins.empty());
  for (const auto &path : plugins) {
    softcheck::Registry registry;
    INFO(path);
    REQUIRE(registry.load(path) == "");
    REQUIRE(registry.sets().size() == 1);
    const softcheck_kernel_set &set = *registry.sets()[0].set;
    CHECK(set.contract == nullptr); // the suite's default bounds apply
    REQUIRE(set.set_num_threads);
    CHECK(set.set_num_threads(1) == SOFTCHECK_OK);
    check_set<float>(set, SOFTCHECK_F32);
    check_set<double>(set, SOFTCHECK_F64);
    check_set<softcheck::bf16>(set, SOFTCHECK_BF16);
    check_set<softcheck::f16>(set, SOFTCHECK_F16);
    // PyTorch's CPU kernels run bf16 everywhere (oneDNN's bf16 softmax
    // depends on the CPU, and libtorch 1.13 has no f16 CPU softmax).
    if (std::string(set.name) == "pytorch") {
      CHECK(softcheck::provides(set, SOFTCHECK_BF16, SOFTCHECK_OP_SOFTMAX));
      CHECK(softcheck::provides(set, SOFTCHECK_BF16, SOFTCHECK_OP_CROSS_ENTROPY));
    }
  }
}
