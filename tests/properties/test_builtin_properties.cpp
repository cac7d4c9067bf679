// Every property on the built-in kernels, float and double: the CI gate.
// Seed and case count come from RC_PARAMS (seed=..., max_success=...), set
// by ctest; a long campaign with a fresh seed is
//   RC_PARAMS="seed=$RANDOM$RANDOM max_success=2000" build/tests/properties/test_builtin_properties
#include <softcheck/kernels.hpp>
#include <softcheck/properties.hpp>

#include <catch2/catch.hpp>
#include <rapidcheck.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>

namespace {

softcheck::props::Options options_from_environment() {
  std::streambuf *saved = std::cerr.rdbuf(nullptr); // RapidCheck announces its configuration
  const auto &params = rc::detail::configuration().testParams;
  std::cerr.rdbuf(saved);
  softcheck::props::Options o;
  o.seed = params.seed;
  o.cases = params.maxSuccess;
  return o;
}

void check_property(const std::string &name) {
  softcheck::props::Options o = options_from_environment();
  o.properties = {name};
  const auto outcomes = softcheck::props::check(softcheck::builtin_kernel_set(), o);
  int ran = 0;
  for (const auto &out : outcomes) {
    INFO(out.property << " " << softcheck_op_name(out.op) << " "
                      << (softcheck_dtype_name(out.dtype)) << ": " << out.reason << "\n"
                      << out.counterexample << "reproduce: " << out.reproduce);
    CHECK(out.verdict != softcheck::props::Verdict::failed);
    ran += out.verdict == softcheck::props::Verdict::passed;
  }
  // Every property applies to the built-in set (thread_count_independent
  // aside: the scalar kernels have no threads).
  if (name != "thread_count_independent") CHECK(ran > 0);
}

} // namespace

// SOFTCHECK_SIMD_TARGET (set by ctest for the lower targets) must be the
// target the float kernels run on; a CPU without it skips the run (77).
TEST_CASE("the pinned SIMD target is the one in use", "[property]") {
  const char *want = std::getenv("SOFTCHECK_SIMD_TARGET");
  if (!want) return;
  const auto have = softcheck::simd_targets();
  const bool portable = std::string(want) == "portable";
  if (!portable && std::find(have.begin(), have.end(), want) == have.end()) {
    std::printf("SKIPPED: this CPU has no %s target\n", want);
    std::exit(77);
  }
  softcheck::builtin_kernel_set(); // reads the variable
  REQUIRE(softcheck::simd_target() == (portable ? have.back() : std::string(want)));
}

TEST_CASE("every property holds on the built-in kernels", "[property]") {
  for (const auto &p : softcheck::props::all_properties()) {
    SECTION(p.name) { check_property(p.name); }
  }
}
