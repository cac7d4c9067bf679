// What confinement costs per call: the example's careful softmax called
// through the harness (guarded buffers), in this process and through the
// confined worker, for rows of 10 and 1000 classes.
//   build/bench/softcheck_bench_sandbox --benchmark_repetitions=5
//       --benchmark_report_aggregates_only=true
// (make bench-sandbox). The binary is its own sandbox process, as
// softcheck is.
#include <softcheck/case.hpp>
#include <softcheck/sandbox.hpp>

#include <benchmark/benchmark.h>

#include <string>
#include <vector>

namespace {

using softcheck::Case;

const softcheck_kernel_set &careful(bool in_process) {
  static const auto isolated = softcheck::sandbox::load(SOFTCHECK_EXAMPLE_PLUGIN, {});
  static const auto here = softcheck::sandbox::load_in_process(SOFTCHECK_EXAMPLE_PLUGIN);
  return *(in_process ? here : isolated)[1]; // the example's second set: careful
}

// args: classes, in process (1) or in the worker (0).
void BM_call(benchmark::State &state) {
  const softcheck_kernel_set &set = careful(state.range(1) == 1);
  Case<float> c;
  c.op = SOFTCHECK_OP_SOFTMAX;
  c.shape = {1, state.range(0), 1};
  c.x.assign(size_t(c.elems()), 0.5f);
  std::vector<float> out(size_t(c.elems()));
  for (auto _ : state) {
    benchmark::DoNotOptimize(softcheck::call(set, c, out.data()));
    benchmark::ClobberMemory();
  }
  state.SetLabel(state.range(1) ? "in process" : "confined worker");
}
BENCHMARK(BM_call)->ArgsProduct({{10, 1000}, {1, 0}})->Unit(benchmark::kMicrosecond);

} // namespace

int main(int argc, char **argv) {
  if (argc >= 2 && std::string(argv[1]) == "__sandbox")
    return softcheck::sandbox::sandbox_main(argc, argv);
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  softcheck::sandbox::shutdown();
  return 0;
}
