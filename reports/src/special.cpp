// The special-values table: what each set gives on the inputs whose answer
// is a special value or an edge of the ABI's semantics, next to the oracle
// (which implements <softcheck/plugin.h> to the letter).
#include "parts.hpp"

#include <softcheck/case.hpp>
#include <softcheck/metrics.hpp>
#include <softcheck/oracle.hpp>

#include <fmt/core.h>

#include <cmath>
#include <limits>

namespace softcheck::report {

const char *dtype_name(softcheck_dtype d) { return softcheck_dtype_name(d); }

namespace {

template <class T> std::string short_values(Status s, const std::vector<T> &v) {
  if (s != SOFTCHECK_OK) return softcheck_status_name(s);
  if (v.empty()) return "(nothing written)";
  std::string out;
  for (T x : v) out += (out.empty() ? "" : " ") + fmt::format("{:.6g}", double(x));
  return out;
}

template <class T> struct Input {
  const char *name;
  Shape shape;
  std::vector<T> x;
};

template <class T> std::vector<Input<T>> inputs() {
  const T inf = std::numeric_limits<T>::infinity(), nan = std::numeric_limits<T>::quiet_NaN();
  const T big = std::numeric_limits<T>::max();
  return {
      {"NaN in row", {1, 3, 1}, {1, nan, 2}},
      {"+inf in row", {1, 3, 1}, {1, inf, 2}},
      {"-inf in row (masked)", {1, 3, 1}, {-inf, 0, 1}},
      {"all -inf row", {1, 3, 1}, {-inf, -inf, -inf}},
      {"largest finite twice", {1, 2, 1}, {big, big}},
      {"C = 1", {1, 1, 1}, {T(3.5)}},
      {"outer = 0", {0, 3, 1}, {}},
      {"C = 0", {1, 0, 1}, {}},
  };
}

template <class T>
void add(std::vector<SpecialValue> &out, const SetRef &ref, softcheck_dtype dtype) {
  static constexpr softcheck_op ops[] = {SOFTCHECK_OP_SOFTMAX, SOFTCHECK_OP_LOG_SOFTMAX,
                                         SOFTCHECK_OP_LOGSUMEXP, SOFTCHECK_OP_CROSS_ENTROPY};
  for (const Input<T> &in : inputs<T>()) {
    for (softcheck_op op : ops) {
      if (!provides(*ref.set, dtype, op)) continue;
      Case<T> c;
      c.op = op;
      c.shape = in.shape;
      c.x = in.x;
      c.reduction = Reduction::none;
      c.target.assign(size_t(c.rows()), 0);
      const size_t n = size_t(c.output_count());
      std::vector<T> got(n, std::numeric_limits<T>::quiet_NaN()), want = got;
      const Status ks = call(*ref.set, c, got.data());
      const Status os = oracle::call(c, want.data());
      bool agrees = ks == os;
      if (agrees && ks == SOFTCHECK_OK)
        for (size_t i = 0; i < n; ++i)
          agrees = agrees && classify(op, got[i], want[i]) == Mismatch::none;
      out.push_back({ref.set->name, dtype, in.name, op, short_values(ks, got),
                     short_values(os, want), agrees});
    }
  }
}

} // namespace

std::vector<SpecialValue> special_values(const std::vector<SetRef> &sets, const Options &o) {
  std::vector<SpecialValue> out;
  for (const SetRef &ref : sets)
    for (softcheck_dtype d : o.dtypes)
      visit_dtype(d, [&](auto t) { add<typename decltype(t)::type>(out, ref, d); });
  return out;
}

} // namespace softcheck::report
