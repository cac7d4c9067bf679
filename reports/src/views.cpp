#include "views.hpp"

#include <softcheck/generators.hpp>

#include <algorithm>

namespace softcheck::report {

View::View(const Report &r, const Timing *t) : r_(r), t_(t) {
  for (const SetInfo &s : r.sets) sets.push_back(s.name);
}

int64_t mismatches(const Counts &c) {
  return c.nan_where_finite + c.number_where_nan + c.wrong_infinity + c.flushed_subnormal +
         c.wrong_sign + c.positive_log_probability + c.status_mismatch;
}

std::string OpCell::text() const {
  if (!present) return "-";
  std::string s;
  if (ulp >= 0) s = fmt::format("{} ulp ({})", ulp_text(ulp), ulp_regime);
  if (scaled_u >= 0)
    s +=
        fmt::format("{}{} u scaled ({})", s.empty() ? "" : ", ", ulp_text(scaled_u), scaled_regime);
  return s.empty() ? "0 ulp" : s;
}

std::vector<OpRow> View::op_rows() const {
  std::vector<OpRow> rows;
  for (const Entry &e : r_.results) {
    auto it = std::find_if(rows.begin(), rows.end(),
                           [&](const OpRow &x) { return x.op == e.op && x.dtype == e.dtype; });
    if (it == rows.end()) {
      rows.push_back({e.op, e.dtype, std::vector<OpCell>(sets.size())});
      it = rows.end() - 1;
    }
    const size_t s = size_t(std::find(sets.begin(), sets.end(), e.set) - sets.begin());
    if (s >= sets.size()) continue;
    OpCell &c = it->cells[s];
    c.present = true;
    c.mismatches += mismatches(e.counts);
    c.declined += e.counts.declined;
    gen::Regime g;
    const bool finite = gen::regime_from_id(e.regime, g) && !gen::is_special(g);
    if (!finite) continue;
    // A forward op is always elementwise; the others report their scaled
    // outputs, and the elementwise ones when there are (per-row losses).
    const bool scaled = !std::isnan(e.scaled_max_u);
    const bool backward =
        e.op == SOFTCHECK_OP_SOFTMAX_BACKWARD || e.op == SOFTCHECK_OP_LOG_SOFTMAX_BACKWARD ||
        e.op == SOFTCHECK_OP_NLL_LOSS_BACKWARD || e.op == SOFTCHECK_OP_CROSS_ENTROPY_BACKWARD ||
        e.op == SOFTCHECK_OP_CROSS_ENTROPY_PROB_BACKWARD;
    if (!backward && e.elementwise_max_ulp > c.ulp) {
      c.ulp = e.elementwise_max_ulp;
      c.ulp_regime = e.regime;
    }
    if (scaled && e.scaled_max_u > c.scaled_u) {
      c.scaled_u = e.scaled_max_u;
      c.scaled_regime = e.regime;
    }
  }
  std::sort(rows.begin(), rows.end(), [](const OpRow &a, const OpRow &b) {
    return a.op != b.op ? a.op < b.op : a.dtype < b.dtype;
  });
  return rows;
}

const Pipeline *View::pipeline(const std::string &id, const std::string &set,
                               softcheck_dtype d) const {
  for (const Pipeline &p : r_.pipelines)
    if (p.id == id && p.set == set && p.dtype == d) return &p;
  return nullptr;
}

std::vector<std::pair<const Entry *, const Worst *>> View::worst_of(const std::string &set,
                                                                    size_t n) const {
  std::vector<std::pair<const Entry *, const Worst *>> all;
  for (const Entry &e : r_.results)
    if (e.set == set && !e.worst.empty()) all.emplace_back(&e, &e.worst.front());
  std::stable_sort(all.begin(), all.end(),
                   [](const auto &a, const auto &b) { return a.second->error > b.second->error; });
  if (all.size() > n) all.resize(n);
  return all;
}

double View::rate(const std::string &set, softcheck_op op, softcheck_dtype d) const {
  if (!t_) return 0;
  int64_t elements = 0;
  double seconds = 0;
  for (const TimingEntry &e : t_->results)
    if (e.set == set && e.op == op && e.dtype == d) {
      elements += e.elements;
      seconds += e.seconds;
    }
  return seconds > 0 ? double(elements) / seconds : 0;
}

} // namespace softcheck::report
