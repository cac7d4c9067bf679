// The built-in half kernels against the built-in float32 kernels, in one
// run: the same op, shape and logits (every bf16 / f16 value is a float),
// one thread, elements per second. `make bench` runs it after the main
// table, with the runs interleaved at random (a noisy machine slows every
// dtype alike), and it ends with the figure to read: per op and shape, the
// half kernel's median elements per second over float32's (1 or more: at
// least as fast per element).
#include <softcheck/kernels.hpp>

#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdio>
#include <iterator>
#include <map>
#include <random>
#include <string>
#include <vector>

namespace {

using softcheck::bf16;
using softcheck::f16;

struct Size {
  int64_t rows, classes;
  std::string name() const { return std::to_string(rows) + "x" + std::to_string(classes); }
};
// Long rows (several blocks of a piece), medium rows (the one-piece row
// path) and short rows (one row per vector lane).
const Size kSizes[] = {{256, 1024}, {2048, 128}, {16384, 16}};

template <class T> struct Data {
  std::vector<T> x, y, dy, out;
  std::vector<int64_t> target;
  explicit Data(Size s) {
    const size_t n = size_t(s.rows * s.classes);
    std::mt19937_64 rng(7);
    std::normal_distribution<float> logit(0, 2), grad(0, 1);
    x.resize(n);
    dy.resize(n);
    y.resize(n);
    out.resize(n);
    for (auto &v : x) v = T(logit(rng));
    for (auto &v : dy) v = T(grad(rng));
    target.resize(size_t(s.rows));
    for (auto &t : target) t = int64_t(rng() % uint64_t(s.classes));
    softcheck::softmax<T>({s.rows, s.classes, 1}, x.data(), y.data());
  }
};

template <class T> Data<T> &data(Size s) {
  static std::map<std::string, Data<T>> all;
  auto it = all.find(s.name());
  if (it == all.end()) it = all.emplace(s.name(), Data<T>(s)).first;
  return it->second;
}

const char *const kOps[] = {"softmax", "log_softmax", "logsumexp", "cross_entropy",
                            "softmax_backward"};
const char *const kDtypes[] = {"f32", "bf16", "f16"};

template <class T> void run(benchmark::State &state, int op, Size size) {
  softcheck::builtin_kernel_set().set_num_threads(1);
  Data<T> &d = data<T>(size);
  const softcheck::Shape s{size.rows, size.classes, 1};
  softcheck::LossOptions<T> none;
  none.reduction = softcheck::Reduction::none;
  for (auto _ : state) {
    softcheck_status st = SOFTCHECK_OK;
    switch (op) {
    case 0: st = softcheck::softmax<T>(s, d.x.data(), d.out.data()); break;
    case 1: st = softcheck::log_softmax<T>(s, d.x.data(), d.out.data()); break;
    case 2: st = softcheck::logsumexp<T>(s, d.x.data(), d.out.data()); break;
    case 3:
      st = softcheck::cross_entropy<T>(s, d.x.data(), d.target.data(), none, d.out.data());
      break;
    default: st = softcheck::softmax_backward<T>(s, d.y.data(), d.dy.data(), d.out.data()); break;
    }
    if (st != SOFTCHECK_OK) state.SkipWithError(softcheck_status_name(st));
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(int64_t(state.iterations()) * size.rows * size.classes);
}

// Median elements per second by "dtype/op/size" (the benchmark's name).
std::map<std::string, double> g_median;

class Collector : public benchmark::ConsoleReporter {
public:
  void ReportRuns(const std::vector<Run> &runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const Run &r : runs) {
      const bool single = r.run_type != Run::RT_Aggregate && r.repetitions <= 1;
      if (!single && !(r.run_type == Run::RT_Aggregate && r.aggregate_name == "median")) continue;
      auto it = r.counters.find("items_per_second");
      if (it != r.counters.end()) g_median[r.run_name.function_name] = it->second.value;
    }
  }
};

// The ratio table, and the goal (every ratio at least 1) met or not.
void print_ratios() {
  std::printf("\nHalf kernels against float32, one thread: median elements/s of the half kernel"
              " over float32's\n(1 or more: at least as fast per element)\n\n");
  std::printf("| op | shape | f32 Melem/s | bf16 | f16 |\n|---|---|---|---|---|\n");
  double worst = 1e300;
  std::string worst_at;
  int cells = 0, met = 0;
  for (const char *op : kOps)
    for (const Size &s : kSizes) {
      const auto base = g_median.find(std::string("f32/") + op + "/" + s.name());
      if (base == g_median.end() || base->second <= 0) continue;
      std::printf("| %s | %s | %.0f |", op, s.name().c_str(), base->second / 1e6);
      for (const char *dt : {"bf16", "f16"}) {
        const auto it = g_median.find(std::string(dt) + "/" + op + "/" + s.name());
        if (it == g_median.end()) {
          std::printf(" - |");
          continue;
        }
        const double ratio = it->second / base->second;
        std::printf(" %.2f |", ratio);
        ++cells;
        met += ratio >= 1;
        if (ratio < worst) worst = ratio, worst_at = std::string(dt) + " " + op + " " + s.name();
      }
      std::printf("\n");
    }
  if (cells == 0) return;
  std::printf("\nGoal, at least as fast per element as float32: %s (%d of %d cells; worst %.2f,"
              " %s)\n",
              met == cells ? "met" : "not met", met, cells, worst, worst_at.c_str());
}

} // namespace

int main(int argc, char **argv) {
  for (int op = 0; op < int(std::size(kOps)); ++op)
    for (const Size &s : kSizes)
      for (int dt = 0; dt < 3; ++dt) {
        const std::string name = std::string(kDtypes[dt]) + "/" + kOps[op] + "/" + s.name();
        auto *b = benchmark::RegisterBenchmark(name.c_str(), [=](benchmark::State &st) {
          dt == 0 ? run<float>(st, op, s) : dt == 1 ? run<bf16>(st, op, s) : run<f16>(st, op, s);
        });
        b->UseRealTime();
      }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  Collector reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  print_ratios();
  return 0;
}
