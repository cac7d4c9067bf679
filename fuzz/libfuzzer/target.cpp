// softcheck fuzz, engine 2: a libFuzzer target. Raw bytes become an op, a
// dtype (f32, f64, bf16 or f16), a shape, loss options and the values (a
// palette of special values or raw bit patterns), and the op runs through the plugin ABI table of
// the set under test (the built-in set, or SOFTCHECK_FUZZ_PLUGIN and SOFTCHECK_FUZZ_SET). Checked
// on every call, beyond the sanitizers' own:
//   - no write outside the output: guard zones of a known pattern on both
//     sides of the output buffer, compared after the call;
//   - inputs unchanged, bitwise;
//   - the cheap exact invariants of the property suite: softmax in [0, 1],
//     log_softmax <= 0, logsumexp >= the row's max.
// A failed check prints one line naming it and aborts, so libFuzzer keeps
// the input; replay_main.cpp runs saved inputs without libFuzzer.
#include "target.hpp"

#include <softcheck/case.hpp>
#include <softcheck/host.hpp>
#include <softcheck/kernels.hpp>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

namespace {

using namespace softcheck;

struct Reader {
  const uint8_t *p;
  size_t n;
  uint8_t byte() {
    if (n == 0) return 0;
    --n;
    return *p++;
  }
  template <class T> T value() {
    using L = std::numeric_limits<T>;
    const uint8_t k = byte();
    // Around where exp overflows and underflows in the format (f16: past
    // 11.09 and below -17.33; bf16 has float's range).
    static const double palette[] = {0, -0.0, 1, -1, 2, 3, 88.72, -103.9, 745.1, -746, 1e-30, 1e30};
    static const double f16_palette[] = {0,     -0.0,   1,     -1,   2,    3,
                                         11.09, -17.33, 65504, -6e4, 1e-5, 3e4};
    if (k < 12) return T(std::is_same_v<T, f16> ? f16_palette[k] : palette[k]);
    switch (k) {
    case 12: return L::infinity();
    case 13: return -L::infinity();
    case 14: return L::quiet_NaN();
    case 15: return L::max();
    case 16: return -L::max();
    case 17: return L::min();
    case 18: return L::denorm_min();
    default: break;
    }
    if (k < 128) return T(int(k) - 72); // small integers: ties
    T v;
    uint8_t raw[sizeof(T)] = {};
    for (uint8_t &b : raw) b = byte();
    std::memcpy(&v, raw, sizeof v);
    return v;
  }
};

const softcheck_kernel_set *target_set() {
  static const softcheck_kernel_set *set = [] {
    static Registry registry;
    const char *plugin = std::getenv("SOFTCHECK_FUZZ_PLUGIN");
    const char *name = std::getenv("SOFTCHECK_FUZZ_SET");
    if (plugin == nullptr || *plugin == '\0') return &builtin_kernel_set();
    const std::string err = registry.load(plugin);
    if (!err.empty()) {
      std::fprintf(stderr, "softcheck fuzz target: %s\n", err.c_str());
      std::exit(2);
    }
    for (const KernelSetRef &ref : registry.sets())
      if (name == nullptr || *name == '\0' || std::string(name) == ref.set->name) return ref.set;
    std::fprintf(stderr, "softcheck fuzz target: no set '%s' in %s\n", name, plugin);
    std::exit(2);
  }();
  return set;
}

[[noreturn]] void fail(const std::string &what, softcheck_op op, const char *dtype, Shape s) {
  std::fprintf(stderr, "softcheck fuzz target: %s (op %s, %s, shape [%lld, %lld, %lld])\n",
               what.c_str(), softcheck_op_name(op), dtype, (long long)s.outer, (long long)s.classes,
               (long long)s.inner);
  std::abort();
}

constexpr int64_t kGuard = 16; // elements on each side of the output
constexpr uint8_t kPattern = 0xA5;

template <class T> void run(Reader &in, softcheck_op op) {
  const char *dtype = softcheck_dtype_name(dtype_of<T>);
  Case<T> c;
  c.op = op;
  c.shape = {in.byte() % 4, in.byte() % 40, 1 + in.byte() % 3};
  const uint8_t flags = in.byte();
  c.reduction = Reduction(flags % 3);
  static const double smoothing[] = {0, 0.1, 1, 0.5};
  c.label_smoothing = smoothing[(flags >> 2) & 3];
  const int64_t K = c.shape.classes, rows = c.rows(), n = c.elems();
  for (int64_t i = 0; i < n; ++i) c.x.push_back(in.value<T>());
  for (int64_t i = 0; i < n; ++i) c.aux.push_back(in.value<T>());
  if (flags & 16)
    for (int64_t k = 0; k < K; ++k) c.weight.push_back(std::abs(in.value<T>()));
  for (int64_t r = 0; r < rows; ++r) {
    const uint8_t t = in.byte();
    c.target.push_back(t == 255 ? c.ignore_index : K > 0 ? t % K : 0);
  }
  c.dout.assign(size_t(c.reduction == Reduction::none ? rows : 1), T(1));
  if (flags & 32)
    for (T &d : c.dout) d = in.value<T>();

  // The output between two guard zones; inputs copied for the comparison.
  const int64_t out_n = c.output_count();
  std::vector<T> buffer(size_t(out_n + 2 * kGuard));
  std::memset(buffer.data(), kPattern, buffer.size() * sizeof(T));
  const Case<T> before = c;
  // The case's own vectors (ASan watches them) and the zones above: the
  // harness's page-guarded copies would turn these checks into a crash.
  const Status st = call(ops_of<T>(*target_set()), c, data_of(c), buffer.data() + kGuard);
  const auto *bytes = reinterpret_cast<const uint8_t *>(buffer.data());
  for (int64_t i = 0; i < int64_t(buffer.size()); ++i) {
    if (i >= kGuard && i < kGuard + out_n) continue;
    for (size_t b = 0; b < sizeof(T); ++b)
      if (bytes[size_t(i) * sizeof(T) + b] != kPattern)
        fail(i < kGuard
                 ? "wrote before the start of its output, element " + std::to_string(i - kGuard)
                 : "wrote past the end of its output (" + std::to_string(out_n) +
                       " elements), element " + std::to_string(i - kGuard),
             op, dtype, c.shape);
  }
  auto same = [](const std::vector<T> &a, const std::vector<T> &b) {
    return a.size() == b.size() &&
           (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0);
  };
  if (!same(c.x, before.x) || !same(c.aux, before.aux) || !same(c.weight, before.weight) ||
      !same(c.dout, before.dout) || c.target != before.target)
    fail("changed one of its inputs", op, dtype, c.shape);
  if (st != SOFTCHECK_OK) return;
  const T *y = buffer.data() + kGuard;
  for (int64_t i = 0; i < out_n; ++i) {
    if (std::isnan(y[i])) continue;
    if (op == SOFTCHECK_OP_SOFTMAX && !(y[i] >= 0 && y[i] <= 1))
      fail("softmax output " + std::to_string(double(y[i])) + " outside [0, 1]", op, dtype,
           c.shape);
    if (op == SOFTCHECK_OP_LOG_SOFTMAX && y[i] > 0)
      fail("log_softmax output " + std::to_string(double(y[i])) + " > 0", op, dtype, c.shape);
    if (op == SOFTCHECK_OP_LOGSUMEXP) {
      T mx = -std::numeric_limits<T>::infinity();
      bool nan = false;
      for (int64_t k = 0; k < K; ++k) {
        const T v = c.x[size_t((i / c.shape.inner * K + k) * c.shape.inner + i % c.shape.inner)];
        nan = nan || std::isnan(v);
        mx = std::max(mx, v);
      }
      if (!nan && y[i] < mx)
        fail("logsumexp " + std::to_string(double(y[i])) + " below the row's max", op, dtype,
             c.shape);
    }
  }
}

} // namespace

int softcheck_fuzz_one(const uint8_t *data, size_t size) {
  Reader in{data, size};
  const softcheck_op op = softcheck_op(in.byte() % SOFTCHECK_OP_COUNT);
  switch (in.byte() & 3) {
  case 0: run<float>(in, op); break;
  case 1: run<double>(in, op); break;
  case 2: run<bf16>(in, op); break;
  default: run<f16>(in, op); break;
  }
  return 0;
}
