// C++ spellings of the plugin ABI's types, shared by the built-in kernels,
// the oracle and the tools.
#pragma once

#include <softcheck/half.hpp>
#include <softcheck/plugin.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>

namespace softcheck {

using Status = softcheck_status;
using Shape = softcheck_shape;

enum class Reduction : int32_t {
  none = SOFTCHECK_REDUCTION_NONE,
  mean = SOFTCHECK_REDUCTION_MEAN,
  sum = SOFTCHECK_REDUCTION_SUM,
};

template <class T> struct LossOptions {
  Reduction reduction = Reduction::mean;
  int64_t ignore_index = -100;
  const T *weight = nullptr; // [classes] or nullptr
  double label_smoothing = 0.0;
};

// The typed options of an ABI call; false when `o` is NULL.
template <class T> bool to_loss_options(const softcheck_loss_options *o, LossOptions<T> &lo) {
  if (o == nullptr) return false;
  lo.reduction = static_cast<Reduction>(o->reduction);
  lo.ignore_index = o->ignore_index;
  lo.weight = static_cast<const T *>(o->weight);
  lo.label_smoothing = o->label_smoothing;
  return true;
}

// The ABI dtype of an element type.
template <class T>
inline constexpr softcheck_dtype dtype_of = [] {
  static_assert(is_element_v<T>, "an element type of the plugin ABI");
  if constexpr (std::is_same_v<T, float>)
    return SOFTCHECK_F32;
  else if constexpr (std::is_same_v<T, double>)
    return SOFTCHECK_F64;
  else if constexpr (std::is_same_v<T, bf16>)
    return SOFTCHECK_BF16;
  else
    return SOFTCHECK_F16;
}();

// A set's table for `dtype`.
inline const softcheck_ops &ops_of(const softcheck_kernel_set &set, softcheck_dtype dtype) {
  switch (dtype) {
  case SOFTCHECK_F32: return set.f32;
  case SOFTCHECK_F64: return set.f64;
  case SOFTCHECK_BF16: return set.bf16;
  case SOFTCHECK_F16: return set.f16;
  }
  return set.f32;
}

// f(std::type_identity<T>{}) for the element type T of `dtype`: one
// template instantiated for every dtype of the ABI.
template <class F> decltype(auto) visit_dtype(softcheck_dtype dtype, F &&f) {
  switch (dtype) {
  case SOFTCHECK_F64: return f(std::type_identity<double>{});
  case SOFTCHECK_BF16: return f(std::type_identity<bf16>{});
  case SOFTCHECK_F16: return f(std::type_identity<f16>{});
  case SOFTCHECK_F32: break;
  }
  return f(std::type_identity<float>{});
}

// a / b with IEEE semantics, written so that a division by zero is not
// performed (C++ leaves it undefined, and the sanitizers say so): x / 0 is
// +-inf by the signs, 0 / 0 and NaN / 0 are NaN. The semantics of the mean
// over zero weights (plugin.h) rest on this.
template <class F> F ieee_divide(F a, F b) {
  if (b != 0) return a / b;
  if (a == 0 || std::isnan(a) || std::isnan(b)) return std::numeric_limits<F>::quiet_NaN();
  return (std::signbit(a) != std::signbit(b)) ? -std::numeric_limits<F>::infinity()
                                              : std::numeric_limits<F>::infinity();
}

} // namespace softcheck
