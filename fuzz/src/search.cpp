#include "mutate.hpp"

#include <softcheck/case_io.hpp>
#include <softcheck/fuzz.hpp>
#include <softcheck/metrics.hpp>
#include <softcheck/oracle.hpp>

#include <fmt/core.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <limits>
#include <map>
#include <set>
#include <tuple>

namespace softcheck::fuzz {
namespace {

constexpr size_t kPool = 24;

uint64_t mix(uint64_t h, uint64_t v) {
  uint64_t z = h ^ (v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2));
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

const char *dtype_name(softcheck_dtype d) { return softcheck_dtype_name(d); }

// A short content hash for file names (FNV-1a, 64 bits).
std::string digest(const std::string &s) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char ch : s) h = (h ^ ch) * 0x100000001b3ull;
  return fmt::format("{:016x}", h);
}

template <class T> struct Lane {
  softcheck_op op;
  softcheck_dtype dtype;
  std::vector<std::pair<double, Case<T>>> pool; // (score, case)
  Worst worst;
  bool have_worst = false;
};

struct Evaluated {
  bool status_mismatch = false;
  bool declined = false; // SOFTCHECK_ERR_UNSUPPORTED on a valid case: not scored (plugin.h)
  Status kernel = SOFTCHECK_OK, oracle = SOFTCHECK_OK;
  props::Judged judged;
  std::string got, want;                 // at judged.output
  std::string special_got, special_want; // at judged.special_output
};

template <class T> Evaluated evaluate(const softcheck_kernel_set &set, const Case<T> &c) {
  Evaluated e;
  const size_t n = size_t(c.output_count());
  std::vector<T> got(n, std::numeric_limits<T>::quiet_NaN()), want = got;
  e.oracle = oracle::call(c, want.data());
  e.kernel = call(set, c, got.data());
  if (e.kernel == SOFTCHECK_ERR_UNSUPPORTED && e.oracle == SOFTCHECK_OK) {
    e.declined = true;
    return e;
  }
  if (e.kernel != e.oracle) {
    e.status_mismatch = true;
    e.judged.specials = 1;
    e.judged.special_reason =
        fmt::format("status {} where the oracle gives {}", softcheck_status_name(e.kernel),
                    softcheck_status_name(e.oracle));
    return e;
  }
  if (e.kernel != SOFTCHECK_OK) return e;
  e.judged = props::judge(set, c, got.data(), want.data());
  if (e.judged.output >= 0) {
    e.got = format_value(got[size_t(e.judged.output)]);
    e.want = format_value(want[size_t(e.judged.output)]);
  }
  if (e.judged.special_output >= 0) {
    e.special_got = format_value(got[size_t(e.judged.special_output)]);
    e.special_want = format_value(want[size_t(e.judged.special_output)]);
  }
  return e;
}

template <class T> class Search {
public:
  Search(const softcheck_kernel_set &set, const Options &o, const Writer &write, Result &result)
      : set_(set), o_(o), write_(write), result_(result), admits_(Admits::of(o.regimes)) {}

  void add_lane(softcheck_op op, softcheck_dtype dt) {
    Lane<T> lane{op, dt, {}, {}, false};
    lane.worst.op = op;
    lane.worst.dtype = dt;
    lanes_.push_back(std::move(lane));
  }
  size_t lanes() const { return lanes_.size(); }

  // Seeds the pools: one generator draw per selected regime.
  void seed_pools() {
    for (size_t l = 0; l < lanes_.size(); ++l)
      for (gen::Regime g : admits_.regimes) {
        gen::Draw d(mix(mix(mix(stream(), 0x5eed), l), uint64_t(g)));
        gen::Spec spec;
        spec.regimes = {g};
        spec.large_rows = false;
        consider(lanes_[l], gen::draw_case<T>(d, lanes_[l].op, spec, 30 + 5 * int(g)), "generated",
                 0);
      }
  }

  void step(size_t l, int64_t iteration) {
    Lane<T> &lane = lanes_[l];
    gen::Draw d(mix(stream(), uint64_t(iteration)));
    // Tournament of two: the better one is the parent.
    const auto &a = lane.pool[size_t(d.below(int64_t(lane.pool.size())))];
    const auto &b = lane.pool[size_t(d.below(int64_t(lane.pool.size())))];
    Case<T> child = (a.first >= b.first ? a : b).second;
    const std::string how = mutate(child, d, admits_);
    consider(lane, std::move(child), how, iteration);
  }

  void finish() {
    for (Lane<T> &lane : lanes_)
      if (lane.have_worst) result_.worst.push_back(lane.worst);
  }

private:
  uint64_t stream() const {
    return mix(mix(mix(o_.seed, 0x66757a7aull), uint64_t(o_.shards)), uint64_t(o_.shard));
  }

  std::string header(const Lane<T> &lane, const std::string &what, const std::string &how,
                     int64_t iteration) const {
    return fmt::format("# softcheck fuzz: set {}, {} {}; {}\n# found by {} at iteration {} of "
                       "seed {}, shard {}/{}\n",
                       set_.name, softcheck_op_name(lane.op), dtype_name(lane.dtype), what, how,
                       iteration, o_.seed, o_.shard, o_.shards);
  }

  // A case that breaks the bound or has a special-value mismatch: written
  // (the first kMaxFilesPerKind of each kind) and counted by kind.
  void record(const Lane<T> &lane, const Case<T> &c, const std::string &reason,
              const std::string &how, int64_t iteration) {
    const std::string body = to_text(c, "oracle_agreement");
    const std::string name =
        fmt::format("finding-{}-{}-{}-{}.case", set_.name, softcheck_op_name(lane.op),
                    dtype_name(lane.dtype), digest(body + reason));
    if (!seen_.insert(name).second) return;
    const std::string kind =
        fmt::format("{} {} {}", softcheck_op_name(lane.op), dtype_name(lane.dtype),
                    reason.substr(0, reason.find_first_of("(0123456789-")));
    auto it = std::find_if(result_.findings.begin(), result_.findings.end(),
                           [&](const Finding &f) { return f.kind == kind; });
    const int64_t count = it == result_.findings.end() ? 0 : it->count;
    if (count < kMaxFilesPerKind) write_(name, header(lane, reason, how, iteration) + body);
    if (it == result_.findings.end())
      result_.findings.push_back({lane.op, lane.dtype, kind, reason, name,
                                  header(lane, reason, how, iteration) + body, 1});
    else
      ++it->count;
  }

  void consider(Lane<T> &lane, Case<T> c, const std::string &how, int64_t iteration) {
    const Evaluated e = evaluate(set_, c);
    ++lane.worst.execs;
    ++result_.execs;
    if (e.declined) {
      ++lane.worst.declined;
      return;
    }
    const props::Judged &j = e.judged;
    const std::string unit = j.scaled ? "u scaled" : "ulp";
    if (j.specials > 0) { // kept apart from the finite error (the table's own column)
      if (lane.worst.specials++ == 0) {
        lane.worst.special_reason = j.special_reason;
        lane.worst.special_got = e.special_got;
        lane.worst.special_want = e.special_want;
      }
      record(lane, c, j.special_reason, how, iteration);
    }
    if (j.ratio > 1) record(lane, c, j.reason, how, iteration);
    if (!lane.have_worst || j.ratio > lane.worst.judged.ratio) {
      lane.have_worst = true;
      lane.worst.judged = j;
      lane.worst.got = e.got;
      lane.worst.want = e.want;
      const std::string what =
          fmt::format("error {:.4g} {} at output {} (bound {:.4g}), got {} want {}", j.error, unit,
                      j.output, j.allowed, e.got, e.want);
      lane.worst.file =
          fmt::format("worst-{}-{}-{}-shard{}of{}.case", set_.name, softcheck_op_name(lane.op),
                      dtype_name(lane.dtype), o_.shard, o_.shards);
      lane.worst.text = header(lane, what, how, iteration) + to_text(c, "oracle_agreement");
      write_(lane.worst.file, lane.worst.text);
    }
    // The pool keeps the highest scores; a NaN-free score, ties by age. A
    // special-value mismatch scores as a broken bound, so its neighbours are
    // searched too.
    const double score = std::max(std::isnan(j.ratio) ? 0 : j.ratio, j.specials > 0 ? 2.0 : 0.0);
    if (lane.pool.size() < kPool) {
      lane.pool.emplace_back(score, std::move(c));
    } else {
      auto low = std::min_element(lane.pool.begin(), lane.pool.end(),
                                  [](const auto &x, const auto &y) { return x.first < y.first; });
      if (score > low->first) *low = {score, std::move(c)};
    }
  }

  const softcheck_kernel_set &set_;
  const Options &o_;
  const Writer &write_;
  Result &result_;
  const Admits admits_;
  std::vector<Lane<T>> lanes_;
  std::set<std::string> seen_;
};

} // namespace

Result search(const softcheck_kernel_set &set, const Options &o, const Writer &write) {
  Result result;
  const auto t0 = std::chrono::steady_clock::now();
  std::tuple<Search<float>, Search<double>, Search<bf16>, Search<f16>> searches{
      {set, o, write, result},
      {set, o, write, result},
      {set, o, write, result},
      {set, o, write, result}};
  auto of = [&](softcheck_dtype dt, auto fn) {
    visit_dtype(dt, [&](auto t) { fn(std::get<Search<typename decltype(t)::type>>(searches)); });
  };
  auto each = [&](auto fn) { std::apply([&](auto &...s) { (fn(s), ...); }, searches); };
  std::vector<softcheck_op> ops = o.ops;
  if (ops.empty())
    for (int i = 0; i < SOFTCHECK_OP_COUNT; ++i) ops.push_back(softcheck_op(i));
  // Lanes in a fixed order: op-major, dtypes in the order asked for.
  std::vector<std::pair<softcheck_dtype, size_t>> order;
  for (softcheck_op op : ops)
    for (softcheck_dtype dt : o.dtypes) {
      if (!provides(set, dt, op)) continue;
      of(dt, [&](auto &s) {
        order.emplace_back(dt, s.lanes());
        s.add_lane(op, dt);
      });
    }
  if (order.empty()) return result;
  each([](auto &s) { s.seed_pools(); });
  auto elapsed = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  };
  double last_status = 0;
  for (int64_t it = 1;; ++it) {
    if (o.cases > 0 && result.execs >= o.cases) break;
    if (o.seconds > 0 && elapsed() >= o.seconds) break;
    const auto [dt, lane] = order[size_t(it) % order.size()];
    of(dt, [&, lane = lane](auto &s) { s.step(lane, it); });
    if (o.progress && elapsed() - last_status > 0.5) {
      last_status = elapsed();
      std::fprintf(stderr, "\rsoftcheck fuzz: %lld executions, %.0f/s, %zu findings   ",
                   (long long)result.execs, double(result.execs) / last_status,
                   result.findings.size());
      std::fflush(stderr);
    }
  }
  if (o.progress) std::fprintf(stderr, "\r%78s\r", "");
  each([](auto &s) { s.finish(); });
  std::stable_sort(result.worst.begin(), result.worst.end(), [](const Worst &a, const Worst &b) {
    return a.op != b.op ? a.op < b.op : a.dtype < b.dtype;
  });
  result.seconds = elapsed();
  return result;
}

} // namespace softcheck::fuzz
