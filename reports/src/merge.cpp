// The shards of one report run (softcheck report --shard I/N) as the whole
// run: entries back in the run's order, error-vs-gap curves summed.
#include <softcheck/generators.hpp>
#include <softcheck/report.hpp>

#include <fmt/core.h>

#include <algorithm>
#include <map>
#include <tuple>

namespace softcheck::report {
namespace {

// Where an entry stands in the unsharded run: op, dtype and regime in the
// run's order, then the set.
struct Order {
  std::map<std::string, size_t> op, dtype, set;
  size_t of(const std::map<std::string, size_t> &m, const std::string &key,
            const char *what) const {
    auto it = m.find(key);
    if (it == m.end())
      throw FormatError(fmt::format("{} '{}' is not in the run's selection", what, key));
    return it->second;
  }
  std::tuple<size_t, size_t, size_t, size_t>
  key(const std::string &set, softcheck_op o, softcheck_dtype d, const std::string &regime) const {
    gen::Regime g = gen::Regime(0);
    if (!regime.empty() && !gen::regime_from_id(regime, g))
      throw FormatError("unknown regime '" + regime + "'");
    return {of(op, softcheck_op_name(o), "op"), of(dtype, softcheck_dtype_name(d), "dtype"),
            regime.empty() ? 0 : size_t(g), of(this->set, set, "set")};
  }
};

Order order_of(const Report &first) {
  Order o;
  for (size_t k = 0; k < first.shard.ops.size(); ++k) o.op[first.shard.ops[k]] = k;
  for (size_t k = 0; k < first.shard.dtypes.size(); ++k) o.dtype[first.shard.dtypes[k]] = k;
  for (size_t k = 0; k < first.sets.size(); ++k) o.set[first.sets[k].name] = k;
  return o;
}

// The shards, checked to be every part of one run, by index.
std::vector<const Report *> parts(const std::vector<Report> &shards) {
  if (shards.empty()) throw FormatError("no reports to merge");
  const Report &a = shards.front();
  if (a.shard.count < 2)
    throw FormatError("not a shard (report --shard I/N writes one): a whole run has nothing to "
                      "merge");
  std::vector<const Report *> by(size_t(a.shard.count), nullptr);
  for (const Report &r : shards) {
    auto same = [&](bool ok, const char *what) {
      if (!ok)
        throw FormatError(fmt::format("shard {} differs from shard {} in its {}: not parts of one "
                                      "run",
                                      r.shard.index, a.shard.index, what));
    };
    same(r.shard.count == a.shard.count, "shard count");
    same(r.seed == a.seed && r.cases == a.cases && r.worst_n == a.worst_n, "seed, cases or worst");
    same(r.tool_version == a.tool_version, "softcheck version");
    same(r.shard.ops == a.shard.ops && r.shard.dtypes == a.shard.dtypes, "ops or dtypes");
    same(r.sets.size() == a.sets.size(), "sets");
    for (size_t k = 0; k < r.sets.size(); ++k)
      same(r.sets[k].name == a.sets[k].name && r.sets[k].description == a.sets[k].description &&
               r.sets[k].version == a.sets[k].version,
           "sets");
    if (by[size_t(r.shard.index)] != nullptr)
      throw FormatError(fmt::format("shard {} of {} is given twice", r.shard.index, r.shard.count));
    by[size_t(r.shard.index)] = &r;
  }
  std::string missing;
  int64_t n = 0;
  for (size_t k = 0; k < by.size(); ++k)
    if (by[k] == nullptr && ++n <= 8) missing += (missing.empty() ? "" : ", ") + std::to_string(k);
  if (n > 0)
    throw FormatError(fmt::format("{} of the {} shards missing ({}{})", n, by.size(), missing,
                                  n > 8 ? fmt::format(" and {} more", n - 8) : ""));
  return by;
}

} // namespace

Report merge(const std::vector<Report> &shards) {
  const std::vector<const Report *> by = parts(shards);
  const Report &first = *by.front();
  const Order order = order_of(first);
  Report r;
  r.tool_version = first.tool_version;
  r.seed = first.seed;
  r.cases = first.cases;
  r.worst_n = first.worst_n;
  r.sets = first.sets;
  r.special = first.special; // shard 0 runs them
  r.pipelines = first.pipelines;
  for (const Report *s : by)
    r.results.insert(r.results.end(), s->results.begin(), s->results.end());
  std::stable_sort(r.results.begin(), r.results.end(), [&](const Entry &x, const Entry &y) {
    return order.key(x.set, x.op, x.dtype, x.regime) < order.key(y.set, y.op, y.dtype, y.regime);
  });
  // A curve sums its regimes' counts and keeps their largest error, in the
  // run's order of (op, dtype, set).
  for (const Report *s : by)
    for (const GapCurve &g : s->gaps) {
      auto it = std::find_if(r.gaps.begin(), r.gaps.end(), [&](const GapCurve &h) {
        return h.set == g.set && h.op == g.op && h.dtype == g.dtype;
      });
      if (it == r.gaps.end()) {
        r.gaps.push_back(g);
        continue;
      }
      for (size_t b = 0; b < g.count.size(); ++b) {
        it->count[b] += g.count[b];
        it->max_ulp[b] = std::max(it->max_ulp[b], g.max_ulp[b]);
      }
    }
  std::stable_sort(r.gaps.begin(), r.gaps.end(), [&](const GapCurve &x, const GapCurve &y) {
    return order.key(x.set, x.op, x.dtype, "") < order.key(y.set, y.op, y.dtype, "");
  });
  return r;
}

Timing merge(const std::vector<Report> &shards, const std::vector<Timing> &timings) {
  const Order order = order_of(*parts(shards).front());
  Timing t;
  for (const Timing &x : timings) {
    t.threads = std::max(t.threads, x.threads);
    t.wall_seconds = std::max(t.wall_seconds, x.wall_seconds); // the shards ran side by side
    t.results.insert(t.results.end(), x.results.begin(), x.results.end());
  }
  std::stable_sort(t.results.begin(), t.results.end(),
                   [&](const TimingEntry &x, const TimingEntry &y) {
                     return order.key(x.set, x.op, x.dtype, x.regime) <
                            order.key(y.set, y.op, y.dtype, y.regime);
                   });
  return t;
}

} // namespace softcheck::report
