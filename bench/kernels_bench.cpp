// `make bench`: the built-in kernels against the baselines, in one run,
// per dtype x op x shape x threads: GB/s (bytes read + written / time), the
// share of the copy roof measured in the same run at the same size and
// thread count, the ratio to each baseline, and the goals met or not.
// Medians of repetitions; ratios are what to read (the machine is shared).
//   build/bench/softcheck_bench [--threads 1,2] [--dtype f32,f64] [--plugin PATH]...
//                               [--markdown FILE] [--benchmark_filter=REGEX]
//                               [--benchmark_repetitions=N]
// Baselines (baselines.hpp): the naive loop built with -ffast-math, Eigen per
// row, XNNPACK's f32 softmax when installed, and the peer plugins of this
// build (PyTorch, oneDNN; peers/) when they were built; --plugin adds any
// other plugin's sets.
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
  std::string shown() const { return fmt::format("[{},{}]", rows, n); }
  bool large() const { return n >= 32000; }
  bool short_rows() const { return n <= 128; }
};
// Short rows (classes; attention heads), a vocabulary-sized middle, and
// rows that leave L1 and L2.
const Size kSizes[] = {{4096, 10}, {16384, 128}, {1024, 1000}, {256, 32000}, {64, 128000}};

enum Op { kSoftmax, kLogSoftmax, kLogsumexp, kCrossEntropy, kSoftmaxBwd, kLogSoftmaxBwd, kCeBwd };
const char *const kOpNames[] = {"softmax",
                                "log_softmax",
                                "logsumexp",
                                "cross_entropy",
                                "softmax_backward",
                                "log_softmax_backward",
                                "cross_entropy_backward"};
constexpr int kOps = 7;
const softcheck_op kAbiOp[] = {SOFTCHECK_OP_SOFTMAX,
                               SOFTCHECK_OP_LOG_SOFTMAX,
                               SOFTCHECK_OP_LOGSUMEXP,
                               SOFTCHECK_OP_CROSS_ENTROPY,
                               SOFTCHECK_OP_SOFTMAX_BACKWARD,
                               SOFTCHECK_OP_LOG_SOFTMAX_BACKWARD,
                               SOFTCHECK_OP_CROSS_ENTROPY_BACKWARD};

template <class T> const char *dtype_name() { return sizeof(T) == 4 ? "float32" : "float64"; }

// Nominal bytes moved: every input read once, every output written once.
double bytes_of(Op op, Size s, double elem) {
  const double e = double(s.rows * s.n) * elem, r = double(s.rows);
  switch (op) {
  case kSoftmax:
  case kLogSoftmax: return 2 * e;
  case kLogsumexp: return e + elem * r;
  case kCrossEntropy: return e + (8 + elem) * r + elem;
  case kSoftmaxBwd:
  case kLogSoftmaxBwd: return 3 * e;
  case kCeBwd: return 2 * e + 8 * r + elem;
  }
  return 0;
}

// Inputs per size and dtype: logits N(0, 2), their softmax and log_softmax
// (the backward ops' y), an incoming gradient N(0, 1), targets; and
// outputs. x has XNN_EXTRA_BYTES (16) readable bytes past its end.
template <class T> struct Data {
  std::vector<T> x, p, logp, dy, out, out2;
  std::vector<int64_t> target;
};

const softcheck_kernel_set &ours() { return softcheck::builtin_kernel_set(); }
template <class T> const softcheck_ops &ops_of(const softcheck_kernel_set &s) {
  return sizeof(T) == 4 ? s.f32 : s.f64;
}
template <class T> softcheck_dtype dtype_of() {
  return sizeof(T) == 4 ? SOFTCHECK_F32 : SOFTCHECK_F64;
}

template <class T> Data<T> &data(Size s) {
  static std::map<int64_t, std::unique_ptr<Data<T>>> cache;
  auto &slot = cache[s.rows * 1000003 + s.n];
  if (slot) return *slot;
  slot = std::make_unique<Data<T>>();
  Data<T> &d = *slot;
  const size_t e = size_t(s.rows * s.n);
  std::mt19937_64 rng(uint64_t(s.rows * 31 + s.n));
  std::normal_distribution<T> logit(0, 2), grad(0, 1);
  d.x.resize(e + 16 / sizeof(T), T(0));
  d.dy.resize(e);
  for (size_t i = 0; i < e; ++i) d.x[i] = logit(rng);
  for (T &v : d.dy) v = grad(rng);
  d.p.resize(e);
  d.logp.resize(e);
  d.out.resize(e);
  d.out2.resize(e);
  d.target.resize(size_t(s.rows));
  for (auto &t : d.target) t = int64_t(rng() % uint64_t(s.n));
  const softcheck_shape sh{s.rows, s.n, 1};
  ops_of<T>(ours()).softmax(sh, d.x.data(), d.p.data());
  ops_of<T>(ours()).log_softmax(sh, d.x.data(), d.logp.data());
  return d;
}

// One call of an op by a kernel set (ours or a peer's), through the ABI.
template <class T>
void call_set(const softcheck_kernel_set &set, Op op, Size s, Data<T> &d, T *out) {
  const softcheck_ops &k = ops_of<T>(set);
  const softcheck_shape sh{s.rows, s.n, 1};
  softcheck_loss_options mean{1, -100, nullptr, 0.0};
  const T one = 1;
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
    std::fprintf(stderr, "softcheck_bench: %s %s of %s failed: %s\n", dtype_name<T>(), kOpNames[op],
                 set.name, softcheck_status_name(st));
    std::exit(2);
  }
}

template <class T> void call_baseline(const Baseline<T> &b, Op op, Size s, Data<T> &d, T *out) {
  Buffers<T> buf;
  buf.target = d.target.data();
  buf.out = out;
  softcheck::bench::RowsFn<T> fn = nullptr;
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
    T sum = 0;
    for (int64_t r = 0; r < s.rows; ++r) sum += out[r];
    out[0] = sum / T(s.rows);
  }
}

// The copy roof of a dtype's data: the same bytes as one read and one
// write of the input.
template <class T> void copy(bool use_memcpy, Size s, Data<T> &d) {
  const int64_t floats = s.n * int64_t(sizeof(T) / sizeof(float));
  softcheck::detail::parallel_for(
      s.rows,
      [&](int64_t r0, int64_t r1) {
        const float *in = reinterpret_cast<const float *>(d.x.data()) + r0 * floats;
        float *out = reinterpret_cast<float *>(d.out.data()) + r0 * floats;
        if (use_memcpy)
          std::memcpy(out, in, size_t((r1 - r0) * floats) * sizeof(float));
        else
          softcheck::bench::copy_loop(in, out, (r1 - r0) * floats);
      },
      s.rows * s.n);
}

// ---------------------------------------------------------------- results

struct Key {
  std::string impl, dtype, op, size;
  int threads;
  bool operator<(const Key &o) const {
    return std::tie(impl, dtype, op, size, threads) <
           std::tie(o.impl, o.dtype, o.op, o.size, o.threads);
  }
};
std::map<Key, double> g_gbps; // median GB/s

std::vector<std::string> split(const std::string &v, char sep) {
  std::vector<std::string> parts;
  for (size_t a = 0, b; a <= v.size(); a = b + 1) {
    b = v.find(sep, a);
    if (b == std::string::npos) b = v.size();
    parts.push_back(v.substr(a, b - a));
  }
  return parts;
}

class Collector : public benchmark::ConsoleReporter {
public:
  void ReportRuns(const std::vector<Run> &runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const Run &r : runs) {
      if (r.run_type == Run::RT_Aggregate && r.aggregate_name != "median") continue;
      auto it = r.counters.find("bytes_per_second");
      if (it == r.counters.end()) continue;
      // name: impl/dtype/op/size/tN
      const std::vector<std::string> p = split(r.run_name.function_name, '/');
      if (p.size() != 5) continue;
      g_gbps[{p[0], p[1], p[2], p[3], std::stoi(p[4].substr(1))}] = it->second.value / 1e9;
    }
  }
};

double gbps(const std::string &impl, const std::string &dtype, const std::string &op, const Size &s,
            int t) {
  auto it = g_gbps.find({impl, dtype, op, s.name(), t});
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
template <class T> bool same_bits_across_threads(Op op, Size s, int threads) {
  Data<T> &d = data<T>(s);
  std::vector<T> a(d.out.size()), b(d.out.size());
  ours().set_num_threads(1);
  call_set(ours(), op, s, d, a.data());
  ours().set_num_threads(threads);
  call_set(ours(), op, s, d, b.data());
  ours().set_num_threads(1);
  return std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0;
}

std::vector<int> parse_threads(const std::string &v) {
  std::vector<int> out;
  for (const std::string &p : split(v, ',')) {
    const int t = std::atoi(p.c_str());
    if (t < 1 || t > 256) {
      std::fprintf(stderr, "softcheck_bench: --threads takes a list like 1,2\n");
      std::exit(2);
    }
    out.push_back(t);
  }
  return out;
}

template <class T> void register_dtype(const std::vector<int> &threads) {
  const std::string dt = dtype_name<T>();
  for (const Size &s : kSizes)
    for (int t : threads) {
      const double copy_bytes = double(s.rows * s.n) * 2 * sizeof(T);
      add(fmt::format("copy-memcpy/{}/copy/{}/t{}", dt, s.name(), t), t, copy_bytes,
          [s] { copy(true, s, data<T>(s)); });
      add(fmt::format("copy-loop/{}/copy/{}/t{}", dt, s.name(), t), t, copy_bytes,
          [s] { copy(false, s, data<T>(s)); });
      for (int o = 0; o < kOps; ++o) {
        const Op op = Op(o);
        const double bytes = bytes_of(op, s, sizeof(T));
        auto name = [&](const std::string &impl) {
          return fmt::format("{}/{}/{}/{}/t{}", impl, dt, kOpNames[o], s.name(), t);
        };
        add(name("softcheck"), t, bytes,
            [=] { call_set(ours(), op, s, data<T>(s), data<T>(s).out.data()); });
        for (const softcheck_kernel_set *p : g_peers)
          if (softcheck::provides(*p, dtype_of<T>(), kAbiOp[o]))
            add(name(p->name), t, bytes,
                [=] { call_set(*p, op, s, data<T>(s), data<T>(s).out2.data()); });
        add(name("naive"), t, bytes, [=] {
          call_baseline(softcheck::bench::naive_fastmath<T>(s.rows), op, s, data<T>(s),
                        data<T>(s).out2.data());
        });
        add(name("eigen"), t, bytes, [=] {
          call_baseline(softcheck::bench::eigen_rows<T>(s.rows), op, s, data<T>(s),
                        data<T>(s).out2.data());
        });
        if constexpr (sizeof(T) == 4)
          if (op == kSoftmax && softcheck::bench::xnnpack_available())
            add(name("xnnpack"), t, bytes, [=] {
              Data<float> &d = data<float>(s);
              softcheck::bench::xnnpack_softmax(d.x.data(), d.out2.data(), s.rows, s.n, t);
            });
      }
    }
}

// A goal over many cells: met when every cell is; the worst cell is said.
struct Goal {
  explicit Goal(std::string w, double need, bool percent = false)
      : what(std::move(w)), need(need), percent(percent) {}
  std::string what;
  double need;
  bool percent;
  bool met = true, seen = false;
  double worst = 0, margin = 1e300; // the cell furthest below (or least above) its need
  std::string where;
  void see(double v, const std::string &at, double need_here = -1) {
    if (need_here < 0) need_here = need;
    seen = true;
    if (v - need_here < margin) margin = v - need_here, worst = v, where = at;
    met = met && v >= need_here;
  }
  std::string line() const {
    const std::string w =
        percent ? fmt::format("{:.0f}%", 100 * worst) : fmt::format("{:.2f}x", worst);
    return fmt::format("- {}: {} (worst {} at {})", what, met ? "met" : "NOT met", w, where);
  }
};

} // namespace

int main(int argc, char **argv) {
  std::vector<int> threads = {1, 2};
  bool f32 = true, f64 = true;
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
    if (a == "--threads" && i + 1 < argc) {
      threads = parse_threads(argv[++i]);
    } else if (a == "--dtype" && i + 1 < argc) {
      f32 = f64 = false;
      for (const std::string &d : split(argv[++i], ',')) {
        if (d == "f32" || d == "float32")
          f32 = true;
        else if (d == "f64" || d == "float64")
          f64 = true;
        else
          return std::fprintf(stderr, "softcheck_bench: --dtype takes f32, f64 or f32,f64\n"), 2;
      }
    } else if (a == "--markdown" && i + 1 < argc) {
      markdown = argv[++i];
    } else if (a == "--plugin" && i + 1 < argc) {
      plugins.push_back(argv[++i]);
    } else {
      args.push_back(argv[i]);
    }
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
  if (f32) register_dtype<float>(threads);
  if (f64) register_dtype<double>(threads);
  Collector collector;
  benchmark::RunSpecifiedBenchmarks(&collector);
  benchmark::Shutdown();

  // ------------------------------------------------------------ the table
  std::string md;
  auto line = [&](const std::string &l) { md += l + "\n"; };
  line(fmt::format("## softcheck bench: SIMD target {}, medians, GB/s = (bytes read + written) / "
                   "time",
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
  line(softcheck::bench::xnnpack_available()
           ? "- XNNPACK: f32 softmax, operator made and set up once outside the timed loop"
           : "- XNNPACK: skipped (libxnnpack-dev and libpthreadpool-dev are not installed; "
             "`make bench` installs them as root)");
  for (const auto *p : g_peers)
    if (std::string(p->name) != "pytorch" && std::string(p->name) != "onednn")
      line(fmt::format("- {}: measured through its plugin", p->name));
  line("");

  std::vector<std::string> impls = {"naive", "eigen", "xnnpack"};
  for (const auto *p : g_peers) impls.push_back(p->name);
  auto label = [](const std::string &impl) {
    return impl == "naive"     ? std::string("naive -ffast-math")
           : impl == "eigen"   ? std::string("Eigen per-row")
           : impl == "xnnpack" ? std::string("XNNPACK")
                               : impl;
  };
  auto roof = [&](const std::string &dt, const Size &s, int t) {
    return std::max(gbps("copy-memcpy", dt, "copy", s, t), gbps("copy-loop", dt, "copy", s, t));
  };
  Goal fastest("every op, 1 thread, every shape: >= 1.0x the fastest baseline", 1.0);
  Goal eigen13("every op, 1 thread, every shape: >= 1.3x Eigen", 1.3);
  Goal xnn10("softmax float32, 1 thread, every shape: >= 1.0x XNNPACK", 1.0);
  Goal roof50(
      "softmax, log_softmax, 1 thread, [256,32000] and [64,128000]: >= 50% of the copy roof", 0.5,
      true);
  Goal short13("every op, 1 thread, [4096,10] and [16384,128]: >= 1.3x the fastest baseline", 1.3);
  Goal naive64("float64, every op, 1 thread, every shape: >= 1.0x the naive double loop", 1.0);
  Goal scale16("2 threads vs 1, [256,32000] and [64,128000], every op: >= 1.6x (or the copy roof's "
               "own scaling where that is lower)",
               1.6);
  std::vector<std::string> different;
  std::vector<std::string> dtypes;
  if (f32) dtypes.push_back("float32");
  if (f64) dtypes.push_back("float64");
  for (const std::string &dt : dtypes)
    for (int t : threads) {
      line(fmt::format("### {}, {} thread{}", dt, t, t == 1 ? "" : "s"));
      line("");
      std::vector<std::string> cols;
      for (const auto &impl : impls)
        for (int o = 0; o < kOps; ++o)
          for (const Size &s : kSizes)
            if (gbps(impl, dt, kOpNames[o], s, t) > 0 &&
                std::find(cols.begin(), cols.end(), impl) == cols.end())
              cols.push_back(impl);
      std::string head = "| op | shape | softcheck GB/s | % of copy roof |",
                  rule = "|---|---|---:|---:|";
      for (const auto &c : cols) head += fmt::format(" {} |", label(c)), rule += "---:|";
      for (const auto &c : cols) head += fmt::format(" vs {} |", label(c)), rule += "---:|";
      line(head + " vs fastest |");
      line(rule + "---:|");
      for (int o = 0; o < kOps; ++o)
        for (const Size &s : kSizes) {
          const double g = gbps("softcheck", dt, kOpNames[o], s, t);
          if (g == 0) continue;
          const double r = roof(dt, s, t);
          double best = 0;
          std::vector<double> v;
          for (const auto &c : cols) {
            v.push_back(gbps(c, dt, kOpNames[o], s, t));
            best = std::max(best, v.back());
          }
          auto cell = [](double x) { return x > 0 ? fmt::format("{:.1f}", x) : std::string("-"); };
          auto ratio = [&](double x) {
            return x > 0 ? fmt::format("{:.2f}x", g / x) : std::string("-");
          };
          std::string row = fmt::format("| {} | {} | {:.1f} | {:.0f}% |", kOpNames[o], s.shown(), g,
                                        r > 0 ? 100 * g / r : 0.0);
          for (double x : v) row += " " + cell(x) + " |";
          for (double x : v) row += " " + ratio(x) + " |";
          line(row + " " + ratio(best) + " |");
          if (t != 1) continue;
          const std::string at = fmt::format("{} {} {}", dt, kOpNames[o], s.shown());
          if (best > 0) fastest.see(g / best, at);
          if (const double e = gbps("eigen", dt, kOpNames[o], s, t); e > 0) eigen13.see(g / e, at);
          if (const double x = gbps("xnnpack", dt, kOpNames[o], s, t); x > 0) xnn10.see(g / x, at);
          if (s.large() && (o == kSoftmax || o == kLogSoftmax) && r > 0) roof50.see(g / r, at);
          if (s.short_rows() && best > 0) short13.see(g / best, at);
          if (dt == "float64")
            if (const double nv = gbps("naive", dt, kOpNames[o], s, t); nv > 0)
              naive64.see(g / nv, at);
        }
      line("");
      std::string roofs = "| copy roof |";
      for (const Size &s : kSizes)
        roofs += fmt::format(" {}: {:.1f} GB/s |", s.shown(), roof(dt, s, t));
      line(roofs);
      line("");
    }
  if (threads.size() > 1) {
    const int t1 = threads.front(), t2 = threads[1];
    for (const std::string &dt : dtypes) {
      line(fmt::format("### {}: {} threads vs {}, softcheck's speedup, the copy roof's, and bits "
                       "compared",
                       dt, t2, t1));
      line("");
      line(fmt::format("| op | shape | speedup | copy roof's speedup | bits, {} vs {} threads |",
                       t1, t2));
      line("|---|---|---:|---:|---|");
      for (int o = 0; o < kOps; ++o)
        for (const Size &s : kSizes) {
          const double a = gbps("softcheck", dt, kOpNames[o], s, t1);
          const double b = gbps("softcheck", dt, kOpNames[o], s, t2);
          if (a == 0 || b == 0) continue;
          const bool same = dt == "float32" ? same_bits_across_threads<float>(Op(o), s, t2)
                                            : same_bits_across_threads<double>(Op(o), s, t2);
          const std::string at = fmt::format("{} {} {}", dt, kOpNames[o], s.shown());
          if (!same) different.push_back(at);
          const double ra = roof(dt, s, t1), rb = roof(dt, s, t2);
          const double roof_speedup = ra > 0 ? rb / ra : 0;
          line(fmt::format("| {} | {} | {:.2f}x | {:.2f}x | {} |", kOpNames[o], s.shown(), b / a,
                           roof_speedup, same ? "identical" : "DIFFERENT"));
          if (s.large() && t1 == 1 && t2 == 2)
            scale16.see(b / a, at, std::min(1.6, roof_speedup > 0 ? roof_speedup : 1.6));
        }
      line("");
    }
  }
  line("### Goals");
  line("");
  for (const Goal *g : {&fastest, &eigen13, &xnn10, &roof50, &short13, &naive64, &scale16})
    if (g->seen) line(g->line());
  if (threads.size() > 1) {
    std::string where;
    for (const auto &d : different) where += " " + d + ";";
    line(fmt::format("- bitwise identical for 1 and {} threads: {}", threads[1],
                     different.empty() ? "met (every dtype, op and shape)" : "NOT met:" + where));
  }
  std::fputs(("\n" + md).c_str(), stdout);
  if (!markdown.empty()) {
    const std::string tmp = markdown + ".tmp";
    std::FILE *f = std::fopen(tmp.c_str(), "w");
    bool ok = f && std::fputs(md.c_str(), f) >= 0;
    if (f && std::fclose(f) != 0) ok = false;
    if (!ok || std::rename(tmp.c_str(), markdown.c_str()) != 0) {
      std::remove(tmp.c_str());
      std::fprintf(stderr, "softcheck_bench: cannot write %s\n", markdown.c_str());
      return 2;
    }
  }
  return different.empty() ? 0 : 1;
}
