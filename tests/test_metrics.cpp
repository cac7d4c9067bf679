// The project's metrics: one definition each, checked on values whose
// answer is known by construction.
#include <softcheck/metrics.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

using namespace softcheck;

TEST_CASE("ulp_error is measured in the reference's spacing", "[metrics]") {
  CHECK(ulp_error(std::nextafter(1.0f, 2.0f), 1.0f) == 1.0);
  CHECK(ulp_error(1.0f, std::nextafter(1.0f, 2.0f)) == 1.0);
  // Below 1 the spacing halves: one float below 1 is half an ulp of 1's
  // spacing, but a whole ulp in its own.
  CHECK(ulp_error(std::nextafter(1.0f, 0.0f), 1.0f) == 0.5);
  const float tiny = std::numeric_limits<float>::denorm_min();
  CHECK(ulp_error(0.0f, 3 * tiny) == 3.0);
  CHECK(ulp_error(std::nanf(""), std::nanf("")) == 0.0);
  CHECK(ulp_error(std::nanf(""), 1.0f) == INFINITY);
  CHECK(ulp_error(INFINITY, std::numeric_limits<float>::max()) == INFINITY);
  CHECK(ulp_error(-INFINITY, -INFINITY) == 0.0);
}

TEST_CASE("relative and normwise errors", "[metrics]") {
  CHECK(relative_error(1.5, 1.0) == 0.5);
  CHECK(relative_error(0.0, 0.0) == 0.0);
  CHECK(relative_error(1e-300, 0.0) == INFINITY);
  const double ref[3] = {3, 4, 0}, got[3] = {3, 4, 0.5};
  CHECK(normwise_error(got, ref, 3) == Approx(0.1)); // 0.5 / 5
  const double bad[3] = {3, NAN, 0};
  CHECK(normwise_error(bad, ref, 3) == INFINITY);
}

TEST_CASE("mismatches are classified", "[metrics]") {
  const float sub = std::numeric_limits<float>::denorm_min() * 8;
  CHECK(classify(SOFTCHECK_OP_SOFTMAX, 0.0f, sub) == Mismatch::flushed_subnormal);
  // 0 for the smallest subnormal is one ulp of rounding, not a flush.
  const float least = std::numeric_limits<float>::denorm_min();
  CHECK(classify(SOFTCHECK_OP_SOFTMAX, 0.0f, least) == Mismatch::none);
  CHECK(classify(SOFTCHECK_OP_SOFTMAX, 0.0f, 2 * least) == Mismatch::flushed_subnormal);
  CHECK(classify(SOFTCHECK_OP_SOFTMAX, NAN, 0.5f) == Mismatch::nan_where_finite);
  CHECK(classify(SOFTCHECK_OP_SOFTMAX, 0.5f, NAN) == Mismatch::number_where_nan);
  CHECK(classify(SOFTCHECK_OP_LOGSUMEXP, INFINITY, 3.0f) == Mismatch::wrong_infinity);
  CHECK(classify(SOFTCHECK_OP_LOGSUMEXP, -INFINITY, INFINITY) == Mismatch::wrong_infinity);
  CHECK(classify(SOFTCHECK_OP_LOG_SOFTMAX, 1.43e-6f, -1e-9f) == Mismatch::positive_log_probability);
  CHECK(classify(SOFTCHECK_OP_SOFTMAX_BACKWARD, -1e-3f, 1e-3f) == Mismatch::wrong_sign);
  CHECK(classify(SOFTCHECK_OP_SOFTMAX, 0.25f, 0.2500001f) == Mismatch::none);
  CHECK(format_value(0.5f) == "0x1p-1 (0.5)");
  CHECK(format_value(0.1) == "0x1.999999999999ap-4 (0.10000000000000001)");
}
