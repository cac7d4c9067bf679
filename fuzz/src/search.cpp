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

// One unit of a campaign: an op, a dtype and a stream (of --streams), with
// its own pool, random stream and budget. Units never share state, so a
// campaign's result is the same however its units are spread over shards.
template <class T> struct Unit {
  softcheck_op op;
  softcheck_dtype dtype;
  int64_t stream = 0;
  int64_t budget = -1; // executions; -1: until the time is up
  uint64_t random = 0; // the unit's stream of draws
  int64_t iteration = 0;
  std::vector<std::pair<double, Case<T>>> pool; // (score, case)
  Worst worst;
  bool have_worst = false;
  std::set<std::string> seen;    // finding files written
  std::vector<Finding> findings; // by kind, in the order found
  bool spent() const { return budget >= 0 && worst.execs >= budget; }
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
  Search(const softcheck_kernel_set &set, const Options &o, const Writer &write)
      : set_(set), o_(o), write_(write), admits_(Admits::of(o.regimes)) {}

  size_t add_unit(softcheck_op op, softcheck_dtype dt, int64_t stream, int64_t budget) {
    Unit<T> u;
    u.op = op;
    u.dtype = dt;
    u.stream = stream;
    u.budget = budget;
    u.random = mix(mix(mix(mix(mix(o_.seed, 0x66757a7aull), uint64_t(op)), uint64_t(dt)),
                       uint64_t(o_.streams)),
                   uint64_t(stream));
    u.worst.op = op;
    u.worst.dtype = dt;
    u.worst.stream = o_.streams > 1 ? stream : -1;
    units_.push_back(std::move(u));
    return units_.size() - 1;
  }

  // Seeds the pool: one generator draw per selected regime (within the
  // unit's budget).
  void seed_pool(size_t k) {
    Unit<T> &u = units_[k];
    for (gen::Regime g : admits_.regimes) {
      if (u.spent()) return;
      consider(u, generated(u, mix(mix(u.random, 0x5eed), uint64_t(g)), g), "generated", 0);
    }
  }

  bool spent(size_t k) const { return units_[k].spent(); }

  void step(size_t k) {
    Unit<T> &u = units_[k];
    const int64_t iteration = ++u.iteration;
    gen::Draw d(mix(u.random, uint64_t(iteration)));
    if (u.pool.empty()) { // every case so far declined: draw afresh
      const gen::Regime g = admits_.regimes[size_t(d.below(int64_t(admits_.regimes.size())))];
      consider(u, generated(u, d.rng(), g), "generated", iteration);
      return;
    }
    // Tournament of two: the better one is the parent.
    const auto &a = u.pool[size_t(d.below(int64_t(u.pool.size())))];
    const auto &b = u.pool[size_t(d.below(int64_t(u.pool.size())))];
    Case<T> child = (a.first >= b.first ? a : b).second;
    const std::string how = mutate(child, d, admits_);
    consider(u, std::move(child), how, iteration);
  }

  const Unit<T> &unit(size_t k) const { return units_[k]; }

private:
  Case<T> generated(const Unit<T> &u, uint64_t seed, gen::Regime g) const {
    gen::Draw d(seed);
    gen::Spec spec;
    spec.regimes = {g};
    spec.large_rows = false;
    return gen::draw_case<T>(d, u.op, spec, 30 + 5 * int(g));
  }

  // Names and headers say the seed and the stream, never the shard: a
  // unit writes the same files in whichever shard it runs.
  std::string stream_tag(const Unit<T> &u) const {
    return o_.streams > 1 ? fmt::format("-{}of{}", u.stream, o_.streams) : "";
  }

  std::string header(const Unit<T> &u, const std::string &what, const std::string &how,
                     int64_t iteration) const {
    return fmt::format(
        "# softcheck fuzz: set {}, {} {}; {}\n# found by {} at iteration {} of "
        "seed {}{}\n",
        set_.name, softcheck_op_name(u.op), dtype_name(u.dtype), what, how, iteration, o_.seed,
        o_.streams > 1 ? fmt::format(", stream {} of {}", u.stream, o_.streams) : "");
  }

  // A case that breaks the bound or has a special-value mismatch: written
  // (the first kMaxFilesPerKind of each kind) and counted by kind.
  void record(Unit<T> &u, const Case<T> &c, const std::string &reason, const std::string &how,
              int64_t iteration) {
    const std::string body = to_text(c, "oracle_agreement");
    const std::string name =
        fmt::format("finding-{}-{}-{}{}-{}.case", set_.name, softcheck_op_name(u.op),
                    dtype_name(u.dtype), stream_tag(u), digest(body + reason));
    if (!u.seen.insert(name).second) return;
    const std::string kind = fmt::format("{} {} {}", softcheck_op_name(u.op), dtype_name(u.dtype),
                                         reason.substr(0, reason.find_first_of("(0123456789-")));
    auto it = std::find_if(u.findings.begin(), u.findings.end(),
                           [&](const Finding &f) { return f.kind == kind; });
    const int64_t count = it == u.findings.end() ? 0 : it->count;
    if (count < kMaxFilesPerKind) write_(name, header(u, reason, how, iteration) + body);
    if (it == u.findings.end())
      u.findings.push_back(
          {u.op, u.dtype, kind, reason, name, header(u, reason, how, iteration) + body, 1});
    else
      ++it->count;
  }

  void consider(Unit<T> &u, Case<T> c, const std::string &how, int64_t iteration) {
    const Evaluated e = evaluate(set_, c);
    ++u.worst.execs;
    if (e.declined) {
      ++u.worst.declined;
      return;
    }
    const props::Judged &j = e.judged;
    const std::string unit = j.scaled ? "u scaled" : "ulp";
    if (j.specials > 0) { // kept apart from the finite error (the table's own column)
      if (u.worst.specials++ == 0) {
        u.worst.special_reason = j.special_reason;
        u.worst.special_got = e.special_got;
        u.worst.special_want = e.special_want;
      }
      record(u, c, j.special_reason, how, iteration);
    }
    if (j.ratio > 1) record(u, c, j.reason, how, iteration);
    if (!u.have_worst || j.ratio > u.worst.judged.ratio) {
      u.have_worst = true;
      u.worst.judged = j;
      u.worst.got = e.got;
      u.worst.want = e.want;
      const std::string what =
          fmt::format("error {:.4g} {} at output {} (bound {:.4g}), got {} want {}", j.error, unit,
                      j.output, j.allowed, e.got, e.want);
      u.worst.file = fmt::format("worst-{}-{}-{}{}.case", set_.name, softcheck_op_name(u.op),
                                 dtype_name(u.dtype), stream_tag(u));
      u.worst.text = header(u, what, how, iteration) + to_text(c, "oracle_agreement");
      write_(u.worst.file, u.worst.text);
    }
    // The pool keeps the highest scores; a NaN-free score, ties by age. A
    // special-value mismatch scores as a broken bound, so its neighbours are
    // searched too.
    const double score = std::max(std::isnan(j.ratio) ? 0 : j.ratio, j.specials > 0 ? 2.0 : 0.0);
    if (u.pool.size() < kPool) {
      u.pool.emplace_back(score, std::move(c));
    } else {
      auto low = std::min_element(u.pool.begin(), u.pool.end(),
                                  [](const auto &x, const auto &y) { return x.first < y.first; });
      if (score > low->first) *low = {score, std::move(c)};
    }
  }

  const softcheck_kernel_set &set_;
  const Options &o_;
  const Writer &write_;
  const Admits admits_;
  std::vector<Unit<T>> units_;
};

} // namespace

std::vector<UnitKey> campaign_units(const softcheck_kernel_set &set, const Options &o) {
  std::vector<softcheck_op> ops = o.ops;
  if (ops.empty())
    for (int i = 0; i < SOFTCHECK_OP_COUNT; ++i) ops.push_back(softcheck_op(i));
  // A fixed order: op-major, dtypes in the order asked for, then streams.
  std::vector<UnitKey> units;
  for (softcheck_op op : ops)
    for (softcheck_dtype dt : o.dtypes)
      if (provides(set, dt, op))
        for (int64_t s = 0; s < o.streams; ++s) units.push_back({op, dt, s});
  return units;
}

Result search(const softcheck_kernel_set &set, const Options &o, const Writer &write) {
  Result result;
  const auto t0 = std::chrono::steady_clock::now();
  std::tuple<Search<float>, Search<double>, Search<bf16>, Search<f16>> searches{
      {set, o, write}, {set, o, write}, {set, o, write}, {set, o, write}};
  auto of = [&](softcheck_dtype dt, auto fn) {
    return visit_dtype(
        dt, [&](auto t) { return fn(std::get<Search<typename decltype(t)::type>>(searches)); });
  };
  // The campaign's units, their budgets (--cases split evenly, the first
  // ones one more), and this shard's share: unit k runs in shard k mod N.
  const std::vector<UnitKey> all = campaign_units(set, o);
  result.units = int64_t(all.size());
  std::vector<std::pair<softcheck_dtype, size_t>> mine; // (dtype, index in its Search)
  for (size_t k = 0; k < all.size(); ++k) {
    if (int64_t(k % uint64_t(o.shards)) != o.shard) continue;
    const int64_t n = int64_t(all.size());
    const int64_t budget = o.cases > 0 ? o.cases / n + (int64_t(k) < o.cases % n ? 1 : 0) : -1;
    const UnitKey &u = all[k];
    mine.emplace_back(
        u.dtype, of(u.dtype, [&](auto &s) { return s.add_unit(u.op, u.dtype, u.stream, budget); }));
  }
  auto elapsed = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  };
  auto out_of_time = [&] { return o.seconds > 0 && elapsed() >= o.seconds; };
  for (const auto &[dt, k] : mine) {
    if (out_of_time()) break;
    of(dt, [&, k = k](auto &s) { s.seed_pool(k); });
  }
  double last_status = 0;
  for (bool any = !mine.empty(); any && !out_of_time();) {
    any = false;
    for (const auto &[dt, k] : mine) {
      const bool stepped = of(dt, [&, k = k](auto &s) {
        if (s.spent(k)) return false;
        s.step(k);
        return true;
      });
      if (stepped) ++result.execs;
      any = any || stepped;
      if (out_of_time()) break;
    }
    if (o.progress && elapsed() - last_status > 0.5) {
      last_status = elapsed();
      std::fprintf(stderr, "\rsoftcheck fuzz: %lld executions, %.0f/s   ", (long long)result.execs,
                   double(result.execs) / last_status);
      std::fflush(stderr);
    }
  }
  if (o.progress) std::fprintf(stderr, "\r%78s\r", "");
  // The units' worst cases, in the campaign's order; their findings merged
  // by kind (counts summed, the first unit's case kept).
  result.execs = 0;
  for (const auto &[dt, k] : mine)
    of(dt, [&, k = k](auto &s) {
      const auto &u = s.unit(k);
      result.execs += u.worst.execs;
      if (u.have_worst) result.worst.push_back(u.worst);
      for (const Finding &f : u.findings) {
        auto it = std::find_if(result.findings.begin(), result.findings.end(),
                               [&](const Finding &g) { return g.kind == f.kind; });
        if (it == result.findings.end())
          result.findings.push_back(f);
        else
          it->count += f.count;
      }
      return 0;
    });
  result.seconds = elapsed();
  return result;
}

} // namespace softcheck::fuzz
