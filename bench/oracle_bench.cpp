// Oracle throughput: correctly rounded reference elements per second, per
// op and dtype, with the fast phase and with the interval path alone (what
// an output the fast phase hands on costs), on rows of N(0, 30) logits,
// C = 1000; then per input regime, the share of outputs the fast phase
// settled (counter `settled`) and the rate.
//   build/bench/softcheck_bench_oracle --benchmark_repetitions=3
//       --benchmark_report_aggregates_only=true
#include <softcheck/case.hpp>
#include <softcheck/oracle.hpp>

#include <benchmark/benchmark.h>

#include <cmath>
#include <limits>
#include <random>
#include <type_traits>
#include <vector>

namespace {

using softcheck::Case;
namespace oracle = softcheck::oracle;

// The input regimes: the logits of each row.
enum Regime {
  normal30,  // N(0, 30)
  normal1,   // N(0, 1)
  wide,      // N(0, 1000): nearly one-hot rows
  ties,      // round(N(0, 2)): many equal logits
  near_max,  // within 1% of the format's largest value
  underflow, // -U(0, 800): outputs down to double's subnormal range
  masked,    // 40% -inf, the rest N(0, 5)
  regime_count,
};
const char *const regime_names[] = {"normal30", "normal1",   "wide",  "ties",
                                    "near_max", "underflow", "masked"};

template <class T> double max_of() { return double(float(std::numeric_limits<T>::max())); }
template <> double max_of<double>() { return std::numeric_limits<double>::max(); }

template <class T> Case<T> make_case(softcheck_op op, Regime g) {
  std::mt19937_64 rng(1);
  std::normal_distribution<double> unit(0, 1);
  std::uniform_real_distribution<double> uniform(0, 1);
  Case<T> c;
  c.op = op;
  c.shape = {16, 1000, 1};
  c.x.resize(size_t(c.elems()));
  for (T &v : c.x) {
    double x = 0;
    switch (g) {
    case normal30: x = 30 * unit(rng); break;
    case normal1: x = unit(rng); break;
    case wide: x = 1000 * unit(rng); break;
    case ties: x = std::round(2 * unit(rng)); break;
    case near_max: x = max_of<T>() * (1 - 0.01 * uniform(rng)); break;
    case underflow: x = -800 * uniform(rng); break;
    default: x = uniform(rng) < 0.4 ? -INFINITY : 5 * unit(rng); break;
    }
    v = T(x);
  }
  c.aux.resize(c.x.size());
  for (T &v : c.aux) v = T(unit(rng));
  c.target.resize(size_t(c.rows()));
  for (size_t r = 0; r < c.target.size(); ++r) c.target[r] = int64_t(r * 37 % 1000);
  if (g == masked) // a target on a finite logit
    for (size_t r = 0; r < c.target.size(); ++r)
      for (int64_t k = 0; k < c.shape.classes; ++k)
        if (!std::isinf(double(float(c.x[r * size_t(c.shape.classes) + size_t(k)])))) {
          c.target[r] = k;
          break;
        }
  c.reduction = softcheck::Reduction::none;
  c.dout.assign(size_t(c.rows()), T(1));
  oracle::logits_to_forward_output(c); // the softmax backward ops take a forward output
  return c;
}

template <class T> const char *dtype_name() {
  return std::is_same_v<T, float>             ? " f32"
         : std::is_same_v<T, double>          ? " f64"
         : std::is_same_v<T, softcheck::bf16> ? " bf16"
                                              : " f16";
}

// args: op, regime, fast phase on/off.
template <class T> void BM_oracle(benchmark::State &state) {
  const auto op = softcheck_op(state.range(0));
  const auto g = Regime(state.range(1));
  Case<T> c = make_case<T>(op, g);
  oracle::Stats stats;
  oracle::Config cfg;
  cfg.fast = state.range(2) != 0;
  cfg.stats = &stats;
  std::vector<T> out(size_t(c.output_count()));
  for (auto _ : state) {
    oracle::call(c, out.data(), cfg);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * c.elems());
  const double computed = double(stats.fast_outputs + stats.interval_outputs);
  if (cfg.fast && computed > 0) state.counters["settled"] = double(stats.fast_outputs) / computed;
  state.SetLabel(std::string(softcheck_op_name(op)) + dtype_name<T>() + " " + regime_names[g] +
                 (cfg.fast ? " fast" : " intervals"));
}

// Every op at N(0, 30), fast and intervals alone; then the other regimes
// with the fast phase.
void args(benchmark::internal::Benchmark *b) {
  for (int op = 0; op < SOFTCHECK_OP_COUNT; ++op) {
    b->Args({op, normal30, 1});
    b->Args({op, normal30, 0});
  }
  for (int g = normal1; g < regime_count; ++g)
    for (int op = 0; op < SOFTCHECK_OP_COUNT; ++op) b->Args({op, g, 1});
  b->Unit(benchmark::kMillisecond)->MinTime(0.1);
}

BENCHMARK(BM_oracle<float>)->Apply(args);
BENCHMARK(BM_oracle<double>)->Apply(args);
BENCHMARK(BM_oracle<softcheck::bf16>)->Apply(args);
BENCHMARK(BM_oracle<softcheck::f16>)->Apply(args);

} // namespace

BENCHMARK_MAIN();
