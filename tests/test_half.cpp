// The half formats' conversions against independent computations: MPFR
// rounding at the format's precision and exponent range (mpfr_subnormalize),
// and, for float16, the compiler's own _Float16 conversions.
#include <softcheck/half.hpp>

#include <catch2/catch.hpp>
#include <mpfr.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

using namespace softcheck;

namespace {

template <class H> float decode_independently(uint16_t h) {
  constexpr int M = H::mantissa_bits, EB = H::exponent_bits;
  constexpr int B = (1 << (EB - 1)) - 1;
  const int field = (h >> M) & ((1 << EB) - 1);
  const int frac = h & ((1 << M) - 1);
  const double sign = (h & 0x8000) ? -1.0 : 1.0;
  if (field == (1 << EB) - 1)
    return frac ? std::numeric_limits<float>::quiet_NaN()
                : static_cast<float>(sign * std::numeric_limits<double>::infinity());
  const double mag = field == 0 ? frac * std::pow(2.0, 1 - B - M)
                                : (1.0 + frac / std::pow(2.0, M)) * std::pow(2.0, field - B);
  return static_cast<float>(sign * mag); // exact: both formats fit in float
}

// x rounded by MPFR to the format H, as a float (exact).
template <class H> float reference_round(long double x) {
  constexpr int M = H::mantissa_bits, EB = H::exponent_bits;
  constexpr int B = (1 << (EB - 1)) - 1;
  const mpfr_exp_t old_min = mpfr_get_emin(), old_max = mpfr_get_emax();
  // MPFR writes x = 0.m * 2^e: IEEE emin 1 - B becomes 2 - B, and the
  // smallest subnormal 2^(1-B-M) has e = 2 - B - M.
  mpfr_set_emin(2 - B - M);
  mpfr_set_emax(B + 1);
  mpfr_t r;
  mpfr_init2(r, M + 1);
  int t = mpfr_set_ld(r, x, MPFR_RNDN);
  t = mpfr_check_range(r, t, MPFR_RNDN);
  mpfr_subnormalize(r, t, MPFR_RNDN);
  const float out = mpfr_get_flt(r, MPFR_RNDN);
  mpfr_clear(r);
  mpfr_set_emin(old_min);
  mpfr_set_emax(old_max);
  return out;
}

bool same(float a, float b) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
  return a == b && std::signbit(a) == std::signbit(b);
}

template <class H> void exhaustive_roundtrip() {
  int nans = 0;
  for (uint32_t p = 0; p < 65536; ++p) {
    const auto h = H::from_bits(static_cast<uint16_t>(p));
    const float f = h;
    REQUIRE(same(f, decode_independently<H>(static_cast<uint16_t>(p))));
    const H back = f;
    if (std::isnan(f)) {
      ++nans;
      // Quiet, same sign; the payload's leading bits kept.
      const uint16_t quiet = static_cast<uint16_t>(p | (1u << (H::mantissa_bits - 1)));
      REQUIRE(back.bits() == quiet);
      REQUIRE(H(static_cast<double>(f)).bits() == quiet);
    } else {
      REQUIRE(back.bits() == p);
      REQUIRE(H(static_cast<double>(f)).bits() == p);
      REQUIRE(H(static_cast<long double>(f)).bits() == p);
    }
  }
  const int expected_nans = 2 * ((1 << H::mantissa_bits) - 1);
  REQUIRE(nans == expected_nans);
}

// Every midpoint between adjacent values, the values a float or a double
// ulp either side, and the overflow threshold.
template <class H> void rounding_at_every_boundary() {
  std::vector<long double> probes;
  for (uint32_t p = 0; p < 0x7FFF; ++p) {
    const float a = H::from_bits(static_cast<uint16_t>(p));
    const float b = H::from_bits(static_cast<uint16_t>(p + 1));
    if (!std::isfinite(a)) continue;
    const double mid = (static_cast<double>(a) + static_cast<double>(b)) / 2; // exact; b may be inf
    const double hi = std::isfinite(b)
                          ? mid
                          : static_cast<double>(a) * (1 + std::ldexp(1.0, -H::mantissa_bits - 1));
    for (double d : {hi, std::nextafter(hi, 0.0), std::nextafter(hi, HUGE_VAL)}) {
      probes.push_back(d);
      probes.push_back(-d);
      probes.push_back(std::nextafter(static_cast<float>(d), 0.0f));
      probes.push_back(std::nextafter(static_cast<float>(d), HUGE_VALF));
    }
    // Long doubles a hair from the midpoint: below a double's resolution.
    probes.push_back(std::nextafter(static_cast<long double>(hi), 0.0L));
    probes.push_back(std::nextafter(static_cast<long double>(hi), HUGE_VALL));
  }
  for (long double x : probes) {
    const float want = reference_round<H>(x);
    INFO("x = " << static_cast<double>(x));
    REQUIRE(same(static_cast<float>(H(x)), want));
    if (static_cast<long double>(static_cast<double>(x)) == x)
      REQUIRE(same(static_cast<float>(H(static_cast<double>(x))), want));
    if (static_cast<long double>(static_cast<float>(x)) == x)
      REQUIRE(same(static_cast<float>(H(static_cast<float>(x))), want));
  }
}

template <class H> void rounding_of_random_doubles() {
  std::mt19937_64 rng(20261203);
  for (int i = 0; i < 300000; ++i) {
    double d;
    const uint64_t b = rng();
    std::memcpy(&d, &b, sizeof d);
    // Most random patterns are far out of range: also draw in range.
    if (i % 2)
      d = std::ldexp(std::ldexp(static_cast<double>(b >> 11), -53),
                     static_cast<int>(rng() % 300) - 160) *
          ((b & 1) ? -1 : 1);
    INFO("d = " << d);
    if (std::isnan(d)) {
      REQUIRE(std::isnan(static_cast<float>(H(d))));
      continue;
    }
    REQUIRE(same(static_cast<float>(H(d)), reference_round<H>(d)));
  }
}

} // namespace

TEST_CASE("bf16: every pattern converts to float and back exactly") {
  exhaustive_roundtrip<bf16>();
}
TEST_CASE("f16: every pattern converts to float and back exactly") { exhaustive_roundtrip<f16>(); }

TEST_CASE("bf16: the bits are float32's leading 16 (a NaN made quiet)") {
  for (uint32_t p = 0; p < 65536; ++p) {
    const float f = bf16::from_bits(static_cast<uint16_t>(p));
    uint32_t u;
    std::memcpy(&u, &f, sizeof u);
    REQUIRE(u == (std::isnan(f) ? (p << 16) | 0x00400000u : p << 16));
  }
}

TEST_CASE("bf16: rounding at every midpoint matches MPFR") { rounding_at_every_boundary<bf16>(); }
TEST_CASE("f16: rounding at every midpoint matches MPFR") { rounding_at_every_boundary<f16>(); }
TEST_CASE("bf16: rounding of random doubles matches MPFR") { rounding_of_random_doubles<bf16>(); }
TEST_CASE("f16: rounding of random doubles matches MPFR") { rounding_of_random_doubles<f16>(); }

#ifdef __FLT16_MAX__
TEST_CASE("f16: agrees with the compiler's _Float16 on every pattern and midpoint") {
  for (uint32_t p = 0; p < 65536; ++p) {
    _Float16 c;
    const auto u = static_cast<uint16_t>(p);
    std::memcpy(&c, &u, sizeof c);
    const float f = f16::from_bits(u);
    REQUIRE(same(f, static_cast<float>(c)));
    if (p < 0x7BFF) {
      const float next = f16::from_bits(static_cast<uint16_t>(p + 1));
      const double mid = (static_cast<double>(f) + next) / 2;
      for (double d : {mid, std::nextafter(mid, 0.0), std::nextafter(mid, 1e9)}) {
        const _Float16 cd = static_cast<_Float16>(d);
        uint16_t cb;
        std::memcpy(&cb, &cd, sizeof cb);
        REQUIRE(f16(d).bits() == cb);
        const auto fl = static_cast<float>(d);
        const _Float16 cf = static_cast<_Float16>(fl);
        std::memcpy(&cb, &cf, sizeof cb);
        REQUIRE(f16(fl).bits() == cb);
      }
    }
  }
}
#endif

TEST_CASE("half limits are the formats' extreme values") {
  CHECK(static_cast<float>(std::numeric_limits<f16>::max()) == 65504.0f);
  CHECK(static_cast<float>(std::numeric_limits<f16>::min()) == std::ldexp(1.0f, -14));
  CHECK(static_cast<float>(std::numeric_limits<f16>::denorm_min()) == std::ldexp(1.0f, -24));
  CHECK(static_cast<float>(std::numeric_limits<f16>::epsilon()) == std::ldexp(1.0f, -10));
  CHECK(static_cast<float>(std::numeric_limits<bf16>::max()) == std::ldexp(255.0f, 120));
  CHECK(static_cast<float>(std::numeric_limits<bf16>::min()) == std::numeric_limits<float>::min());
  CHECK(static_cast<float>(std::numeric_limits<bf16>::denorm_min()) == std::ldexp(1.0f, -133));
  CHECK(static_cast<float>(std::numeric_limits<bf16>::epsilon()) == std::ldexp(1.0f, -7));
  CHECK(std::numeric_limits<bf16>::digits == 8);
  CHECK(std::numeric_limits<f16>::digits == 11);
  CHECK(std::isinf(static_cast<float>(std::numeric_limits<f16>::infinity())));
  CHECK(std::isnan(static_cast<float>(std::numeric_limits<bf16>::quiet_NaN())));
  CHECK(static_cast<float>(std::numeric_limits<f16>::round_error()) == 0.5f);
  // f16 overflow: 65520 is the midpoint to 2^16 and rounds to even (inf).
  CHECK(std::isinf(static_cast<float>(f16(65520.0f))));
  CHECK(static_cast<float>(f16(std::nextafter(65520.0f, 0.0f))) == 65504.0f);
}

TEST_CASE("next_toward steps one value of the format") {
  CHECK(next_toward(f16(1.0f), f16(2.0f)).bits() == f16(1.0f).bits() + 1);
  CHECK(static_cast<float>(next_toward(f16(0.0f), f16(-1.0f))) == -std::ldexp(1.0f, -24));
  CHECK(static_cast<float>(next_toward(bf16(1.0f), bf16(0.0f))) == 1.0f - std::ldexp(1.0f, -8));
  CHECK(std::isinf(static_cast<float>(
      next_toward(std::numeric_limits<f16>::max(), std::numeric_limits<f16>::infinity()))));
  CHECK(static_cast<float>(next_toward(f16(-1.0f), f16(0.0f))) == -1.0f + std::ldexp(1.0f, -11));
}
