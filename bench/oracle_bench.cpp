// Oracle throughput: correctly rounded reference elements per second, per
// op, dtype and starting precision, on rows of N(0, 30) logits, C = 1000.
//   build/bench/softcheck_bench_oracle --benchmark_repetitions=5
//       --benchmark_report_aggregates_only=true
#include <softcheck/case.hpp>
#include <softcheck/oracle.hpp>

#include <benchmark/benchmark.h>

#include <random>
#include <type_traits>
#include <vector>

namespace {

using softcheck::Case;
namespace oracle = softcheck::oracle;

template <class T> Case<T> make_case(softcheck_op op) {
  std::mt19937_64 rng(1);
  std::normal_distribution<double> logit(0, 30), unit(0, 1);
  Case<T> c;
  c.op = op;
  c.shape = {16, 1000, 1};
  c.x.resize(size_t(c.elems()));
  for (T &v : c.x) v = T(logit(rng));
  c.aux.resize(c.x.size());
  for (T &v : c.aux) v = T(unit(rng));
  c.target.resize(size_t(c.rows()));
  for (size_t r = 0; r < c.target.size(); ++r) c.target[r] = int64_t(r * 37 % 1000);
  c.reduction = softcheck::Reduction::none;
  c.dout.assign(size_t(c.rows()), T(1));
  oracle::logits_to_forward_output(c); // the softmax backward ops take a forward output
  return c;
}

// args: op, start precision (0 = default), fast phase on/off.
template <class T> void BM_oracle(benchmark::State &state) {
  const auto op = softcheck_op(state.range(0));
  Case<T> c = make_case<T>(op);
  oracle::Config cfg;
  cfg.start_precision = state.range(1);
  cfg.fast = state.range(2) != 0;
  std::vector<T> out(size_t(c.output_count()));
  for (auto _ : state) {
    oracle::call(c, out.data(), cfg);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * c.elems());
  const char *dtype = std::is_same_v<T, float>             ? " f32"
                      : std::is_same_v<T, double>          ? " f64"
                      : std::is_same_v<T, softcheck::bf16> ? " bf16"
                                                           : " f16";
  state.SetLabel(std::string(softcheck_op_name(op)) + dtype + (cfg.fast ? " fast" : "") +
                 (cfg.start_precision ? " p=" + std::to_string(cfg.start_precision) : ""));
}

// fast_until: the last op with a fast phase in this dtype (-1: none).
void args(benchmark::internal::Benchmark *b, int fast_until) {
  for (int op = 0; op < SOFTCHECK_OP_COUNT; ++op) {
    b->Args({op, 0, 0});
    if (op <= fast_until) b->Args({op, 0, 1});
  }
  for (int64_t p : {256, 1024}) b->Args({SOFTCHECK_OP_SOFTMAX, p, 0});
  b->Unit(benchmark::kMillisecond)->MinTime(0.2);
}

// The fast phase covers every op of every format.
constexpr int kAll = SOFTCHECK_OP_COUNT - 1;
BENCHMARK(BM_oracle<float>)->Apply([](auto *b) { args(b, kAll); });
BENCHMARK(BM_oracle<double>)->Apply([](auto *b) { args(b, kAll); });
BENCHMARK(BM_oracle<softcheck::bf16>)->Apply([](auto *b) { args(b, kAll); });
BENCHMARK(BM_oracle<softcheck::f16>)->Apply([](auto *b) { args(b, kAll); });

} // namespace

BENCHMARK_MAIN();
