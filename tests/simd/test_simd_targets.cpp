// Every Highway target compiled in and supported here (AVX-512, AVX2, the
// portable fallback) gives the float and double kernels the same bits as
// the best one, and the built-in set's thread count never changes a bit:
// the summation order is fixed (float: 16 accumulators, a fixed tree,
// pieces of 4096 combined in order; double: 8 accumulators added in
// order, a row never split) and the portable target fuses its multiply-adds
// in software.
#include "simd.hpp"

#include <softcheck/kernels.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <type_traits>
#include <vector>

namespace {

template <class T> struct Input {
  softcheck_shape shape;
  std::vector<T> x, p, logp, dy;
  std::vector<int64_t> target;
};

// Rows of every length class (tails of 1..15, a whole block, several
// pieces), at several scales, with -inf, NaN, +inf, ties, all -inf rows.
template <class T> std::vector<Input<T>> inputs() {
  std::mt19937_64 rng(20261126);
  std::normal_distribution<T> normal(0, 1);
  const T inf = std::numeric_limits<T>::infinity();
  std::vector<Input<T>> out;
  const int64_t lengths[] = {1, 2, 7, 15, 16, 17, 33, 1000, 4096, 4097, 9000};
  const T scales[] = {1, 30, 1000};
  for (int64_t n : lengths)
    for (T scale : scales)
      for (int64_t rows : {int64_t(1), int64_t(3)}) {
        Input<T> in;
        in.shape = {rows, n, 1};
        const size_t e = size_t(rows * n);
        in.x.resize(e);
        in.dy.resize(e);
        for (T &v : in.x) v = scale * normal(rng);
        for (T &v : in.dy) v = normal(rng);
        if (n > 2) {
          in.x[1] = -inf;    // a masked logit
          in.x[2] = in.x[0]; // a tie
        }
        if (rows == 3 && n > 1) {
          in.x[size_t(n + 1)] = std::numeric_limits<T>::quiet_NaN();      // row 1: NaN
          for (int64_t c = 0; c < n; ++c) in.x[size_t(2 * n + c)] = -inf; // row 2: all -inf
        }
        in.target.resize(size_t(rows));
        for (auto &t : in.target) t = int64_t(rng() % uint64_t(n));
        in.p.resize(e);
        in.logp.resize(e);
        out.push_back(std::move(in));
      }
  Input<T> pos;
  pos.shape = {1, 5, 1};
  pos.x = {1, inf, 2, 3, 4};
  pos.dy = {1, 2, 3, 4, 5};
  pos.target = {0};
  pos.p.resize(5);
  pos.logp.resize(5);
  out.push_back(pos);
  return out;
}

// Every op of the set in T on every input, outputs concatenated.
template <class T>
std::vector<T> run_all(const softcheck_kernel_set &set, std::vector<Input<T>> &ins) {
  std::vector<T> all;
  const softcheck_ops &k = sizeof(T) == 4 ? set.f32 : set.f64;
  for (Input<T> &in : ins) {
    const size_t e = in.x.size(), rows = size_t(in.shape.outer);
    std::vector<T> y(e), r(rows);
    auto take = [&](const std::vector<T> &v) { all.insert(all.end(), v.begin(), v.end()); };
    REQUIRE(k.softmax(in.shape, in.x.data(), in.p.data()) == SOFTCHECK_OK);
    take(in.p);
    REQUIRE(k.log_softmax(in.shape, in.x.data(), in.logp.data()) == SOFTCHECK_OK);
    take(in.logp);
    REQUIRE(k.logsumexp(in.shape, in.x.data(), r.data()) == SOFTCHECK_OK);
    take(r);
    REQUIRE(k.softmax_backward(in.shape, in.p.data(), in.dy.data(), y.data()) == SOFTCHECK_OK);
    take(y);
    REQUIRE(k.log_softmax_backward(in.shape, in.logp.data(), in.dy.data(), y.data()) ==
            SOFTCHECK_OK);
    take(y);
    for (double smoothing : {0.0, 0.1}) {
      softcheck_loss_options none{0, -100, nullptr, smoothing}, mean{1, -100, nullptr, smoothing};
      REQUIRE(k.cross_entropy(in.shape, in.x.data(), in.target.data(), &none, r.data()) ==
              SOFTCHECK_OK);
      take(r);
      T one = 1;
      REQUIRE(k.cross_entropy_backward(in.shape, in.x.data(), in.target.data(), &mean, &one,
                                       y.data()) == SOFTCHECK_OK);
      take(y);
    }
  }
  return all;
}

template <class T> bool same_bits(const std::vector<T> &a, const std::vector<T> &b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0;
}

template <class T> size_t first_difference(const std::vector<T> &a, const std::vector<T> &b) {
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i)
    if (std::memcmp(&a[i], &b[i], sizeof(T)) != 0) return i;
  return std::min(a.size(), b.size());
}

} // namespace

TEST_CASE("every compiled SIMD target gives the same bits", "[simd]") {
  // Read once: each section ends pinned to the best target.
  static const std::vector<std::string> targets = softcheck::simd_targets();
  REQUIRE(!targets.empty());
  INFO("targets: " << [&] {
    std::string s;
    for (const auto &t : targets) s += t + " ";
    return s;
  }());
  // Two targets at least on any x86-64 CPU with AVX2 (the best and the
  // portable fallback); the CI machine has three.
  CHECK(targets.size() >= 2);
  const softcheck_kernel_set &set = softcheck::builtin_kernel_set();
  auto check = [&](auto ins) {
    REQUIRE(softcheck::simd::select_target(targets.front()));
    const auto best = run_all(set, ins);
    for (const std::string &t : targets) {
      REQUIRE(softcheck::simd::select_target(t));
      REQUIRE(softcheck::simd_target() == t);
      const auto got = run_all(set, ins);
      INFO(t << " vs " << targets.front() << ": first difference at output "
             << first_difference(got, best) << " of " << best.size());
      CHECK(same_bits(got, best));
    }
  };
  SECTION("float32") { check(inputs<float>()); }
  SECTION("float64") { check(inputs<double>()); }
  softcheck::simd::select_target(targets.front());
}

TEST_CASE("the thread count never changes a bit", "[simd]") {
  const softcheck_kernel_set &set = softcheck::builtin_kernel_set();
  auto check = [&](auto ins) {
    using T = std::decay_t<decltype(ins[0].x[0])>;
    // Inputs past the threads' grain (65536 elements): one long row (a
    // float row's pieces are spread over the threads) and 8 rows of 20000
    // (rows are).
    std::mt19937_64 rng(5);
    std::normal_distribution<T> normal(0, 10);
    for (softcheck_shape shape : {softcheck_shape{1, 200000, 1}, softcheck_shape{8, 20000, 1}}) {
      Input<T> big;
      big.shape = shape;
      const size_t e = size_t(shape.outer * shape.classes);
      big.x.resize(e);
      big.dy.resize(e);
      for (T &v : big.x) v = normal(rng);
      for (T &v : big.dy) v = normal(rng);
      big.p.resize(e);
      big.logp.resize(e);
      big.target.assign(size_t(shape.outer), 777);
      ins.push_back(big);
    }
    REQUIRE(set.set_num_threads(1) == SOFTCHECK_OK);
    const auto one = run_all(set, ins);
    for (int t : {2, 3, 8}) {
      REQUIRE(set.set_num_threads(t) == SOFTCHECK_OK);
      const auto got = run_all(set, ins);
      INFO(t << " threads: first difference at output " << first_difference(got, one));
      CHECK(same_bits(got, one));
    }
  };
  SECTION("float32") { check(inputs<float>()); }
  SECTION("float64") { check(inputs<double>()); }
  set.set_num_threads(1);
  CHECK(set.set_num_threads(0) != SOFTCHECK_OK);
}

TEST_CASE("a float row gives the same bits in every layout", "[simd]") {
  // The rows of [outer = 2, classes, inner = 3] against the same 6 rows laid
  // out [6, classes]: strided rows are gathered into the same vector path.
  const softcheck_kernel_set &set = softcheck::builtin_kernel_set();
  const softcheck_ops &k = set.f32;
  std::mt19937_64 rng(11);
  std::normal_distribution<float> normal(0, 20);
  for (int64_t n : {int64_t(1), int64_t(5), int64_t(17), int64_t(5000)}) {
    const softcheck_shape flat{6, n, 1}, strided{2, n, 3};
    std::vector<float> xf(size_t(6 * n)), dyf(xf.size()), xs(xf.size()), dys(xf.size());
    for (size_t i = 0; i < xf.size(); ++i) xf[i] = normal(rng), dyf[i] = normal(rng) / 20;
    // row r = o * 3 + i of the strided tensor is row r of the flat one.
    auto at = [&](int64_t r, int64_t c) { return size_t((r / 3 * n + c) * 3 + r % 3); };
    for (int64_t r = 0; r < 6; ++r)
      for (int64_t c = 0; c < n; ++c)
        xs[at(r, c)] = xf[size_t(r * n + c)], dys[at(r, c)] = dyf[size_t(r * n + c)];
    std::vector<int64_t> t = {0, n - 1, n / 2, 0, n - 1, n / 3};
    std::vector<float> yf(xf.size()), ys(xf.size()), lf(6), ls(6);
    auto same_rows = [&](const char *what) {
      INFO(what << ", " << n << " classes");
      for (int64_t r = 0; r < 6; ++r)
        for (int64_t c = 0; c < n; ++c)
          CHECK(std::memcmp(&yf[size_t(r * n + c)], &ys[at(r, c)], sizeof(float)) == 0);
    };
    REQUIRE(k.softmax(flat, xf.data(), yf.data()) == SOFTCHECK_OK);
    REQUIRE(k.softmax(strided, xs.data(), ys.data()) == SOFTCHECK_OK);
    same_rows("softmax");
    REQUIRE(k.log_softmax(flat, xf.data(), yf.data()) == SOFTCHECK_OK);
    REQUIRE(k.log_softmax(strided, xs.data(), ys.data()) == SOFTCHECK_OK);
    same_rows("log_softmax");
    REQUIRE(k.logsumexp(flat, xf.data(), lf.data()) == SOFTCHECK_OK);
    REQUIRE(k.logsumexp(strided, xs.data(), ls.data()) == SOFTCHECK_OK);
    CHECK(std::memcmp(lf.data(), ls.data(), 6 * sizeof(float)) == 0); // [2, 3] is row-major in r
    softcheck_loss_options none{0, -100, nullptr, 0.1};
    REQUIRE(k.cross_entropy(flat, xf.data(), t.data(), &none, lf.data()) == SOFTCHECK_OK);
    std::vector<int64_t> ts(6);
    for (int64_t r = 0; r < 6; ++r) ts[size_t(r)] = t[size_t(r)]; // targets [2, 3]: row-major in r
    REQUIRE(k.cross_entropy(strided, xs.data(), ts.data(), &none, ls.data()) == SOFTCHECK_OK);
    CHECK(std::memcmp(lf.data(), ls.data(), 6 * sizeof(float)) == 0);
    const float one = 1;
    softcheck_loss_options sum{2, -100, nullptr, 0.1};
    REQUIRE(k.cross_entropy_backward(flat, xf.data(), t.data(), &sum, &one, yf.data()) ==
            SOFTCHECK_OK);
    REQUIRE(k.cross_entropy_backward(strided, xs.data(), ts.data(), &sum, &one, ys.data()) ==
            SOFTCHECK_OK);
    same_rows("cross_entropy_backward");
  }
}
