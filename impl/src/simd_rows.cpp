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

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

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

HWY_INLINE void StorePart(VD v, float *block, size_t j, size_t count) {
  const DH dh;
  const size_t k = InPart(j, count);
  const auto f = Demote(v);
  if (k == kLanes) return hn::StoreU(f, dh, block + j * kLanes);
  if (k == 0) return;
#if SOFTCHECK_MASKED_PARTS
  hn::BlendedStore(f, hn::FirstN(dh, k), dh, block + j * kLanes);
#else
  float tmp[kLanes];
  hn::StoreU(f, dh, tmp);
  for (size_t l = 0; l < k; ++l) block[j * kLanes + l] = tmp[l];
#endif
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

float PieceMax(const float *x, int64_t len, bool *nan, bool *neg_inf) {
  const DF df;
  const hn::RebindToUnsigned<DF> du;
  const int64_t n = int64_t(hn::Lanes(df));
  auto m0 = hn::Set(df, -std::numeric_limits<float>::infinity()), m1 = m0;
  const auto ninf = hn::Set(df, -std::numeric_limits<float>::infinity());
  auto bad = hn::Zero(df), low = hn::Zero(df);
  int64_t i = 0;
  for (; i + 2 * n <= len; i += 2 * n) {
    const auto a = hn::LoadU(df, x + i), b = hn::LoadU(df, x + i + n);
    m0 = hn::Max(m0, a);
    m1 = hn::Max(m1, b);
    bad = hn::Or(bad, hn::Or(hn::VecFromMask(df, hn::IsNaN(a)), hn::VecFromMask(df, hn::IsNaN(b))));
    low = hn::Or(
        low, hn::Or(hn::VecFromMask(df, hn::Eq(a, ninf)), hn::VecFromMask(df, hn::Eq(b, ninf))));
  }
#if SOFTCHECK_MASKED_PARTS
  // The rest (fewer than 2 vectors) through masked loads, -inf elsewhere.
  for (; i < len; i += n) {
    const auto mask = hn::FirstN(df, size_t(std::min(n, len - i)));
    const auto a = hn::IfThenElse(mask, hn::MaskedLoad(mask, df, x + i), ninf);
    m0 = hn::Max(m0, a);
    bad = hn::Or(bad, hn::VecFromMask(df, hn::IsNaN(a)));
    low = hn::Or(low, hn::VecFromMask(df, hn::And(mask, hn::Eq(a, ninf))));
  }
#endif
  // Not MaxOfLanes: the portable target's starts from -FLT_MAX, which
  // would turn a piece of -inf into a piece of -FLT_MAX.
  float lanes[HWY_LANES(float)];
  hn::StoreU(hn::Max(m0, m1), df, lanes);
  float m = -std::numeric_limits<float>::infinity();
  for (size_t l = 0; l < hn::Lanes(df); ++l) m = lanes[l] > m ? lanes[l] : m;
  bool has_nan = !hn::AllFalse(du, hn::Ne(hn::BitCast(du, bad), hn::Zero(du)));
  bool has_ninf = !hn::AllFalse(du, hn::Ne(hn::BitCast(du, low), hn::Zero(du)));
  for (; i < len; ++i) {
    if (std::isnan(x[i]))
      has_nan = true;
    else if (x[i] > m)
      m = x[i];
    has_ninf = has_ninf || x[i] == -std::numeric_limits<float>::infinity();
  }
  *nan = has_nan;
  *neg_inf = has_ninf;
  return m;
}

// One block of a piece: acc += exp(x - m) where x < m, ties += count of
// x == m (an integer count, off the floating-point pipes).
template <bool kStore, bool kNegInf, bool kAccurate>
HWY_INLINE void SumBlock(const float *xb, size_t count, VD md, VD *acc, int64_t &ties, double *e) {
  const DD d;
  const float inf = std::numeric_limits<float>::infinity();
  HWY_UNROLL(16)
  for (size_t j = 0; j < kSub; ++j) {
    // Missing lanes hold -inf: exp gives 0 there and they are not ties.
    const VD dl = hn::Sub(LoadPart(xb, j, count, -inf), md); // exact x - max
    const VD ex = Exp<false, kNegInf, kAccurate>(dl);
    const auto tie = hn::Eq(dl, hn::Zero(d)); // else dl < 0
    acc[j] = hn::Add(acc[j], hn::IfThenZeroElse(tie, ex));
    ties += int64_t(hn::CountTrue(d, tie));
    if constexpr (kStore) hn::StoreU(ex, d, e + j * kLanes); // e is padded to whole blocks
  }
}

template <bool kStore, bool kNegInf, bool kAccurate>
HWY_INLINE void PieceSums(const float *x, int64_t len, float m, double *e, Piece *out) {
  const DD d;
  const VD md = hn::Set(d, double(m));
  VD acc[kSub];
  for (size_t j = 0; j < kSub; ++j) acc[j] = hn::Zero(d);
  int64_t ties = 0;
  const int64_t full = len - len % int64_t(kBlock);
  for (int64_t i = 0; i < full; i += int64_t(kBlock)) {
    hwy::Prefetch(x + len + i); // the next piece, which the next call reads from memory
    SumBlock<kStore, kNegInf, kAccurate>(x + i, kBlock, md, acc, ties, kStore ? e + i : nullptr);
  }
  if (full < len)
    SumBlock<kStore, true, kAccurate>(x + full, size_t(len - full), md, acc, ties,
                                      kStore ? e + full : nullptr);
  out->rest = TreeSum(acc);
  out->ties = double(ties);
}

template <bool kAccurate> void PieceImpl(const float *x, int64_t len, double *e, Piece *out) {
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

void PieceF32(const float *x, int64_t len, double *e, Piece *out, bool accurate) {
  accurate ? PieceImpl<true>(x, len, e, out) : PieceImpl<false>(x, len, e, out);
}

// y[i] = float(f(double(a[i]), double(b[i]))) over [0, len).
template <size_t kIn, class F>
HWY_INLINE void Map(const float *a, const float *b, float *y, int64_t len, F &&f) {
  for (int64_t i = 0; i < len; i += int64_t(kBlock)) {
    const size_t count = size_t(std::min<int64_t>(int64_t(kBlock), len - i));
    HWY_UNROLL(16)
    for (size_t j = 0; j < kSub; ++j) {
      const VD va = LoadPart(a + i, j, count, 0.0f);
      VD r;
      if constexpr (kIn == 2)
        r = f(va, LoadPart(b + i, j, count, 0.0f));
      else
        r = f(va, va);
      StorePart(r, y + i, j, count);
    }
  }
}

// y[i] = float(f(e[i])) over [0, len), e padded to whole blocks.
template <class F> HWY_INLINE void FromDouble(const double *e, int64_t len, float *y, F &&f) {
  const DD d;
  for (int64_t i = 0; i < len; i += int64_t(kBlock)) {
    const size_t count = size_t(std::min<int64_t>(int64_t(kBlock), len - i));
    HWY_UNROLL(16)
    for (size_t j = 0; j < kSub; ++j)
      StorePart(f(hn::LoadU(d, e + i + j * kLanes)), y + i, j, count);
  }
}

void ScaleF32(const double *e, int64_t len, double scale, float *y) {
  const VD s = hn::Set(DD(), scale);
  FromDouble(e, len, y, [&](VD v) { return hn::Mul(v, s); });
}

void ScaleShiftF32(const double *e, int64_t len, double scale, double g, double a, float *y) {
  const DD d;
  const VD s = hn::Set(d, scale), gv = hn::Set(d, g), av = hn::Set(d, a);
  FromDouble(e, len, y, [&](VD v) { return hn::Mul(gv, hn::Sub(hn::Mul(v, s), av)); });
}

void LogProbF32(const float *x, int64_t len, double max, double log_s, float *y) {
  const DD d;
  const VD m = hn::Set(d, max), l = hn::Set(d, log_s);
  Map<1>(x, nullptr, y, len, [&](VD v, VD) { return hn::Sub(hn::Sub(v, m), l); });
}

void SoftmaxBackwardF32(const float *y, const float *dy, int64_t len, double dot, float *dx) {
  const VD dt = hn::Set(DD(), dot);
  Map<2>(y, dy, dx, len, [&](VD yv, VD dyv) { return hn::Mul(yv, hn::Sub(dyv, dt)); });
}

void LogSoftmaxBackwardF32(const float *y, const float *dy, int64_t len, double total, float *dx) {
  const VD tt = hn::Set(DD(), total);
  Map<2>(y, dy, dx, len,
         [&](VD yv, VD dyv) { return hn::Sub(dyv, hn::Mul(Exp<true, true, true>(yv), tt)); });
}

double DotF32(const float *a, const float *b, int64_t len) {
  VD acc[kSub];
  for (size_t j = 0; j < kSub; ++j) acc[j] = hn::Zero(DD());
  for (int64_t i = 0; i < len; i += int64_t(kBlock)) {
    const size_t count = size_t(std::min<int64_t>(int64_t(kBlock), len - i));
    HWY_UNROLL(16)
    for (size_t j = 0; j < kSub; ++j)
      acc[j] = hn::Add(acc[j], hn::Mul(LoadPart(a + i, j, count, 0.0f),
                                       LoadPart(b + i, j, count, 0.0f))); // exact products
  }
  return TreeSum(acc);
}

double SumF32(const float *a, int64_t len, bool *infinite) {
  const DD d;
  VD acc[kSub];
  auto inf = hn::Zero(d);
  for (size_t j = 0; j < kSub; ++j) acc[j] = hn::Zero(d);
  for (int64_t i = 0; i < len; i += int64_t(kBlock)) {
    const size_t count = size_t(std::min<int64_t>(int64_t(kBlock), len - i));
    HWY_UNROLL(16)
    for (size_t j = 0; j < kSub; ++j) {
      const VD v = LoadPart(a + i, j, count, 0.0f);
      acc[j] = hn::Add(acc[j], v);
      inf = hn::Or(inf, hn::VecFromMask(d, hn::IsInf(v)));
    }
  }
  *infinite = !hn::AllFalse(DU(), hn::Ne(hn::BitCast(DU(), inf), hn::Zero(DU())));
  return TreeSum(acc);
}

// log1p(s) for s >= 0 (or +inf, NaN), relative error below 2^-40: u = 1 + s
// and its rounding error c = (s - (u - 1)) / u, log(u) = e ln2 + log(m) with
// u = 2^e m, m in [sqrt(1/2), sqrt(2)), log(m) = 2 atanh(z), z = (m-1)/(m+1),
// |z| <= 0.1716, by the series up to z^15 (the next term is below 2^-44 of
// the sum); log1p(s) = log(u) + c.
void Log1pF64(const double *in, double *out, int64_t n) {
  const DD d;
  const DI di;
  const int64_t lanes = int64_t(kLanes);
  for (int64_t i = 0; i < n; i += lanes) {
    double buf[kLanes] = {};
    for (int64_t l = 0; l < lanes && i + l < n; ++l) buf[l] = in[i + l];
    const VD s = hn::LoadU(d, buf);
    const VD one = hn::Set(d, 1.0);
    const VD u = hn::Add(one, s);
    const VD c = hn::Div(hn::Sub(s, hn::Sub(u, one)), u);
    // u = 2^e m with m in [sqrt(1/2), sqrt(2)): from the exponent bits of u / sqrt(2)... of u.
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
    r = hn::IfThenElse(hn::Eq(s, s), r, s);
    hn::StoreU(r, d, buf);
    for (int64_t l = 0; l < lanes && i + l < n; ++l) out[i + l] = buf[l];
  }
}

int64_t Which() { return HWY_TARGET; }

} // namespace HWY_NAMESPACE
} // namespace softcheck::simd
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace softcheck::simd {

HWY_EXPORT(PieceF32);
HWY_EXPORT(ScaleF32);
HWY_EXPORT(ScaleShiftF32);
HWY_EXPORT(LogProbF32);
HWY_EXPORT(DotF32);
HWY_EXPORT(SumF32);
HWY_EXPORT(SoftmaxBackwardF32);
HWY_EXPORT(LogSoftmaxBackwardF32);
HWY_EXPORT(Which);
HWY_EXPORT(Log1pF64);

void piece_f32(const float *x, int64_t len, double *e, Piece *out, bool accurate) {
  HWY_DYNAMIC_DISPATCH(PieceF32)(x, len, e, out, accurate);
}
void scale_f32(const double *e, int64_t len, double scale, float *y) {
  HWY_DYNAMIC_DISPATCH(ScaleF32)(e, len, scale, y);
}
void scale_shift_f32(const double *e, int64_t len, double scale, double g, double a, float *y) {
  HWY_DYNAMIC_DISPATCH(ScaleShiftF32)(e, len, scale, g, a, y);
}
void log_prob_f32(const float *x, int64_t len, double max, double log_s, float *y) {
  HWY_DYNAMIC_DISPATCH(LogProbF32)(x, len, max, log_s, y);
}
double dot_f32(const float *a, const float *b, int64_t len) {
  return HWY_DYNAMIC_DISPATCH(DotF32)(a, b, len);
}
double sum_f32(const float *a, int64_t len, bool *infinite) {
  return HWY_DYNAMIC_DISPATCH(SumF32)(a, len, infinite);
}
void softmax_backward_f32(const float *y, const float *dy, int64_t len, double dot, float *dx) {
  HWY_DYNAMIC_DISPATCH(SoftmaxBackwardF32)(y, dy, len, dot, dx);
}
void log_softmax_backward_f32(const float *y, const float *dy, int64_t len, double total,
                              float *dx) {
  HWY_DYNAMIC_DISPATCH(LogSoftmaxBackwardF32)(y, dy, len, total, dx);
}

void log1p_f64(const double *in, double *out, int64_t n) {
  HWY_DYNAMIC_DISPATCH(Log1pF64)(in, out, n);
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
