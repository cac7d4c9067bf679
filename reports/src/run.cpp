// Running the report: cases from the generators' regimes, the oracle once
// per case, every selected set on the same case, and the measurements.
//
// Work is cut into units (op, dtype, regime, case index), each with its own
// seed derived from the run's seed, run on a pool of threads and folded in
// unit order afterwards: the report is the same, bit for bit, for any thread
// count.
#include "parts.hpp"

#include <softcheck/case_io.hpp>
#include <softcheck/generators.hpp>
#include <softcheck/metrics.hpp>
#include <softcheck/oracle.hpp>
#include <softcheck/properties.hpp>
#include <softcheck/text.hpp>

#include <fmt/core.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <exception>
#include <limits>
#include <map>
#include <mutex>
#include <thread>
#include <type_traits>

namespace softcheck::report {

int histogram_bin(double e) {
  if (e == 0) return int(kHistogramEdges.size());
  const double a = std::abs(e);
  int k = 0;
  while (k + 1 < int(kHistogramEdges.size()) && a > kHistogramEdges[size_t(k)]) ++k;
  const int middle = int(kHistogramEdges.size());
  return e > 0 ? middle + 1 + k : middle - 1 - k;
}

std::string histogram_label(int bin) {
  const int middle = int(kHistogramEdges.size());
  if (bin == middle) return "0";
  const int k = bin > middle ? bin - middle - 1 : middle - 1 - bin;
  const char *sign = bin > middle ? "+" : "-";
  auto num = [](double v) { return fmt::format("{:g}", v); };
  if (k + 1 == int(kHistogramEdges.size()))
    return fmt::format("{}>{}", sign, num(kHistogramEdges[size_t(k - 1)]));
  const double lo = k == 0 ? 0 : kHistogramEdges[size_t(k - 1)];
  return fmt::format("{}({},{}]", sign, num(lo), num(kHistogramEdges[size_t(k)]));
}

int gap_bin(long double gap) {
  if (gap <= 0) return 0;
  for (int k = 1; k < kGapBins - 1; ++k)
    if (gap <= std::ldexp(1.0L, k - 11)) return k;
  return kGapBins - 1;
}

std::string gap_label(int bin) {
  if (bin == 0) return "0";
  if (bin == kGapBins - 1) return fmt::format(">2^{}", kGapBins - 13);
  return fmt::format("2^{}", bin - 11);
}

namespace {

uint64_t mix(uint64_t h, uint64_t v) {
  // splitmix64 finalizer over h ^ v: a fixed function, the same everywhere.
  uint64_t z = h ^ (v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2));
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// Whether one row of the case, alone, gives the same value for the output
// element: then the worst input is kept as that row only.
template <class T> bool row_local(const Case<T> &c) {
  if (!c.is_loss()) return true;
  if (!c.is_backward()) return c.reduction == Reduction::none;
  return c.reduction != Reduction::mean;
}

// Whether the op writes one output per input element (rows of outputs).
template <class T> bool elementwise_output(const Case<T> &c) {
  return c.op == SOFTCHECK_OP_SOFTMAX || c.op == SOFTCHECK_OP_LOG_SOFTMAX || c.is_backward();
}

// The row of output element j, and its index in that row's output.
template <class T> std::pair<int64_t, int64_t> row_of_output(const Case<T> &c, int64_t j) {
  const int64_t K = c.shape.classes, inner = c.shape.inner;
  if (elementwise_output(c)) return {(j / (K * inner)) * inner + j % inner, (j / inner) % K};
  return {j, 0};
}

// A worst-output candidate, ranked by its error in the unit of the op's
// default bound (ulps where judged elementwise, u where scaled; inf for a
// special mismatch), so a flushed gradient element far below its row's
// terms does not outrank a real error.
struct Candidate {
  double score = 0;
  bool scaled = false;
  double ulp = 0;
  int64_t output = 0;
  double got = 0, want = 0; // in T, widened
  Mismatch mismatch = Mismatch::none;
  size_t unit = 0;
};

bool worse(const Candidate &a, const Candidate &b) {
  if (a.score != b.score) return a.score > b.score;
  if (a.ulp != b.ulp) return a.ulp > b.ulp;
  if (a.unit != b.unit) return a.unit < b.unit;
  return a.output < b.output;
}

// What one set did on one case.
struct SetResult {
  bool ran = false;
  int64_t outputs = 0;
  std::vector<double> ulps; // |error| of outputs without a special mismatch
  double normwise_u = 0;
  double elementwise_ulp = 0, scaled_u = 0;
  bool has_scaled = false, has_elementwise = false, has_rows = false;
  Counts counts;
  std::array<int64_t, kHistogramBins> histogram{};
  std::vector<Candidate> worst;
  std::array<int64_t, kGapBins> gap_count{};
  std::array<double, kGapBins> gap_max{};
  int64_t elements = 0;
  double seconds = 0;
  // Headroom: the case whose worst finite error came closest to (or past)
  // the bound a property run applies (props::judge): share = error /
  // allowed; -1 while nothing was judged.
  double share = -1, share_error = 0, share_allowed = 0;
  bool share_scaled = false;
};

struct UnitResult {
  std::vector<SetResult> sets;
  std::string error; // an exception's message
};

struct Unit {
  softcheck_op op;
  softcheck_dtype dtype;
  gen::Regime regime;
  int64_t index;
};

// `scale`: M per output where the default bound is scaled (empty: every
// output is judged elementwise, in ulps).
template <class T>
void measure(const Case<T> &c, const std::vector<T> &got, const std::vector<T> &want,
             const std::vector<long double> &scale, size_t unit, int64_t worst_n, bool gaps,
             SetResult &r) {
  const long double u = std::ldexp(1.0L, -std::numeric_limits<T>::digits);
  const softcheck_op op = c.op;
  const int64_t n = int64_t(got.size());
  r.outputs += n;
  std::vector<bool> special_row(size_t(c.rows()), false);
  std::vector<long double> row_max;
  if (gaps)
    for (int64_t row = 0; row < c.rows(); ++row) {
      long double mx = -INFINITY;
      for (int64_t q = 0; q < c.shape.classes; ++q)
        mx = std::max<long double>(mx, c.x[size_t(gen::index_of(c, row, q))]);
      row_max.push_back(mx);
    }
  std::vector<Candidate> cand;
  for (int64_t j = 0; j < n; ++j) {
    const T g = got[size_t(j)], w = want[size_t(j)];
    Mismatch m = classify(op, g, w);
    // Under a scaled bound a tiny output may flush or change sign.
    if (!scale.empty() && (m == Mismatch::flushed_subnormal || m == Mismatch::wrong_sign))
      m = Mismatch::none;
    switch (m) {
    case Mismatch::none: break;
    case Mismatch::nan_where_finite: ++r.counts.nan_where_finite; break;
    case Mismatch::number_where_nan: ++r.counts.number_where_nan; break;
    case Mismatch::wrong_infinity: ++r.counts.wrong_infinity; break;
    case Mismatch::flushed_subnormal: ++r.counts.flushed_subnormal; break;
    case Mismatch::wrong_sign: ++r.counts.wrong_sign; break;
    case Mismatch::positive_log_probability: ++r.counts.positive_log_probability; break;
    }
    const bool special = std::isnan(g) || std::isnan(w) || std::isinf(g) || std::isinf(w);
    double e = 0, score = 0;
    if (special) {
      e = ulp_error(g, w); // 0 for equal specials, inf otherwise
      if (e != 0 && elementwise_output(c)) special_row[size_t(row_of_output(c, j).first)] = true;
    } else {
      long double d = static_cast<long double>(g) - static_cast<long double>(w);
      e = double(d / static_cast<long double>(spacing(w)));
    }
    if (!std::isinf(e)) {
      r.ulps.push_back(std::abs(e));
      ++r.histogram[size_t(histogram_bin(e))];
      if (scale.empty()) {
        r.elementwise_ulp = std::max(r.elementwise_ulp, std::abs(e));
        r.has_elementwise = true;
        score = std::abs(e);
      } else if (!special) {
        // The scaled bound's unit: error beyond the 1 ulp of rounding, over u M.
        const long double excess = std::abs(static_cast<long double>(g) - w) - spacing(w);
        const long double m = scale[size_t(j)] * u;
        const double su = excess <= 0 ? 0.0 : m > 0 ? double(excess / m) : INFINITY;
        r.scaled_u = std::max(r.scaled_u, su);
        r.has_scaled = true;
        score = su;
      }
    } else {
      score = INFINITY;
    }
    if (e != 0 && score > 0)
      cand.push_back(
          {score, !scale.empty() && !special, std::abs(e), j, double(g), double(w), m, unit});
    if (gaps && !special) {
      const auto [row, k] = row_of_output(c, j);
      const long double mx = row_max[size_t(row)];
      const T xi = c.x[size_t(gen::index_of(c, row, k))];
      if (std::isfinite(mx) && std::isfinite(xi)) {
        const int b = gap_bin(mx - static_cast<long double>(xi));
        ++r.gap_count[size_t(b)];
        r.gap_max[size_t(b)] = std::max(r.gap_max[size_t(b)], std::abs(e));
      }
    }
  }
  // Normwise error per row of an elementwise output.
  if (elementwise_output(c)) {
    const int64_t K = c.shape.classes;
    std::vector<T> gr(static_cast<size_t>(K)), wr(static_cast<size_t>(K));
    const double u = std::ldexp(1.0, -std::numeric_limits<T>::digits);
    for (int64_t row = 0; row < c.rows(); ++row) {
      if (special_row[size_t(row)]) continue;
      for (int64_t k = 0; k < K; ++k) {
        gr[size_t(k)] = got[size_t(gen::index_of(c, row, k))];
        wr[size_t(k)] = want[size_t(gen::index_of(c, row, k))];
      }
      r.has_rows = true;
      const double nw = normwise_error(gr.data(), wr.data(), size_t(K));
      if (std::isfinite(nw)) r.normwise_u = std::max(r.normwise_u, nw / u);
    }
  }
  std::sort(cand.begin(), cand.end(), worse);
  if (int64_t(cand.size()) > worst_n) cand.resize(size_t(worst_n));
  r.worst.insert(r.worst.end(), cand.begin(), cand.end());
}

template <class T> Case<T> unit_case(const Unit &u, uint64_t seed, int64_t cases) {
  uint64_t h = mix(seed, 0x736f6674ull);
  h = mix(h, uint64_t(u.op));
  h = mix(h, uint64_t(u.dtype));
  h = mix(h, uint64_t(u.regime));
  h = mix(h, uint64_t(u.index));
  gen::Draw d(h);
  gen::Spec spec;
  spec.regimes = {u.regime};
  // Rows up to 1000 classes: the worst inputs stay small enough to keep and
  // print (rows past 100k classes are the properties' and the fuzzer's).
  spec.large_rows = false;
  // Sizes grow over the cases, as in a property run: small rows first.
  const int size = cases > 1 ? int(u.index * 100 / (cases - 1)) : 100;
  return gen::draw_case<T>(d, u.op, spec, size);
}

template <class T>
void run_unit(const Unit &u, size_t id, const std::vector<SetRef> &sets, const Options &o,
              UnitResult &out) {
  out.sets.resize(sets.size());
  if (std::none_of(sets.begin(), sets.end(),
                   [&](const SetRef &s) { return provides(*s.set, u.dtype, u.op); }))
    return; // no oracle call for a group no set runs
  const Case<T> c = unit_case<T>(u, o.seed, o.cases);
  const size_t n = size_t(c.output_count());
  std::vector<T> want(n, std::numeric_limits<T>::quiet_NaN());
  const Status os = oracle::call(c, want.data());
  const bool gaps = (u.op == SOFTCHECK_OP_SOFTMAX || u.op == SOFTCHECK_OP_LOG_SOFTMAX) &&
                    !gen::is_special(u.regime);
  const std::vector<long double> scale =
      os == SOFTCHECK_OK ? props::scaled_magnitudes(c) : std::vector<long double>{};
  for (size_t s = 0; s < sets.size(); ++s) {
    if (!provides(*sets[s].set, u.dtype, u.op)) continue;
    SetResult &r = out.sets[s];
    r.ran = true;
    std::vector<T> got(n, std::numeric_limits<T>::quiet_NaN());
    const auto t0 = std::chrono::steady_clock::now();
    const Status ks = call(*sets[s].set, c, got.data());
    const double inside = sets[s].kernel_seconds ? sets[s].kernel_seconds() : -1;
    r.seconds += inside >= 0
                     ? inside
                     : std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    r.elements += c.elems();
    if (ks == SOFTCHECK_ERR_UNSUPPORTED && os == SOFTCHECK_OK) { // declined (plugin.h)
      ++r.counts.declined;
      continue;
    }
    if (ks != os) {
      ++r.counts.status_mismatch;
      continue;
    }
    if (ks != SOFTCHECK_OK) continue;
    if (const props::Judged j = props::judge(*sets[s].set, c, got.data(), want.data());
        std::isfinite(j.ratio) && j.ratio > r.share) {
      r.share = j.ratio;
      r.share_error = j.error;
      r.share_allowed = j.allowed;
      r.share_scaled = j.scaled;
    }
    if (props::under_convention(*sets[s].set, c)) { // the set's declared NaNs agree
      std::vector<T> mine = want;
      r.counts.by_convention += props::apply_conventions(*sets[s].set, c, got.data(), mine.data());
      measure(c, got, mine, scale, id, o.worst_n, gaps, r);
      continue;
    }
    measure(c, got, want, scale, id, o.worst_n, gaps, r);
  }
}

// The kept input of a worst output: the row alone when the kernel gives the
// same bits for that output on it (a bug of the strided path may not show
// on one row with inner = 1), otherwise the whole case.
template <class T>
std::pair<Case<T>, int64_t> worst_input(const softcheck_kernel_set &set, const Case<T> &c,
                                        int64_t output, double got) {
  if (!row_local(c) || c.rows() == 1) return {c, output};
  const auto [row, k] = row_of_output(c, output);
  Case<T> kept = gen::only_rows(c, {row});
  std::vector<T> y(size_t(kept.output_count()), std::numeric_limits<T>::quiet_NaN());
  if (call(set, kept, y.data()) != SOFTCHECK_OK) return {c, output};
  const T a = y[size_t(k)], b = T(got);
  const bool same = std::memcmp(&a, &b, sizeof a) == 0 || (std::isnan(a) && std::isnan(b));
  if (!same) return {c, output};
  return {std::move(kept), k};
}

// A value of T (widened to double, which is exact) in hex: a float or a
// half format as the float it is, so it reads as in a case file.
template <class T> std::string hex(double v) {
  return std::is_same_v<T, double> ? fmt::format("{:a}", v) : fmt::format("{:a}", float(v));
}

void fold(SetResult &into, SetResult &&r) {
  into.ran = into.ran || r.ran;
  into.outputs += r.outputs;
  into.ulps.insert(into.ulps.end(), r.ulps.begin(), r.ulps.end());
  into.normwise_u = std::max(into.normwise_u, r.normwise_u);
  into.elementwise_ulp = std::max(into.elementwise_ulp, r.elementwise_ulp);
  into.scaled_u = std::max(into.scaled_u, r.scaled_u);
  into.has_scaled = into.has_scaled || r.has_scaled;
  into.has_elementwise = into.has_elementwise || r.has_elementwise;
  into.has_rows = into.has_rows || r.has_rows;
  Counts &a = into.counts;
  const Counts &b = r.counts;
  a.nan_where_finite += b.nan_where_finite;
  a.number_where_nan += b.number_where_nan;
  a.wrong_infinity += b.wrong_infinity;
  a.flushed_subnormal += b.flushed_subnormal;
  a.wrong_sign += b.wrong_sign;
  a.positive_log_probability += b.positive_log_probability;
  a.status_mismatch += b.status_mismatch;
  a.declined += b.declined;
  a.by_convention += b.by_convention;
  for (int i = 0; i < kHistogramBins; ++i) into.histogram[size_t(i)] += r.histogram[size_t(i)];
  into.worst.insert(into.worst.end(), r.worst.begin(), r.worst.end());
  for (int i = 0; i < kGapBins; ++i) {
    into.gap_count[size_t(i)] += r.gap_count[size_t(i)];
    into.gap_max[size_t(i)] = std::max(into.gap_max[size_t(i)], r.gap_max[size_t(i)]);
  }
  into.elements += r.elements;
  into.seconds += r.seconds;
  if (r.share > into.share) { // in case order: the first of equal shares stays
    into.share = r.share;
    into.share_error = r.share_error;
    into.share_allowed = r.share_allowed;
    into.share_scaled = r.share_scaled;
  }
}

// Nearest-rank quantile of sorted values.
double quantile(const std::vector<double> &sorted, double q) {
  if (sorted.empty()) return 0;
  size_t rank = size_t(std::ceil(q * double(sorted.size())));
  return sorted[std::min(sorted.size() - 1, rank == 0 ? 0 : rank - 1)];
}

class Progress {
public:
  Progress(bool on, size_t total) : on_(on), total_(total), start_(clock::now()) {
    if (on_) reporter_ = std::thread([this] { loop(); });
  }
  ~Progress() {
    stop_ = true;
    if (reporter_.joinable()) reporter_.join();
    if (on_) std::fprintf(stderr, "\r%80s\r", "");
  }
  std::atomic<size_t> done{0};

private:
  using clock = std::chrono::steady_clock;
  void loop() {
    while (!stop_.load()) {
      const size_t d = done.load();
      const double t = std::chrono::duration<double>(clock::now() - start_).count();
      const double rate = t > 0 ? double(d) / t : 0;
      const double eta = rate > 0 ? double(total_ - d) / rate : 0;
      std::fprintf(stderr, "\rsoftcheck report: %zu/%zu cases, %.0f cases/s, ETA %.0f s   ", d,
                   total_, rate, eta);
      std::fflush(stderr);
      for (int k = 0; k < 5 && !stop_.load(); ++k)
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  bool on_;
  size_t total_;
  clock::time_point start_;
  std::atomic<bool> stop_{false};
  std::thread reporter_;
};

// Runs f(i) for i in [0, n) on up to `threads` threads (fewer if the system
// refuses to start more).
template <class F> void parallel_for(size_t n, int threads, std::atomic<size_t> &done, F f) {
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i; (i = next.fetch_add(1)) < n;) {
      f(i);
      done.fetch_add(1);
    }
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < threads && size_t(t) < n; ++t) {
    try {
      pool.emplace_back([&] {
        work();
        oracle::release_thread_caches();
      });
    } catch (const std::system_error &) {
      break;
    }
  }
  work();
  for (auto &t : pool) t.join();
}

} // namespace

Output run(const std::vector<SetRef> &sets, const Options &o) {
  const auto wall0 = std::chrono::steady_clock::now();
  Output out;
  Report &rep = out.report;
  rep.tool_version = SOFTCHECK_VERSION;
  rep.seed = o.seed;
  rep.cases = o.cases;
  rep.worst_n = o.worst_n;
  for (const SetRef &s : sets)
    // report.json is UTF-8: a path or description that is not becomes \xNN.
    rep.sets.push_back({text::valid_utf8(s.set->name),
                        text::valid_utf8(s.set->description ? s.set->description : ""),
                        text::valid_utf8(s.set->version ? s.set->version : ""),
                        s.plugin.empty() ? "built-in" : text::valid_utf8(s.plugin),
                        props::declared_conventions(*s.set)});

  std::vector<softcheck_op> ops = o.ops;
  if (ops.empty())
    for (int i = 0; i < SOFTCHECK_OP_COUNT; ++i) ops.push_back(softcheck_op(i));
  struct Group {
    softcheck_op op;
    softcheck_dtype dtype;
    gen::Regime regime;
  };
  std::vector<Group> groups;
  size_t group_index = 0; // over the whole run: shard I keeps the groups g with g mod N = I
  for (softcheck_op op : ops)
    for (softcheck_dtype dt : o.dtypes)
      for (int g = 0; g < gen::kRegimes; ++g) {
        const bool in = o.regimes.empty() ||
                        std::find(o.regimes.begin(), o.regimes.end(), g) != o.regimes.end();
        const bool out =
            std::find(o.skip_regimes.begin(), o.skip_regimes.end(), g) != o.skip_regimes.end();
        if (!in || out) continue;
        if (int64_t(group_index++ % uint64_t(o.shards)) == o.shard)
          groups.push_back({op, dt, gen::Regime(g)});
      }
  if (o.shards > 1) {
    rep.shard.index = o.shard;
    rep.shard.count = o.shards;
    for (softcheck_op op : ops) rep.shard.ops.push_back(softcheck_op_name(op));
    for (softcheck_dtype dt : o.dtypes) rep.shard.dtypes.push_back(softcheck_dtype_name(dt));
  }
  auto unit_of = [&](size_t id) {
    const Group &g = groups[id / size_t(o.cases)];
    return Unit{g.op, g.dtype, g.regime, int64_t(id % size_t(o.cases))};
  };

  // One op x dtype x regime at a time, its cases spread over the threads and
  // folded in case order as soon as the group is done (memory stays that of
  // one group).
  Progress progress(o.progress, groups.size() * size_t(o.cases));
  for (size_t gi = 0; gi < groups.size(); ++gi) {
    const size_t first = gi * size_t(o.cases), last = first + size_t(o.cases);
    std::vector<UnitResult> results(size_t(o.cases));
    parallel_for(size_t(o.cases), std::max(1, o.threads), progress.done, [&](size_t i) {
      const size_t id = first + i;
      try {
        const Unit u = unit_of(id);
        visit_dtype(u.dtype, [&](auto t) {
          run_unit<typename decltype(t)::type>(u, id, sets, o, results[i]);
        });
      } catch (const std::exception &e) {
        results[i].error = e.what();
      } catch (...) {
        results[i].error = "unknown exception";
      }
    });
    for (const UnitResult &r : results)
      if (!r.error.empty()) throw std::runtime_error(r.error);
    const Unit u = unit_of(first);
    for (size_t s = 0; s < sets.size(); ++s) {
      SetResult acc;
      for (UnitResult &r : results)
        if (s < r.sets.size()) fold(acc, std::move(r.sets[s]));
      if (!acc.ran) continue;
      Entry e;
      e.set = sets[s].set->name;
      e.op = u.op;
      e.dtype = u.dtype;
      e.regime = gen::regime_id(u.regime);
      e.cases = int64_t(last - first);
      e.outputs = acc.outputs;
      // NaN: nothing was measured (no outputs; no rows of elementwise outputs;
      // no outputs judged elementwise).
      std::sort(acc.ulps.begin(), acc.ulps.end());
      e.max_ulp = acc.ulps.empty() ? NAN : acc.ulps.back();
      e.median_ulp = acc.ulps.empty() ? NAN : quantile(acc.ulps, 0.5);
      e.p99_ulp = acc.ulps.empty() ? NAN : quantile(acc.ulps, 0.99);
      e.normwise_u = acc.has_rows ? acc.normwise_u : NAN;
      e.elementwise_max_ulp = acc.has_elementwise ? acc.elementwise_ulp : NAN;
      e.scaled_max_u = acc.has_scaled ? acc.scaled_u : NAN;
      e.counts = acc.counts;
      e.histogram = acc.histogram;
      if (acc.share >= 0) {
        e.headroom.share = acc.share;
        e.headroom.error = acc.share_error;
        e.headroom.allowed = acc.share_allowed;
        e.headroom.unit = acc.share_scaled ? "u scaled" : "ulp";
      }
      std::sort(acc.worst.begin(), acc.worst.end(), worse);
      if (int64_t(acc.worst.size()) > o.worst_n) acc.worst.resize(size_t(o.worst_n));
      for (size_t k = 0; k < acc.worst.size(); ++k) {
        const Candidate &cd = acc.worst[k];
        Worst w;
        w.ulp = cd.ulp;
        w.error = cd.score;
        w.unit = std::isinf(cd.score) ? "" : cd.scaled ? "u scaled" : "ulp";
        w.mismatch = cd.mismatch == Mismatch::none ? "" : mismatch_name(cd.mismatch);
        const std::string name = fmt::format("{}-{}-{}-{}-{}.case", e.set, softcheck_op_name(u.op),
                                             softcheck_dtype_name(u.dtype), e.regime, k + 1);
        w.file = "cases/" + name;
        const Unit cu = unit_of(cd.unit);
        visit_dtype(u.dtype, [&](auto t) {
          using T = typename decltype(t)::type;
          w.got = hex<T>(cd.got);
          w.want = hex<T>(cd.want);
          auto [kept, at] =
              worst_input(*sets[s].set, unit_case<T>(cu, o.seed, o.cases), cd.output, cd.got);
          w.output = at;
          w.text = to_text(kept);
        });
        std::vector<std::string> words = {o.cli, "eval"};
        words.insert(words.end(), sets[s].load_args.begin(), sets[s].load_args.end());
        for (std::string &a : set_arguments(e.set)) words.push_back(std::move(a));
        words.insert(words.end(), {"--case", w.file});
        w.reproduce = text::shell_line(words);
        out.case_files.emplace_back(name, w.text);
        e.worst.push_back(std::move(w));
      }
      if (u.op == SOFTCHECK_OP_SOFTMAX || u.op == SOFTCHECK_OP_LOG_SOFTMAX) {
        auto it = std::find_if(rep.gaps.begin(), rep.gaps.end(), [&](const GapCurve &g) {
          return g.set == e.set && g.op == u.op && g.dtype == u.dtype;
        });
        if (it == rep.gaps.end()) {
          rep.gaps.push_back({e.set, u.op, u.dtype, {}, {}});
          it = rep.gaps.end() - 1;
        }
        for (int b = 0; b < kGapBins; ++b) {
          it->count[size_t(b)] += acc.gap_count[size_t(b)];
          it->max_ulp[size_t(b)] = std::max(it->max_ulp[size_t(b)], acc.gap_max[size_t(b)]);
        }
      }
      out.timing.results.push_back({e.set, u.op, u.dtype, e.regime, acc.elements, acc.seconds});
      rep.results.push_back(std::move(e));
    }
  }

  if (o.shard == 0) { // once per run
    rep.special = special_values(sets, o);
    rep.pipelines = pipelines(sets, o);
  }
  out.timing.threads = std::max(1, o.threads);
  out.timing.wall_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
  return out;
}

} // namespace softcheck::report
