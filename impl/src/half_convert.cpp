#include "half_convert.hpp"

#include <atomic>
#include <cstdint>
#include <cstring>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#include <immintrin.h>
#define SOFTCHECK_X86 1
#endif

namespace softcheck::detail {
namespace {

#ifdef SOFTCHECK_X86
// F16C is CPUID leaf 1, ECX bit 29; AVX (with the OS saving its state)
// as the compiler's own check says.
bool cpu_has_f16c() {
  __builtin_cpu_init();
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return false;
  return (c & (1u << 29)) != 0 && __builtin_cpu_supports("avx");
}
std::atomic<bool> g_f16c{cpu_has_f16c()};

__attribute__((target("avx,f16c"))) void widen_f16c(const f16 *in, float *out, size_t n) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i *>(in + i));
    _mm256_storeu_ps(out + i, _mm256_cvtph_ps(h));
  }
  for (; i < n; ++i) out[i] = in[i];
}

__attribute__((target("avx,f16c"))) void narrow_f16c(const float *in, f16 *out, size_t n) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m128i h =
        _mm256_cvtps_ph(_mm256_loadu_ps(in + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    _mm_storeu_si128(reinterpret_cast<__m128i *>(out + i), h);
  }
  for (; i < n; ++i) out[i] = f16(in[i]);
}
#else
std::atomic<bool> g_f16c{false};
#endif

} // namespace

// The bfloat16 loops, written once: the compiler vectorizes them (8 lanes
// with AVX2, whose copy is chosen at run time).
#define SOFTCHECK_BF16_LOOPS(SUFFIX, ATTR)                                                         \
  ATTR void widen_bf16##SUFFIX(const bf16 *in, float *out, size_t n) {                             \
    /* A bfloat16 is the leading half of a float: exact; a NaN made quiet. */                      \
    for (size_t i = 0; i < n; ++i) {                                                               \
      uint32_t u = uint32_t(in[i].bits_) << 16;                                                    \
      if ((u & 0x7FFFFFFFu) > 0x7F800000u) u |= 0x00400000u;                                       \
      std::memcpy(&out[i], &u, sizeof u);                                                          \
    }                                                                                              \
  }                                                                                                \
  ATTR void narrow_bf16##SUFFIX(const float *in, bf16 *out, size_t n) {                            \
    /* Round to nearest even on the dropped 16 bits; the carry runs into the                       \
       exponent (up to infinity, from a subnormal to the smallest normal). */                      \
    for (size_t i = 0; i < n; ++i) {                                                               \
      uint32_t u;                                                                                  \
      std::memcpy(&u, &in[i], sizeof u);                                                           \
      const uint32_t rounded = (u + 0x7FFFu + ((u >> 16) & 1u)) >> 16;                             \
      const bool nan = (u & 0x7FFFFFFFu) > 0x7F800000u;                                            \
      out[i].bits_ = uint16_t(nan ? (u >> 16) | 0x0040u : rounded);                                \
    }                                                                                              \
  }

namespace {
SOFTCHECK_BF16_LOOPS(_portable, )
#ifdef SOFTCHECK_X86
SOFTCHECK_BF16_LOOPS(_avx2, __attribute__((target("avx2"))))
const bool g_avx2 = [] {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2");
}();
#endif
} // namespace

void widen(const bf16 *in, float *out, size_t n) {
#ifdef SOFTCHECK_X86
  if (g_avx2) return widen_bf16_avx2(in, out, n);
#endif
  widen_bf16_portable(in, out, n);
}

void narrow(const float *in, bf16 *out, size_t n) {
#ifdef SOFTCHECK_X86
  if (g_avx2) return narrow_bf16_avx2(in, out, n);
#endif
  narrow_bf16_portable(in, out, n);
}

void widen(const f16 *in, float *out, size_t n) {
#ifdef SOFTCHECK_X86
  if (g_f16c.load(std::memory_order_relaxed)) return widen_f16c(in, out, n);
#endif
  for (size_t i = 0; i < n; ++i) out[i] = in[i];
}

void narrow(const float *in, f16 *out, size_t n) {
#ifdef SOFTCHECK_X86
  if (g_f16c.load(std::memory_order_relaxed)) return narrow_f16c(in, out, n);
#endif
  for (size_t i = 0; i < n; ++i) out[i] = f16(in[i]);
}

bool f16c_in_use() { return g_f16c.load(); }

void use_f16c(bool enable) {
#ifdef SOFTCHECK_X86
  g_f16c.store(enable && cpu_has_f16c());
#else
  (void)enable;
#endif
}

} // namespace softcheck::detail
