// Interval arithmetic over MPFR with directed rounding: every operation
// returns an interval [lo, hi] that contains the exact result of every
// point of its operands. This is what makes the oracle's answers proofs:
// when both ends of the enclosure round to the same target value, that
// value is the correctly rounded result.
//
// Each end also records whether it is open: the exact value is known to lie
// strictly inside (the end was rounded outwards, or came from an open end by
// a strictly monotone operation). That settles the case a closed interval
// never can: an exact value like (midpoint - 2^-30000), whose enclosure at
// any reasonable precision is [midpoint - tiny, midpoint) -- open at the
// midpoint -- rounds away from the midpoint without 30000 bits.
#pragma once

#include <softcheck/half.hpp>

#include <mpfr.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>
#include <utility>

namespace softcheck::oracle {

class Ival {
public:
  // Working precision (bits) of intervals created on this thread.
  static mpfr_prec_t &precision() {
    static thread_local mpfr_prec_t p = 128;
    return p;
  }

  Ival() {
    mpfr_init2(lo_, precision());
    mpfr_init2(hi_, precision());
    mpfr_set_zero(lo_, 1);
    mpfr_set_zero(hi_, 1);
  }
  Ival(const Ival &o) {
    mpfr_init2(lo_, mpfr_get_prec(o.lo_));
    mpfr_init2(hi_, mpfr_get_prec(o.hi_));
    mpfr_set(lo_, o.lo_, MPFR_RNDD);
    mpfr_set(hi_, o.hi_, MPFR_RNDU);
    lo_open_ = o.lo_open_;
    hi_open_ = o.hi_open_;
  }
  Ival(Ival &&o) noexcept {
    mpfr_init2(lo_, 2);
    mpfr_init2(hi_, 2);
    mpfr_swap(lo_, o.lo_);
    mpfr_swap(hi_, o.hi_);
    lo_open_ = o.lo_open_;
    hi_open_ = o.hi_open_;
  }
  Ival &operator=(Ival o) noexcept {
    mpfr_swap(lo_, o.lo_);
    mpfr_swap(hi_, o.hi_);
    lo_open_ = o.lo_open_;
    hi_open_ = o.hi_open_;
    return *this;
  }
  ~Ival() {
    mpfr_clear(lo_);
    mpfr_clear(hi_);
  }

  // The exact value of a double (or float), enclosed at the working precision.
  static Ival of(double v) {
    Ival r;
    r.lo_open_ = mpfr_set_d(r.lo_, v, MPFR_RNDD) != 0;
    r.hi_open_ = mpfr_set_d(r.hi_, v, MPFR_RNDU) != 0;
    return r;
  }
  static Ival of_int(int64_t v) {
    Ival r;
    r.lo_open_ = mpfr_set_sj(r.lo_, v, MPFR_RNDD) != 0;
    r.hi_open_ = mpfr_set_sj(r.hi_, v, MPFR_RNDU) != 0;
    return r;
  }
  static Ival nan() {
    Ival r;
    mpfr_set_nan(r.lo_);
    mpfr_set_nan(r.hi_);
    return r;
  }
  static Ival whole() {
    Ival r;
    mpfr_set_inf(r.lo_, -1);
    mpfr_set_inf(r.hi_, 1);
    return r;
  }

  const mpfr_t &lo() const { return lo_; }
  const mpfr_t &hi() const { return hi_; }
  mpfr_t &lo() { return lo_; }
  mpfr_t &hi() { return hi_; }

  bool is_nan() const { return mpfr_nan_p(lo_) || mpfr_nan_p(hi_); }
  bool is_point() const { return mpfr_equal_p(lo_, hi_) != 0; }
  bool exactly_zero() const { return mpfr_zero_p(lo_) && mpfr_zero_p(hi_); }
  bool contains_zero() const { return mpfr_sgn(lo_) <= 0 && mpfr_sgn(hi_) >= 0; }
  bool nonnegative() const { return mpfr_sgn(lo_) >= 0; }

  // Addition and subtraction are strictly monotone in each finite operand:
  // an open operand end makes the result end open.
  friend Ival operator+(const Ival &a, const Ival &b) {
    if (a.is_nan() || b.is_nan()) return nan();
    Ival r;
    int tl = mpfr_add(r.lo_, a.lo_, b.lo_, MPFR_RNDD);
    int th = mpfr_add(r.hi_, a.hi_, b.hi_, MPFR_RNDU);
    r.lo_open_ = finite_open(r.lo_, tl, a.lo_open_ || b.lo_open_);
    r.hi_open_ = finite_open(r.hi_, th, a.hi_open_ || b.hi_open_);
    return r.settle(a.is_point() && b.is_point());
  }
  friend Ival operator-(const Ival &a, const Ival &b) {
    if (a.is_nan() || b.is_nan()) return nan();
    Ival r;
    int tl = mpfr_sub(r.lo_, a.lo_, b.hi_, MPFR_RNDD);
    int th = mpfr_sub(r.hi_, a.hi_, b.lo_, MPFR_RNDU);
    r.lo_open_ = finite_open(r.lo_, tl, a.lo_open_ || b.hi_open_);
    r.hi_open_ = finite_open(r.hi_, th, a.hi_open_ || b.lo_open_);
    return r.settle(a.is_point() && b.is_point());
  }
  friend Ival operator-(const Ival &a) {
    if (a.is_nan()) return nan();
    Ival r;
    mpfr_neg(r.lo_, a.hi_, MPFR_RNDD);
    mpfr_neg(r.hi_, a.lo_, MPFR_RNDU);
    r.lo_open_ = a.hi_open_;
    r.hi_open_ = a.lo_open_;
    return r;
  }
  friend Ival operator*(const Ival &a, const Ival &b) {
    if (a.is_nan() || b.is_nan()) return nan();
    Ival r;
    if (a.nonnegative() && b.nonnegative()) {
      // x * y is strictly increasing in x when y > 0 (and vice versa).
      int tl = mpfr_mul(r.lo_, a.lo_, b.lo_, MPFR_RNDD);
      int th = mpfr_mul(r.hi_, a.hi_, b.hi_, MPFR_RNDU);
      r.lo_open_ = finite_open(
          r.lo_, tl, (a.lo_open_ && !mpfr_zero_p(b.lo_)) || (b.lo_open_ && !mpfr_zero_p(a.lo_)));
      r.hi_open_ = finite_open(
          r.hi_, th, (a.hi_open_ && !mpfr_zero_p(b.hi_)) || (b.hi_open_ && !mpfr_zero_p(a.hi_)));
      return r.settle(a.is_point() && b.is_point());
    }
    if (b.exact_nonzero_point()) return scaled(a, b, mpfr_mul);
    if (a.exact_nonzero_point()) return scaled(b, a, mpfr_mul);
    return extremes(a, b, mpfr_mul);
  }
  friend Ival operator/(const Ival &a, const Ival &b) {
    if (a.is_nan() || b.is_nan()) return nan();
    if (b.exactly_zero()) {
      // IEEE: x / 0 is +-inf, 0 / 0 is NaN: a's sign must be known.
      if (!a.is_point()) {
        if (a.contains_zero()) return whole();
        Ival r;
        const int sign = mpfr_sgn(a.lo_) * (mpfr_signbit(b.hi_) ? -1 : 1);
        mpfr_set_inf(r.lo_, sign);
        mpfr_set_inf(r.hi_, sign);
        return r;
      }
      Ival r;
      mpfr_div(r.lo_, a.lo_, b.hi_, MPFR_RNDD); // +0 divisor: sign of a
      mpfr_set(r.hi_, r.lo_, MPFR_RNDU);
      return r; // closed: an exact IEEE special value
    }
    if (b.contains_zero()) return b.is_nan() || a.is_nan() ? nan() : whole();
    if (b.exact_nonzero_point()) return scaled(a, b, mpfr_div);
    return extremes(a, b, mpfr_div);
  }

  // Monotone increasing functions: f(lo) rounded down, f(hi) rounded up;
  // a point operand costs one evaluation, bracketed by its ternary value.
  // Strictly increasing functions: f(lo) rounded down, f(hi) rounded up;
  // a point operand costs one evaluation, bracketed by its ternary value.
  template <int (*F)(mpfr_ptr, mpfr_srcptr, mpfr_rnd_t)> Ival monotone() const {
    if (is_nan()) return nan();
    Ival r;
    if (is_point() && !lo_open_ && !hi_open_) {
      int t = F(r.lo_, lo_, MPFR_RNDN);
      mpfr_set(r.hi_, r.lo_, MPFR_RNDN);
      if (t > 0) mpfr_nextbelow(r.lo_);
      if (t < 0) mpfr_nextabove(r.hi_);
      r.lo_open_ = r.hi_open_ = t != 0 && mpfr_number_p(r.lo_) && mpfr_number_p(r.hi_);
      return r;
    }
    int tl = F(r.lo_, lo_, MPFR_RNDD);
    int th = F(r.hi_, hi_, MPFR_RNDU);
    r.lo_open_ = finite_open(r.lo_, tl, lo_open_);
    r.hi_open_ = finite_open(r.hi_, th, hi_open_);
    return r;
  }

  bool lo_open() const { return lo_open_; }
  bool hi_open() const { return hi_open_; }
  void close_lo() { lo_open_ = false; }
  void close_hi() { hi_open_ = false; }

private:
  mpfr_t lo_, hi_;
  bool lo_open_ = false, hi_open_ = false;

  bool exact_nonzero_point() const {
    return is_point() && !lo_open_ && !hi_open_ && mpfr_regular_p(lo_);
  }

  // a (op) b for an exact nonzero finite b: strictly monotone in a, so a's
  // open ends stay open (and change places when b < 0).
  static Ival scaled(const Ival &a, const Ival &b,
                     int (*op)(mpfr_ptr, mpfr_srcptr, mpfr_srcptr, mpfr_rnd_t)) {
    Ival r;
    const bool flip = mpfr_sgn(b.lo_) < 0;
    const mpfr_t &from_lo = flip ? a.hi_ : a.lo_, &from_hi = flip ? a.lo_ : a.hi_;
    int tl = op(r.lo_, from_lo, b.lo_, MPFR_RNDD);
    int th = op(r.hi_, from_hi, b.lo_, MPFR_RNDU);
    r.lo_open_ = finite_open(r.lo_, tl, flip ? a.hi_open_ : a.lo_open_);
    r.hi_open_ = finite_open(r.hi_, th, flip ? a.lo_open_ : a.hi_open_);
    return r.settle(a.is_point());
  }

  // An end is open when it was rounded (ternary != 0) or inherits an open
  // operand end; infinities and NaN are never open.
  static bool finite_open(const mpfr_t &end, int ternary, bool inherited) {
    return mpfr_number_p(end) && (ternary != 0 || inherited);
  }

  // A NaN end from inf - inf or 0 * inf: exact (IEEE) when the operands
  // were points, otherwise the enclosure is everything.
  Ival &settle(bool points = false) {
    if (mpfr_nan_p(lo_) || mpfr_nan_p(hi_)) {
      if (points) {
        mpfr_set_nan(lo_);
        mpfr_set_nan(hi_);
      } else {
        *this = whole();
      }
      lo_open_ = hi_open_ = false;
    }
    return *this;
  }

  // min and max of op over the four corners, each rounded outwards.
  static Ival extremes(const Ival &a, const Ival &b,
                       int (*op)(mpfr_ptr, mpfr_srcptr, mpfr_srcptr, mpfr_rnd_t)) {
    if (a.is_nan() || b.is_nan()) return nan();
    Ival r;
    mpfr_t t;
    mpfr_init2(t, precision());
    bool first = true, any_nan = false;
    for (const mpfr_t *x : {&a.lo_, &a.hi_})
      for (const mpfr_t *y : {&b.lo_, &b.hi_}) {
        op(t, *x, *y, MPFR_RNDD);
        if (mpfr_nan_p(t))
          any_nan = true;
        else if (first || mpfr_less_p(t, r.lo_))
          mpfr_set(r.lo_, t, MPFR_RNDD);
        op(t, *x, *y, MPFR_RNDU);
        if (mpfr_nan_p(t))
          any_nan = true;
        else if (first || mpfr_greater_p(t, r.hi_))
          mpfr_set(r.hi_, t, MPFR_RNDU);
        first = false;
      }
    mpfr_clear(t);
    if (any_nan) {
      if (a.is_point() && b.is_point()) return nan();
      return whole();
    }
    return r;
  }
};

// exp of a finite number is positive, however far below MPFR's smallest
// exponent (2^-(2^62)) it lies; such a value's lower bound is raised from 0
// to that smallest positive number. This keeps its sign, which is all that
// can matter to a rounding (it breaks a tie, it signs a zero): the value is
// moved by less than 2^-(2^62), which no working precision here resolves.
inline Ival exp(const Ival &a) {
  Ival r = a.monotone<mpfr_exp>();
  if (mpfr_zero_p(r.lo()) && mpfr_number_p(a.lo())) {
    mpfr_set_zero(r.lo(), 1);
    mpfr_nextabove(r.lo());
    r.close_lo();
  }
  if (mpfr_zero_p(r.hi()) && mpfr_number_p(a.hi())) {
    mpfr_set_zero(r.hi(), 1);
    mpfr_nextabove(r.hi());
    r.close_hi();
  }
  return r;
}
inline Ival log1p(const Ival &a) { return a.monotone<mpfr_log1p>(); }

// x rounded to nearest even in a half format, directly (through float it
// would round twice): scaled so that the format's ulp at x is 1, rounded to
// an integer (mpfr_rint breaks ties to even), scaled back. The integer is at
// most 2^p, so the double holding n * 2^q is exact, and the half made of it
// is too (or overflows to infinity, as the format does).
template <class T> T round_to_half(const mpfr_t &x) {
  if (mpfr_nan_p(x)) return std::numeric_limits<T>::quiet_NaN();
  if (mpfr_inf_p(x))
    return mpfr_sgn(x) > 0 ? std::numeric_limits<T>::infinity()
                           : -std::numeric_limits<T>::infinity();
  if (mpfr_zero_p(x)) return mpfr_signbit(x) ? -T(0) : T(0);
  constexpr int p = std::numeric_limits<T>::digits;
  constexpr int emin = std::numeric_limits<T>::min_exponent; // x = 0.m 2^e convention
  const mpfr_exp_t e = mpfr_get_exp(x);
  if (e > std::numeric_limits<T>::max_exponent + 1)
    return mpfr_sgn(x) > 0 ? std::numeric_limits<T>::infinity()
                           : -std::numeric_limits<T>::infinity();
  const long q = static_cast<long>(e > emin ? e : emin) - p; // the ulp at x is 2^q
  mpfr_t n;
  mpfr_init2(n, mpfr_get_prec(x) + 2);
  mpfr_mul_2si(n, x, -q, MPFR_RNDN); // exact
  mpfr_rint(n, n, MPFR_RNDN);
  const double d = std::ldexp(mpfr_get_d(n, MPFR_RNDN), static_cast<int>(q));
  const bool negative = mpfr_signbit(x);
  mpfr_clear(n);
  // A value that rounds to 0 keeps its sign.
  if (d == 0) return negative ? -T(0) : T(0);
  return T(d);
}

// Rounds an enclosure to T (float, double or a half format) with
// round-to-nearest-even, including the target's subnormal range and
// overflow. `ok` is false when the two ends round differently: more
// precision is needed.
template <class T> T round_to(const Ival &v, bool &ok, bool use_open_ends = true) {
  auto get = [](const mpfr_t &x) -> T {
    if constexpr (std::is_same_v<T, float>)
      return mpfr_get_flt(x, MPFR_RNDN);
    else if constexpr (std::is_same_v<T, double>)
      return mpfr_get_d(x, MPFR_RNDN);
    else
      return round_to_half<T>(x);
  };
  if (v.is_nan()) {
    ok = true;
    return T(NAN);
  }
  if (v.exactly_zero()) { // an exact zero result is +0
    ok = true;
    return T(0);
  }
  // An open end on a rounding boundary of T (a midpoint) is moved a quarter
  // of its own ulp inwards: no boundary of T lies that close (they are all
  // representable at the working precision), so this rounds as every value
  // strictly inside does.
  auto get_end = [&](const mpfr_t &x, bool open, bool upward) -> T {
    if (!open || !use_open_ends || !mpfr_regular_p(x)) return get(x);
    mpfr_t y;
    mpfr_init2(y, mpfr_get_prec(x) + 2);
    mpfr_set(y, x, MPFR_RNDN);
    if (upward)
      mpfr_nextabove(y);
    else
      mpfr_nextbelow(y);
    T r = get(y);
    mpfr_clear(y);
    return r;
  };
  T a = get_end(v.lo(), v.lo_open(), true), b = get_end(v.hi(), v.hi_open(), false);
  if (a == 0 && b == 0) {
    // Both ends round to zero: the magnitude is settled. The sign is that
    // of the enclosure; one that touches zero from one side takes that side.
    ok = true;
    bool negative = mpfr_sgn(v.hi()) < 0 || (mpfr_zero_p(v.hi()) && mpfr_sgn(v.lo()) < 0);
    return negative ? -T(0) : T(0);
  }
  ok = a == b;
  return a;
}

} // namespace softcheck::oracle
