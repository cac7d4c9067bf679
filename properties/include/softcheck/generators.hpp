// Generators: rows drawn from named regimes, composed into whole cases for
// every op, and a shrinker that walks a failing case toward one that reads
// like a hand-written test (fewer rows and classes, plainer options,
// rounder values).
//
// One set of regimes for properties, reports and fuzzing. RapidCheck's own
// float generators never give NaN, infinities, subnormals or large
// magnitudes, so rows are drawn here from a PRNG (`Draw`); the RapidCheck
// generator built on it is in rc_cases.hpp.
#pragma once

#include <softcheck/case.hpp>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace softcheck::gen {

// Each regime targets a failure class these ops have really had.
enum class Regime {
  normal1,          // N(0, 1): the everyday case
  normal30,         // N(0, 30): x - max rounding, subnormal softmax tails
  normal1000,       // N(0, 1000): exp underflow everywhere but the max
  uniform_wide,     // uniform over +-1e4
  near_max,         // magnitudes near +-FLT_MAX / DBL_MAX and down to 2^-64 of it:
                    // x - max overflows, or is inexact, or its TwoSum steps overflow
  dominant,         // one logit ahead by 15..200: tiny log-probabilities, confident losses
  ties,             // exact ties (small integers)
  near_ties,        // values a few ulps apart
  tiny_differences, // x = c + tiny: differences near the subnormal range
  lse_near_zero,    // max in (-log 2, 0) and a partner whose term cancels it: lse near 0
  bit_patterns,     // any finite float, from its bits
  masked,           // some -inf (attention masks)
  fully_masked,     // every entry -inf
  nan_inside,       // a NaN somewhere
  inf_inside,       // a +inf somewhere
};
constexpr int kRegimes = 15;
const char *regime_name(Regime r); // for people: "N(0,1)"
const char *regime_id(Regime r);   // for files and keys: "normal1"
bool regime_from_id(const std::string &id, Regime &out);
bool is_special(Regime r); // rows whose outputs are special values by definition

// A deterministic stream of draws.
struct Draw {
  std::mt19937_64 rng;
  explicit Draw(uint64_t seed) : rng(seed) {}
  double uniform() { return std::uniform_real_distribution<double>(0, 1)(rng); }
  double normal(double s) { return std::normal_distribution<double>(0, s)(rng); }
  int64_t below(int64_t n) { return n <= 1 ? 0 : int64_t(rng() % uint64_t(n)); }
  bool chance(double p) { return uniform() < p; }
};

// What a property wants from its cases.
struct Spec {
  std::vector<Regime> regimes; // drawn uniformly; empty: every regime
  bool large_rows = true;      // allow rows of >= 100k classes (rarely)
  bool long_rows = false;      // and rows of 4099 or 16411 classes in 4% of the cases
  bool inner = true;           // allow inner > 1
  bool nonnegative_weights = false;
  bool plain_options = false; // reduction sum, no weights, no smoothing, no ignored targets
};

// Regime sets the properties use.
std::vector<Regime> finite_regimes();   // everything but masks, NaN and inf
std::vector<Regime> moderate_regimes(); // N(0,1), N(0,30), ties, near ties

template <class T> void fill_row(Draw &d, Regime r, T *row, int64_t n, int64_t stride);
template <class T> Case<T> draw_case(Draw &d, softcheck_op op, const Spec &spec, int size);
template <class T> std::vector<Case<T>> shrink_candidates(const Case<T> &c);

// Index in c.x of class k of row r (rows numbered outer-major).
template <class T> int64_t index_of(const Case<T> &c, int64_t r, int64_t k) {
  return (r / c.shape.inner * c.shape.classes + k) * c.shape.inner + r % c.shape.inner;
}
// The case restricted to the rows `keep` (same classes), as outer = rows,
// inner = 1; the loss options stay.
template <class T> Case<T> only_rows(const Case<T> &c, const std::vector<int64_t> &keep);

} // namespace softcheck::gen
