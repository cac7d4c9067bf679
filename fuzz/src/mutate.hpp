// Mutations of a case: each keeps it well formed (vector sizes match the
// shape), though not always valid input (a target out of range must give
// the oracle's error status too).
#pragma once

#include <softcheck/case.hpp>
#include <softcheck/generators.hpp>

namespace softcheck::fuzz {

// Applies one to three mutations; returns their names, joined by '+'.
template <class T> std::string mutate(Case<T> &c, gen::Draw &d);

} // namespace softcheck::fuzz
