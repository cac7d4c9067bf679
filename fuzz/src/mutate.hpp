// Mutations of a case: each keeps it well formed (vector sizes match the
// shape), though not always valid input (a target out of range must give
// the oracle's error status too).
#pragma once

#include <softcheck/case.hpp>
#include <softcheck/generators.hpp>

namespace softcheck::fuzz {

// What the run's regime selection (--regime / --skip-regime) admits: the
// regimes rows are drawn from, and the values outside the finite range
// that they contain. A mutation that brings in a value of a class no
// selected regime has (a NaN in a run of finite regimes, say) is undone.
struct Admits {
  std::vector<gen::Regime> regimes; // every regime when nothing is selected
  bool nan = true, pos_inf = true, neg_inf = true;
  static Admits of(const std::vector<gen::Regime> &selected);
  bool all() const { return nan && pos_inf && neg_inf; }
};

// Applies one to three mutations; returns their names, joined by '+'.
template <class T> std::string mutate(Case<T> &c, gen::Draw &d, const Admits &admits);

} // namespace softcheck::fuzz
