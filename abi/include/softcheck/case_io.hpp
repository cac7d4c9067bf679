// Cases as small text files with hex floats: how counterexamples are kept
// (properties/regressions/), replayed by ctest and read by `softcheck eval`.
//
//   softcheck-case 1
//   property oracle_agreement        (optional: the property that failed)
//   op log_softmax
//   dtype f32                        (f32, f64, bf16 or f16)
//   shape 1 2 1                      (outer classes inner)
//   reduction none                   (losses)
//   ignore_index -100
//   label_smoothing 0x0p+0
//   x 0x1p+1 0x1.8p+1
//   aux ...  target ...  dout ...  weight ...   (as the op needs)
#pragma once

#include <softcheck/case.hpp>

#include <stdexcept>
#include <string>

namespace softcheck {

struct CaseFile {
  softcheck_dtype dtype = SOFTCHECK_F32;
  Case<float> f32;
  Case<double> f64;
  Case<softcheck::bf16> bf16;
  Case<softcheck::f16> f16;
  std::string property; // empty: every property that applies
};

// The case of f's dtype, given to fn (a generic lambda taking a Case<T>).
template <class F> decltype(auto) visit_case(const CaseFile &f, F &&fn) {
  switch (f.dtype) {
  case SOFTCHECK_F64: return fn(f.f64);
  case SOFTCHECK_BF16: return fn(f.bf16);
  case SOFTCHECK_F16: return fn(f.f16);
  default: return fn(f.f32);
  }
}

struct CaseFormatError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

template <class T> std::string to_text(const Case<T> &c, const std::string &property = "");
// Throws CaseFormatError naming the line and the problem.
CaseFile parse_case(const std::string &text);
CaseFile read_case_file(const std::string &path);

} // namespace softcheck
