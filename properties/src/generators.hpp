// Generators: rows drawn from named regimes, composed into whole cases for
// every op, and a shrinker that walks a failing case toward one that reads
// like a hand-written test (fewer rows and classes, plainer options,
// rounder values).
//
// RapidCheck's own float generators never give NaN, infinities, subnormals
// or large magnitudes, so rows are drawn here from a PRNG seeded by
// RapidCheck's Random: the run stays reproducible from RapidCheck's seed,
// and shrinking is ours (rc::shrinkable::shrinkRecur).
#pragma once

#include <softcheck/case.hpp>

#include <rapidcheck.h>

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
  near_max,         // magnitudes near +-FLT_MAX / DBL_MAX: x - max overflows
  dominant,         // one logit ahead by 15..200: tiny log-probabilities, confident losses
  ties,             // exact ties (small integers)
  near_ties,        // values a few ulps apart
  tiny_differences, // x = c + tiny: differences near the subnormal range
  bit_patterns,     // any finite float, from its bits
  masked,           // some -inf (attention masks)
  fully_masked,     // every entry -inf
  nan_inside,       // a NaN somewhere
  inf_inside,       // a +inf somewhere
};
constexpr int kRegimes = 14;
const char *regime_name(Regime r);
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

// The RapidCheck generator of cases of `op`.
template <class T> rc::Gen<Case<T>> cases(softcheck_op op, Spec spec) {
  return rc::Gen<Case<T>>([op, spec](const rc::Random &random, int size) {
    Draw d(rc::Random(random).next());
    return rc::shrinkable::shrinkRecur(draw_case<T>(d, op, spec, size), [](const Case<T> &c) {
      return rc::seq::fromContainer(shrink_candidates(c));
    });
  });
}

} // namespace softcheck::gen
