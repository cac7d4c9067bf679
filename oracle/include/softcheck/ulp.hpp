// ULP distance: the project's one definition. Floats are mapped to a
// monotone integer scale on which adjacent floats are adjacent integers
// (-0 and +0 are the same point), so the distance is exact and signed.
#pragma once

#include <softcheck/half.hpp>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>

namespace softcheck {

template <class T>
using ulp_int_t = std::conditional_t<sizeof(T) == 2, int16_t,
                                     std::conditional_t<sizeof(T) == 4, int32_t, int64_t>>;

// Position of x on the monotone integer scale; x must not be NaN.
template <class T> int64_t ordinal(T x) {
  static_assert((std::is_floating_point_v<T> && (sizeof(T) == 4 || sizeof(T) == 8)) ||
                is_half_v<T>);
  using I = ulp_int_t<T>;
  I bits;
  std::memcpy(&bits, &x, sizeof bits);
  // Negative values: sign-magnitude to two's complement; -0 maps onto +0.
  return bits < 0 ? -static_cast<int64_t>(bits & std::numeric_limits<I>::max())
                  : static_cast<int64_t>(bits);
}

// Signed number of representable values from `expected` to `got`
// (positive when got > expected). NaN against NaN is 0, NaN against a
// number is INT64_MAX; a difference past int64 saturates.
template <class T> int64_t ulp_distance(T got, T expected) {
  bool gn = std::isnan(got), en = std::isnan(expected);
  if (gn || en) return gn && en ? 0 : INT64_MAX;
  int64_t d;
  if (__builtin_sub_overflow(ordinal(got), ordinal(expected), &d))
    return got > expected ? INT64_MAX : INT64_MIN; // only for double +-inf pairs
  return d;
}

} // namespace softcheck
