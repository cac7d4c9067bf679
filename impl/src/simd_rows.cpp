// The vector building blocks of the float32 kernels, once per Highway
// target (foreach_target re-includes this file). Interface and guarantees:
// simd.hpp. Built with -ffp-contract=off: the only fused multiply-adds are
// the explicit ones below, so every target runs the same IEEE operations.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "simd_rows.cpp"
#include <hwy/cache_control.h>
#include <hwy/foreach_target.h> // IWYU pragma: keep
#include <hwy/highway.h>

#include "simd.hpp"

#include <softcheck/half.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <type_traits>

HWY_BEFORE_NAMESPACE();
namespace softcheck::simd {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

using DD = hn::ScalableTag<double>;
using DH = hn::Rebind<float, DD>;    // as many floats as DD has doubles
using DI = hn::RebindToSigned<DD>;   // int64 lanes
using DU = hn::RebindToUnsigned<DD>; // uint64 lanes
using DF = hn::ScalableTag<float>;   // full float vectors
using VD = hn::Vec<DD>;
constexpr size_t kBlock = 16; // elements per step; 16 fixed accumulators
constexpr size_t kLanes = HWY_LANES(double);
constexpr size_t kSub = kBlock / kLanes; // double vectors per step
static_assert(kBlock % kLanes == 0, "a step is a whole number of vectors");
static_assert(kLanes <= 32, "a group's rows fit the bits of a uint32_t (FromLanes)");

// a * b + c with one rounding on every target. Targets without a fused
// multiply-add (the portable EMU128 fallback) fuse in software, so they
// give the bits of AVX2 and AVX-512.
HWY_INLINE VD Fma(VD a, VD b, VD c) {
#if HWY_TARGET == HWY_EMU128 || HWY_TARGET == HWY_SCALAR
  const DD d;
  double av[kLanes], bv[kLanes], cv[kLanes];
  hn::StoreU(a, d, av);
  hn::StoreU(b, d, bv);
  hn::StoreU(c, d, cv);
  for (size_t i = 0; i < kLanes; ++i) av[i] = std::fma(av[i], bv[i], cv[i]);
  return hn::LoadU(d, av);
#else
  return hn::MulAdd(a, b, c);
#endif
}

// exp(x) in double lanes with relative error below 2^-33 (enough for a
// float result: the final rounding to float is 2^-24). x = k ln2 + r,
// |r| <= ln2/2 (one fused step: the error of ln2 in double times |k| <= 1021
// is below 2^-43), exp(r) by a degree-7 polynomial interpolating exp at the
// 8 Chebyshev nodes of [-ln2/2, ln2/2] (max relative error 2^-34.08,
// measured on 200001 points in long double), times 2^k built in the
// exponent bits. Below x = -707 the result is exp(-707) ~ 2^-1020 instead
// of the true value (below every float and every sum's last bit, but not
// 0): no subnormal double is ever made (each costs a microcode assist).
// kNegInf: x may be -inf, which gives exactly 0. kAnySign: x may also be
// positive, +inf (overflow to +inf above 709.78) or NaN (kept).
// kAccurate: relative error below 2^-51 instead, for the backward ops,
// whose results may cancel (p_k - a_k, dy - exp(y) sum): ln2 split in two
// (fdlibm's ln2_hi, 32 bits, times |k| is exact), and the degree-10
// polynomial interpolating exp at 11 Chebyshev nodes (2^-51.43).
template <bool kAnySign, bool kNegInf = true, bool kAccurate = false> HWY_INLINE VD Exp(VD x) {
  const DD d;
  const DI di;
  const VD shifter = hn::Set(d, 0x1.8p52); // adds a round-to-nearest integer into the low bits
  VD t = hn::Max(x, hn::Set(d, -707.0));
  if constexpr (kAnySign) t = hn::Min(t, hn::Set(d, 709.0));
  const VD kd = Fma(t, hn::Set(d, 1.4426950408889634), shifter);
  VD p;
  if constexpr (kAccurate) {
    const VD k = hn::Sub(kd, shifter);
    const VD r = Fma(k, hn::Set(d, -1.90821492927058770002e-10),
                     Fma(k, hn::Set(d, -6.93147180369123816490e-01), t));
    p = hn::Set(d, 0x1.28a2ca39c498fp-22);
    p = Fma(p, r, hn::Set(d, 0x1.72faefd243e28p-19));
    p = Fma(p, r, hn::Set(d, 0x1.a019a65f6d179p-16));
    p = Fma(p, r, hn::Set(d, 0x1.a01978c714838p-13));
    p = Fma(p, r, hn::Set(d, 0x1.6c16c17f47e13p-10));
    p = Fma(p, r, hn::Set(d, 0x1.1111112dd65b4p-7));
    p = Fma(p, r, hn::Set(d, 0x1.555555555209bp-5));
    p = Fma(p, r, hn::Set(d, 0x1.555555554b758p-3));
    p = Fma(p, r, hn::Set(d, 0x1.0000000000005p-1));
    p = Fma(p, r, hn::Set(d, 0x1.000000000001ep+0));
    p = Fma(p, r, hn::Set(d, 1.0));
  } else {
    const VD r = Fma(hn::Sub(kd, shifter), hn::Set(d, -0.6931471805599453), t);
    p = hn::Set(d, 0x1.a17df2ec4fd4ap-13);
    p = Fma(p, r, hn::Set(d, 0x1.6da753185ae5fp-10));
    p = Fma(p, r, hn::Set(d, 0x1.1110a6222e828p-7));
    p = Fma(p, r, hn::Set(d, 0x1.555464a0f079cp-5));
    p = Fma(p, r, hn::Set(d, 0x1.5555557e7126p-3));
    p = Fma(p, r, hn::Set(d, 0x1.0000005c89e4ep-1));
    p = Fma(p, r, hn::Set(d, 0x1.fffffffff61fdp-1));
    p = Fma(p, r, hn::Set(d, 0x1.ffffffffa7135p-1));
  }
  // k is in the low bits of kd, in [-1020, 1022]: 2^k is normal; its bits
  // are (k + 1023) << 52 = (bits(kd) - bits(shifter) + 1023) << 52.
  const auto biased = hn::Sub(hn::BitCast(di, kd), hn::Set(di, 0x4338000000000000LL - 1023));
  VD e = hn::Mul(p, hn::BitCast(d, hn::ShiftLeft<52>(biased)));
  if constexpr (kNegInf)
    e = hn::IfThenElseZero(hn::Ne(x, hn::Set(d, -std::numeric_limits<double>::infinity())), e);
  if constexpr (kAnySign) {
    const VD inf = hn::Set(d, std::numeric_limits<double>::infinity());
    e = hn::IfThenElse(hn::Gt(x, hn::Set(d, 709.782712893384)), inf, e); // past DBL_MAX
    e = hn::IfThenElse(hn::Eq(x, x), e, x);                              // NaN stays NaN
  }
  return e;
}

// Part of a block: sub-vector j (kLanes elements) of a block of which
// `count` elements are in the row. AVX2 and AVX-512 load and store the part
// with masks (masked-off lanes are never touched); the portable targets go
// element by element. Loads fill the missing lanes with `pad`.
#undef SOFTCHECK_MASKED_PARTS
#if HWY_TARGET == HWY_AVX2 || HWY_TARGET == HWY_AVX3 || HWY_TARGET == HWY_AVX3_DL
#define SOFTCHECK_MASKED_PARTS 1
#else
#define SOFTCHECK_MASKED_PARTS 0
#endif

HWY_INLINE size_t InPart(size_t j, size_t count) {
  return count <= j * kLanes ? 0 : std::min(kLanes, count - j * kLanes);
}

// Whole vectors of d's floats from an array of E: float itself, or a half
// format (bf16, f16) widened exactly. A bfloat16 is the leading half of a
// float; float16 goes through F16C on AVX2 and AVX-512 (which Highway's
// AVX2 target requires) and softcheck::f16's exact conversion elsewhere. A
// NaN may stay signaling here: the promotion to double quiets it, as
// half_convert's widening would.
template <class D> HWY_INLINE hn::Vec<D> LoadF(D d, const float *p) { return hn::LoadU(d, p); }
template <class D> HWY_INLINE hn::Vec<D> LoadF(D d, const double *p) { return hn::LoadU(d, p); }
template <class D> HWY_INLINE hn::Vec<D> LoadF(D d, const bf16 *p) {
  const hn::Rebind<uint16_t, D> d16;
  const hn::RebindToSigned<D> di;
  const auto bits = hn::LoadU(d16, reinterpret_cast<const uint16_t *>(p));
  return hn::BitCast(d, hn::ShiftLeft<16>(hn::PromoteTo(di, bits)));
}
template <class D> HWY_INLINE hn::Vec<D> LoadF(D d, const f16 *p) {
#if SOFTCHECK_MASKED_PARTS
  const hn::Rebind<hwy::float16_t, D> dh;
  return hn::PromoteTo(d, hn::LoadU(dh, reinterpret_cast<const hwy::float16_t *>(p)));
#else
  HWY_ALIGN float tmp[HWY_LANES(float)];
  for (size_t l = 0; l < hn::Lanes(d); ++l) tmp[l] = float(p[l]);
  return hn::Load(d, tmp);
#endif
}

// f's floats into an array of E, each rounded once to the format, to
// nearest even, with half_convert's bits: bfloat16 by the integer rounding
// of its dropped 16 bits (a NaN made quiet, its leading payload kept; not
// Highway's DemoteTo, which truncates), float16 by F16C with the rounding
// in the instruction (not MXCSR's) or softcheck::f16 elsewhere.
template <class D> HWY_INLINE void StoreF(D d, hn::Vec<D> f, float *p) { hn::StoreU(f, d, p); }
template <class D> HWY_INLINE void StoreF(D d, hn::Vec<D> f, double *p) { hn::StoreU(f, d, p); }
template <class D> HWY_INLINE void StoreF(D d, hn::Vec<D> f, bf16 *p) {
  const hn::RebindToUnsigned<D> du;
  const hn::RebindToSigned<D> di;
  const hn::Rebind<uint16_t, D> d16;
  (void)d;
  const auto u = hn::BitCast(du, f);
  const auto odd = hn::And(hn::ShiftRight<16>(u), hn::Set(du, 1u));
  const auto rounded = hn::ShiftRight<16>(hn::Add(hn::Add(u, hn::Set(du, 0x7FFFu)), odd));
  const auto nan = hn::RebindMask(du, hn::IsNaN(f));
  const auto quiet = hn::Or(hn::ShiftRight<16>(u), hn::Set(du, 0x40u));
  const auto bits = hn::BitCast(di, hn::IfThenElse(nan, quiet, rounded)); // below 2^16
  hn::StoreU(hn::DemoteTo(d16, bits), d16, reinterpret_cast<uint16_t *>(p));
}
template <class D> HWY_INLINE void StoreF(D d, hn::Vec<D> f, f16 *p) {
#if SOFTCHECK_MASKED_PARTS
  const hn::Rebind<hwy::float16_t, D> dh;
  hn::StoreU(hn::DemoteTo(dh, f), dh, reinterpret_cast<hwy::float16_t *>(p));
#else
  HWY_ALIGN float tmp[HWY_LANES(float)];
  hn::Store(f, d, tmp);
  for (size_t l = 0; l < hn::Lanes(d); ++l) p[l] = f16(tmp[l]);
#endif
}

template <class E> constexpr bool kIsFloat = std::is_same_v<E, float>;

// The last part of a row: its first k (fewer than d's lanes) elements as
// d's floats, the other lanes `pad`; and f's first k lanes stored. Through
// a copy, so no byte past the k elements is touched (there are no masked
// 16-bit loads): the halves' tails, on every target.
template <class D, class E> HWY_INLINE hn::Vec<D> LoadFirst(D d, const E *p, size_t k, E pad) {
  E tmp[HWY_LANES(float)];
  for (size_t l = 0; l < hn::Lanes(d); ++l) tmp[l] = l < k ? p[l] : pad;
  return LoadF(d, tmp);
}
template <class D, class E> HWY_INLINE void StoreFirst(D d, hn::Vec<D> f, E *p, size_t k) {
  E tmp[HWY_LANES(float)];
  StoreF(d, f, tmp);
  for (size_t l = 0; l < k; ++l) p[l] = tmp[l];
}

HWY_INLINE VD LoadPart(const float *block, size_t j, size_t count, float pad) {
  const DH dh;
  const size_t k = InPart(j, count);
  if (k == kLanes) return hn::PromoteTo(DD(), hn::LoadU(dh, block + j * kLanes));
#if SOFTCHECK_MASKED_PARTS
  if (k == 0) return hn::Set(DD(), double(pad));
  const auto m = hn::FirstN(dh, k);
  return hn::PromoteTo(
      DD(), hn::IfThenElse(m, hn::MaskedLoad(m, dh, block + j * kLanes), hn::Set(dh, pad)));
#else
  float tmp[kLanes];
  for (size_t l = 0; l < kLanes; ++l) tmp[l] = l < k ? block[j * kLanes + l] : pad;
  return hn::PromoteTo(DD(), hn::LoadU(dh, tmp));
#endif
}

// The pattern of `pad` in a half format E, for the pads the float path
// uses: +0 and -inf.
template <class E> HWY_INLINE E PadOf(float pad) {
  const uint16_t neg_inf = E::exponent_bits == 8 ? 0xFF80 : 0xFC00;
  return E::from_bits(pad == 0 ? uint16_t(0) : neg_inf);
}

// A part of a half array: whole ones converted in lanes, a row's last one
// through a copy (no masked 16-bit loads: never a byte past the row).
template <class E> HWY_INLINE VD LoadPart(const E *block, size_t j, size_t count, float pad) {
  const DH dh;
  const size_t k = InPart(j, count);
  if (k == kLanes) return hn::PromoteTo(DD(), LoadF(dh, block + j * kLanes));
  return hn::PromoteTo(DD(), LoadFirst(dh, block + j * kLanes, k, PadOf<E>(pad)));
}

// double -> float with IEEE rounding and overflow to +-inf. The portable
// targets' DemoteTo saturates at +-FLT_MAX (and -inf would become
// -FLT_MAX), so they convert lane by lane.
HWY_INLINE hn::Vec<DH> Demote(VD v) {
#if SOFTCHECK_MASKED_PARTS
  return hn::DemoteTo(DH(), v);
#else
  double in[kLanes];
  float out[kLanes];
  hn::StoreU(v, DD(), in);
  for (size_t l = 0; l < kLanes; ++l) out[l] = static_cast<float>(in[l]);
  return hn::LoadU(DH(), out);
#endif
}

template <class E> HWY_INLINE void StorePart(VD v, E *block, size_t j, size_t count) {
  const DH dh;
  const size_t k = InPart(j, count);
  const auto f = Demote(v);
  if (k == kLanes) return StoreF(dh, f, block + j * kLanes);
  if (k == 0) return;
  if constexpr (kIsFloat<E>) {
#if SOFTCHECK_MASKED_PARTS
    hn::BlendedStore(f, hn::FirstN(dh, k), dh, block + j * kLanes);
#else
    float tmp[kLanes];
    hn::StoreU(f, dh, tmp);
    for (size_t l = 0; l < k; ++l) block[j * kLanes + l] = tmp[l];
#endif
  } else {
    StoreFirst(dh, f, block + j * kLanes, k);
  }
}

// A block's kSub parts at once: `count` is its element count, the type
// Whole for a whole block. A whole block of halves is converted a full
// float vector at a time where one holds two double vectors' lanes (AVX2,
// AVX-512, EMU128): the same values as part by part, in half the
// conversions.
using Whole = std::integral_constant<size_t, kBlock>;
template <class C> constexpr bool kWhole = std::is_same_v<C, Whole>;
#undef SOFTCHECK_PAIRS
#if HWY_TARGET == HWY_SCALAR
#define SOFTCHECK_PAIRS 0
#else
#define SOFTCHECK_PAIRS 1
static_assert(HWY_LANES(float) == 2 * kLanes, "a float vector holds two double vectors' lanes");
#endif

template <class E, class C> HWY_INLINE void LoadParts(const E *block, C count, float pad, VD *v) {
#if SOFTCHECK_PAIRS
  if constexpr (!kIsFloat<E> && kWhole<C>) {
    const DF df;
    const hn::Half<DF> dh;
    for (size_t j = 0; j < kSub; j += 2) {
      const auto f = LoadF(df, block + j * kLanes);
      v[j] = hn::PromoteTo(DD(), hn::LowerHalf(dh, f));
      v[j + 1] = hn::PromoteTo(DD(), hn::UpperHalf(dh, f));
    }
    return;
  }
#endif
  for (size_t j = 0; j < kSub; ++j) v[j] = LoadPart(block, j, count, pad);
}

template <class E, class C> HWY_INLINE void StoreParts(const VD *v, E *block, C count) {
#if SOFTCHECK_PAIRS
  if constexpr (!kIsFloat<E> && kWhole<C>) {
    const DF df;
    for (size_t j = 0; j < kSub; j += 2)
      StoreF(df, hn::Combine(df, Demote(v[j + 1]), Demote(v[j])), block + j * kLanes);
    return;
  }
#endif
  for (size_t j = 0; j < kSub; ++j) StorePart(v[j], block, j, count);
}

// The 16 accumulators of a step, summed in a fixed tree: level w adds
// accumulator i + w to i (w = 8, 4, 2, 1), whole vectors first, then halves
// of the last vector. Every target performs the same additions.
#if HWY_TARGET == HWY_SCALAR
template <class D, class V> HWY_INLINE double HalvingSum(D, V v) { return hn::GetLane(v); }
#else
template <class D, class V> HWY_INLINE double HalvingSum(D d, V v) {
  if constexpr (hn::MaxLanes(D()) == 1) {
    return hn::GetLane(v);
  } else {
    const hn::Half<D> dh;
    (void)d;
    return HalvingSum(dh, hn::Add(hn::LowerHalf(dh, v), hn::UpperHalf(dh, v)));
  }
}
#endif

HWY_INLINE double TreeSum(const VD *acc) {
  VD a[kSub];
  for (size_t j = 0; j < kSub; ++j) a[j] = acc[j];
  for (size_t w = kSub / 2; w >= 1; w /= 2)
    for (size_t j = 0; j < w; ++j) a[j] = hn::Add(a[j], a[j + w]);
  return HalvingSum(DD(), a[0]);
}

template <class E> float PieceMax(const E *x, int64_t len, bool *nan, bool *neg_inf) {
  const DF df;
  const hn::RebindToUnsigned<DF> du;
  const int64_t n = int64_t(hn::Lanes(df));
  auto m0 = hn::Set(df, -std::numeric_limits<float>::infinity()), m1 = m0;
  const auto ninf = hn::Set(df, -std::numeric_limits<float>::infinity());
  auto bad = hn::Zero(df), low = hn::Zero(df);
  int64_t i = 0;
  for (; i + 2 * n <= len; i += 2 * n) {
    const auto a = LoadF(df, x + i), b = LoadF(df, x + i + n);
    m0 = hn::Max(m0, a);
    m1 = hn::Max(m1, b);
    bad = hn::Or(bad, hn::Or(hn::VecFromMask(df, hn::IsNaN(a)), hn::VecFromMask(df, hn::IsNaN(b))));
    low = hn::Or(
        low, hn::Or(hn::VecFromMask(df, hn::Eq(a, ninf)), hn::VecFromMask(df, hn::Eq(b, ninf))));
  }
#if SOFTCHECK_MASKED_PARTS
  // The rest (fewer than 2 vectors) through masked loads, -inf elsewhere
  if constexpr (kIsFloat<E>) {
    for (; i < len; i += n) {
      const auto mask = hn::FirstN(df, size_t(std::min(n, len - i)));
      const auto a = hn::IfThenElse(mask, hn::MaskedLoad(mask, df, x + i), ninf);
      m0 = hn::Max(m0, a);
      bad = hn::Or(bad, hn::VecFromMask(df, hn::IsNaN(a)));
      low = hn::Or(low, hn::VecFromMask(df, hn::And(mask, hn::Eq(a, ninf))));
    }
  }
#endif
  // Halves (every target): the rest copied into a vector padded with -inf.
  if constexpr (!kIsFloat<E>) {
    for (; i < len; i += n) {
      const size_t k = size_t(std::min(n, len - i));
      const auto a = LoadFirst(df, x + i, k, PadOf<E>(-std::numeric_limits<float>::infinity()));
      m0 = hn::Max(m0, a);
      bad = hn::Or(bad, hn::VecFromMask(df, hn::IsNaN(a)));
      low = hn::Or(low, hn::VecFromMask(df, hn::And(hn::FirstN(df, k), hn::Eq(a, ninf))));
    }
  }
  // Not MaxOfLanes: the portable target's starts from -FLT_MAX, which
  // would turn a piece of -inf into a piece of -FLT_MAX.
  float lanes[HWY_LANES(float)];
  hn::StoreU(hn::Max(m0, m1), df, lanes);
  float m = -std::numeric_limits<float>::infinity();
  for (size_t l = 0; l < hn::Lanes(df); ++l) m = lanes[l] > m ? lanes[l] : m;
  bool has_nan = !hn::AllFalse(du, hn::Ne(hn::BitCast(du, bad), hn::Zero(du)));
  bool has_ninf = !hn::AllFalse(du, hn::Ne(hn::BitCast(du, low), hn::Zero(du)));
  for (; i < len; ++i) {
    const float v = x[i];
    if (std::isnan(v))
      has_nan = true;
    else if (v > m)
      m = v;
    has_ninf = has_ninf || v == -std::numeric_limits<float>::infinity();
  }
  *nan = has_nan;
  *neg_inf = has_ninf;
  return m;
}

// One block of a piece: acc += exp(x - m) where x < m, ties += count of
// x == m (an integer count, off the floating-point pipes).
template <bool kStore, bool kNegInf, bool kAccurate, class E, class C>
HWY_INLINE void SumBlock(const E *xb, C count, VD md, VD *acc, int64_t &ties, double *e) {
  const DD d;
  const float inf = std::numeric_limits<float>::infinity();
  VD x[kSub];
  // Missing lanes hold -inf: exp gives 0 there and they are not ties.
  LoadParts(xb, count, -inf, x);
  HWY_UNROLL(16)
  for (size_t j = 0; j < kSub; ++j) {
    // Parts past the row add +0 to their accumulators: skipped.
    if (j * kLanes >= count) break;
    const VD dl = hn::Sub(x[j], md); // exact x - max
    const VD ex = Exp<false, kNegInf, kAccurate>(dl);
    const auto tie = hn::Eq(dl, hn::Zero(d)); // else dl < 0
    acc[j] = hn::Add(acc[j], hn::IfThenZeroElse(tie, ex));
    ties += int64_t(hn::CountTrue(d, tie));
    if constexpr (kStore) hn::StoreU(ex, d, e + j * kLanes); // e is padded to whole blocks
  }
}

template <bool kStore, bool kNegInf, bool kAccurate, class E>
HWY_INLINE void PieceSums(const E *x, int64_t len, float m, double *e, Piece *out) {
  const DD d;
  const VD md = hn::Set(d, double(m));
  VD acc[kSub];
  for (size_t j = 0; j < kSub; ++j) acc[j] = hn::Zero(d);
  int64_t ties = 0;
  const int64_t full = len - len % int64_t(kBlock);
  for (int64_t i = 0; i < full; i += int64_t(kBlock)) {
    hwy::Prefetch(x + len + i); // the next piece, which the next call reads from memory
    SumBlock<kStore, kNegInf, kAccurate>(x + i, Whole(), md, acc, ties, kStore ? e + i : nullptr);
  }
  if (full < len)
    SumBlock<kStore, true, kAccurate>(x + full, size_t(len - full), md, acc, ties,
                                      kStore ? e + full : nullptr);
  out->rest = TreeSum(acc);
  out->ties = double(ties);
}

template <bool kAccurate, class E> void PieceImpl(const E *x, int64_t len, double *e, Piece *out) {
  bool nan = false, neg_inf = false;
  const float m = PieceMax(x, len, &nan, &neg_inf);
  out->max = m;
  out->nan = nan;
  out->rest = 0;
  out->ties = 0;
  if (nan || std::isinf(m)) {
    // A special row (plugin.h) or a piece of -inf only: no sum is needed;
    // its outputs are filled from the row's kind, or scaled by exp(-inf) = 0.
    if (m == -std::numeric_limits<float>::infinity()) out->ties = double(len);
    if (e) std::fill(e, e + len, 0.0);
    return;
  }
  if (e)
    neg_inf ? PieceSums<true, true, kAccurate>(x, len, m, e, out)
            : PieceSums<true, false, kAccurate>(x, len, m, e, out);
  else
    neg_inf ? PieceSums<false, true, kAccurate>(x, len, m, e, out)
            : PieceSums<false, false, kAccurate>(x, len, m, e, out);
}

// f(i, count) for the blocks [i, i + count) of [0, len): the whole ones
// with count the constant kBlock (so their parts' checks fold away), then
// the last one, if partial.
template <class F> HWY_INLINE void Blocks(int64_t len, F &&f) {
  const int64_t full = len - len % int64_t(kBlock);
  for (int64_t i = 0; i < full; i += int64_t(kBlock))
    f(i, std::integral_constant<size_t, kBlock>());
  if (full < len) f(full, size_t(len - full));
}

// y[i] = float(f(double(a[i]), double(b[i]))) over [0, len).
template <size_t kIn, class E, class F>
HWY_INLINE void Map(const E *a, const E *b, E *y, int64_t len, F &&f) {
  Blocks(len, [&](int64_t i, auto count) {
    VD va[kSub], vb[kSub], r[kSub];
    LoadParts(a + i, count, 0.0f, va);
    if constexpr (kIn == 2) LoadParts(b + i, count, 0.0f, vb);
    HWY_UNROLL(16)
    for (size_t j = 0; j < kSub; ++j) r[j] = kIn == 2 ? f(va[j], vb[j]) : f(va[j], va[j]);
    StoreParts(r, y + i, count);
  });
}

// y[i] = float(f(e[i])) over [0, len), e padded to whole blocks.
template <class E, class F> HWY_INLINE void FromDouble(const double *e, int64_t len, E *y, F &&f) {
  const DD d;
  Blocks(len, [&](int64_t i, auto count) {
    VD r[kSub];
    for (size_t j = 0; j < kSub; ++j)
      r[j] = j * kLanes < count ? f(hn::LoadU(d, e + i + j * kLanes)) : hn::Zero(d);
    StoreParts(r, y + i, count);
  });
}

template <class E> void Scale(const double *e, int64_t len, double scale, E *y) {
  const VD s = hn::Set(DD(), scale);
  FromDouble(e, len, y, [&](VD v) { return hn::Mul(v, s); });
}

void ScaleShiftF32(const double *e, int64_t len, double scale, double g, double a, float *y) {
  const DD d;
  const VD s = hn::Set(d, scale), gv = hn::Set(d, g), av = hn::Set(d, a);
  FromDouble(e, len, y, [&](VD v) { return hn::Mul(gv, hn::Sub(hn::Mul(v, s), av)); });
}

template <class E> void LogProb(const E *x, int64_t len, double max, double log_s, E *y) {
  const DD d;
  const VD m = hn::Set(d, max), l = hn::Set(d, log_s);
  Map<1>(x, static_cast<const E *>(nullptr), y, len,
         [&](VD v, VD) { return hn::Sub(hn::Sub(v, m), l); });
}

template <class E> void SoftmaxBackward(const E *y, const E *dy, int64_t len, double dot, E *dx) {
  const VD dt = hn::Set(DD(), dot);
  Map<2>(y, dy, dx, len, [&](VD yv, VD dyv) { return hn::Mul(yv, hn::Sub(dyv, dt)); });
}

template <class E>
void LogSoftmaxBackward(const E *y, const E *dy, int64_t len, double total, E *dx) {
  const VD tt = hn::Set(DD(), total);
  Map<2>(y, dy, dx, len,
         [&](VD yv, VD dyv) { return hn::Sub(dyv, hn::Mul(Exp<true, true, true>(yv), tt)); });
}

template <class E> double Dot(const E *a, const E *b, int64_t len) {
  VD acc[kSub];
  for (size_t j = 0; j < kSub; ++j) acc[j] = hn::Zero(DD());
  Blocks(len, [&](int64_t i, auto count) {
    VD va[kSub], vb[kSub];
    LoadParts(a + i, count, 0.0f, va);
    LoadParts(b + i, count, 0.0f, vb);
    HWY_UNROLL(16)
    for (size_t j = 0; j < kSub; ++j)
      acc[j] = hn::Add(acc[j], hn::Mul(va[j], vb[j])); // exact products
  });
  return TreeSum(acc);
}

template <class E> double Sum(const E *a, int64_t len, bool *infinite) {
  const DD d;
  VD acc[kSub];
  auto inf = hn::Zero(d);
  for (size_t j = 0; j < kSub; ++j) acc[j] = hn::Zero(d);
  Blocks(len, [&](int64_t i, auto count) {
    VD va[kSub];
    LoadParts(a + i, count, 0.0f, va);
    HWY_UNROLL(16)
    for (size_t j = 0; j < kSub; ++j) {
      const VD v = va[j];
      acc[j] = hn::Add(acc[j], v);
      inf = hn::Or(inf, hn::VecFromMask(d, hn::IsInf(v)));
    }
  });
  *infinite = !hn::AllFalse(DU(), hn::Ne(hn::BitCast(DU(), inf), hn::Zero(DU())));
  return TreeSum(acc);
}

// log1p(s) for s >= 0 (or +inf, NaN), relative error below 2^-40: u = 1 + s
// and its rounding error c = (s - (u - 1)) / u, log(u) = e ln2 + log(m) with
// u = 2^e m, m in [sqrt(1/2), sqrt(2)), log(m) = 2 atanh(z), z = (m-1)/(m+1),
// |z| <= 0.1716, by the series up to z^15 (the next term is below 2^-44 of
// the sum); log1p(s) = log(u) + c.
HWY_INLINE VD Log1p(VD s) {
  const DD d;
  const DI di;
  const VD one = hn::Set(d, 1.0);
  const VD u = hn::Add(one, s);
  const VD c = hn::Div(hn::Sub(s, hn::Sub(u, one)), u);
  // u = 2^e m with m in [sqrt(1/2), sqrt(2)), from the exponent bits of u.
  const auto bits = hn::BitCast(di, u);
  auto e = hn::Sub(hn::ShiftRight<52>(bits), hn::Set(di, 1023));
  VD m = hn::BitCast(d, hn::Or(hn::And(bits, hn::Set(di, 0x000FFFFFFFFFFFFFLL)),
                               hn::Set(di, 0x3FF0000000000000LL)));
  const auto big = hn::Gt(m, hn::Set(d, 1.4142135623730951));
  m = hn::IfThenElse(big, hn::Mul(m, hn::Set(d, 0.5)), m);
  e = hn::Add(e, hn::IfThenElseZero(hn::RebindMask(di, big), hn::Set(di, 1)));
  const VD z = hn::Div(hn::Sub(m, one), hn::Add(m, one));
  const VD w = hn::Mul(z, z);
  VD p = hn::Set(d, 1.0 / 15);
  p = Fma(p, w, hn::Set(d, 1.0 / 13));
  p = Fma(p, w, hn::Set(d, 1.0 / 11));
  p = Fma(p, w, hn::Set(d, 1.0 / 9));
  p = Fma(p, w, hn::Set(d, 1.0 / 7));
  p = Fma(p, w, hn::Set(d, 1.0 / 5));
  p = Fma(p, w, hn::Set(d, 1.0 / 3));
  p = Fma(p, w, one);
  const VD logm = hn::Mul(hn::Add(z, z), p);
  const VD ed = hn::ConvertTo(d, e);
  VD r = hn::Add(Fma(ed, hn::Set(d, 0.6931471805599453), logm), c);
  // s = +inf: log1p = +inf; NaN stays NaN; s = 0 gives exactly 0 above.
  r = hn::IfThenElse(hn::Eq(s, hn::Set(d, std::numeric_limits<double>::infinity())), s, r);
  return hn::IfThenElse(hn::Eq(s, s), r, s);
}

void Log1pF64(const double *in, double *out, int64_t n) {
  const DD d;
  const int64_t lanes = int64_t(kLanes);
  for (int64_t i = 0; i < n; i += lanes) {
    double buf[kLanes] = {};
    for (int64_t l = 0; l < lanes && i + l < n; ++l) buf[l] = in[i + l];
    hn::StoreU(Log1p(hn::LoadU(d, buf)), d, buf);
    for (int64_t l = 0; l < lanes && i + l < n; ++l) out[i + l] = buf[l];
  }
}

// The 16 lane-wise accumulators of short rows added in TreeSum's tree
// (level w adds accumulator j + w to j, w = 8, 4, 2, 1): the row path's
// additions.
HWY_INLINE VD LaneTree(VD *acc) {
  HWY_UNROLL(4)
  for (size_t w = kBlock / 2; w >= 1; w /= 2) {
    HWY_UNROLL(8)
    for (size_t j = 0; j < w; ++j) acc[j] = hn::Add(acc[j], acc[j + w]);
  }
  return acc[0];
}

// Lane l's bit of a mask stored by StoreMaskBits.
HWY_INLINE bool LaneBit(const uint8_t *bits, int64_t l) { return (bits[l / 8] >> (l % 8)) & 1; }

// The kLanes rows of a group moved between row order (x, y: rows of n
// floats) and lane order (v: element c of every row at v[c * kLanes], in
// double). Rows past m (the last group's) repeat row 0: computed, never
// stored. AVX2 moves 4 x 4 blocks through registers (masked at a row's
// end); the other targets gather and store element by element.
#if HWY_TARGET == HWY_AVX2
HWY_INLINE void Transpose4(hn::Vec<DH> &a, hn::Vec<DH> &b, hn::Vec<DH> &c, hn::Vec<DH> &e) {
  const DH d4;
  const auto t0 = hn::InterleaveLower(d4, a, b), t1 = hn::InterleaveLower(d4, c, e);
  const auto t2 = hn::InterleaveUpper(d4, a, b), t3 = hn::InterleaveUpper(d4, c, e);
  a = hn::ConcatLowerLower(d4, t1, t0);
  b = hn::ConcatUpperUpper(d4, t1, t0);
  c = hn::ConcatLowerLower(d4, t3, t2);
  e = hn::ConcatUpperUpper(d4, t3, t2);
}

// Elements [c0, c0 + 4) of the rows at x[k] (k < 4), zero past n; T is
// the storage (a half row is widened in lanes, its last part through a
// copy: no masked 16-bit loads).
template <class D, class T>
HWY_INLINE void LoadRows4(D d, const T *const *x, int64_t c0, int64_t n, hn::Vec<D> *q) {
  if (c0 + 4 <= n) {
    for (int k = 0; k < 4; ++k) q[k] = LoadF(d, x[k] + c0);
  } else if constexpr (is_half_v<T>) {
    for (int k = 0; k < 4; ++k) q[k] = LoadFirst(d, x[k] + c0, size_t(n - c0), T::from_bits(0));
  } else {
    const auto mask = hn::FirstN(d, size_t(n - c0));
    for (int k = 0; k < 4; ++k) q[k] = hn::MaskedLoad(mask, d, x[k] + c0);
  }
}

// q[l] into elements [c0, c0 + cnt) of row l of y (rows of n), for the l
// that keep(l) takes.
template <class D, class T, class K>
HWY_INLINE void StoreRows4(D d, const hn::Vec<D> *q, T *y, int64_t n, int64_t c0, int64_t cnt,
                           K &&keep) {
  if (cnt == 4) {
    for (int l = 0; l < 4; ++l)
      if (keep(l)) StoreF(d, q[l], y + l * n + c0);
  } else if constexpr (is_half_v<T>) {
    for (int l = 0; l < 4; ++l)
      if (keep(l)) StoreFirst(d, q[l], y + l * n + c0, size_t(cnt));
  } else {
    const auto mask = hn::FirstN(d, size_t(cnt));
    for (int l = 0; l < 4; ++l)
      if (keep(l)) hn::BlendedStore(q[l], mask, d, y + l * n + c0);
  }
}
#endif

// out[0, len) = in[0, len) converted between float and a half format
// (widened exactly, or rounded as StoreF rounds), in lanes.
template <class A, class B> HWY_INLINE void ConvertRun(const A *in, int64_t len, B *out) {
  const DH dh;
  for (int64_t i = 0; i < len; i += int64_t(kLanes)) {
    const size_t k = size_t(std::min(int64_t(kLanes), len - i));
    if (k == kLanes)
      StoreF(dh, LoadF(dh, in + i), out + i);
    else
      StoreFirst(dh, LoadFirst(dh, in + i, k, A{}), out + i, k);
  }
}

template <class E> HWY_INLINE void ToLanes(const E *x, int64_t n, int64_t m, double *v) {
  const DD d;
#if HWY_TARGET == HWY_AVX2
  // (v has room for whole blocks of 4 elements: kShortRow is a multiple of 4.)
  const DH d4;
  const E *rows[4] = {x, x + (m > 1 ? n : 0), x + (m > 2 ? 2 * n : 0), x + (m > 3 ? 3 * n : 0)};
  for (int64_t c0 = 0; c0 < n; c0 += 4) {
    hn::Vec<DH> q[4];
    LoadRows4(d4, rows, c0, n, q);
    Transpose4(q[0], q[1], q[2], q[3]);
    for (int k = 0; k < 4; ++k) hn::Store(hn::PromoteTo(d, q[k]), d, v + c0 * 4 + 4 * k);
  }
#else
  if constexpr (is_half_v<E>) {
    // The group's rows (contiguous) widened first, then gathered as floats.
    HWY_ALIGN float f[kShortRow * kLanes];
    ConvertRun(x, m * n, f);
    ToLanes(static_cast<const float *>(f), n, m, v);
  } else {
    const hn::Rebind<int32_t, DH> di32;
    HWY_ALIGN int32_t off[kLanes];
    for (int64_t l = 0; l < int64_t(kLanes); ++l) off[l] = int32_t((l < m ? l : 0) * n);
    const auto offsets = hn::Load(di32, off);
    for (int64_t c = 0; c < n; ++c)
      hn::Store(hn::PromoteTo(d, hn::GatherIndex(DH(), x + c, offsets)), d,
                v + c * int64_t(kLanes));
  }
#endif
}

// Rounds v (lane order) to float once and stores the rows l < m of y
// whose bit l is set in `write` (all of them by default).
template <class E>
HWY_INLINE void FromLanes(const double *v, int64_t n, int64_t m, E *y,
                          uint32_t write = ~uint32_t(0)) {
  const DD d;
  auto keep = [&](int64_t l) { return l < m && ((write >> l) & 1); };
#if HWY_TARGET == HWY_AVX2
  const DH d4;
  for (int64_t c0 = 0; c0 < n; c0 += 4) {
    const int64_t cnt = std::min<int64_t>(4, n - c0);
    const auto none = hn::Zero(d4);
    hn::Vec<DH> q[4];
    for (int k = 0; k < 4; ++k) q[k] = cnt > k ? Demote(hn::Load(d, v + c0 * 4 + 4 * k)) : none;
    Transpose4(q[0], q[1], q[2], q[3]);
    StoreRows4(d4, q, y, n, c0, cnt, keep);
  }
#else
  HWY_ALIGN float f[kShortRow * kLanes];
  for (int64_t c = 0; c < n; ++c)
    hn::Store(Demote(hn::Load(d, v + c * int64_t(kLanes))), DH(), f + c * int64_t(kLanes));
  for (int64_t l = 0; l < m; ++l) {
    if (!keep(l)) continue;
    if constexpr (is_half_v<E>) {
      float row[kShortRow];
      for (int64_t c = 0; c < n; ++c) row[c] = f[c * int64_t(kLanes) + l];
      ConvertRun(static_cast<const float *>(row), n, y + l * n);
    } else {
      for (int64_t c = 0; c < n; ++c) y[l * n + c] = f[c * int64_t(kLanes) + l];
    }
  }
#endif
}

// The statistics of a group of rows in lane order (ToLanes' v): mx = the
// max of the elements that are not NaN (PieceMax's), nan, fin = the rows
// the sums are for (no NaN, finite max), and total = combine()'s rest of a
// one-piece row, (ties - 1) + the sum of exp(x - max) over x < max, 0 in
// the other rows (whose sums mean nothing: no division by 0 follows).
// When ex is not NULL, ex[c * kLanes] = exp(x_c - max) (0 in rows that are
// not fin).
template <bool kAccurate>
HWY_INLINE void LaneStats(const double *v, int64_t n, double *ex_out, VD &mx, hn::Mask<DD> &nan,
                          hn::Mask<DD> &fin, VD &total) {
  const DD d;
  const VD ninf = hn::Set(d, -std::numeric_limits<double>::infinity()), zero = hn::Zero(d),
           one = hn::Set(d, 1.0);
  mx = ninf;
  nan = hn::Lt(zero, zero);
  for (int64_t c = 0; c < n; ++c) {
    const VD e = hn::Load(d, v + c * int64_t(kLanes));
    const auto bad = hn::IsNaN(e);
    nan = hn::Or(nan, bad);
    mx = hn::Max(mx, hn::IfThenElse(bad, ninf, e));
  }
  fin = hn::AndNot(nan, hn::IsFinite(mx));
  VD acc[kBlock];
  for (size_t j = 0; j < kBlock; ++j) acc[j] = zero;
  VD ties = zero;
  for (int64_t c0 = 0; c0 < n; c0 += int64_t(kBlock)) {
    HWY_UNROLL(16)
    for (size_t j = 0; j < kBlock; ++j) {
      const int64_t c = c0 + int64_t(j);
      if (c >= n) break;
      const VD dl = hn::Sub(hn::Load(d, v + c * int64_t(kLanes)), mx); // exact x - max
      const VD ex = Exp<false, true, kAccurate>(dl);
      const auto tie = hn::Eq(dl, zero);
      acc[j] = hn::Add(acc[j], hn::IfThenZeroElse(tie, ex));
      ties = hn::Add(ties, hn::IfThenElseZero(tie, one));
      if (ex_out) hn::Store(hn::IfThenElseZero(fin, ex), d, ex_out + c * int64_t(kLanes));
    }
  }
  total = hn::IfThenElseZero(fin, hn::Add(hn::Sub(ties, one), LaneTree(acc)));
}

// Short rows, one row per lane: kLanes rows at a time, copied in
// transposed ([element][row], in double), so a row's max and sums are
// lane-wise operations with no horizontal step and no part-filled vector.
// Element c of a row goes to accumulator c mod 16 in element order and the
// 16 accumulators are added in TreeSum's tree (+8, +4, +2, +1): the very
// additions piece_f32 performs on the row, so both paths give the same
// bits (test_simd_targets compares them).
template <ShortOp kOp, class E>
void ShortRowsImpl(const E *x, int64_t rows, int64_t n, E *y, RowStats *stats) {
  const DD d;
  const double inf = std::numeric_limits<double>::infinity();
  const VD ninf = hn::Set(d, -inf), zero = hn::Zero(d), one = hn::Set(d, 1.0);
  HWY_ALIGN double v[kShortRow * kLanes];
  HWY_ALIGN double out[kShortRow * kLanes];
  for (int64_t r0 = 0; r0 < rows; r0 += int64_t(kLanes)) {
    const int64_t m = std::min(int64_t(kLanes), rows - r0);
    ToLanes(x + r0 * n, n, m, v);
    VD mx, total;
    hn::Mask<DD> nan, fin;
    LaneStats<false>(v, n, kOp == ShortOp::softmax ? out : nullptr, mx, nan, fin, total);
    if constexpr (kOp == ShortOp::stats) {
      HWY_ALIGN double mxs[kLanes], rest[kLanes], log_s[kLanes];
      hn::Store(mx, d, mxs);
      hn::Store(total, d, rest);
      hn::Store(Log1p(total), d, log_s);
      HWY_ALIGN uint8_t nans[kLanes * 8];
      hn::StoreMaskBits(d, nan, nans);
      for (int64_t l = 0; l < m; ++l) {
        RowStats &st = stats[r0 + l];
        st.max = float(mxs[l]);
        st.nan = LaneBit(nans, l);
        st.rest = rest[l];
        st.log_s = log_s[l];
      }
    } else {
      const VD nanv = hn::Set(d, std::numeric_limits<double>::quiet_NaN());
      const auto all_ninf = hn::AndNot(nan, hn::Eq(mx, ninf));
      if constexpr (kOp == ShortOp::softmax) {
        // p = exp(x - max) / (1 + rest); 0 in all -inf rows, NaN in the other special ones.
        const VD scale = hn::Div(one, hn::Add(one, total));
        const VD special = hn::IfThenElse(all_ninf, zero, nanv);
        for (int64_t c = 0; c < n; ++c) {
          const VD p = hn::Mul(hn::Load(d, out + c * int64_t(kLanes)), scale);
          hn::Store(hn::IfThenElse(fin, p, special), d, out + c * int64_t(kLanes));
        }
      } else {
        // log p = (x - max) - log1p(rest); -inf in all -inf rows, NaN in the other special ones.
        const VD log_s = Log1p(total);
        const VD special = hn::IfThenElse(all_ninf, ninf, nanv);
        for (int64_t c = 0; c < n; ++c) {
          const VD lp = hn::Sub(hn::Sub(hn::Load(d, v + c * int64_t(kLanes)), mx), log_s);
          hn::Store(hn::IfThenElse(fin, lp, special), d, out + c * int64_t(kLanes));
        }
      }
      FromLanes(out, n, m, y + r0 * n);
    }
  }
}

// The backward ops on short rows, one row per lane, with the additions
// and roundings of DotF32 + SoftmaxBackwardF32 (softmax) or SumF32 +
// LogSoftmaxBackwardF32 (log_softmax) and the one-piece finish: the same
// bits. A log_softmax row with an infinite dy gives NaN (undefined); a
// row whose dy sums to 0 gives dy (NaN where y is NaN or +inf).
template <bool kLog, class E>
void ShortBackwardImpl(const E *y, const E *dy, int64_t rows, int64_t n, E *dx) {
  const DD d;
  const VD zero = hn::Zero(d);
  HWY_ALIGN double yv[kShortRow * kLanes];
  HWY_ALIGN double gv[kShortRow * kLanes];
  for (int64_t r0 = 0; r0 < rows; r0 += int64_t(kLanes)) {
    const int64_t m = std::min(int64_t(kLanes), rows - r0);
    ToLanes(y + r0 * n, n, m, yv);
    ToLanes(dy + r0 * n, n, m, gv);
    VD acc[kBlock];
    for (size_t j = 0; j < kBlock; ++j) acc[j] = zero;
    auto infinite = hn::Lt(zero, zero);
    for (int64_t c0 = 0; c0 < n; c0 += int64_t(kBlock)) {
      HWY_UNROLL(16)
      for (size_t j = 0; j < kBlock; ++j) {
        const int64_t c = c0 + int64_t(j);
        if (c >= n) break;
        const VD g = hn::Load(d, gv + c * int64_t(kLanes));
        if constexpr (kLog) {
          acc[j] = hn::Add(acc[j], g);
          infinite = hn::Or(infinite, hn::IsInf(g));
        } else {
          acc[j] = hn::Add(acc[j], hn::Mul(hn::Load(d, yv + c * int64_t(kLanes)), g)); // exact
        }
      }
    }
    const VD t = LaneTree(acc);
    for (int64_t c = 0; c < n; ++c) {
      const VD yc = hn::Load(d, yv + c * int64_t(kLanes));
      const VD g = hn::Load(d, gv + c * int64_t(kLanes));
      VD r;
      if constexpr (kLog) {
        const VD nanv = hn::Set(d, std::numeric_limits<double>::quiet_NaN());
        const auto bad_y =
            hn::Or(hn::IsNaN(yc), hn::Eq(yc, hn::Set(d, std::numeric_limits<double>::infinity())));
        const VD zero_sum = hn::IfThenElse(bad_y, nanv, g);
        r = hn::Sub(g, hn::Mul(Exp<true, true, true>(yc), t));
        r = hn::IfThenElse(hn::Eq(t, zero), zero_sum, r);
        r = hn::IfThenElse(infinite, nanv, r);
      } else {
        r = hn::Mul(yc, hn::Sub(g, t));
      }
      hn::Store(r, d, gv + c * int64_t(kLanes));
    }
    FromLanes(gv, n, m, dx + r0 * n);
  }
}

template <class E>
void ShortBackward(const E *y, const E *dy, int64_t rows, int64_t n, bool log, E *dx) {
  log ? ShortBackwardImpl<true>(y, dy, rows, n, dx) : ShortBackwardImpl<false>(y, dy, rows, n, dx);
}

// Whole rows of one piece (n <= kChunk), start to finish in one call:
// piece_f32, the one-piece combine, then scale_f32 or log_prob_f32, as the
// piece path runs them (the same bits), without a call per step.
template <ShortOp kOp, class E>
void OnePieceRowsImpl(const E *x, int64_t rows, int64_t n, E *y, double *e) {
  const DD d;
  const float inf = std::numeric_limits<float>::infinity();
  for (int64_t r = 0; r < rows; ++r) {
    const E *xr = x + r * n;
    E *yr = y + r * n;
    Piece p;
    PieceImpl<false>(xr, n, kOp == ShortOp::softmax ? e : nullptr, &p);
    if (p.nan || p.max == inf) {
      std::fill(yr, yr + n, E(std::numeric_limits<float>::quiet_NaN()));
    } else if (p.max == -inf) {
      std::fill(yr, yr + n, E(kOp == ShortOp::softmax ? 0.0f : -inf));
    } else {
      const double total = (p.ties - 1) + p.rest;
      if constexpr (kOp == ShortOp::softmax) {
        Scale(e, n, 1.0 / (1 + total), yr);
      } else {
        LogProb(xr, n, p.max, hn::GetLane(Log1p(hn::Set(d, total))), yr);
      }
    }
  }
}

template <class E>
void OnePieceRows(const E *x, int64_t rows, int64_t n, ShortOp op, E *y, double *e) {
  op == ShortOp::softmax ? OnePieceRowsImpl<ShortOp::softmax>(x, rows, n, y, e)
                         : OnePieceRowsImpl<ShortOp::log_softmax>(x, rows, n, y, e);
}

void ShortCeBackwardF32(const float *x, float *dx, int64_t rows, int64_t n, const CeRow *row) {
  const DD d;
  const VD one = hn::Set(d, 1.0), nanv = hn::Set(d, std::numeric_limits<double>::quiet_NaN());
  HWY_ALIGN double v[kShortRow * kLanes];
  HWY_ALIGN double ex[kShortRow * kLanes];
  for (int64_t r0 = 0; r0 < rows; r0 += int64_t(kLanes)) {
    const int64_t m = std::min(int64_t(kLanes), rows - r0);
    uint32_t active = 0; // bit l: row r0 + l
    HWY_ALIGN double g[kLanes] = {}, sr[kLanes] = {}, a0[kLanes] = {};
    for (int64_t l = 0; l < m; ++l) {
      const CeRow &cr = row[r0 + l];
      active |= uint32_t(cr.active) << l;
      g[l] = cr.g, sr[l] = cr.sr, a0[l] = cr.a0;
    }
    if (!active) continue;
    ToLanes(x + r0 * n, n, m, v);
    VD mx, total;
    hn::Mask<DD> nan, fin;
    LaneStats<true>(v, n, ex, mx, nan, fin, total);
    // dx = g (e sr scale - a0), scale = 1 / (1 + rest) (0 in all -inf
    // rows, whose e are 0 too); NaN in rows with a NaN or +inf.
    const VD scale = hn::IfThenElseZero(fin, hn::Div(one, hn::Add(one, total)));
    const VD s = hn::Mul(hn::Load(d, sr), scale), gv = hn::Load(d, g), av = hn::Load(d, a0);
    const auto undefined =
        hn::Or(nan, hn::Eq(mx, hn::Set(d, std::numeric_limits<double>::infinity())));
    for (int64_t c = 0; c < n; ++c) {
      const VD r = hn::Mul(gv, hn::Sub(hn::Mul(hn::Load(d, ex + c * int64_t(kLanes)), s), av));
      hn::Store(hn::IfThenElse(undefined, nanv, r), d, ex + c * int64_t(kLanes));
    }
    // The target's entry, from its logit (read before dx is written: dx may be x).
    HWY_ALIGN double mxs[kLanes], rest[kLanes];
    hn::Store(mx, d, mxs);
    hn::Store(total, d, rest);
    HWY_ALIGN uint8_t bits[kLanes * 8], undef[kLanes * 8];
    hn::StoreMaskBits(d, fin, bits);
    hn::StoreMaskBits(d, undefined, undef);
    for (int64_t l = 0; l < m; ++l) {
      const CeRow &cr = row[r0 + l];
      if (!cr.active || LaneBit(undef, l) || cr.target < 0 || cr.target >= n) continue;
      const bool finite = LaneBit(bits, l);
      const double pt =
          finite ? std::exp(v[cr.target * int64_t(kLanes) + l] - mxs[l]) / (1 + rest[l]) : 0;
      ex[cr.target * int64_t(kLanes) + l] = cr.g * (cr.sr * pt - cr.at);
    }
    FromLanes(ex, n, m, dx + r0 * n, active); // inactive rows untouched
  }
}

template <class E>
void ShortRows(const E *x, int64_t rows, int64_t n, ShortOp op, E *y, RowStats *stats) {
  switch (op) {
  case ShortOp::stats: return ShortRowsImpl<ShortOp::stats>(x, rows, n, y, stats);
  case ShortOp::softmax: return ShortRowsImpl<ShortOp::softmax>(x, rows, n, y, stats);
  case ShortOp::log_softmax: return ShortRowsImpl<ShortOp::log_softmax>(x, rows, n, y, stats);
  }
}

// ------------------------------------------------------------ float64 rows
//
// Double rows in double lanes, with double-double arithmetic where one
// rounding is not enough: a float64 result within 1 ulp needs its value
// before the last rounding to within 2^-53 relative, below double's own
// rounding. Blocks of 8 elements (8 / kLanes vectors) with 8 fixed
// accumulators added in a fixed order: every target the same bits.
constexpr size_t kBlock64 = 8;
constexpr size_t kSub64 = kBlock64 / kLanes;
static_assert(kBlock64 % kLanes == 0, "a block is whole vectors");

// s + e = a + b exactly (Knuth's TwoSum; nothing may overflow).
HWY_INLINE void TwoSum(VD a, VD b, VD &s, VD &e) {
  s = hn::Add(a, b);
  const VD bb = hn::Sub(s, a);
  e = hn::Add(hn::Sub(a, hn::Sub(s, bb)), hn::Sub(b, bb));
}
// The same when |a| >= |b| (Dekker's Fast2Sum).
HWY_INLINE void FastTwoSum(VD a, VD b, VD &s, VD &e) {
  s = hn::Add(a, b);
  e = hn::Sub(b, hn::Sub(s, a));
}

// exp(hi + lo) as eh + el with relative error below 2^-56.5, for hi in
// [-700, 0] (callers clamp) and |lo| <= 2^-53 |hi|.
//   k = round(hi / ln2); rh = hi - k ln2_hi is exact (fdlibm's ln2_hi has
//   32 bits, so k ln2_hi is exact for |k| <= 1010 and the difference spans
//   at most 53 bits); rl = lo - k ln2_lo, rounded (2^-75 absolute, and
//   ln2_hi + ln2_lo errs from ln2 by 2^-85 relative, times |k| <= 1010).
//   t + tl = rh + rl (TwoSum), |t| <= ln2/2 + 2^-22, |tl| <= 2^-53 |t|:
//   exp(t + tl) = exp(t) (1 + tl) to within 2^-107.
//   exp(t) = 1 + t + t^2/2 + t^3 Q(t), Q the Taylor series 1/3! + t/4! +
//   ... + t^10/13! (the rest is below |t|^14/14! e^|t| < 2^-60.5 at
//   |t| = 0.3466); 1 + t and + t^2/2 exactly (Fast2Sum, t^2 by an exact
//   FMA product), the small terms t^3 Q(t) (<= 0.0077, with at most 3
//   roundings of 2^-53 each in Q and the products) and the low parts added
//   in double: at most 2^-57.4 absolute, against exp(t) >= 2^-0.5.
//   Times 2^k, exact: exp(hi) >= e^-700 > 2^-1011 stays normal (el may
//   be subnormal there: 2^-1075 absolute, 2^-64 of eh).
HWY_INLINE void ExpDD(VD hi, VD lo, VD &eh, VD &el) {
  const DD d;
  const DI di;
  const VD shifter = hn::Set(d, 0x1.8p52);
  const VD kd = Fma(hi, hn::Set(d, 1.4426950408889634), shifter);
  const VD k = hn::Sub(kd, shifter);
  const VD rh = Fma(k, hn::Set(d, -6.93147180369123816490e-01), hi);
  const VD rl = Fma(k, hn::Set(d, -1.90821492927058770002e-10), lo);
  VD t, tl;
  TwoSum(rh, rl, t, tl);
  const VD sq = hn::Mul(t, t);
  const VD sql = Fma(t, t, hn::Neg(sq)); // t^2 = sq + sql exactly
  VD q = hn::Set(d, 1.0 / 6227020800.0); // 1/13!
  q = Fma(q, t, hn::Set(d, 1.0 / 479001600.0));
  q = Fma(q, t, hn::Set(d, 1.0 / 39916800.0));
  q = Fma(q, t, hn::Set(d, 1.0 / 3628800.0));
  q = Fma(q, t, hn::Set(d, 1.0 / 362880.0));
  q = Fma(q, t, hn::Set(d, 1.0 / 40320.0));
  q = Fma(q, t, hn::Set(d, 1.0 / 5040.0));
  q = Fma(q, t, hn::Set(d, 1.0 / 720.0));
  q = Fma(q, t, hn::Set(d, 1.0 / 120.0));
  q = Fma(q, t, hn::Set(d, 1.0 / 24.0));
  q = Fma(q, t, hn::Set(d, 1.0 / 6.0));
  const VD half = hn::Set(d, 0.5);
  VD a, al, b, bl;
  FastTwoSum(hn::Set(d, 1.0), t, a, al);
  FastTwoSum(a, hn::Mul(sq, half), b, bl);
  const VD small =
      hn::Add(hn::Add(al, bl), hn::Add(hn::Mul(sql, half), hn::Mul(sq, hn::Mul(t, q))));
  VD e, elo;
  FastTwoSum(b, small, e, elo);
  elo = Fma(e, tl, elo);
  const auto biased = hn::Sub(hn::BitCast(di, kd), hn::Set(di, 0x4338000000000000LL - 1023));
  const VD scale = hn::BitCast(d, hn::ShiftLeft<52>(biased));
  eh = hn::Mul(e, scale);
  el = hn::Mul(elo, scale);
}

HWY_INLINE size_t InPart64(size_t j, size_t count) {
  return count <= j * kLanes ? 0 : std::min(kLanes, count - j * kLanes);
}

// Sub-vector j of a block of `count` elements; missing lanes hold `pad`.
HWY_INLINE VD LoadPart64(const double *block, size_t j, size_t count, double pad) {
  const DD d;
  const size_t k = InPart64(j, count);
  if (k == kLanes) return hn::LoadU(d, block + j * kLanes);
  if (k == 0) return hn::Set(d, pad);
#if SOFTCHECK_MASKED_PARTS
  const auto m = hn::FirstN(d, k);
  return hn::IfThenElse(m, hn::MaskedLoad(m, d, block + j * kLanes), hn::Set(d, pad));
#else
  double tmp[kLanes];
  for (size_t l = 0; l < kLanes; ++l) tmp[l] = l < k ? block[j * kLanes + l] : pad;
  return hn::LoadU(d, tmp);
#endif
}

HWY_INLINE void StorePart64(VD v, double *block, size_t j, size_t count) {
  const DD d;
  const size_t k = InPart64(j, count);
  if (k == kLanes) return hn::StoreU(v, d, block + j * kLanes);
  if (k == 0) return;
#if SOFTCHECK_MASKED_PARTS
  hn::BlendedStore(v, hn::FirstN(d, k), d, block + j * kLanes);
#else
  double tmp[kLanes];
  hn::StoreU(v, d, tmp);
  for (size_t l = 0; l < k; ++l) block[j * kLanes + l] = tmp[l];
#endif
}

template <class F> HWY_INLINE void Blocks64(int64_t len, F &&f) {
  for (int64_t i = 0; i < len; i += int64_t(kBlock64)) {
    const size_t count = size_t(std::min<int64_t>(int64_t(kBlock64), len - i));
    HWY_UNROLL(8)
    for (size_t j = 0; j < kSub64; ++j) f(i, j, count);
  }
}

// The lanes of v, in lane order, into out (kLanes of them).
HWY_INLINE void Lanes64(VD v, double *out) { hn::StoreU(v, DD(), out); }

// The 8 double-double slots in slot order (slot i is lane i % kLanes of
// vector i / kLanes): TwoSum of the high parts, the low parts and the
// errors added in double. Every target performs the same additions.
HWY_INLINE void CombineSlots(const VD *sh, const VD *sl, double *hi, double *lo) {
  double hs[kBlock64], ls[kBlock64];
  for (size_t j = 0; j < kSub64; ++j) {
    Lanes64(sh[j], hs + j * kLanes);
    Lanes64(sl[j], ls + j * kLanes);
  }
  double h = 0, l = 0;
  for (size_t i = 0; i < kBlock64; ++i) {
    const double s = h + hs[i], bb = s - h;
    l += ((h - (s - bb)) + (hs[i] - bb)) + ls[i];
    h = s;
  }
  *hi = h;
  *lo = l;
}

// Whether some lane of v (a mask as a vector) is set.
HWY_INLINE bool AnySet(VD v) {
  return !hn::AllFalse(DU(), hn::Ne(hn::BitCast(DU(), v), hn::Zero(DU())));
}

void RowStatsF64(const double *x, int64_t n, double *eh, double *el, RowF64 *out) {
  const DD d;
  const VD inf = hn::Set(d, std::numeric_limits<double>::infinity());
  // Pass 1: max, min, and whether the row is one the vector path leaves to
  // the scalar code: a NaN, an infinity, |x| >= 2^1020 (x - max could
  // overflow TwoSum), or max - min > 700 (exp below 2^-1010 must not be
  // clamped there: the max's log-probability is -rest itself).
  VD mx = hn::Set(d, -std::numeric_limits<double>::infinity()), mn = inf;
  auto bad = hn::Zero(d);
  const double ninf = -std::numeric_limits<double>::infinity();
  Blocks64(n, [&](int64_t i, size_t j, size_t count) {
    mx = hn::Max(mx, LoadPart64(x + i, j, count, ninf));
    mn = hn::Min(mn, LoadPart64(x + i, j, count, -ninf));
    const VD v = LoadPart64(x + i, j, count, 0.0);
    bad = hn::Or(bad, hn::VecFromMask(d, hn::Not(hn::Lt(hn::Abs(v), hn::Set(d, 0x1p1020)))));
  });
  double lanes[kLanes];
  Lanes64(mx, lanes);
  double m = lanes[0];
  for (size_t l = 1; l < kLanes; ++l) m = lanes[l] > m ? lanes[l] : m;
  Lanes64(mn, lanes);
  double lo = lanes[0];
  for (size_t l = 1; l < kLanes; ++l) lo = lanes[l] < lo ? lanes[l] : lo;
  out->max = m;
  out->rest_hi = out->rest_lo = 0;
  out->ties = 0;
  out->special = AnySet(bad) || !(m - lo <= 700.0) || n < 2;
  if (out->special) return;
  // Pass 2: e = exp(x - max) over x < max (x - max = dh + dl exactly),
  // accumulated in double-double: sh + sl per slot, TwoSum for the high
  // parts, the low parts and TwoSum's errors added in double.
  const VD md = hn::Set(d, m);
  VD sh[kSub64], sl[kSub64];
  for (size_t j = 0; j < kSub64; ++j) sh[j] = sl[j] = hn::Zero(d);
  int64_t ties = 0;
  Blocks64(n, [&](int64_t i, size_t j, size_t count) {
    const auto in = hn::FirstN(d, InPart64(j, count));
    const VD v = LoadPart64(x + i, j, count, m);
    VD dh, dl, e, elo;
    TwoSum(v, hn::Neg(md), dh, dl);
    ExpDD(hn::Max(dh, hn::Set(d, -700.0)), dl, e, elo);
    if (eh) StorePart64(e, eh + i, j, count);
    if (el) StorePart64(elo, el + i, j, count);
    const auto tie = hn::Eq(dh, hn::Zero(d));
    ties += int64_t(hn::CountTrue(d, hn::And(in, tie)));
    const auto add = hn::AndNot(tie, in);
    VD s, err;
    TwoSum(sh[j], hn::IfThenElseZero(add, e), s, err);
    sh[j] = s;
    sl[j] = hn::Add(sl[j], hn::Add(err, hn::IfThenElseZero(add, elo)));
  });
  CombineSlots(sh, sl, &out->rest_hi, &out->rest_lo);
  out->ties = ties;
}

// y[i] = the double nearest (eh[i] + el[i]) (ih + il): the product in
// double-double (an exact FMA product plus the cross terms), rounded once.
// eh may be y.
void SoftmaxF64(const double *eh, const double *el, int64_t n, double ih, double il, double *y) {
  const DD d;
  const VD vh = hn::Set(d, ih), vl = hn::Set(d, il);
  Blocks64(n, [&](int64_t i, size_t j, size_t count) {
    const VD h = LoadPart64(eh + i, j, count, 0.0), l = LoadPart64(el + i, j, count, 0.0);
    const VD p = hn::Mul(h, vh);
    const VD lo = hn::Add(Fma(h, vh, hn::Neg(p)), Fma(h, vl, hn::Mul(l, vh)));
    StorePart64(hn::Add(p, lo), y + i, j, count);
  });
}

// y[i] = the double nearest (x[i] - m) - (lh + ll): x - m exactly (TwoSum),
// minus lh exactly (TwoSum), the low parts added, rounded once. x may be y.
void LogSoftmaxF64(const double *x, int64_t n, double m, double lh, double ll, double *y) {
  const DD d;
  const VD mv = hn::Neg(hn::Set(d, m)), hv = hn::Neg(hn::Set(d, lh)), lv = hn::Set(d, ll);
  Blocks64(n, [&](int64_t i, size_t j, size_t count) {
    VD dh, dl, s, e;
    TwoSum(LoadPart64(x + i, j, count, m), mv, dh, dl);
    TwoSum(dh, hv, s, e);
    StorePart64(hn::Add(s, hn::Sub(hn::Add(e, dl), lv)), y + i, j, count);
  });
}

// dx[i] = RN((gh + gl) p_i - (ah + al)), p_i = (eh[i] + el[i]) (ih + il) in
// double-double (2^-55.3), the product and difference in double-double
// (exact FMA products, TwoSum), rounded once. eh may be dx.
void CeBackwardF64(const double *eh, const double *el, int64_t n, double ih, double il, double gh,
                   double gl, double ah, double al, double *dx) {
  const DD d;
  const VD vh = hn::Set(d, ih), vl = hn::Set(d, il), g = hn::Set(d, gh), glo = hn::Set(d, gl);
  const VD a = hn::Neg(hn::Set(d, ah)), alo = hn::Set(d, al);
  Blocks64(n, [&](int64_t i, size_t j, size_t count) {
    const VD h = LoadPart64(eh + i, j, count, 0.0), l = LoadPart64(el + i, j, count, 0.0);
    const VD p = hn::Mul(h, vh);
    const VD plo = hn::Add(Fma(h, vh, hn::Neg(p)), Fma(h, vl, hn::Mul(l, vh)));
    const VD q = hn::Mul(g, p);
    const VD qlo = hn::Add(Fma(g, p, hn::Neg(q)), Fma(g, plo, hn::Mul(glo, p)));
    VD s, e;
    TwoSum(q, a, s, e);
    StorePart64(hn::Add(s, hn::Sub(hn::Add(e, qlo), alo)), dx + i, j, count);
  });
}

// The sum of a[0, n) in double-double (TwoSum per slot), as hi + lo, and
// whether some a[i] is not finite (then hi, lo are meaningless).
void SumF64(const double *a, int64_t n, double *hi, double *lo, bool *nonfinite) {
  const DD d;
  VD sh[kSub64], sl[kSub64];
  for (size_t j = 0; j < kSub64; ++j) sh[j] = sl[j] = hn::Zero(d);
  auto bad = hn::Zero(d);
  Blocks64(n, [&](int64_t i, size_t j, size_t count) {
    const VD v = LoadPart64(a + i, j, count, 0.0);
    bad = hn::Or(bad, hn::VecFromMask(d, hn::Not(hn::Lt(hn::Abs(v), hn::Set(d, 0x1p1020)))));
    VD s, err;
    TwoSum(sh[j], v, s, err);
    sh[j] = s;
    sl[j] = hn::Add(sl[j], err);
  });
  CombineSlots(sh, sl, hi, lo);
  *nonfinite = AnySet(bad);
}

// dx[i] = RN(dy[i] - exp(y[i]) (th + tl)), exp in double-double (2^-56.5),
// the product in double-double, dy minus its high part by TwoSum, for y[i]
// in [-700, 0]: false (nothing written) when some y[i] is not.
bool LogSoftmaxBackwardF64(const double *y, const double *dy, int64_t n, double th, double tl,
                           double *dx) {
  const DD d;
  auto out = hn::Zero(d);
  Blocks64(n, [&](int64_t i, size_t j, size_t count) {
    const VD v = LoadPart64(y + i, j, count, 0.0);
    out = hn::Or(out, hn::VecFromMask(d, hn::Not(hn::And(hn::Ge(v, hn::Set(d, -700.0)),
                                                         hn::Le(v, hn::Zero(d))))));
  });
  if (AnySet(out)) return false;
  const VD vh = hn::Set(d, th), vl = hn::Set(d, tl);
  Blocks64(n, [&](int64_t i, size_t j, size_t count) {
    VD eh, el, s, e;
    ExpDD(LoadPart64(y + i, j, count, 0.0), hn::Zero(d), eh, el);
    const VD p = hn::Mul(eh, vh);
    const VD lo = hn::Add(Fma(eh, vh, hn::Neg(p)), Fma(eh, vl, hn::Mul(el, vh)));
    TwoSum(LoadPart64(dy + i, j, count, 0.0), hn::Neg(p), s, e);
    StorePart64(hn::Add(s, hn::Sub(e, lo)), dx + i, j, count);
  });
  return true;
}

// sum of a[i] b[i] in double-double: each product exactly (an FMA gives its
// low part), TwoSum per slot; *nonfinite when some |a[i]| or |b[i]| >=
// 2^500 (a product could overflow) or is inf or NaN.
void DotF64(const double *a, const double *b, int64_t n, double *hi, double *lo, bool *nonfinite) {
  const DD d;
  VD sh[kSub64], sl[kSub64];
  for (size_t j = 0; j < kSub64; ++j) sh[j] = sl[j] = hn::Zero(d);
  auto bad = hn::Zero(d);
  const VD big = hn::Set(d, 0x1p500);
  Blocks64(n, [&](int64_t i, size_t j, size_t count) {
    const VD u = LoadPart64(a + i, j, count, 0.0), v = LoadPart64(b + i, j, count, 0.0);
    bad = hn::Or(bad, hn::VecFromMask(
                          d, hn::Not(hn::And(hn::Lt(hn::Abs(u), big), hn::Lt(hn::Abs(v), big)))));
    const VD p = hn::Mul(u, v);
    VD s, err;
    TwoSum(sh[j], p, s, err);
    sh[j] = s;
    sl[j] = hn::Add(sl[j], hn::Add(err, Fma(u, v, hn::Neg(p))));
  });
  CombineSlots(sh, sl, hi, lo);
  *nonfinite = AnySet(bad);
}

// dx[i] = RN(y[i] (dy[i] - (dh + dl))): the difference in double-double
// (TwoSum), times y with the low part fused: one rounding of a value
// within 2^-104 of the terms.
void SoftmaxBackwardF64(const double *y, const double *dy, int64_t n, double dh, double dl,
                        double *dx) {
  const DD d;
  const VD th = hn::Neg(hn::Set(d, dh)), tl = hn::Set(d, dl);
  Blocks64(n, [&](int64_t i, size_t j, size_t count) {
    const VD yv = LoadPart64(y + i, j, count, 0.0);
    VD s, e;
    TwoSum(LoadPart64(dy + i, j, count, 0.0), th, s, e);
    StorePart64(Fma(yv, s, hn::Mul(yv, hn::Sub(e, tl))), dx + i, j, count);
  });
}

// The kLanes rows of a double group moved between row order (rows of n
// doubles) and lane order (v[c * kLanes + l] = row l's element c). Rows
// past m (the last group's) repeat row 0 and are never stored; on the way
// back only the rows whose bit is set in `write` are. AVX2 moves 4 x 4
// blocks through registers (masked at a row's end); the other targets move
// element by element. v has room for n rounded up to a multiple of 4.
#if HWY_TARGET == HWY_AVX2
HWY_INLINE void Transpose4x4(VD &a, VD &b, VD &c, VD &e) {
  const DD d;
  const VD t0 = hn::InterleaveLower(d, a, b), t1 = hn::InterleaveLower(d, c, e);
  const VD t2 = hn::InterleaveUpper(d, a, b), t3 = hn::InterleaveUpper(d, c, e);
  a = hn::ConcatLowerLower(d, t1, t0);
  b = hn::ConcatLowerLower(d, t3, t2);
  c = hn::ConcatUpperUpper(d, t1, t0);
  e = hn::ConcatUpperUpper(d, t3, t2);
}
#endif

HWY_INLINE void ToLanes64(const double *x, int64_t n, int64_t m, double *v) {
#if HWY_TARGET == HWY_AVX2
  const DD d;
  const double *rows[4] = {x, x + (m > 1 ? n : 0), x + (m > 2 ? 2 * n : 0),
                           x + (m > 3 ? 3 * n : 0)};
  for (int64_t c0 = 0; c0 < n; c0 += 4) {
    VD q[4];
    LoadRows4(d, rows, c0, n, q);
    Transpose4x4(q[0], q[1], q[2], q[3]);
    for (int k = 0; k < 4; ++k) hn::Store(q[k], d, v + c0 * 4 + 4 * k);
  }
#else
  const int64_t L = int64_t(kLanes);
  for (int64_t l = 0; l < L; ++l) {
    const double *row = x + (l < m ? l : 0) * n;
    for (int64_t c = 0; c < n; ++c) v[c * L + l] = row[c];
  }
#endif
}

HWY_INLINE void FromLanes64(const double *v, int64_t n, int64_t m, double *y, uint32_t write) {
  auto keep = [&](int64_t l) { return l < m && ((write >> l) & 1); };
#if HWY_TARGET == HWY_AVX2
  const DD d;
  for (int64_t c0 = 0; c0 < n; c0 += 4) {
    const int64_t cnt = std::min<int64_t>(4, n - c0);
    const VD none = hn::Zero(d);
    VD q[4];
    for (int k = 0; k < 4; ++k) q[k] = cnt > k ? hn::Load(d, v + c0 * 4 + 4 * k) : none;
    Transpose4x4(q[0], q[1], q[2], q[3]);
    StoreRows4(d, q, y, n, c0, cnt, keep);
  }
#else
  const int64_t L = int64_t(kLanes);
  for (int64_t l = 0; l < m; ++l)
    if (keep(l))
      for (int64_t c = 0; c < n; ++c) y[l * n + c] = v[c * L + l];
#endif
}

// A lane group's 8 double-double slots added in slot order, lane by lane:
// CombineSlots' additions on every lane's row.
HWY_INLINE void LaneSlots(const VD *sh, const VD *sl, VD &h, VD &lo) {
  h = lo = hn::Zero(DD());
  for (size_t i = 0; i < kBlock64; ++i) {
    const VD s = hn::Add(h, sh[i]), bb = hn::Sub(s, h);
    lo = hn::Add(lo, hn::Add(hn::Add(hn::Sub(h, hn::Sub(s, bb)), hn::Sub(sh[i], bb)), sl[i]));
    h = s;
  }
}

// log1p(r) for r = a + rh + rl >= 0 (a = ties - 1, a whole number; rh >=
// |rl|, a + rh < 2^52) as lh + ll with relative error below 2^-60.5:
//   rh + rl renormalized (Fast2Sum, exact), then uh = RN(1 + a + rh)
//   (TwoSum's error e exact), so
//   log1p(r) = log(uh) + log1p(q), q = (e + rl) / uh = qh + ql (2^-100
//   relative; |q| <= 2^-52), log1p(q) = q - q^2/2 to 2^-155 absolute. No
//   part of r is ever added to 1 and rounded: a tiny r keeps its relative
//   accuracy (uh = 1, log(uh) = 0, the result is q).
//   uh = 2^k m, m in [sqrt(1/2), sqrt(2)), log(m) = 2 atanh(z), z = f / D,
//   f = m - 1 exact (Sterbenz), D = m + 1 = dh + dl exactly (TwoSum), z =
//   zh + zl with the exact FMA residual (2^-102 relative), |z| <= 0.1716,
//   w = z^2 <= 0.02944: atanh(z) = z + z w/3 + z w^2 P(w), P = 1/5 + w/7 +
//   ... + w^9/23; the terms left out are below 2^-65.6 |z|. z w/3 in
//   double-double (2^-100 of it); z w^2 P(w) <= 2^-12.46 |z| in double:
//   Horner on positive terms and 3 products, 21 roundings, and zh, wh for
//   z, w, below 2^-48.3 of it: 2^-60.8 |z|, and |z| <= |atanh(z)|.
//   k ln2 = k ln2_hi (exact: 32 bits, |k| <= 52) + k ln2_lo (ln2_hi +
//   ln2_lo errs by 2^-85 relative). k >= 1 means m >= sqrt(1/2), so |log
//   m| <= log1p(r) and nothing cancels by more than a factor of 2; the low
//   parts are added in double (2^-100).
HWY_INLINE void Log1pDD(VD a, VD rh, VD rl, VD &lh, VD &ll) {
  const DD d;
  const DI di;
  const VD one = hn::Set(d, 1.0);
  VD uh, e;
  FastTwoSum(rh, rl, rh, rl);         // |rl| <= 2^-53 rh from here on
  TwoSum(hn::Add(one, a), rh, uh, e); // 1 + a exact
  const VD qh = hn::Div(e, uh);
  const VD ql = hn::Div(hn::Add(Fma(hn::Neg(qh), uh, e), rl), uh);
  // uh = 2^k m with m in [sqrt(1/2), sqrt(2)), from the exponent bits.
  const auto bits = hn::BitCast(di, uh);
  auto k = hn::Sub(hn::ShiftRight<52>(bits), hn::Set(di, 1023));
  VD m = hn::BitCast(d, hn::Or(hn::And(bits, hn::Set(di, 0x000FFFFFFFFFFFFFLL)),
                               hn::Set(di, 0x3FF0000000000000LL)));
  const auto big = hn::Gt(m, hn::Set(d, 1.4142135623730951));
  m = hn::IfThenElse(big, hn::Mul(m, hn::Set(d, 0.5)), m);
  k = hn::Add(k, hn::IfThenElseZero(hn::RebindMask(di, big), hn::Set(di, 1)));
  const VD f = hn::Sub(m, one);
  VD dh, dl;
  TwoSum(m, one, dh, dl);
  const VD zh = hn::Div(f, dh);
  const VD zl = hn::Div(hn::Sub(Fma(hn::Neg(zh), dh, f), hn::Mul(zh, dl)), dh);
  const VD wh = hn::Mul(zh, zh);
  const VD wl = Fma(zh, zh, hn::Neg(wh));
  const VD w2 = hn::Add(wl, hn::Mul(hn::Add(zh, zh), zl)); // w = wh + w2 (2^-102)
  // c = z w / 3 in double-double.
  const VD ph = hn::Mul(zh, wh);
  const VD pl = hn::Add(Fma(zh, wh, hn::Neg(ph)), hn::Add(hn::Mul(zh, w2), hn::Mul(zl, wh)));
  const VD three = hn::Set(d, 3.0);
  const VD ch = hn::Div(ph, three);
  const VD cl = hn::Div(hn::Add(Fma(hn::Neg(ch), three, ph), pl), three);
  VD p = hn::Set(d, 1.0 / 23);
  p = Fma(p, wh, hn::Set(d, 1.0 / 21));
  p = Fma(p, wh, hn::Set(d, 1.0 / 19));
  p = Fma(p, wh, hn::Set(d, 1.0 / 17));
  p = Fma(p, wh, hn::Set(d, 1.0 / 15));
  p = Fma(p, wh, hn::Set(d, 1.0 / 13));
  p = Fma(p, wh, hn::Set(d, 1.0 / 11));
  p = Fma(p, wh, hn::Set(d, 1.0 / 9));
  p = Fma(p, wh, hn::Set(d, 1.0 / 7));
  p = Fma(p, wh, hn::Set(d, 1.0 / 5));
  const VD tail = hn::Mul(hn::Mul(zh, hn::Mul(wh, wh)), p);
  VD sh, se;
  FastTwoSum(zh, ch, sh, se); // |zh| >= |ch|
  const VD slo = hn::Add(hn::Add(se, zl), hn::Add(cl, tail));
  // log(uh) = k ln2 + 2 (sh + slo).
  const VD kd = hn::ConvertTo(d, k);
  VD hh, he;
  TwoSum(hn::Mul(kd, hn::Set(d, 6.93147180369123816490e-01)), hn::Add(sh, sh), hh, he);
  const VD low = hn::Add(he, Fma(kd, hn::Set(d, 1.90821492927058770002e-10), hn::Add(slo, slo)));
  // + log1p(q) = qh + (ql - qh^2 / 2).
  VD s, t;
  TwoSum(hh, qh, s, t);
  const VD rest = hn::Add(hn::Add(t, low), hn::Sub(ql, hn::Mul(hn::Mul(qh, qh), hn::Set(d, 0.5))));
  FastTwoSum(s, rest, lh, ll);
}

// log1p(rest_of(st)) of one row, by Log1pDD in every lane (the bits of
// ShortRowsF64's lanes), rounded to long double.
long double Log1pRestF64(const RowF64 &st) {
  const DD d;
  VD lh, ll;
  Log1pDD(hn::Set(d, double(st.ties - 1)), hn::Set(d, st.rest_hi), hn::Set(d, st.rest_lo), lh, ll);
  return static_cast<long double>(hn::GetLane(lh)) + hn::GetLane(ll);
}

// Float64 rows of 2 to kShortRow64 elements, one row per lane (kLanes rows
// at a time, copied in transposed: v[c * kLanes + l] = row l's element c).
// Every lane performs, on its row, the operations RowStatsF64 performs on
// it: the same max, the same exact x - max, the same ExpDD, element c into
// slot c mod 8 in element order (RowStatsF64's padding adds exact zeros,
// which change no slot: a low part is never -0), CombineSlots' additions
// in slot order; then kernels.cpp's finish in long double and SoftmaxF64's
// or LogSoftmaxF64's per-element operations. So a row gives the bits of
// the row path on every target (test_simd_targets compares them). Rows
// past m (the last group's) repeat row 0: computed, never stored.
template <ShortOp op>
void ShortRowsF64Impl(const double *x, int64_t rows, int64_t n, double *y, RowF64 *stats) {
  const DD d;
  const int64_t L = int64_t(kLanes);
  const double inf = std::numeric_limits<double>::infinity();
  const VD ninf = hn::Set(d, -inf), pinf = hn::Set(d, inf), zero = hn::Zero(d),
           one = hn::Set(d, 1.0), big = hn::Set(d, 0x1p1020), floor = hn::Set(d, -700.0);
  HWY_ALIGN double v[kShortRow64 * kLanes];
  HWY_ALIGN double eh[kShortRow64 * kLanes];
  HWY_ALIGN double el[kShortRow64 * kLanes];
  HWY_ALIGN double lanes[4][kLanes];
  HWY_ALIGN uint8_t bits[kLanes * 8];
  for (int64_t r0 = 0; r0 < rows; r0 += L) {
    const int64_t m = std::min(L, rows - r0);
    ToLanes64(x + r0 * n, n, m, v);
    // Pass 1: max, min, and RowStatsF64's special rows.
    VD mx = ninf, mn = pinf;
    auto bad = hn::Lt(zero, zero);
    for (int64_t c = 0; c < n; ++c) {
      const VD e = hn::Load(d, v + c * L);
      mx = hn::Max(mx, e);
      mn = hn::Min(mn, e);
      bad = hn::Or(bad, hn::Not(hn::Lt(hn::Abs(e), big)));
    }
    bad = hn::Or(bad, hn::Not(hn::Le(hn::Sub(mx, mn), hn::Set(d, 700.0))));
    // Pass 2: e = exp(x - max) over x < max in double-double, by slot.
    VD sh[kBlock64], sl[kBlock64];
    for (size_t j = 0; j < kBlock64; ++j) sh[j] = sl[j] = zero;
    VD ties = zero;
    const VD negm = hn::Neg(mx);
    for (int64_t c = 0; c < n; ++c) {
      VD dh, dl, e, elo;
      TwoSum(hn::Load(d, v + c * L), negm, dh, dl);
      ExpDD(hn::Max(dh, floor), dl, e, elo);
      if constexpr (op == ShortOp::softmax) {
        hn::Store(e, d, eh + c * L);
        hn::Store(elo, d, el + c * L);
      }
      const auto tie = hn::Eq(dh, zero);
      ties = hn::Add(ties, hn::IfThenElseZero(tie, one));
      const size_t j = size_t(c) % kBlock64;
      VD s, err;
      TwoSum(sh[j], hn::IfThenZeroElse(tie, e), s, err);
      sh[j] = s;
      sl[j] = hn::Add(sl[j], hn::Add(err, hn::IfThenZeroElse(tie, elo)));
    }
    VD h, lo;
    LaneSlots(sh, sl, h, lo);
    hn::Store(mx, d, lanes[0]);
    hn::Store(h, d, lanes[1]);
    hn::Store(lo, d, lanes[2]);
    hn::Store(ties, d, lanes[3]);
    hn::StoreMaskBits(d, bad, bits);
    // kernels.cpp's finish, row by row in long double: ih + il = 1 / (1 +
    // rest) (softmax) or lh + ll = log1p(rest) (log_softmax, Log1pDD in
    // lanes rounded to long double: Log1pRestF64's bits).
    HWY_ALIGN double fh[kLanes] = {}, fl[kLanes] = {};
    if constexpr (op != ShortOp::softmax) {
      VD lh, ll;
      Log1pDD(hn::Sub(ties, one), h, lo, lh, ll);
      hn::Store(lh, d, fh);
      hn::Store(ll, d, fl);
    }
    uint32_t write = 0;
    for (int64_t l = 0; l < m; ++l) {
      RowF64 &st = stats[r0 + l];
      st.max = lanes[0][l];
      st.special = LaneBit(bits, l);
      st.rest_hi = st.special ? 0 : lanes[1][l];
      st.rest_lo = st.special ? 0 : lanes[2][l];
      st.ties = st.special ? 0 : int64_t(lanes[3][l]);
      st.log_s =
          st.special || op == ShortOp::softmax ? -1 : static_cast<long double>(fh[l]) + fl[l];
      if (st.special || op == ShortOp::stats) continue;
      write |= uint32_t(1) << l;
      const long double f = op == ShortOp::softmax ? 1.0L / (1.0L + rest_of(st)) : st.log_s;
      fh[l] = double(f);
      fl[l] = double(f - fh[l]);
    }
    if (write == 0) continue;
    const VD vh = hn::Load(d, fh), vl = hn::Load(d, fl);
    for (int64_t c = 0; c < n; ++c) {
      VD out;
      if constexpr (op == ShortOp::softmax) {
        const VD e = hn::Load(d, eh + c * L), elo = hn::Load(d, el + c * L);
        const VD p = hn::Mul(e, vh);
        out = hn::Add(p, hn::Add(Fma(e, vh, hn::Neg(p)), Fma(e, vl, hn::Mul(elo, vh))));
      } else {
        VD dh, dl, s, e;
        TwoSum(hn::Load(d, v + c * L), negm, dh, dl);
        TwoSum(dh, hn::Neg(vh), s, e);
        out = hn::Add(s, hn::Sub(hn::Add(e, dl), vl));
      }
      hn::Store(out, d, v + c * L);
    }
    FromLanes64(v, n, m, y + r0 * n, write);
  }
}

void ShortRowsF64(const double *x, int64_t rows, int64_t n, ShortOp op, double *y, RowF64 *stats) {
  switch (op) {
  case ShortOp::stats: return ShortRowsF64Impl<ShortOp::stats>(x, rows, n, y, stats);
  case ShortOp::softmax: return ShortRowsF64Impl<ShortOp::softmax>(x, rows, n, y, stats);
  case ShortOp::log_softmax: return ShortRowsF64Impl<ShortOp::log_softmax>(x, rows, n, y, stats);
  }
}

// softmax_backward (kLog false) and log_softmax_backward on double rows of
// 2 to kShortRow64 elements, one row per lane: every lane performs, on its
// row, DotF64 + SoftmaxBackwardF64's operations or SumF64 +
// LogSoftmaxBackwardF64's (the same slots, CombineSlots' additions; their
// padding adds exact zeros, which change no slot: no slot is ever -0), so
// a row gives the bits of the row path. Rows the row path leaves to the
// scalar code (kernels.cpp) get scalar[r] = 1 and are not written.
template <bool kLog>
void ShortBackwardF64Impl(const double *y, const double *dy, int64_t rows, int64_t n, double *dx,
                          uint8_t *scalar) {
  const DD d;
  const int64_t L = int64_t(kLanes);
  const VD zero = hn::Zero(d);
  HWY_ALIGN double yv[kShortRow64 * kLanes];
  HWY_ALIGN double gv[kShortRow64 * kLanes];
  HWY_ALIGN uint8_t bits[kLanes * 8];
  for (int64_t r0 = 0; r0 < rows; r0 += L) {
    const int64_t m = std::min(L, rows - r0);
    ToLanes64(y + r0 * n, n, m, yv);
    ToLanes64(dy + r0 * n, n, m, gv);
    VD sh[kBlock64], sl[kBlock64];
    for (size_t j = 0; j < kBlock64; ++j) sh[j] = sl[j] = zero;
    auto bad = hn::Lt(zero, zero);
    for (int64_t c = 0; c < n; ++c) {
      const VD u = hn::Load(d, yv + c * L), v = hn::Load(d, gv + c * L);
      const size_t j = size_t(c) % kBlock64;
      VD s, err;
      if constexpr (kLog) {
        bad = hn::Or(bad, hn::Not(hn::Lt(hn::Abs(v), hn::Set(d, 0x1p1020))));
        bad = hn::Or(bad, hn::Not(hn::And(hn::Ge(u, hn::Set(d, -700.0)), hn::Le(u, zero))));
        TwoSum(sh[j], v, s, err);
        sh[j] = s;
        sl[j] = hn::Add(sl[j], err);
      } else {
        const VD big = hn::Set(d, 0x1p500);
        bad = hn::Or(bad, hn::Not(hn::And(hn::Lt(hn::Abs(u), big), hn::Lt(hn::Abs(v), big))));
        const VD p = hn::Mul(u, v);
        TwoSum(sh[j], p, s, err);
        sh[j] = s;
        sl[j] = hn::Add(sl[j], hn::Add(err, Fma(u, v, hn::Neg(p))));
      }
    }
    VD h, lo;
    LaneSlots(sh, sl, h, lo);
    if constexpr (kLog) bad = hn::Or(bad, hn::Eq(h, zero));
    hn::StoreMaskBits(d, bad, bits);
    for (int64_t c = 0; c < n; ++c) {
      const VD u = hn::Load(d, yv + c * L), v = hn::Load(d, gv + c * L);
      VD s, e, out;
      if constexpr (kLog) {
        VD eh, el;
        ExpDD(u, zero, eh, el);
        const VD p = hn::Mul(eh, h);
        const VD plo = hn::Add(Fma(eh, h, hn::Neg(p)), Fma(eh, lo, hn::Mul(el, h)));
        TwoSum(v, hn::Neg(p), s, e);
        out = hn::Add(s, hn::Sub(e, plo));
      } else {
        TwoSum(v, hn::Neg(h), s, e);
        out = Fma(u, s, hn::Mul(u, hn::Sub(e, lo)));
      }
      hn::Store(out, d, gv + c * L);
    }
    uint32_t write = 0;
    for (int64_t l = 0; l < m; ++l) {
      scalar[r0 + l] = LaneBit(bits, l);
      if (!scalar[r0 + l]) write |= uint32_t(1) << l;
    }
    FromLanes64(gv, n, m, dx + r0 * n, write);
  }
}

void ShortBackwardF64(const double *y, const double *dy, int64_t rows, int64_t n, bool log,
                      double *dx, uint8_t *scalar) {
  if (log) return ShortBackwardF64Impl<true>(y, dy, rows, n, dx, scalar);
  ShortBackwardF64Impl<false>(y, dy, rows, n, dx, scalar);
}

// The entry points of the float path, one per storage format (Highway
// exports functions, not templates).
#define SOFTCHECK_FLOAT_PATH(S, E)                                                                 \
  void Piece##S(const E *x, int64_t len, double *e, Piece *out, bool accurate) {                   \
    accurate ? PieceImpl<true>(x, len, e, out) : PieceImpl<false>(x, len, e, out);                 \
  }                                                                                                \
  void Scale##S(const double *e, int64_t len, double scale, E *y) { Scale(e, len, scale, y); }     \
  void LogProb##S(const E *x, int64_t len, double max, double log_s, E *y) {                       \
    LogProb(x, len, max, log_s, y);                                                                \
  }                                                                                                \
  double Dot##S(const E *a, const E *b, int64_t len) { return Dot(a, b, len); }                    \
  double Sum##S(const E *a, int64_t len, bool *infinite) { return Sum(a, len, infinite); }         \
  void SoftmaxBackward##S(const E *y, const E *dy, int64_t len, double dot, E *dx) {               \
    SoftmaxBackward(y, dy, len, dot, dx);                                                          \
  }                                                                                                \
  void LogSoftmaxBackward##S(const E *y, const E *dy, int64_t len, double total, E *dx) {          \
    LogSoftmaxBackward(y, dy, len, total, dx);                                                     \
  }                                                                                                \
  void OnePieceRows##S(const E *x, int64_t rows, int64_t n, ShortOp op, E *y, double *e) {         \
    OnePieceRows(x, rows, n, op, y, e);                                                            \
  }                                                                                                \
  void ShortRows##S(const E *x, int64_t rows, int64_t n, ShortOp op, E *y, RowStats *stats) {      \
    ShortRows(x, rows, n, op, y, stats);                                                           \
  }                                                                                                \
  void ShortBackward##S(const E *y, const E *dy, int64_t rows, int64_t n, bool log, E *dx) {       \
    ShortBackward(y, dy, rows, n, log, dx);                                                        \
  }
SOFTCHECK_FLOAT_PATH(F32, float)
SOFTCHECK_FLOAT_PATH(BF16, bf16)
SOFTCHECK_FLOAT_PATH(F16, f16)
#undef SOFTCHECK_FLOAT_PATH

int64_t Which() { return HWY_TARGET; }

} // namespace HWY_NAMESPACE
} // namespace softcheck::simd
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace softcheck::simd {

HWY_EXPORT(ScaleShiftF32);
HWY_EXPORT(Which);
HWY_EXPORT(Log1pF64);
HWY_EXPORT(ShortCeBackwardF32);
HWY_EXPORT(RowStatsF64);
HWY_EXPORT(SoftmaxF64);
HWY_EXPORT(LogSoftmaxF64);
HWY_EXPORT(CeBackwardF64);
HWY_EXPORT(SumF64);
HWY_EXPORT(LogSoftmaxBackwardF64);
HWY_EXPORT(DotF64);
HWY_EXPORT(SoftmaxBackwardF64);
HWY_EXPORT(ShortRowsF64);
HWY_EXPORT(Log1pRestF64);
HWY_EXPORT(ShortBackwardF64);

void dot_f64(const double *a, const double *b, int64_t n, double *hi, double *lo, bool *nonfinite) {
  HWY_DYNAMIC_DISPATCH(DotF64)(a, b, n, hi, lo, nonfinite);
}
void softmax_backward_f64(const double *y, const double *dy, int64_t n, double dh, double dl,
                          double *dx) {
  HWY_DYNAMIC_DISPATCH(SoftmaxBackwardF64)(y, dy, n, dh, dl, dx);
}

void ce_backward_f64(const double *eh, const double *el, int64_t n, double ih, double il, double gh,
                     double gl, double ah, double al, double *dx) {
  HWY_DYNAMIC_DISPATCH(CeBackwardF64)(eh, el, n, ih, il, gh, gl, ah, al, dx);
}
void sum_f64(const double *a, int64_t n, double *hi, double *lo, bool *nonfinite) {
  HWY_DYNAMIC_DISPATCH(SumF64)(a, n, hi, lo, nonfinite);
}
bool log_softmax_backward_f64(const double *y, const double *dy, int64_t n, double th, double tl,
                              double *dx) {
  return HWY_DYNAMIC_DISPATCH(LogSoftmaxBackwardF64)(y, dy, n, th, tl, dx);
}

void row_stats_f64(const double *x, int64_t n, double *eh, double *el, RowF64 *out) {
  HWY_DYNAMIC_DISPATCH(RowStatsF64)(x, n, eh, el, out);
}
void softmax_f64(const double *eh, const double *el, int64_t n, double ih, double il, double *y) {
  HWY_DYNAMIC_DISPATCH(SoftmaxF64)(eh, el, n, ih, il, y);
}
void log_softmax_f64(const double *x, int64_t n, double m, double lh, double ll, double *y) {
  HWY_DYNAMIC_DISPATCH(LogSoftmaxF64)(x, n, m, lh, ll, y);
}
void short_rows_f64(const double *x, int64_t rows, int64_t n, ShortOp op, double *y,
                    RowF64 *stats) {
  HWY_DYNAMIC_DISPATCH(ShortRowsF64)(x, rows, n, op, y, stats);
}
long double log1p_rest_f64(const RowF64 &st) { return HWY_DYNAMIC_DISPATCH(Log1pRestF64)(st); }
void short_backward_f64(const double *y, const double *dy, int64_t rows, int64_t n, bool log,
                        double *dx, uint8_t *scalar) {
  HWY_DYNAMIC_DISPATCH(ShortBackwardF64)(y, dy, rows, n, log, dx, scalar);
}

void scale_shift_f32(const double *e, int64_t len, double scale, double g, double a, float *y) {
  HWY_DYNAMIC_DISPATCH(ScaleShiftF32)(e, len, scale, g, a, y);
}

#define SOFTCHECK_FLOAT_PATH(S, E)                                                                 \
  HWY_EXPORT(Piece##S);                                                                            \
  HWY_EXPORT(Scale##S);                                                                            \
  HWY_EXPORT(LogProb##S);                                                                          \
  HWY_EXPORT(Dot##S);                                                                              \
  HWY_EXPORT(Sum##S);                                                                              \
  HWY_EXPORT(SoftmaxBackward##S);                                                                  \
  HWY_EXPORT(LogSoftmaxBackward##S);                                                               \
  HWY_EXPORT(OnePieceRows##S);                                                                     \
  void piece_f32(const E *x, int64_t len, double *e, Piece *out, bool accurate) {                  \
    HWY_DYNAMIC_DISPATCH(Piece##S)(x, len, e, out, accurate);                                      \
  }                                                                                                \
  void scale_f32(const double *e, int64_t len, double scale, E *y) {                               \
    HWY_DYNAMIC_DISPATCH(Scale##S)(e, len, scale, y);                                              \
  }                                                                                                \
  void log_prob_f32(const E *x, int64_t len, double max, double log_s, E *y) {                     \
    HWY_DYNAMIC_DISPATCH(LogProb##S)(x, len, max, log_s, y);                                       \
  }                                                                                                \
  double dot_f32(const E *a, const E *b, int64_t len) {                                            \
    return HWY_DYNAMIC_DISPATCH(Dot##S)(a, b, len);                                                \
  }                                                                                                \
  double sum_f32(const E *a, int64_t len, bool *infinite) {                                        \
    return HWY_DYNAMIC_DISPATCH(Sum##S)(a, len, infinite);                                         \
  }                                                                                                \
  void softmax_backward_f32(const E *y, const E *dy, int64_t len, double dot, E *dx) {             \
    HWY_DYNAMIC_DISPATCH(SoftmaxBackward##S)(y, dy, len, dot, dx);                                 \
  }                                                                                                \
  void log_softmax_backward_f32(const E *y, const E *dy, int64_t len, double total, E *dx) {       \
    HWY_DYNAMIC_DISPATCH(LogSoftmaxBackward##S)(y, dy, len, total, dx);                            \
  }                                                                                                \
  void one_piece_rows_f32(const E *x, int64_t rows, int64_t n, ShortOp op, E *y, double *e) {      \
    HWY_DYNAMIC_DISPATCH(OnePieceRows##S)(x, rows, n, op, y, e);                                   \
  }                                                                                                \
  HWY_EXPORT(ShortRows##S);                                                                        \
  HWY_EXPORT(ShortBackward##S);                                                                    \
  void short_rows_f32(const E *x, int64_t rows, int64_t n, ShortOp op, E *y, RowStats *stats) {    \
    HWY_DYNAMIC_DISPATCH(ShortRows##S)(x, rows, n, op, y, stats);                                  \
  }                                                                                                \
  void short_backward_f32(const E *y, const E *dy, int64_t rows, int64_t n, bool log, E *dx) {     \
    HWY_DYNAMIC_DISPATCH(ShortBackward##S)(y, dy, rows, n, log, dx);                               \
  }
SOFTCHECK_FLOAT_PATH(F32, float)
SOFTCHECK_FLOAT_PATH(BF16, bf16)
SOFTCHECK_FLOAT_PATH(F16, f16)
#undef SOFTCHECK_FLOAT_PATH

void log1p_f64(const double *in, double *out, int64_t n) {
  HWY_DYNAMIC_DISPATCH(Log1pF64)(in, out, n);
}

void short_ce_backward_f32(const float *x, float *dx, int64_t rows, int64_t n, const CeRow *row) {
  HWY_DYNAMIC_DISPATCH(ShortCeBackwardF32)(x, dx, rows, n, row);
}

std::vector<std::string> targets() {
  std::vector<std::string> names;
  for (int64_t t : hwy::SupportedAndGeneratedTargets()) names.push_back(hwy::TargetName(t));
  return names;
}

std::string current_target() { return hwy::TargetName(HWY_DYNAMIC_DISPATCH(Which)()); }

bool select_target(const std::string &name) {
  hwy::SetSupportedTargetsForTest(0);
  const std::vector<int64_t> all = hwy::SupportedAndGeneratedTargets();
  for (int64_t t : all)
    if (name == hwy::TargetName(t) || (name == "portable" && t == all.back())) {
      hwy::SetSupportedTargetsForTest(t);
      return current_target() == hwy::TargetName(t);
    }
  return false;
}

} // namespace softcheck::simd
#endif // HWY_ONCE
