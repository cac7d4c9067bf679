// `make bench`: the float32 kernels of the built-in set against the
// baselines, in one run, per op x shape x threads: GB/s (bytes read +
// written / time), the share of the copy roof measured in the same run at
// the same size and thread count, and the ratio to each baseline. Medians
// of repetitions; ratios are what to read (the machine is shared).
//   build/bench/softcheck_bench [--threads 1,2] [--plugin PATH]... [--markdown FILE]
//                               [--benchmark_filter=REGEX] [--benchmark_repetitions=N]
// The peer plugins of this build (PyTorch, oneDNN; peers/) are measured too
// when they were built; --plugin adds any other plugin's sets.
#include "baselines.hpp"
#include "parallel.hpp"

#include <softcheck/host.hpp>
#include <softcheck/kernels.hpp>

#include <benchmark/benchmark.h>
#include <fmt/core.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <tuple>
#include <vector>

namespace {

using softcheck::bench::Baseline;
using softcheck::bench::Buffers;

struct Size {
  int64_t rows, n;
  std::string name() const { return fmt::format("{}x{}", rows, n); }
};
const Size kSizes[] = {{4096, 10}, {1024, 1000}, {256, 32000}, {64, 128000}};

enum Op { kSoftmax, kLogSoftmax, kLogsumexp, kCrossEntropy, kSoftmaxBwd, kLogSoftmaxBwd, kCeBwd };
const char *const kOpNames[] = {"softmax",
                                "log_softmax",
                                "logsumexp",
                                "cross_entropy",
                                "softmax_backward",
                                "log_softmax_backward",
                                "cross_entropy_backward"};
constexpr int kOps = 7;

// Nominal bytes moved: every input read once, every output written once.
double bytes_of(Op op, Size s) {
  const double e = double(s.rows * s.n) * 4, r = double(s.rows);
  switch (op) {
  case kSoftmax:
  case kLogSoftmax: return 2 * e;
  case kLogsumexp: return e + 4 * r;
  case kCrossEntropy: return e + 8 * r + 4;
  case kSoftmaxBwd:
  case kLogSoftmaxBwd: return 3 * e;
  case kCeBwd: return 2 * e + 8 * r + 4;
  }
  return 0;
}

// Inputs per size: logits N(0, 2), their softmax and log_softmax (the
// backward ops' y), an incoming gradient N(0, 1), targets; and outputs.
struct Data {
  std::vector<float> x, p, logp, dy, out, out2;
  std::vector<int64_t> target;
};

const softcheck_kernel_set &ours() { return softcheck::builtin_kernel_set(); }

Data &data(Size s) {
  static std::map<int64_t, std::unique_ptr<Data>> cache;
  auto &slot = cache[s.rows * 1000003 + s.n];
  if (slot) return *slot;
  slot = std::make_unique<Data>();
  Data &d = *slot;
  const size_t e = size_t(s.rows * s.n);
  std::mt19937_64 rng(uint64_t(s.rows * 31 + s.n));
  std::normal_distribution<float> logit(0, 2), grad(0, 1);
  d.x.resize(e);
  d.dy.resize(e);
  for (float &v : d.x) v = logit(rng);
  for (float &v : d.dy) v = grad(rng);
  d.p.resize(e);
  d.logp.resize(e);
  d.out.resize(e);
  d.out2.resize(e);
  d.target.resize(size_t(s.rows));
  for (auto &t : d.target) t = int64_t(rng() % uint64_t(s.n));
  const softcheck_shape sh{s.rows, s.n, 1};
  ours().f32.softmax(sh, d.x.data(), d.p.data());
  ours().f32.log_softmax(sh, d.x.data(), d.logp.data());
  return d;
}

const softcheck_op kAbiOp[] = {SOFTCHECK_OP_SOFTMAX,
                               SOFTCHECK_OP_LOG_SOFTMAX,
                               SOFTCHECK_OP_LOGSUMEXP,
                               SOFTCHECK_OP_CROSS_ENTROPY,
                               SOFTCHECK_OP_SOFTMAX_BACKWARD,
                               SOFTCHECK_OP_LOG_SOFTMAX_BACKWARD,
                               SOFTCHECK_OP_CROSS_ENTROPY_BACKWARD};

// One call of an op by a kernel set (ours or a peer's), through the ABI.
void call_set(const softcheck_kernel_set &set, Op op, Size s, Data &d, float *out) {
  const softcheck_ops &k = set.f32;
  const softcheck_shape sh{s.rows, s.n, 1};
  softcheck_loss_options mean{1, -100, nullptr, 0.0};
  const float one = 1;
  softcheck_status st = SOFTCHECK_OK;
  switch (op) {
  case kSoftmax: st = k.softmax(sh, d.x.data(), out); break;
  case kLogSoftmax: st = k.log_softmax(sh, d.x.data(), out); break;
  case kLogsumexp: st = k.logsumexp(sh, d.x.data(), out); break;
  case kCrossEntropy: st = k.cross_entropy(sh, d.x.data(), d.target.data(), &mean, out); break;
  case kSoftmaxBwd: st = k.softmax_backward(sh, d.p.data(), d.dy.data(), out); break;
  case kLogSoftmaxBwd: st = k.log_softmax_backward(sh, d.logp.data(), d.dy.data(), out); break;
  case kCeBwd:
    st = k.cross_entropy_backward(sh, d.x.data(), d.target.data(), &mean, &one, out);
    break;
  }
  if (st != SOFTCHECK_OK) {
    std::fprintf(stderr, "softcheck_bench: %s of %s failed: %s\n", kOpNames[op], set.name,
                 softcheck_status_name(st));
    std::exit(2);
  }
}

void call_ours(Op op, Size s, Data &d, float *out) { call_set(ours(), op, s, d, out); }

void call_baseline(const Baseline &b, Op op, Size s, Data &d, float *out) {
  Buffers buf;
  buf.target = d.target.data();
  buf.out = out;
  softcheck::bench::RowsFn fn = nullptr;
  switch (op) {
  case kSoftmax: buf.x = d.x.data(), fn = b.softmax; break;
  case kLogSoftmax: buf.x = d.x.data(), fn = b.log_softmax; break;
  case kLogsumexp: buf.x = d.x.data(), fn = b.logsumexp; break;
  case kCrossEntropy: buf.x = d.x.data(), fn = b.cross_entropy_rows; break;
  case kSoftmaxBwd: buf.x = d.p.data(), buf.dy = d.dy.data(), fn = b.softmax_backward; break;
  case kLogSoftmaxBwd:
    buf.x = d.logp.data(), buf.dy = d.dy.data(), fn = b.log_softmax_backward;
    break;
  case kCeBwd: buf.x = d.x.data(), fn = b.cross_entropy_backward; break;
  }
  softcheck::detail::parallel_for(
      s.rows, [&](int64_t r0, int64_t r1) { fn(buf, r0, r1, s.n); }, s.rows * s.n);
  if (op == kCrossEntropy) { // the mean of the per-row losses
    float sum = 0;
    for (int64_t r = 0; r < s.rows; ++r) sum += out[r];
    out[0] = sum / float(s.rows);
  }
}

void copy(bool use_memcpy, Size s, Data &d) {
  softcheck::detail::parallel_for(
      s.rows,
      [&](int64_t r0, int64_t r1) {
        const float *in = d.x.data() + r0 * s.n;
        float *out = d.out.data() + r0 * s.n;
        if (use_memcpy)
          std::memcpy(out, in, size_t((r1 - r0) * s.n) * sizeof(float));
        else
          softcheck::bench::copy_loop(in, out, (r1 - r0) * s.n);
      },
      s.rows * s.n);
}

// ---------------------------------------------------------------- results

struct Key {
  std::string impl, op, size;
  int threads;
  bool operator<(const Key &o) const {
    return std::tie(impl, op, size, threads) < std::tie(o.impl, o.op, o.size, o.threads);
  }
};
std::map<Key, double> g_gbps; // median GB/s

class Collector : public benchmark::ConsoleReporter {
public:
  void ReportRuns(const std::vector<Run> &runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const Run &r : runs) {
      if (r.run_type == Run::RT_Aggregate && r.aggregate_name != "median") continue;
      auto it = r.counters.find("bytes_per_second");
      if (it == r.counters.end()) continue;
      // name: impl/op/size/threads
      std::string n = r.run_name.function_name;
      std::vector<std::string> parts;
      for (size_t a = 0, b; a <= n.size(); a = b + 1) {
        b = n.find('/', a);
        if (b == std::string::npos) b = n.size();
        parts.push_back(n.substr(a, b - a));
      }
      if (parts.size() != 4) continue;
      g_gbps[{parts[0], parts[1], parts[2], std::stoi(parts[3].substr(1))}] =
          it->second.value / 1e9;
    }
  }
};

double gbps(const std::string &impl, const std::string &op, const std::string &size, int t) {
  auto it = g_gbps.find({impl, op, size, t});
  return it == g_gbps.end() ? 0 : it->second;
}

std::vector<const softcheck_kernel_set *> g_peers;

template <class F> void add(const std::string &name, int threads, double bytes, F f) {
  benchmark::RegisterBenchmark(name.c_str(), [=](benchmark::State &state) {
    softcheck::detail::set_num_threads(threads);
    ours().set_num_threads(threads);
    for (const auto *p : g_peers)
      if (p->set_num_threads) p->set_num_threads(threads);
    for (auto _ : state) {
      f();
      benchmark::ClobberMemory();
    }
    state.SetBytesProcessed(int64_t(double(state.iterations()) * bytes));
    softcheck::detail::set_num_threads(1);
    ours().set_num_threads(1);
  })->UseRealTime();
}

// Our outputs with 1 and with `threads` threads, bit for bit.
bool same_bits_across_threads(Op op, Size s, int threads) {
  Data &d = data(s);
  std::vector<float> a(d.out.size()), b(d.out.size());
  ours().set_num_threads(1);
  call_ours(op, s, d, a.data());
  ours().set_num_threads(threads);
  call_ours(op, s, d, b.data());
  ours().set_num_threads(1);
  return std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

std::vector<int> parse_threads(const std::string &v) {
  std::vector<int> out;
  for (size_t a = 0, b; a <= v.size(); a = b + 1) {
    b = v.find(',', a);
    if (b == std::string::npos) b = v.size();
    const int t = std::atoi(v.substr(a, b - a).c_str());
    if (t < 1 || t > 256) {
      std::fprintf(stderr, "softcheck_bench: --threads takes a list like 1,2\n");
      std::exit(2);
    }
    out.push_back(t);
  }
  return out;
}

} // namespace

int main(int argc, char **argv) {
  std::vector<int> threads = {1, 2};
  std::string markdown;
  std::vector<std::string> plugins;
#ifdef SOFTCHECK_BENCH_PEERS
  for (const char *p : {SOFTCHECK_BENCH_PEERS})
    if (FILE *f = std::fopen(p, "rb")) std::fclose(f), plugins.push_back(p);
#endif
  std::vector<char *> args = {argv[0]};
  static char reps[] = "--benchmark_repetitions=5",
              aggr[] = "--benchmark_report_aggregates_only=true",
              mint[] = "--benchmark_min_time=0.05";
  args.push_back(reps);
  args.push_back(aggr);
  args.push_back(mint);
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--threads" && i + 1 < argc)
      threads = parse_threads(argv[++i]);
    else if (a == "--markdown" && i + 1 < argc)
      markdown = argv[++i];
    else if (a == "--plugin" && i + 1 < argc)
      plugins.push_back(argv[++i]);
    else
      args.push_back(argv[i]);
  }
  int n = int(args.size());
  benchmark::Initialize(&n, args.data());
  if (benchmark::ReportUnrecognizedArguments(n, args.data())) return 2;

  const std::string target = softcheck::simd_target();
  softcheck::Registry registry;
  for (const auto &p : plugins)
    if (std::string err = registry.load(p); !err.empty()) {
      std::fprintf(stderr, "softcheck_bench: %s\n", err.c_str());
      return 2;
    }
  for (const auto &ref : registry.sets()) g_peers.push_back(ref.set);
  for (const Size &s : kSizes) {
    for (int t : threads) {
      const double copy_bytes = double(s.rows * s.n) * 8;
      add(fmt::format("copy-memcpy/copy/{}/t{}", s.name(), t), t, copy_bytes,
          [s] { copy(true, s, data(s)); });
      add(fmt::format("copy-loop/copy/{}/t{}", s.name(), t), t, copy_bytes,
          [s] { copy(false, s, data(s)); });
      for (int o = 0; o < kOps; ++o) {
        const Op op = Op(o);
        const double bytes = bytes_of(op, s);
        add(fmt::format("softcheck/{}/{}/t{}", kOpNames[o], s.name(), t), t, bytes,
            [=] { call_ours(op, s, data(s), data(s).out.data()); });
        for (const softcheck_kernel_set *p : g_peers)
          if (softcheck::provides(*p, SOFTCHECK_F32, kAbiOp[o]))
            add(fmt::format("{}/{}/{}/t{}", p->name, kOpNames[o], s.name(), t), t, bytes,
                [=] { call_set(*p, op, s, data(s), data(s).out2.data()); });
        for (const Baseline *b :
             {&softcheck::bench::naive_fastmath(s.rows), &softcheck::bench::eigen_rows(s.rows)}) {
          const std::string impl =
              b == &softcheck::bench::naive_fastmath(s.rows) ? "naive" : "eigen";
          add(fmt::format("{}/{}/{}/t{}", impl, kOpNames[o], s.name(), t), t, bytes, [=] {
            call_baseline(impl == "naive" ? softcheck::bench::naive_fastmath(s.rows)
                                          : softcheck::bench::eigen_rows(s.rows),
                          op, s, data(s), data(s).out2.data());
          });
        }
      }
    }
  }
  Collector collector;
  benchmark::RunSpecifiedBenchmarks(&collector);
  benchmark::Shutdown();

  // ------------------------------------------------------------ the table
  std::string md;
  auto line = [&](const std::string &l) { md += l + "\n"; };
  line(fmt::format("## softcheck bench: float32, SIMD target {}, medians, GB/s = (bytes read + "
                   "written) / time",
                   target));
  line("");
  for (const auto &known : {std::pair{"PyTorch", "pytorch"}, std::pair{"oneDNN", "onednn"}}) {
    const std::string peer = known.first, name = known.second;
    const bool have =
        std::any_of(g_peers.begin(), g_peers.end(), [&](const auto *p) { return p->name == name; });
    line(have ? fmt::format("- {}: measured through its peer plugin (set `{}`)", peer, name)
              : fmt::format("- {}: skipped (its peer plugin is not built: `make report-peers` "
                            "installs the package and builds it)",
                            peer));
  }
  for (const auto *p : g_peers)
    if (std::string(p->name) != "pytorch" && std::string(p->name) != "onednn")
      line(fmt::format("- {}: measured through its plugin", p->name));
  line("");
  auto roof = [&](const Size &s, int t) {
    return std::max(gbps("copy-memcpy", "copy", s.name(), t),
                    gbps("copy-loop", "copy", s.name(), t));
  };
  struct Goal {
    explicit Goal(std::string w) : what(std::move(w)) {}
    std::string what;
    bool met = true;
    double worst = 1e300;
    std::string where;
    void see(double v, double need, const std::string &at) {
      if (v < worst) worst = v, where = at;
      met = met && v >= need;
    }
  };
  Goal roof80(
      "softmax, log_softmax, 1 thread, [256,32000] and [64,128000]: >= 80% of the copy roof");
  Goal fwd13("softmax, log_softmax, 1 thread, every shape: >= 1.3x the fastest baseline");
  Goal other13(
      "cross-entropy and backward ops, 1 thread, every shape: >= 1.3x the fastest baseline");
  Goal scale18("2 threads vs 1, [256,32000] and [64,128000], every op: >= 1.8x");
  bool identical = true;
  std::string not_identical;
  for (int t : threads) {
    line(fmt::format("### {} thread{}", t, t == 1 ? "" : "s"));
    line("");
    std::string head = "| op | shape | softcheck GB/s | % of copy roof | naive -ffast-math | Eigen "
                       "per-row |",
                rule = "|---|---|---:|---:|---:|---:|";
    for (const auto *p : g_peers) head += fmt::format(" {} |", p->name), rule += "---:|";
    head += " vs naive | vs Eigen |";
    rule += "---:|---:|";
    for (const auto *p : g_peers) head += fmt::format(" vs {} |", p->name), rule += "---:|";
    line(head + " vs fastest |");
    line(rule + "---:|");
    for (int o = 0; o < kOps; ++o)
      for (const Size &s : kSizes) {
        const double g = gbps("softcheck", kOpNames[o], s.name(), t);
        const double nv = gbps("naive", kOpNames[o], s.name(), t);
        const double eg = gbps("eigen", kOpNames[o], s.name(), t);
        const double r = roof(s, t);
        double best = std::max(nv, eg);
        if (g == 0) continue;
        std::vector<double> pg;
        for (const auto *p : g_peers) {
          pg.push_back(gbps(p->name, kOpNames[o], s.name(), t));
          best = std::max(best, pg.back());
        }
        auto cell = [](double v) { return v > 0 ? fmt::format("{:.1f}", v) : std::string("-"); };
        auto ratio = [&](double v) {
          return v > 0 ? fmt::format("{:.2f}x", g / v) : std::string("-");
        };
        std::string row =
            fmt::format("| {} | [{},{}] | {:.1f} | {:.0f}% | {} | {} |", kOpNames[o], s.rows, s.n,
                        g, r > 0 ? 100 * g / r : 0.0, cell(nv), cell(eg));
        for (double v : pg) row += " " + cell(v) + " |";
        row += " " + ratio(nv) + " | " + ratio(eg) + " |";
        for (double v : pg) row += " " + ratio(v) + " |";
        line(row + " " + ratio(best) + " |");
        const std::string at = fmt::format("{} [{},{}]", kOpNames[o], s.rows, s.n);
        const bool large = s.n >= 32000;
        if (t == 1 && (o == kSoftmax || o == kLogSoftmax)) {
          if (large && r > 0) roof80.see(g / r, 0.8, at);
          if (best > 0) fwd13.see(g / best, 1.3, at);
        }
        if (t == 1 && (o == kCrossEntropy || o >= kSoftmaxBwd) && best > 0)
          other13.see(g / best, 1.3, at);
      }
    line("");
    line("| copy roof | " + [&] {
      std::string c;
      for (const Size &s : kSizes)
        c += fmt::format("[{},{}]: {:.1f} GB/s | ", s.rows, s.n, roof(s, t));
      return c;
    }());
    line("");
  }
  if (threads.size() > 1) {
    const int t1 = threads.front(), t2 = threads[1];
    line(fmt::format("### {} threads vs {}: softcheck speedup, and bits compared", t2, t1));
    line("");
    line("| op | shape | speedup | bits, 1 vs " + std::to_string(t2) + " threads |");
    line("|---|---|---:|---|");
    for (int o = 0; o < kOps; ++o)
      for (const Size &s : kSizes) {
        const double a = gbps("softcheck", kOpNames[o], s.name(), t1);
        const double b = gbps("softcheck", kOpNames[o], s.name(), t2);
        if (a == 0 || b == 0) continue;
        const bool same = same_bits_across_threads(Op(o), s, t2);
        identical = identical && same;
        if (!same) not_identical += fmt::format(" {} [{},{}]", kOpNames[o], s.rows, s.n);
        line(fmt::format("| {} | [{},{}] | {:.2f}x | {} |", kOpNames[o], s.rows, s.n, b / a,
                         same ? "identical" : "DIFFERENT"));
        if (s.n >= 32000 && t1 == 1 && t2 == 2)
          scale18.see(b / a, 1.8, fmt::format("{} [{},{}]", kOpNames[o], s.rows, s.n));
      }
    line("");
  }
  line("### Goals");
  line("");
  for (const Goal *g : {&roof80, &fwd13, &other13, &scale18}) {
    if (g->worst == 1e300) continue;
    const bool pct = g == &roof80;
    line(fmt::format(
        "- {}: {} (worst {} at {})", g->what, g->met ? "met" : "NOT met",
        pct ? fmt::format("{:.0f}%", 100 * g->worst) : fmt::format("{:.2f}x", g->worst), g->where));
  }
  if (threads.size() > 1)
    line(fmt::format("- bitwise identical for 1 and {} threads: {}", threads[1],
                     identical ? "met (every op and shape)" : "NOT met:" + not_identical));
  std::fputs(("\n" + md).c_str(), stdout);
  if (!markdown.empty()) {
    std::FILE *f = std::fopen(markdown.c_str(), "w");
    if (!f || std::fputs(md.c_str(), f) < 0 || std::fclose(f) != 0) {
      std::fprintf(stderr, "softcheck_bench: cannot write %s\n", markdown.c_str());
      return 2;
    }
  }
  return identical ? 0 : 1;
}
