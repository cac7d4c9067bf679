// The second backend: Boost.Multiprecision cpp_bin_float at 256 bits with
// round to nearest, and an exact rounding to float/double written without
// MPFR, so that the self-checks compare two independent computations.
#pragma once

#include <boost/multiprecision/cpp_bin_float.hpp>

#include <cmath>
#include <cstdint>
#include <limits>

namespace softcheck::oracle {

class Bin {
public:
  using F = boost::multiprecision::number<
      boost::multiprecision::cpp_bin_float<256, boost::multiprecision::digit_base_2>,
      boost::multiprecision::et_off>;

  Bin() : v_(0) {}
  explicit Bin(F v) : v_(std::move(v)) {}
  static Bin of(double x) { return Bin(F(x)); }
  static Bin of_int(int64_t x) { return Bin(F(x)); }
  static Bin nan() { return Bin(std::numeric_limits<F>::quiet_NaN()); }
  const F &value() const { return v_; }

  friend Bin operator+(const Bin &a, const Bin &b) { return Bin(a.v_ + b.v_); }
  friend Bin operator-(const Bin &a, const Bin &b) { return Bin(a.v_ - b.v_); }
  friend Bin operator-(const Bin &a) { return Bin(-a.v_); }
  friend Bin operator*(const Bin &a, const Bin &b) { return Bin(a.v_ * b.v_); }
  friend Bin operator/(const Bin &a, const Bin &b) { return Bin(a.v_ / b.v_); }
  friend Bin exp(const Bin &a) {
    if (isinf(a.v_) && a.v_ < 0) return Bin(F(0));
    return Bin(boost::multiprecision::exp(a.v_));
  }
  friend Bin log1p(const Bin &a) { return Bin(boost::multiprecision::log1p(a.v_)); }

private:
  F v_;
};

// Round to nearest even in T, with T's subnormal range and overflow, from
// the exact binary value: scale so the target's last place is the units
// digit, round the integer, scale back.
template <class T> T round_bin(const Bin &b) {
  using F = Bin::F;
  const F &v = b.value();
  if (boost::multiprecision::isnan(v)) return std::numeric_limits<T>::quiet_NaN();
  if (boost::multiprecision::isinf(v))
    return v > 0 ? std::numeric_limits<T>::infinity() : -std::numeric_limits<T>::infinity();
  if (v == 0) return T(0);
  bool negative = v < 0;
  F a = negative ? F(-v) : v;
  int e = 0;
  boost::multiprecision::frexp(a, &e); // a = f 2^e, f in [1/2, 1)
  constexpr int p = std::numeric_limits<T>::digits;
  constexpr int emin = std::numeric_limits<T>::min_exponent;
  int q = (e > emin ? e : emin) - p; // the target's ulp at a is 2^q
  F n = boost::multiprecision::ldexp(a, -q);
  F whole = boost::multiprecision::floor(n);
  F frac = n - whole;
  if (frac > F(0.5) || (frac == F(0.5) && boost::multiprecision::fmod(whole, F(2)) == 1))
    whole += 1;
  // whole <= 2^p is exact in T; ldexp overflows to inf where T does.
  T r = std::ldexp(static_cast<T>(whole.template convert_to<double>()), q);
  return negative ? -r : r;
}

} // namespace softcheck::oracle
