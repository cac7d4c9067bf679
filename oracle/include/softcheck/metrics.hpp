// How far a kernel's output is from the reference, defined once for the
// whole project: properties, reports, the fuzzer and `softcheck eval` all
// measure with these.
#pragma once

#include <softcheck/plugin.h>
#include <softcheck/ulp.hpp>

#include <cmath>
#include <cstddef>
#include <cstdio>
#include <limits>
#include <string>

namespace softcheck {

// Spacing of T at |ref|: the ulp of a normal number, denorm_min for
// subnormals and zero.
template <class T> T spacing(T ref) {
  T a = std::abs(ref);
  if (!(a >= std::numeric_limits<T>::min())) return std::numeric_limits<T>::denorm_min();
  if (a == std::numeric_limits<T>::infinity()) return std::numeric_limits<T>::infinity();
  int e = 0;
  std::frexp(a, &e); // a in [2^(e-1), 2^e)
  return std::ldexp(T(1), e - std::numeric_limits<T>::digits);
}

// |got - ref| in units of ref's spacing. 0 when both are the same special
// value, +inf when they disagree on NaN or infinity.
template <class T> double ulp_error(T got, T ref) {
  if (std::isnan(got) || std::isnan(ref))
    return std::isnan(got) && std::isnan(ref) ? 0.0 : INFINITY;
  if (std::isinf(got) || std::isinf(ref)) return got == ref ? 0.0 : INFINITY;
  long double d = std::abs(static_cast<long double>(got) - static_cast<long double>(ref));
  return double(d / static_cast<long double>(spacing(ref)));
}

template <class T> double relative_error(T got, T ref) {
  if (std::isnan(got) || std::isnan(ref))
    return std::isnan(got) && std::isnan(ref) ? 0.0 : INFINITY;
  if (got == ref) return 0.0;
  long double d = std::abs(static_cast<long double>(got) - static_cast<long double>(ref));
  return ref == 0 ? INFINITY : double(d / std::abs(static_cast<long double>(ref)));
}

// ||got - ref||_2 / ||ref||_2 over n elements (a row); NaN or infinite
// disagreements make it +inf.
template <class T> double normwise_error(const T *got, const T *ref, size_t n) {
  long double diff = 0, norm = 0;
  for (size_t i = 0; i < n; ++i) {
    const bool special = !std::isfinite(got[i]) || !std::isfinite(ref[i]);
    if (special && !(got[i] == ref[i] || (std::isnan(got[i]) && std::isnan(ref[i]))))
      return INFINITY;
    if (special) continue; // equal specials
    long double d = static_cast<long double>(got[i]) - static_cast<long double>(ref[i]);
    diff += d * d;
    norm += static_cast<long double>(ref[i]) * ref[i];
  }
  if (diff == 0) return 0.0;
  return norm == 0 ? INFINITY : double(std::sqrt(diff / norm));
}

// What kind of wrong an output is, beyond its size.
enum class Mismatch {
  none,
  nan_where_finite,         // got NaN, the reference is a number
  number_where_nan,         // got a number, the reference is NaN
  wrong_infinity,           // an infinity on one side only, or of the other sign
  flushed_subnormal,        // the reference is subnormal past the smallest one, got 0
  wrong_sign,               // both nonzero, opposite signs
  positive_log_probability, // log_softmax (or a log-probability input) > 0
};

inline const char *mismatch_name(Mismatch m) {
  switch (m) {
  case Mismatch::none: return "none";
  case Mismatch::nan_where_finite: return "NaN where finite";
  case Mismatch::number_where_nan: return "number where NaN";
  case Mismatch::wrong_infinity: return "wrong infinity";
  case Mismatch::flushed_subnormal: return "flushed subnormal";
  case Mismatch::wrong_sign: return "wrong sign";
  case Mismatch::positive_log_probability: return "positive log-probability";
  }
  return "unknown";
}

template <class T> Mismatch classify(softcheck_op op, T got, T ref) {
  if (std::isnan(got) != std::isnan(ref))
    return std::isnan(got) ? Mismatch::nan_where_finite : Mismatch::number_where_nan;
  if (std::isnan(got)) return Mismatch::none;
  if ((std::isinf(got) || std::isinf(ref)) && got != ref) return Mismatch::wrong_infinity;
  if (op == SOFTCHECK_OP_LOG_SOFTMAX && got > 0) return Mismatch::positive_log_probability;
  // A flush: 0 for a subnormal result. Not for the smallest subnormal, where
  // 0 is one ulp off and the exact result can be the midpoint between them
  // (a half kernel rounding a float32 result of 2^-134 to bf16 gives 0 as
  // IEEE rounding does): that one ulp is the bound's to judge.
  if (got == 0 && ref != 0 && std::abs(ref) < std::numeric_limits<T>::min() &&
      std::abs(ref) > std::numeric_limits<T>::denorm_min())
    return Mismatch::flushed_subnormal;
  if (got != 0 && ref != 0 && std::signbit(got) != std::signbit(ref)) return Mismatch::wrong_sign;
  return Mismatch::none;
}

// A value as the project prints it: %a and enough decimal digits to
// round-trip (9 for float, 17 for double, 4 for bf16, 5 for f16).
template <class T> std::string format_value(T v) {
  char buf[96];
  const double d = static_cast<double>(v);
  std::snprintf(buf, sizeof buf, "%a (%.*g)", d, std::numeric_limits<T>::max_digits10, d);
  return buf;
}

} // namespace softcheck
