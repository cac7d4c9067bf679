// The baseline gate: the same run (seed, cases) of the same sets, compared
// metric by metric. With one seed the inputs are the same, so any change is
// a change of the kernels (or the toolchain), and the default tolerance is
// zero; the tolerance is for baselines made on another machine.
#include "parts.hpp"

#include <fmt/core.h>

#include <cmath>
#include <map>
#include <set>

namespace softcheck::report {
namespace {

std::string key_of(const Entry &e) {
  return fmt::format("{} / {} / {} / {}", e.set, softcheck_op_name(e.op), dtype_name(e.dtype),
                     e.regime);
}

struct Metric {
  const char *name;
  double value;
  double slack;
};

std::vector<Metric> metrics(const Entry &e, const Tolerance &t) {
  const double c = double(t.count);
  return {{"max_ulp", e.max_ulp, t.ulp},
          {"median_ulp", e.median_ulp, t.ulp},
          {"p99_ulp", e.p99_ulp, t.ulp},
          {"normwise_u", e.normwise_u, t.normwise},
          {"elementwise_max_ulp", e.elementwise_max_ulp, t.ulp},
          {"scaled_max_u", e.scaled_max_u, t.normwise},
          {"nan_where_finite", double(e.counts.nan_where_finite), c},
          {"number_where_nan", double(e.counts.number_where_nan), c},
          {"wrong_infinity", double(e.counts.wrong_infinity), c},
          {"flushed_subnormal", double(e.counts.flushed_subnormal), c},
          {"wrong_sign", double(e.counts.wrong_sign), c},
          {"positive_log_probability", double(e.counts.positive_log_probability), c},
          {"status_mismatch", double(e.counts.status_mismatch), c}};
}

} // namespace

// An entry that is gone (a set that no longer provides an op or dtype) fails
// the gate too: coverage lost is a regression of what the gate can see.
bool Diff::worse() const {
  for (const Difference &d : items)
    if (d.change == Change::worse || d.change == Change::gone) return true;
  return false;
}

Diff compare(const Report &base, const Report &cur, const Tolerance &t) {
  if (base.seed != cur.seed || base.cases != cur.cases)
    throw FormatError(fmt::format("the baseline was made with --seed {} --cases {}, this run uses "
                                  "--seed {} --cases {}: run with the baseline's to compare the "
                                  "same inputs",
                                  base.seed, base.cases, cur.seed, cur.cases));
  Diff d;
  std::map<std::string, const Entry *> before;
  for (const Entry &e : base.results) before[key_of(e)] = &e;
  std::set<std::string> seen;
  for (const Entry &e : cur.results) {
    const std::string key = key_of(e);
    seen.insert(key);
    auto it = before.find(key);
    if (it == before.end()) {
      d.items.push_back({key, "", 0, 0, Change::new_entry});
      continue;
    }
    ++d.compared;
    const auto old = metrics(*it->second, t), now = metrics(e, t);
    for (size_t i = 0; i < now.size(); ++i) {
      const double a = old[i].value, b = now[i].value;
      // NaN is "nothing measured" (scaled_max_u of an entry without scaled
      // outputs): not comparable.
      if (a == b || std::isnan(a) || std::isnan(b)) continue;
      const bool worse = b > a + now[i].slack;
      const bool better = b < a;
      if (worse)
        d.items.push_back({key, now[i].name, a, b, Change::worse});
      else if (better)
        d.items.push_back({key, now[i].name, a, b, Change::better});
    }
  }
  for (const Entry &e : base.results)
    if (!seen.count(key_of(e))) d.items.push_back({key_of(e), "", 0, 0, Change::gone});
  return d;
}

std::string diff_markdown(const Diff &d, const Tolerance &t) {
  int64_t better = 0, worse = 0, added = 0, gone = 0;
  for (const Difference &x : d.items) {
    better += x.change == Change::better;
    worse += x.change == Change::worse;
    added += x.change == Change::new_entry;
    gone += x.change == Change::gone;
  }
  std::string s = fmt::format("## Against the baseline\n\n{} entries compared: {} metrics better, "
                              "{} worse (tolerance: {} ulp, {} u normwise, {} per count), {} new "
                              "entries, {} gone.\n\n",
                              d.compared, better, worse, t.ulp, t.normwise, t.count, added, gone);
  if (d.items.empty()) return s + "No metric changed.\n";
  s += "| change | set / op / dtype / regime | metric | baseline | now |\n";
  s += "|---|---|---|---:|---:|\n";
  for (Change kind : {Change::worse, Change::better, Change::new_entry, Change::gone})
    for (const Difference &x : d.items) {
      if (x.change != kind) continue;
      const char *name = kind == Change::worse       ? "**worse**"
                         : kind == Change::better    ? "better"
                         : kind == Change::new_entry ? "new"
                                                     : "gone";
      if (kind == Change::new_entry || kind == Change::gone)
        s += fmt::format("| {} | {} | | | |\n", name, x.key);
      else
        s += fmt::format("| {} | {} | {} | {:.4g} | {:.4g} |\n", name, x.key, x.metric, x.before,
                         x.after);
    }
  return s;
}

} // namespace softcheck::report
