// Conversions between float and the half formats for whole arrays, with the
// bits of softcheck::Half's (round to nearest even, subnormals, overflow to
// infinity, NaN quieted with its leading payload bits): bfloat16 by integer
// arithmetic the compiler vectorizes, float16 by the F16C instructions where
// the CPU has them (the same rounding, in hardware) and softcheck::Half's
// code elsewhere. tests/simd/test_simd_targets.cpp checks both against the
// scalar conversions on every pattern and every midpoint.
#pragma once

#include <softcheck/half.hpp>

#include <cstddef>

namespace softcheck::detail {

void widen(const bf16 *in, float *out, size_t n);
void widen(const f16 *in, float *out, size_t n);
void narrow(const float *in, bf16 *out, size_t n);
void narrow(const float *in, f16 *out, size_t n);
// Whether the float16 conversions run on F16C (else the portable code);
// `enable` false forces the portable code, for tests.
bool f16c_in_use();
void use_f16c(bool enable);

} // namespace softcheck::detail
