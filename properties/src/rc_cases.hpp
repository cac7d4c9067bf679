// The RapidCheck generator of cases: draws from the regimes of
// <softcheck/generators.hpp> with a PRNG seeded by RapidCheck's Random (the
// run stays reproducible from RapidCheck's seed); shrinking is ours
// (rc::shrinkable::shrinkRecur over gen::shrink_candidates).
#pragma once

#include <softcheck/generators.hpp>

#include <rapidcheck.h>

namespace softcheck::gen {

template <class T> rc::Gen<Case<T>> cases(softcheck_op op, Spec spec) {
  return rc::Gen<Case<T>>([op, spec](const rc::Random &random, int size) {
    Draw d(rc::Random(random).next());
    return rc::shrinkable::shrinkRecur(draw_case<T>(d, op, spec, size), [](const Case<T> &c) {
      return rc::seq::fromContainer(shrink_candidates(c));
    });
  });
}

} // namespace softcheck::gen
