// The built-in half kernels against the built-in float32 kernels, in one
// run: the same op, shape and logits (every bf16 / f16 value is a float),
// one thread, elements per second. `make bench` runs it after the main
// table; the ratio half / float32 per op is the figure to read.
#include <softcheck/kernels.hpp>

#include <benchmark/benchmark.h>

#include <cstdint>
#include <random>
#include <vector>

namespace {

using softcheck::bf16;
using softcheck::f16;

constexpr int64_t kRows = 256, kClasses = 1024;

template <class T> struct Data {
  std::vector<T> x, y, dy, out;
  std::vector<int64_t> target;
  Data() {
    const size_t n = size_t(kRows * kClasses);
    std::mt19937_64 rng(7);
    std::normal_distribution<float> logit(0, 2), grad(0, 1);
    x.resize(n);
    dy.resize(n);
    y.resize(n);
    out.resize(n);
    for (auto &v : x) v = T(logit(rng));
    for (auto &v : dy) v = T(grad(rng));
    target.resize(size_t(kRows));
    for (auto &t : target) t = int64_t(rng() % uint64_t(kClasses));
    softcheck::softmax<T>({kRows, kClasses, 1}, x.data(), y.data());
  }
};

template <class T> Data<T> &data() {
  static Data<T> d;
  return d;
}

enum Op { kSoftmax, kLogSoftmax, kLogsumexp, kCrossEntropy, kSoftmaxBwd };

template <class T> void run(benchmark::State &state, Op op) {
  softcheck::builtin_kernel_set().set_num_threads(1);
  Data<T> &d = data<T>();
  const softcheck::Shape s{kRows, kClasses, 1};
  softcheck::LossOptions<T> none;
  none.reduction = softcheck::Reduction::none;
  for (auto _ : state) {
    softcheck_status st = SOFTCHECK_OK;
    switch (op) {
    case kSoftmax: st = softcheck::softmax<T>(s, d.x.data(), d.out.data()); break;
    case kLogSoftmax: st = softcheck::log_softmax<T>(s, d.x.data(), d.out.data()); break;
    case kLogsumexp: st = softcheck::logsumexp<T>(s, d.x.data(), d.out.data()); break;
    case kCrossEntropy:
      st = softcheck::cross_entropy<T>(s, d.x.data(), d.target.data(), none, d.out.data());
      break;
    case kSoftmaxBwd:
      st = softcheck::softmax_backward<T>(s, d.y.data(), d.dy.data(), d.out.data());
      break;
    }
    if (st != SOFTCHECK_OK) state.SkipWithError(softcheck_status_name(st));
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(int64_t(state.iterations()) * kRows * kClasses);
}

void f32(benchmark::State &state, Op op) { run<float>(state, op); }
void bf16_(benchmark::State &state, Op op) { run<bf16>(state, op); }
void f16_(benchmark::State &state, Op op) { run<f16>(state, op); }

#define SOFTCHECK_HALF_BENCH(OP, NAME)                                                             \
  BENCHMARK_CAPTURE(f32, NAME, OP)->UseRealTime();                                                 \
  BENCHMARK_CAPTURE(bf16_, NAME, OP)->UseRealTime();                                               \
  BENCHMARK_CAPTURE(f16_, NAME, OP)->UseRealTime();
SOFTCHECK_HALF_BENCH(kSoftmax, softmax)
SOFTCHECK_HALF_BENCH(kLogSoftmax, log_softmax)
SOFTCHECK_HALF_BENCH(kLogsumexp, logsumexp)
SOFTCHECK_HALF_BENCH(kCrossEntropy, cross_entropy)
SOFTCHECK_HALF_BENCH(kSoftmaxBwd, softmax_backward)

} // namespace

BENCHMARK_MAIN();
