// Every Highway target compiled in and supported here (AVX-512, AVX2, the
// portable fallback) gives the float and double kernels the same bits as
// the best one, and the built-in set's thread count never changes a bit:
// the summation order is fixed (float: 16 accumulators, a fixed tree,
// pieces of 4096 combined in order; double: 8 accumulators added in
// order, a row never split) and the portable target fuses its multiply-adds
// in software.
#include "half_convert.hpp"
#include "simd.hpp"

#include <softcheck/kernels.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
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

// A random input of `shape`: x and dy normal, one -inf, one NaN and a tie
// (rows of 2 or more), a target per row.
Input<float> random_input(softcheck_shape shape, std::mt19937_64 &rng) {
  std::normal_distribution<float> normal(0, 3);
  Input<float> in;
  in.shape = shape;
  const int64_t n = shape.classes, rows = shape.outer * shape.inner;
  const size_t e = size_t(rows * n);
  for (auto *v : {&in.x, &in.dy, &in.p, &in.logp}) v->resize(e);
  for (size_t i = 0; i < e; ++i) in.x[i] = normal(rng), in.dy[i] = normal(rng) / 4;
  if (n > 1 && e > 9) {
    in.x[1] = -std::numeric_limits<float>::infinity();
    in.x[e / 2] = std::numeric_limits<float>::quiet_NaN();
    in.x[e - 1] = in.x[e - 2]; // a tie in a contiguous row's last two
  }
  in.target.resize(size_t(rows));
  for (auto &t : in.target) t = int64_t(rng() % uint64_t(n));
  return in;
}

// An input rounded to a half format H.
template <class H> Input<H> to_half(const Input<float> &in) {
  auto to = [](const std::vector<float> &v) {
    std::vector<H> h(v.size());
    for (size_t i = 0; i < v.size(); ++i) h[i] = H(v[i]);
    return h;
  };
  return {in.shape, to(in.x), to(in.p), to(in.logp), to(in.dy), in.target};
}

// inputs<float>() rounded to a half format H (every row kind kept: the
// scales stay inside f16's range), and many rows in lanes: whole groups of
// rows and a partial last one. Contiguous rows only (run_all's outputs).
template <class H> std::vector<Input<H>> half_inputs() {
  std::vector<Input<float>> fs = inputs<float>();
  std::mt19937_64 rng(20261203);
  for (int64_t n : {int64_t(5), int64_t(16), int64_t(31), int64_t(32)})
    fs.push_back(random_input({37, n, 1}, rng));
  std::vector<Input<H>> out;
  for (const Input<float> &in : fs) out.push_back(to_half<H>(in));
  return out;
}

template <class T> const softcheck_ops &ops_of(const softcheck_kernel_set &set) {
  if constexpr (std::is_same_v<T, float>)
    return set.f32;
  else if constexpr (std::is_same_v<T, double>)
    return set.f64;
  else if constexpr (std::is_same_v<T, softcheck::bf16>)
    return set.bf16;
  else
    return set.f16;
}

// Every op of the set in T on every input, outputs concatenated.
template <class T>
std::vector<T> run_all(const softcheck_kernel_set &set, std::vector<Input<T>> &ins) {
  std::vector<T> all;
  const softcheck_ops &k = ops_of<T>(set);
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
  SECTION("bf16") { check(half_inputs<softcheck::bf16>()); }
  SECTION("f16") { check(half_inputs<softcheck::f16>()); }
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
    std::normal_distribution<softcheck::compute_t<T>> normal(0, 10);
    for (softcheck_shape shape : {softcheck_shape{1, 200000, 1}, softcheck_shape{8, 20000, 1}}) {
      Input<T> big;
      big.shape = shape;
      const size_t e = size_t(shape.outer * shape.classes);
      big.x.resize(e);
      big.dy.resize(e);
      for (T &v : big.x) v = T(normal(rng));
      for (T &v : big.dy) v = T(normal(rng));
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
  SECTION("bf16") { check(half_inputs<softcheck::bf16>()); }
  SECTION("f16") { check(half_inputs<softcheck::f16>()); }
  set.set_num_threads(1);
  CHECK(set.set_num_threads(0) != SOFTCHECK_OK);
}

namespace {

// The half kernels against the float32 kernels on widened copies, outputs
// rounded to H (the contract of half_kernels.cpp: the rows the half arrays
// go through in lanes must give these bits), on every input of
// half_inputs and on every target; a NaN matches any NaN (its payload
// follows operand order, simd.hpp).
template <class H> void half_calls_match_float_calls() {
  const softcheck_kernel_set &set = softcheck::builtin_kernel_set();
  const softcheck_ops &h = ops_of<H>(set), &f = set.f32;
  auto wide = [](const std::vector<H> &v) {
    std::vector<float> w(v.size());
    for (size_t i = 0; i < v.size(); ++i) w[i] = float(v[i]);
    return w;
  };
  std::vector<Input<H>> ins = half_inputs<H>();
  // Strided rows ([2, n, 3]): the float copies of the softmax family, the
  // gathered rows of the losses.
  std::mt19937_64 rng(7);
  for (int64_t n : {int64_t(5), int64_t(40), int64_t(1000)})
    ins.push_back(to_half<H>(random_input({2, n, 3}, rng)));
  for (Input<H> &in : ins) {
    const size_t e = in.x.size(), rows = size_t(in.shape.outer * in.shape.inner);
    auto same = [&](const char *what, const std::vector<H> &got, const std::vector<float> &want) {
      INFO(what << " on [" << rows << ", " << in.shape.classes << "], " << H::mantissa_bits
                << " stored bits");
      size_t bad = got.size();
      for (size_t i = 0; i < got.size() && bad == got.size(); ++i)
        if (!(std::isnan(float(got[i])) && std::isnan(want[i])) && got[i].bits_ != H(want[i]).bits_)
          bad = i;
      INFO("first difference at output " << bad << " of " << got.size());
      CHECK(bad == got.size());
    };
    const std::vector<float> xf = wide(in.x), dyf = wide(in.dy);
    std::vector<H> y(e), r(rows);
    std::vector<float> yf(e), rf(rows);
    REQUIRE(h.softmax(in.shape, in.x.data(), y.data()) == SOFTCHECK_OK);
    REQUIRE(f.softmax(in.shape, xf.data(), yf.data()) == SOFTCHECK_OK);
    same("softmax", y, yf);
    const std::vector<H> p = y;
    REQUIRE(h.log_softmax(in.shape, in.x.data(), y.data()) == SOFTCHECK_OK);
    REQUIRE(f.log_softmax(in.shape, xf.data(), yf.data()) == SOFTCHECK_OK);
    same("log_softmax", y, yf);
    const std::vector<H> logp = y;
    REQUIRE(h.logsumexp(in.shape, in.x.data(), r.data()) == SOFTCHECK_OK);
    REQUIRE(f.logsumexp(in.shape, xf.data(), rf.data()) == SOFTCHECK_OK);
    same("logsumexp", r, rf);
    REQUIRE(h.softmax_backward(in.shape, p.data(), in.dy.data(), y.data()) == SOFTCHECK_OK);
    REQUIRE(f.softmax_backward(in.shape, wide(p).data(), dyf.data(), yf.data()) == SOFTCHECK_OK);
    same("softmax_backward", y, yf);
    REQUIRE(h.log_softmax_backward(in.shape, logp.data(), in.dy.data(), y.data()) == SOFTCHECK_OK);
    REQUIRE(f.log_softmax_backward(in.shape, wide(logp).data(), dyf.data(), yf.data()) ==
            SOFTCHECK_OK);
    same("log_softmax_backward", y, yf);
    // The class-index losses (inputs read in place), every reduction,
    // with and without smoothing and class weights.
    std::vector<H> w(size_t(in.shape.classes));
    for (size_t k = 0; k < w.size(); ++k) w[k] = H(0.25f + float(k % 7) / 4);
    const std::vector<float> wf = wide(w);
    for (int reduction : {0, 1, 2})
      for (double smoothing : {0.0, 0.1})
        for (bool weighted : {false, true}) {
          softcheck_loss_options oh{reduction, -100, weighted ? w.data() : nullptr, smoothing},
              of{reduction, -100, weighted ? wf.data() : nullptr, smoothing};
          const size_t n_out = reduction == 0 ? rows : 1;
          std::vector<H> lh(n_out);
          std::vector<float> lf(n_out);
          REQUIRE(h.cross_entropy(in.shape, in.x.data(), in.target.data(), &oh, lh.data()) ==
                  SOFTCHECK_OK);
          REQUIRE(f.cross_entropy(in.shape, xf.data(), in.target.data(), &of, lf.data()) ==
                  SOFTCHECK_OK);
          same("cross_entropy", lh, lf);
          REQUIRE(h.nll_loss(in.shape, logp.data(), in.target.data(), &oh, lh.data()) ==
                  SOFTCHECK_OK);
          REQUIRE(f.nll_loss(in.shape, wide(logp).data(), in.target.data(), &of, lf.data()) ==
                  SOFTCHECK_OK);
          same("nll_loss", lh, lf);
        }
    // A dy that sums to 0 (the row's own copy of dy, negated in turn).
    std::vector<H> dz(e);
    for (size_t i = 0; i < e; ++i) dz[i] = (i % 2) ? -in.dy[i - 1] : in.dy[i];
    if (in.shape.classes % 2 == 0) {
      REQUIRE(h.log_softmax_backward(in.shape, logp.data(), dz.data(), y.data()) == SOFTCHECK_OK);
      REQUIRE(f.log_softmax_backward(in.shape, wide(logp).data(), wide(dz).data(), yf.data()) ==
              SOFTCHECK_OK);
      same("log_softmax_backward, dy summing to 0", y, yf);
    }
  }
}

} // namespace

TEST_CASE("half kernels give the bits of the float32 kernels on widened copies", "[simd]") {
  static const std::vector<std::string> targets = softcheck::simd_targets();
  for (const std::string &t : targets) {
    INFO("target " << t);
    REQUIRE(softcheck::simd::select_target(t));
    half_calls_match_float_calls<softcheck::bf16>();
    half_calls_match_float_calls<softcheck::f16>();
  }
  softcheck::simd::select_target(targets.front());
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

namespace {

// The first index where a and b differ in bits, NaN matching any NaN: a
// NaN's sign and payload follow the operand order the compiler picks for
// a commutative add, which the two paths need not share (a row never takes
// both: the path is chosen by the row's length).
size_t first_value_difference(const std::vector<float> &a, const std::vector<float> &b) {
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i)
    if (!(std::isnan(a[i]) && std::isnan(b[i])) && std::memcmp(&a[i], &b[i], sizeof(float)) != 0)
      return i;
  return std::min(a.size(), b.size());
}

// Rows of 1..kShortRow elements of every kind: normal at several scales,
// with ties (of +0 and -0 too), -inf, NaN, +inf, all -inf, NaN beside
// -inf only, and spreads past exp's range.
std::vector<float> short_rows_input(int64_t rows, int64_t n, std::mt19937_64 &rng) {
  const float inf = std::numeric_limits<float>::infinity();
  std::normal_distribution<float> normal(0, 1);
  std::vector<float> x(size_t(rows * n));
  for (int64_t r = 0; r < rows; ++r) {
    float *xr = x.data() + r * n;
    const float scale = r % 3 == 0 ? 1.0f : r % 3 == 1 ? 30.0f : 1000.0f;
    for (int64_t c = 0; c < n; ++c) xr[c] = scale * normal(rng);
    const uint64_t k = rng() % 10, c0 = rng() % uint64_t(n), c1 = rng() % uint64_t(n);
    switch (k) {
    case 0: xr[c1] = xr[c0]; break;
    case 1: xr[c0] = 0.0f, xr[c1] = -0.0f; break;
    case 2: xr[c0] = -inf; break;
    case 3: xr[c0] = std::numeric_limits<float>::quiet_NaN(); break;
    case 4: xr[c0] = inf; break;
    case 5: std::fill(xr, xr + n, -inf); break;
    case 6: std::fill(xr, xr + n, -inf), xr[c0] = std::numeric_limits<float>::quiet_NaN(); break;
    case 7: xr[c0] = 1e30f; break;
    default: break;
    }
  }
  return x;
}

} // namespace

TEST_CASE("short rows in lanes and one-piece rows give the bits of the piece path", "[simd]") {
  // simd::short_rows_f32 (and one_piece_rows_f32 past kShortRow elements)
  // against piece_f32 and the one-piece finish
  // (fast_rows.cpp: rest = (ties - 1) + the piece's rest; softmax scales by
  // 1 / (1 + rest), log_softmax subtracts max and log1p(rest); all -inf rows
  // give 0 / -inf, the other special rows NaN), on every target.
  namespace simd = softcheck::simd;
  static const std::vector<std::string> targets = softcheck::simd_targets();
  std::mt19937_64 rng(20261202);
  for (const std::string &t : targets) {
    REQUIRE(simd::select_target(t));
    std::vector<int64_t> lengths;
    for (int64_t n = 1; n <= simd::kShortRow; ++n) lengths.push_back(n);
    for (int64_t n : {33, 47, 128, 1000, 4096}) lengths.push_back(n); // one_piece_rows_f32
    for (int64_t n : lengths)
      for (int64_t rows : {int64_t(1), int64_t(3), int64_t(9), int64_t(30)}) {
        INFO(t << ", " << rows << " rows of " << n);
        const bool lanes = n <= simd::kShortRow;
        const std::vector<float> x = short_rows_input(rows, n, rng);
        std::vector<float> ys(x.size()), ls(x.size()), yr(x.size()), lr(x.size());
        std::vector<simd::RowStats> st(static_cast<size_t>(rows));
        std::vector<double> e(size_t(n + 16));
        if (lanes) {
          simd::short_rows_f32(x.data(), rows, n, simd::ShortOp::softmax, ys.data(), nullptr);
          simd::short_rows_f32(x.data(), rows, n, simd::ShortOp::log_softmax, ls.data(), nullptr);
          simd::short_rows_f32(x.data(), rows, n, simd::ShortOp::stats, nullptr, st.data());
        } else {
          simd::one_piece_rows_f32(x.data(), rows, n, simd::ShortOp::softmax, ys.data(), e.data());
          simd::one_piece_rows_f32(x.data(), rows, n, simd::ShortOp::log_softmax, ls.data(),
                                   e.data());
        }
        for (int64_t r = 0; r < rows; ++r) {
          const float *xr = x.data() + r * n;
          simd::Piece p;
          simd::piece_f32(xr, n, e.data(), &p, false);
          float *y = yr.data() + r * n, *l = lr.data() + r * n;
          if (p.nan || p.max == std::numeric_limits<float>::infinity()) {
            std::fill(y, y + n, std::numeric_limits<float>::quiet_NaN());
            std::fill(l, l + n, std::numeric_limits<float>::quiet_NaN());
          } else if (p.max == -std::numeric_limits<float>::infinity()) {
            std::fill(y, y + n, 0.0f);
            std::fill(l, l + n, -std::numeric_limits<float>::infinity());
          }
          const bool finite = !p.nan && std::isfinite(p.max);
          const double rest = finite ? (p.ties - 1) + p.rest : 0;
          double log_s;
          simd::log1p_f64(&rest, &log_s, 1);
          if (lanes) {
            const simd::RowStats &q = st[size_t(r)];
            CHECK(q.nan == p.nan);
            if (!p.nan) CHECK(q.max == p.max); // a NaN row's max is never read
            CHECK(q.rest == rest);
            CHECK(std::memcmp(&q.log_s, &log_s, sizeof(double)) == 0);
          }
          if (finite) {
            simd::scale_f32(e.data(), n, 1.0 / (1 + rest), y);
            simd::log_prob_f32(xr, n, p.max, log_s, l);
          }
        }
        CHECK(first_value_difference(ys, yr) == x.size());
        CHECK(first_value_difference(ls, lr) == x.size());
      }
  }
  simd::select_target(targets.front());
}

TEST_CASE("short backward rows in lanes give the bits of the row path", "[simd]") {
  // simd::short_backward_f32 against dot_f32 / sum_f32 and the row finish
  // (fast_rows.cpp): softmax_backward dx = y (dy - dot); log_softmax_backward
  // dx = NaN when some dy is infinite, dy (NaN where y is NaN or +inf) when
  // the dy sum to 0, else dy - exp(y) sum.
  namespace simd = softcheck::simd;
  static const std::vector<std::string> targets = softcheck::simd_targets();
  std::mt19937_64 rng(20261203);
  const float inf = std::numeric_limits<float>::infinity();
  for (const std::string &t : targets) {
    REQUIRE(simd::select_target(t));
    for (int64_t n = 1; n <= simd::kShortRow; ++n)
      for (int64_t rows : {int64_t(1), int64_t(5), int64_t(30)}) {
        INFO(t << ", " << rows << " rows of " << n);
        std::vector<float> y = short_rows_input(rows, n, rng), dy = short_rows_input(rows, n, rng);
        for (int64_t r = 0; r < rows; r += 4) // rows whose dy sum to 0
          for (int64_t c = 0; c < n; ++c) dy[size_t(r * n + c)] = c % 2 ? 1.0f : -1.0f;
        for (int64_t r = 2; r < rows; r += 4) dy[size_t(r * n)] = inf;
        const size_t e = y.size();
        std::vector<float> got_s(e), got_l(e), want_s(e), want_l(e);
        simd::short_backward_f32(y.data(), dy.data(), rows, n, false, got_s.data());
        simd::short_backward_f32(y.data(), dy.data(), rows, n, true, got_l.data());
        for (int64_t r = 0; r < rows; ++r) {
          const size_t o = size_t(r * n);
          const double dot = simd::dot_f32(y.data() + o, dy.data() + o, n);
          simd::softmax_backward_f32(y.data() + o, dy.data() + o, n, dot, want_s.data() + o);
          bool infinite = false;
          const double sum = simd::sum_f32(dy.data() + o, n, &infinite);
          if (infinite)
            std::fill(want_l.begin() + long(o), want_l.begin() + long(o) + n,
                      std::numeric_limits<float>::quiet_NaN());
          else if (sum == 0)
            for (int64_t c = 0; c < n; ++c)
              want_l[o + size_t(c)] = std::isnan(y[o + size_t(c)]) || y[o + size_t(c)] == inf
                                          ? std::numeric_limits<float>::quiet_NaN()
                                          : dy[o + size_t(c)];
          else
            simd::log_softmax_backward_f32(y.data() + o, dy.data() + o, n, sum, want_l.data() + o);
        }
        CHECK(first_value_difference(got_s, want_s) == e);
        CHECK(first_value_difference(got_l, want_l) == e);
      }
  }
  simd::select_target(targets.front());
}

TEST_CASE("short cross-entropy gradient rows in lanes give the bits of the piece path", "[simd]") {
  // simd::short_ce_backward_f32 against piece_f32 (accurate) and the row
  // finish (fast_rows.cpp): NaN rows where the row has a NaN or +inf; else
  // dx = g (e sr / (1 + rest) - a0) (e and the scale 0 in all -inf rows),
  // the target's g (sr p_t - a_t) with p_t from std::exp; inactive rows
  // untouched. In place (dx = x) too.
  namespace simd = softcheck::simd;
  static const std::vector<std::string> targets = softcheck::simd_targets();
  std::mt19937_64 rng(20261204);
  for (const std::string &t : targets) {
    REQUIRE(simd::select_target(t));
    for (int64_t n = 1; n <= simd::kShortRow; ++n)
      for (int64_t rows : {int64_t(1), int64_t(6), int64_t(30)}) {
        INFO(t << ", " << rows << " rows of " << n);
        const std::vector<float> x = short_rows_input(rows, n, rng);
        std::vector<simd::CeRow> cr(static_cast<size_t>(rows));
        for (int64_t r = 0; r < rows; ++r)
          cr[size_t(r)] = {r % 5 != 3,       int64_t(rng() % uint64_t(n)),
                           0.5 + double(r),  1.0 + 0.1 * double(r),
                           0.01 * double(r), 0.9};
        std::vector<float> got(x.size(), 7.0f), want(x.size(), 7.0f), in_place = x;
        simd::short_ce_backward_f32(x.data(), got.data(), rows, n, cr.data());
        simd::short_ce_backward_f32(in_place.data(), in_place.data(), rows, n, cr.data());
        std::vector<double> e(size_t(n + 16));
        for (int64_t r = 0; r < rows; ++r) {
          const simd::CeRow &c = cr[size_t(r)];
          const float *xr = x.data() + r * n;
          float *w = want.data() + r * n;
          if (!c.active) continue; // filled below
          simd::Piece p;
          simd::piece_f32(xr, n, e.data(), &p, true);
          if (p.nan || p.max == std::numeric_limits<float>::infinity()) {
            std::fill(w, w + n, std::numeric_limits<float>::quiet_NaN());
            continue;
          }
          const bool finite = p.max != -std::numeric_limits<float>::infinity();
          const double rest = (p.ties - 1) + p.rest;
          const double scale = finite ? 1.0 / (1 + rest) : 0;
          simd::scale_shift_f32(e.data(), n, c.sr * scale, c.g, c.a0, w);
          const double pt =
              finite ? std::exp(double(xr[c.target]) - double(p.max)) / (1 + rest) : 0;
          w[c.target] = float(c.g * (c.sr * pt - c.at));
        }
        // Inactive rows: got keeps 7, in_place keeps x.
        std::vector<float> want_in_place = want;
        for (int64_t r = 0; r < rows; ++r)
          if (!cr[size_t(r)].active)
            for (int64_t k = 0; k < n; ++k) {
              want[size_t(r * n + k)] = 7.0f;
              want_in_place[size_t(r * n + k)] = x[size_t(r * n + k)];
            }
        CHECK(first_value_difference(got, want) == x.size());
        CHECK(first_value_difference(in_place, want_in_place) == x.size());
      }
  }
  simd::select_target(targets.front());
}

namespace {

// Double rows of every kind the lanes must match or leave to the scalar
// code: normal at several scales (the widest spreads past 700), ties of
// +0 and -0, -inf, NaN, +inf, |x| at 2^1020, huge equal entries.
std::vector<double> short_rows_input_f64(int64_t rows, int64_t n, std::mt19937_64 &rng) {
  const double inf = std::numeric_limits<double>::infinity();
  std::normal_distribution<double> normal(0, 1);
  std::vector<double> x(size_t(rows * n));
  for (int64_t r = 0; r < rows; ++r) {
    double *xr = x.data() + r * n;
    const double scale = r % 4 == 0 ? 1.0 : r % 4 == 1 ? 30.0 : r % 4 == 2 ? 200.0 : 1e-300;
    for (int64_t c = 0; c < n; ++c) xr[c] = scale * normal(rng);
    const uint64_t k = rng() % 12, c0 = rng() % uint64_t(n), c1 = rng() % uint64_t(n);
    switch (k) {
    case 0: xr[c1] = xr[c0]; break;
    case 1: xr[c0] = 0.0, xr[c1] = -0.0; break;
    case 2: xr[c0] = -inf; break;
    case 3: xr[c0] = std::numeric_limits<double>::quiet_NaN(); break;
    case 4: xr[c0] = inf; break;
    case 5: xr[c0] = 0x1p1020; break;
    case 6: std::fill(xr, xr + n, 1e300); break;
    case 7: xr[c0] = 720.0, xr[c1] = 0.0; break;
    default: break;
    }
  }
  return x;
}

bool same_bits(double a, double b) { return std::memcmp(&a, &b, sizeof(double)) == 0; }

} // namespace

TEST_CASE("double short rows in lanes give the bits of the row path", "[simd]") {
  // simd::short_rows_f64 against row_stats_f64 and the row finish
  // (kernels.cpp: 1 / (1 + rest) in long double or log1p_rest_f64, split
  // in two doubles, then softmax_f64 or log_softmax_f64), on every target;
  // special rows are left to the scalar code, unwritten.
  namespace simd = softcheck::simd;
  static const std::vector<std::string> targets = softcheck::simd_targets();
  std::mt19937_64 rng(20261203);
  const double unwritten = 12345.0;
  for (const std::string &t : targets) {
    REQUIRE(simd::select_target(t));
    for (int64_t n = 2; n <= simd::kShortRow64; ++n)
      for (int64_t rows : {int64_t(1), int64_t(3), int64_t(9), int64_t(30)}) {
        INFO(t << ", " << rows << " rows of " << n);
        const std::vector<double> x = short_rows_input_f64(rows, n, rng);
        std::vector<double> ys(x.size(), unwritten), ls(x.size(), unwritten), in_place = x;
        std::vector<simd::RowF64> st(static_cast<size_t>(rows)), sts(static_cast<size_t>(rows));
        simd::short_rows_f64(x.data(), rows, n, simd::ShortOp::stats, nullptr, st.data());
        simd::short_rows_f64(x.data(), rows, n, simd::ShortOp::softmax, ys.data(), sts.data());
        simd::short_rows_f64(x.data(), rows, n, simd::ShortOp::log_softmax, ls.data(), sts.data());
        simd::short_rows_f64(in_place.data(), rows, n, simd::ShortOp::softmax, in_place.data(),
                             sts.data());
        int64_t vector_rows = 0;
        for (int64_t r = 0; r < rows; ++r) {
          const double *xr = x.data() + r * n;
          const size_t nn = static_cast<size_t>(n);
          std::vector<double> eh(nn), el(nn), y(nn), l(nn);
          simd::RowF64 want;
          simd::row_stats_f64(xr, n, eh.data(), el.data(), &want);
          const simd::RowF64 &got = st[size_t(r)];
          REQUIRE(got.special == want.special);
          const size_t o = size_t(r * n);
          if (want.special) {
            for (int64_t c = 0; c < n; ++c) {
              CHECK(same_bits(ys[o + size_t(c)], unwritten));
              CHECK(same_bits(ls[o + size_t(c)], unwritten));
              CHECK(same_bits(in_place[o + size_t(c)], xr[c]));
            }
            continue;
          }
          ++vector_rows;
          CHECK(got.max == want.max);
          CHECK(same_bits(got.rest_hi, want.rest_hi));
          CHECK(same_bits(got.rest_lo, want.rest_lo));
          CHECK(got.ties == want.ties);
          CHECK(got.log_s == simd::log1p_rest_f64(want));
          const long double inv = 1.0L / (1.0L + simd::rest_of(want));
          const long double log_s = simd::log1p_rest_f64(want);
          simd::softmax_f64(eh.data(), el.data(), n, double(inv), double(inv - double(inv)),
                            y.data());
          simd::log_softmax_f64(xr, n, want.max, double(log_s), double(log_s - double(log_s)),
                                l.data());
          for (int64_t c = 0; c < n; ++c) {
            CHECK(same_bits(ys[o + size_t(c)], y[size_t(c)]));
            CHECK(same_bits(in_place[o + size_t(c)], y[size_t(c)]));
            CHECK(same_bits(ls[o + size_t(c)], l[size_t(c)]));
          }
        }
        if (rows == 30) CHECK(vector_rows > 0);
      }
  }
  simd::select_target(targets.front());
}

TEST_CASE("log1p of a double row's sum is within its bound on every target", "[simd]") {
  // simd::log1p_rest_f64 against log1pl of the sum in long double: the
  // reference errs by at most 2^-64 (the sum) + 2^-63 (log1pl), so a
  // result within the 2^-60.5 bound is within 2^-60 of it.
  namespace simd = softcheck::simd;
  static const std::vector<std::string> targets = softcheck::simd_targets();
  std::mt19937_64 rng(20261204);
  std::uniform_real_distribution<double> unit(0, 1);
  std::vector<simd::RowF64> rows;
  for (int i = 0; i < 4000; ++i) {
    simd::RowF64 st{0, false, 0, 0, 1};
    const int kind = i % 4;
    if (kind == 0)
      st.rest_hi = std::ldexp(unit(rng) + 0.5, -int(rng() % 1000)); // tiny to 1
    else if (kind == 1)
      st.rest_hi = std::ldexp(unit(rng) + 0.5, -int(rng() % 60));
    else if (kind == 2)
      st.rest_hi = 100 * unit(rng);
    else
      st.ties = 1 + int64_t(rng() % 20), st.rest_hi = unit(rng) * double(rng() % 50);
    st.rest_lo = std::ldexp(st.rest_hi * (unit(rng) - 0.5), -52 + int(rng() % 8));
    if (i % 7 == 0) st.rest_lo = 0;
    rows.push_back(st);
  }
  for (const std::string &t : targets) {
    REQUIRE(simd::select_target(t));
    double worst = 0;
    for (const simd::RowF64 &st : rows) {
      const long double got = simd::log1p_rest_f64(st);
      const long double want = std::log1p(simd::rest_of(st));
      const double rel = want == 0 ? double(got) : double(std::fabs(got - want) / want);
      worst = std::max(worst, rel);
    }
    INFO(t << ": worst relative error " << worst);
    CHECK(worst <= 0x1p-60);
  }
  simd::select_target(targets.front());
}

TEST_CASE("double short backward rows in lanes give the bits of the row path", "[simd]") {
  // simd::short_backward_f64 against dot_f64 + softmax_backward_f64 and
  // sum_f64 + log_softmax_backward_f64 on every target; the rows those
  // leave to the scalar code are flagged and left unwritten.
  namespace simd = softcheck::simd;
  static const std::vector<std::string> targets = softcheck::simd_targets();
  std::mt19937_64 rng(20261205);
  const double unwritten = 12345.0;
  for (const std::string &t : targets) {
    REQUIRE(simd::select_target(t));
    for (int64_t n = 2; n <= simd::kShortRow64; ++n)
      for (int64_t rows : {int64_t(1), int64_t(5), int64_t(30)})
        for (bool log : {false, true}) {
          INFO(t << ", " << rows << " rows of " << n << (log ? ", log_softmax" : ", softmax"));
          std::vector<double> y = short_rows_input_f64(rows, n, rng);
          std::vector<double> dy = short_rows_input_f64(rows, n, rng);
          for (int64_t r = 0; r < rows; ++r) {
            double *yr = y.data() + r * n, *gr = dy.data() + r * n;
            if (log)
              for (int64_t c = 0; c < n; ++c) yr[c] = -std::fabs(yr[c]);
            if (r % 5 == 4) { // dy summing to exactly 0
              std::fill(gr, gr + n, 0.0);
              gr[0] = 0.75, gr[n - 1] = -0.75;
            }
          }
          std::vector<double> got(y.size(), unwritten), in_place = dy;
          std::vector<uint8_t> flag(static_cast<size_t>(rows), 2), flag2 = flag;
          simd::short_backward_f64(y.data(), dy.data(), rows, n, log, got.data(), flag.data());
          simd::short_backward_f64(y.data(), in_place.data(), rows, n, log, in_place.data(),
                                   flag2.data());
          CHECK(flag == flag2);
          int64_t lane_rows = 0;
          for (int64_t r = 0; r < rows; ++r) {
            const size_t o = static_cast<size_t>(r * n), nn = static_cast<size_t>(n);
            std::vector<double> want(nn, unwritten);
            double hi = 0, lo = 0;
            bool nonfinite = false, taken;
            if (log) {
              simd::sum_f64(dy.data() + o, n, &hi, &lo, &nonfinite);
              taken = !nonfinite && hi != 0 &&
                      simd::log_softmax_backward_f64(y.data() + o, dy.data() + o, n, hi, lo,
                                                     want.data());
            } else {
              simd::dot_f64(y.data() + o, dy.data() + o, n, &hi, &lo, &nonfinite);
              taken = !nonfinite;
              if (taken)
                simd::softmax_backward_f64(y.data() + o, dy.data() + o, n, hi, lo, want.data());
            }
            REQUIRE(flag[size_t(r)] == (taken ? 0 : 1));
            lane_rows += taken;
            for (size_t c = 0; c < nn; ++c) {
              CHECK(same_bits(got[o + c], want[c]));
              CHECK(same_bits(in_place[o + c], taken ? want[c] : dy[o + c]));
            }
          }
          if (rows == 30) CHECK(lane_rows > 0);
        }
  }
  simd::select_target(targets.front());
}

// The array conversions of the half kernels give softcheck::Half's bits:
// every pattern widened, and every midpoint, its float neighbours and
// random float patterns narrowed, on F16C and on the portable code.
namespace {

template <class H> std::vector<float> narrowing_probes() {
  std::vector<float> v;
  for (uint32_t p = 0; p < 0x7FFF; ++p) {
    const float a = H::from_bits(uint16_t(p)), b = H::from_bits(uint16_t(p + 1));
    if (!std::isfinite(a) || !std::isfinite(b)) continue;
    const float mid = float((double(a) + double(b)) / 2); // exact for both formats
    for (float x : {mid, std::nextafter(mid, 0.0f), std::nextafter(mid, HUGE_VALF), a})
      v.insert(v.end(), {x, -x});
  }
  std::mt19937_64 rng(11);
  for (int i = 0; i < 200000; ++i) {
    const uint32_t u = uint32_t(rng());
    float f;
    std::memcpy(&f, &u, sizeof f);
    v.push_back(f);
  }
  return v;
}

template <class H> void conversions_match_scalar() {
  std::vector<H> all(65536);
  for (uint32_t p = 0; p < 65536; ++p) all[p] = H::from_bits(uint16_t(p));
  std::vector<float> wide(all.size());
  softcheck::detail::widen(all.data(), wide.data(), all.size());
  for (uint32_t p = 0; p < 65536; ++p) {
    const float want = all[p];
    INFO("pattern " << p);
    REQUIRE(std::memcmp(&wide[p], &want, sizeof want) == 0);
  }
  const std::vector<float> probes = narrowing_probes<H>();
  std::vector<H> narrow(probes.size());
  softcheck::detail::narrow(probes.data(), narrow.data(), probes.size());
  for (size_t i = 0; i < probes.size(); ++i) {
    INFO("float " << probes[i]);
    REQUIRE(narrow[i].bits() == H(probes[i]).bits());
  }
}

} // namespace

TEST_CASE("half array conversions: the scalar rounding's bits, F16C and portable") {
  conversions_match_scalar<softcheck::bf16>();
  const bool had = softcheck::detail::f16c_in_use();
  conversions_match_scalar<softcheck::f16>();
  softcheck::detail::use_f16c(false);
  conversions_match_scalar<softcheck::f16>();
  softcheck::detail::use_f16c(had);
}
