// The two 16-bit binary formats of the plugin ABI, as C++ value types:
// bfloat16 (8 exponent bits, 7 stored significand bits, bias 127: float32's
// range with 8 bits of precision) and IEEE 754 binary16 (5 exponent bits,
// 10 stored significand bits, bias 15: largest finite 65504).
//
// A value is its 16-bit pattern, the one a plugin receives. Converting to
// float is exact (every value of both formats is a float; a NaN comes out
// quiet, its payload kept). Converting from
// float, double or long double rounds once, to nearest with ties to even,
// with the format's subnormals, overflow to infinity and NaN kept quiet
// (sign and the leading payload bits kept): it works on the source's own
// significand and exponent, so a double is never rounded to float on the
// way (that would round twice). Arithmetic goes through float: `a + b` is a
// float, and storing it in a half rounds it (RNE), which is what a
// float32-compute kernel does.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>

namespace softcheck {

struct Bf16Format {
  static constexpr int exponent_bits = 8;
  static constexpr int mantissa_bits = 7; // stored; precision 8
  static constexpr const char *name = "bf16";
};
struct F16Format {
  static constexpr int exponent_bits = 5;
  static constexpr int mantissa_bits = 10; // stored; precision 11
  static constexpr const char *name = "f16";
};

namespace half_detail {

// The pattern of (-1)^neg * m * 2^e, rounded to nearest even in a format of
// M stored significand bits and bias B = 2^(EB-1) - 1; m < 2^64.
template <int EB, int M> uint16_t encode(bool neg, uint64_t m, int e) {
  constexpr int B = (1 << (EB - 1)) - 1;
  constexpr uint32_t inf = ((1u << EB) - 1u) << M;
  const uint32_t sign = neg ? 0x8000u : 0u;
  if (m == 0) return static_cast<uint16_t>(sign);
  // Exponent of the leading bit, and the quantum (ulp exponent) there,
  // never below the subnormal quantum 2^(1 - B - M).
  const int lead = e + 63 - __builtin_clzll(m);
  if (lead > B) return static_cast<uint16_t>(sign | inf); // >= 2^(emax+1)
  int q = lead - M;
  if (q < 1 - B - M) q = 1 - B - M;
  uint64_t n;
  const int shift = q - e;
  if (shift <= 0) {
    n = m << -shift; // exact, below 2^(M+1)
  } else if (shift > 64) {
    n = 0; // m < 2^64 <= a quarter of the quantum: rounds to 0
  } else {
    const uint64_t r = shift == 64 ? 0 : m >> shift;
    const uint64_t rem = shift == 64 ? m : m & ((uint64_t(1) << shift) - 1);
    const uint64_t halfq = uint64_t(1) << (shift - 1);
    n = r + ((rem > halfq || (rem == halfq && (r & 1))) ? 1 : 0);
  }
  // n counts quanta 2^q: biased exponent field (q + M + B) with the leading
  // bit of n adding the 1, which also covers a subnormal (field 0, q at its
  // floor) that rounded up to the smallest normal, and a carry to 2^(M+1).
  const uint64_t bits = (static_cast<uint64_t>(q + M + B - 1) << M) + n;
  if (bits >= inf) return static_cast<uint16_t>(sign | inf);
  return static_cast<uint16_t>(sign | bits);
}

template <int EB, int M> uint16_t from_double(double d) {
  uint64_t b;
  std::memcpy(&b, &d, sizeof b);
  const bool neg = (b >> 63) != 0;
  const int field = static_cast<int>((b >> 52) & 0x7FF);
  const uint64_t frac = b & ((uint64_t(1) << 52) - 1);
  const uint32_t sign = neg ? 0x8000u : 0u;
  constexpr uint32_t inf = ((1u << EB) - 1u) << M;
  if (field == 0x7FF) {
    if (frac == 0) return static_cast<uint16_t>(sign | inf);
    // Quiet NaN with the payload's leading bits.
    const uint32_t payload = static_cast<uint32_t>(frac >> (52 - M));
    return static_cast<uint16_t>(sign | inf | (1u << (M - 1)) | payload);
  }
  if (field == 0) return encode<EB, M>(neg, frac, -1074);
  return encode<EB, M>(neg, frac | (uint64_t(1) << 52), field - 1075);
}

template <int EB, int M> uint16_t from_long_double(long double x) {
  if (std::isnan(x) || std::isinf(x) || x == 0) return from_double<EB, M>(static_cast<double>(x));
  int e = 0;
  const long double f = std::frexp(std::fabs(x), &e); // [0.5, 1)
  // 64 significand bits hold an x87 long double, and any narrower one.
  const auto m = static_cast<uint64_t>(std::ldexp(f, 64));
  return encode<EB, M>(std::signbit(x), m, e - 64);
}

template <int EB, int M> float to_float(uint16_t h) {
  constexpr int B = (1 << (EB - 1)) - 1;
  const uint32_t sign = (h & 0x8000u) ? 0x80000000u : 0u;
  const uint32_t field = (h >> M) & ((1u << EB) - 1u);
  const uint32_t frac = h & ((1u << M) - 1u);
  uint32_t out;
  if (field == (1u << EB) - 1u) {
    // An infinity, or a NaN made quiet (as IEEE conversion and F16C do).
    out = sign | 0x7F800000u | (frac << (23 - M)) | (frac ? 0x00400000u : 0u);
  } else if (field == 0) {
    float v = std::ldexp(static_cast<float>(frac), 1 - B - M);
    return sign ? -v : v;
  } else {
    out = sign | ((field - B + 127u) << 23) | (frac << (23 - M));
  }
  float f;
  std::memcpy(&f, &out, sizeof f);
  return f;
}

} // namespace half_detail

template <class Format> class Half {
public:
  static constexpr int exponent_bits = Format::exponent_bits;
  static constexpr int mantissa_bits = Format::mantissa_bits;

  Half() = default;
  // Rounds to nearest even (see the file comment).
  template <class A, std::enable_if_t<std::is_arithmetic_v<A>, int> = 0>
  Half(A a) : bits_(from(a)) {} // NOLINT(google-explicit-constructor)

  static Half from_bits(uint16_t b) {
    Half h;
    h.bits_ = b;
    return h;
  }
  uint16_t bits() const { return bits_; }

  operator float() const { // NOLINT(google-explicit-constructor): exact
    return half_detail::to_float<exponent_bits, mantissa_bits>(bits_);
  }

  Half operator-() const { return from_bits(static_cast<uint16_t>(bits_ ^ 0x8000u)); }
  Half operator+() const { return *this; }
  template <class A> Half &operator+=(A a) { return *this = float(*this) + a; }
  template <class A> Half &operator-=(A a) { return *this = float(*this) - a; }
  template <class A> Half &operator*=(A a) { return *this = float(*this) * a; }
  template <class A> Half &operator/=(A a) { return *this = float(*this) / a; }

  // The pattern itself, public so that a Half is copied by memcpy like any
  // float (it is trivially copyable); uninitialized by default, as a float
  // is (value-initialized: +0).
  uint16_t bits_;

private:
  template <class A> static uint16_t from(A a) {
    constexpr int EB = exponent_bits, M = mantissa_bits;
    if constexpr (std::is_same_v<A, long double>)
      return half_detail::from_long_double<EB, M>(a);
    else
      return half_detail::from_double<EB, M>(static_cast<double>(a)); // exact for the rest
  }
};

using bf16 = Half<Bf16Format>;
using f16 = Half<F16Format>;
static_assert(sizeof(bf16) == 2 && sizeof(f16) == 2);
static_assert(std::is_trivially_copyable_v<bf16> && std::is_trivially_copyable_v<f16>);

template <class T> struct is_half : std::false_type {};
template <class F> struct is_half<Half<F>> : std::true_type {};
template <class T> inline constexpr bool is_half_v = is_half<T>::value;

// The element types of the plugin ABI's tables.
template <class T>
inline constexpr bool is_element_v =
    std::is_same_v<T, float> || std::is_same_v<T, double> || is_half_v<T>;

// The computation type of T: float for the half formats, T otherwise.
template <class T> using compute_t = std::conditional_t<is_half_v<T>, float, T>;

// The neighbour of x towards `to`, in T itself (std::nextafter on a half
// would silently step a float).
template <class T> T next_toward(T x, T to) {
  if constexpr (is_half_v<T>) {
    const float fx = x, ft = to;
    if (std::isnan(fx) || std::isnan(ft)) return T(std::numeric_limits<float>::quiet_NaN());
    if (fx == ft) return to;
    if (fx == 0) return T::from_bits(static_cast<uint16_t>(ft > 0 ? 1u : 0x8001u));
    const bool away = (ft > fx) == (fx > 0); // magnitude grows
    return T::from_bits(static_cast<uint16_t>(x.bits() + (away ? 1 : -1)));
  } else {
    return std::nextafter(x, to);
  }
}

} // namespace softcheck

namespace std {
template <class F> class numeric_limits<softcheck::Half<F>> {
  using H = softcheck::Half<F>;
  static constexpr int M = F::mantissa_bits;
  static constexpr int B = (1 << (F::exponent_bits - 1)) - 1;
  static constexpr uint16_t inf_bits = ((1u << F::exponent_bits) - 1u) << M;

public:
  static constexpr bool is_specialized = true;
  static constexpr bool is_signed = true;
  static constexpr bool is_integer = false;
  static constexpr bool is_exact = false;
  static constexpr bool has_infinity = true;
  static constexpr bool has_quiet_NaN = true;
  static constexpr bool has_signaling_NaN = true;
  static constexpr bool has_denorm_loss = false;
  static constexpr bool is_iec559 = F::exponent_bits == 5;
  static constexpr bool is_bounded = true;
  static constexpr bool is_modulo = false;
  static constexpr bool traps = false;
  static constexpr bool tinyness_before = false;
  static constexpr std::float_denorm_style has_denorm = std::denorm_present;
  static constexpr std::float_round_style round_style = std::round_to_nearest;
  static constexpr int radix = 2;
  static constexpr int digits = M + 1;
  static constexpr int digits10 = F::exponent_bits == 5 ? 3 : 2;
  static constexpr int max_digits10 = F::exponent_bits == 5 ? 5 : 4;
  static constexpr int min_exponent = 2 - B;
  static constexpr int max_exponent = B + 1;
  static constexpr int min_exponent10 = F::exponent_bits == 5 ? -4 : -37;
  static constexpr int max_exponent10 = F::exponent_bits == 5 ? 4 : 38;

  static H min() noexcept { return H::from_bits(uint16_t(1u << M)); }
  static H max() noexcept { return H::from_bits(uint16_t(inf_bits - 1u)); }
  static H lowest() noexcept { return H::from_bits(uint16_t(0x8000u | (inf_bits - 1u))); }
  static H epsilon() noexcept { return H::from_bits(uint16_t((B - M) << M)); }
  static H round_error() noexcept { return H::from_bits(uint16_t((B - 1) << M)); }
  static H infinity() noexcept { return H::from_bits(inf_bits); }
  static H quiet_NaN() noexcept { return H::from_bits(uint16_t(inf_bits | (1u << (M - 1)))); }
  static H signaling_NaN() noexcept { return H::from_bits(uint16_t(inf_bits | 1u)); }
  static H denorm_min() noexcept { return H::from_bits(1); }
};
} // namespace std
