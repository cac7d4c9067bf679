// What the two views (report.md, index.html) read off a report.
#pragma once

#include "parts.hpp"

#include <fmt/core.h>

#include <cmath>
#include <string>
#include <utility>
#include <vector>

namespace softcheck::report {

// Every dtype of the ABI, in the order the views list them.
inline constexpr softcheck_dtype kDtypes[] = {SOFTCHECK_F32, SOFTCHECK_F64, SOFTCHECK_BF16,
                                              SOFTCHECK_F16};

inline std::string ulp_text(double u) {
  if (std::isnan(u)) return "-";
  if (std::isinf(u)) return "inf";
  if (u == 0) return "0";
  return fmt::format("{:.3g}", u);
}

// The error of one op x dtype x set in the unit of its default bound:
// ulps where outputs are judged elementwise, u (scaled) where they are
// judged against the terms' magnitude; over the regimes with finite rows.
// A worst output's error as people read it: "3 ulp", "12 u scaled (1e+15
// ulp)", "NaN where finite".
inline std::string error_text(const Worst &w) {
  if (!w.mismatch.empty() && std::isinf(w.error)) return w.mismatch;
  if (w.unit == "ulp") return ulp_text(w.error) + " ulp";
  return fmt::format("{} u scaled ({} ulp)", ulp_text(w.error), ulp_text(w.ulp));
}

struct OpCell {
  bool present = false;
  double ulp = -1, scaled_u = -1; // < 0: no such outputs
  std::string ulp_regime, scaled_regime;
  int64_t mismatches = 0;
  int64_t declined = 0;     // cases the kernel declined (plugin.h), not mismatches
  std::string text() const; // "0.5 ulp (normal1)", "3.1 u scaled (dominant)", both, or "-"
};
struct OpRow {
  softcheck_op op;
  softcheck_dtype dtype;
  std::vector<OpCell> cells; // one per set, in View::sets order
};

int64_t mismatches(const Counts &c); // every special-value mismatch and status mismatch

class View {
public:
  View(const Report &r, const Timing *t);
  std::vector<std::string> sets;
  std::vector<OpRow> op_rows() const;
  const Pipeline *pipeline(const std::string &id, const std::string &set, softcheck_dtype d) const;
  // The set's worst outputs over every entry, worst first.
  std::vector<std::pair<const Entry *, const Worst *>> worst_of(const std::string &set,
                                                                size_t n) const;
  double rate(const std::string &set, softcheck_op op, softcheck_dtype d) const; // elements/s

private:
  const Report &r_;
  const Timing *t_;
};

} // namespace softcheck::report
