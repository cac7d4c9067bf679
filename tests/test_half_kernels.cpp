// The built-in bfloat16 and float16 kernels against the exact result, with
// the bound of a kernel that computes in float32 and rounds once
// (plugin.h's half contract):
//   elementwise ops   |got - exact| <= (1/2 + 2^(m-22)) ulp(exact)
//   scaled ops        |got - exact| <= 4 2^(m-23) u M + (1/2 + 2^(m-22)) ulp(exact)
// m the stored significand bits, u = 2^-(m+1): the float kernels' own
// contract (1 ulp of float elementwise, 4 u_f M + 1 ulp of float scaled),
// 1 ulp of float being 2^(m-23) ulp of the half format, plus the one
// rounding to the format. "exact" is the float64 oracle on the same inputs
// (every half value is a double), within 2^-53 of the exact result, which
// the bound adds. An infinite output stands for every value past the
// overflow threshold (the largest finite value plus half its ulp): its error
// is the exact result's distance to that threshold, 0 beyond it.
#include <softcheck/kernels.hpp>
#include <softcheck/oracle.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <random>
#include <vector>

using namespace softcheck;

namespace {

template <class H> constexpr int m_bits = std::numeric_limits<H>::digits - 1;

// The format's ulp at x: 2^(max(floor(log2 |x|), emin) - m).
template <class H> double ulp_at(double x) {
  const int emin = std::numeric_limits<H>::min_exponent - 1;
  int e = std::isfinite(x) && x != 0 ? std::ilogb(x) : emin;
  return std::ldexp(1.0, std::max(e, emin) - m_bits<H>);
}

// Where a result rounds to infinity: the largest finite value plus half its
// ulp. An infinite output stands for every value at or past it.
template <class H> double overflow_threshold() {
  const double mx = float(std::numeric_limits<H>::max());
  return mx + ulp_at<H>(mx) / 2;
}

struct Worst {
  double ulps = 0;  // the largest |got - exact| / ulp(exact) (elementwise ops)
  double ratio = 0; // the largest error / bound
  int64_t outputs = 0;
};

template <class H> class Maker {
public:
  explicit Maker(uint64_t seed) : rng_(seed) {}

  // Logits in the format's own regimes.
  double logit(int regime) {
    const double mx = double(std::numeric_limits<H>::max());
    const double mn = double(std::numeric_limits<H>::min());
    switch (regime) {
    case 0: return H(normal(1.0));
    case 1: return H(normal(12.0)); // past f16's unshifted exp overflow at 11.09
    case 2: return H((uniform() < 0.5 ? 1 : -1) * mx * (1 - uniform() * 0.01)); // near the top
    case 3: return H(std::round(normal(4.0)));                                  // ties
    case 4: return H(normal(1.0) * mn * 8); // subnormal differences
    default: return H(normal(3.0) - 40);    // results in the subnormal range
    }
  }

  Case<H> make(softcheck_op op) {
    Case<H> c;
    c.op = op;
    const double pick = uniform();
    // A fifth of the rows are long: a half-precision sum stalls after 2^p
    // equal terms (256 for bf16, 2048 for f16).
    const int64_t classes =
        pick < 0.2 ? 300 + int64_t(uniform() * 5000) : 1 + int64_t(uniform() * 12);
    c.shape = {1 + int64_t(uniform() * 3), classes, uniform() < 0.3 ? 2 : 1};
    const int regime = int(uniform() * 6);
    c.x.resize(size_t(c.elems()));
    const bool equal = uniform() < 0.3;
    const H first = H(logit(regime));
    for (H &v : c.x) v = equal ? first : H(logit(regime));
    if (uniform() < 0.1) c.x[0] = -std::numeric_limits<H>::infinity();
    c.aux.resize(c.x.size());
    for (H &v : c.aux) v = H(normal(1.0));
    c.target.resize(size_t(c.rows()));
    for (int64_t &t : c.target) t = int64_t(uniform() * double(classes));
    if (uniform() < 0.5) {
      c.weight.resize(size_t(classes));
      for (H &w : c.weight) w = H(uniform() * 3);
    }
    c.reduction = Reduction::none;
    c.dout.resize(size_t(c.rows()));
    for (H &v : c.dout) v = H(normal(1.0));
    oracle::logits_to_forward_output(c);
    if (op == SOFTCHECK_OP_NLL_LOSS) {
      std::vector<H> logp(c.x.size());
      REQUIRE(oracle::log_softmax<H>(c.shape, c.x.data(), logp.data()) == SOFTCHECK_OK);
      c.x = logp;
    }
    return c;
  }

private:
  std::mt19937_64 rng_;
  double uniform() { return std::uniform_real_distribution<double>(0, 1)(rng_); }
  double normal(double s) { return std::normal_distribution<double>(0, s)(rng_); }
};

template <class H> Case<double> promoted(const Case<H> &c) {
  Case<double> d;
  d.op = c.op;
  d.shape = c.shape;
  auto up = [](const std::vector<H> &v) {
    std::vector<double> o(v.size());
    for (size_t i = 0; i < v.size(); ++i) o[i] = double(float(v[i]));
    return o;
  };
  d.x = up(c.x);
  d.aux = up(c.aux);
  d.dout = up(c.dout);
  d.weight = up(c.weight);
  d.target = c.target;
  d.reduction = c.reduction;
  d.label_smoothing = c.label_smoothing;
  return d;
}

int64_t at(Shape s, int64_t r, int64_t c) {
  return (r / s.inner * s.classes + c) * s.inner + r % s.inner;
}

// M_c of plugin.h for the two backward ops, from the promoted inputs.
std::vector<double> magnitudes(const Case<double> &c) {
  std::vector<double> m(c.x.size());
  const Shape s = c.shape;
  for (int64_t r = 0; r < c.rows(); ++r) {
    double sum = 0;
    for (int64_t k = 0; k < s.classes; ++k) {
      const double y = c.x[size_t(at(s, r, k))], dy = c.aux[size_t(at(s, r, k))];
      sum += c.op == SOFTCHECK_OP_SOFTMAX_BACKWARD ? std::fabs(dy * y) : std::fabs(dy);
    }
    for (int64_t k = 0; k < s.classes; ++k) {
      const double y = c.x[size_t(at(s, r, k))], dy = c.aux[size_t(at(s, r, k))];
      m[size_t(at(s, r, k))] = c.op == SOFTCHECK_OP_SOFTMAX_BACKWARD
                                   ? std::fabs(y) * (std::fabs(dy) + sum)
                                   : std::fabs(dy) + std::exp(y) * sum;
    }
  }
  return m;
}

template <class H> Worst check_op(softcheck_op op, int cases) {
  constexpr int m = m_bits<H>;
  const double slack_elem = 0.5 + std::ldexp(1.0, m - 22);
  const double scaled_u = 4 * std::ldexp(1.0, m - 23) * std::ldexp(1.0, -(m + 1));
  const bool scaled =
      op == SOFTCHECK_OP_SOFTMAX_BACKWARD || op == SOFTCHECK_OP_LOG_SOFTMAX_BACKWARD;
  Maker<H> maker(1000 + uint64_t(op) * 7 + uint64_t(m));
  Worst w;
  for (int i = 0; i < cases; ++i) {
    Case<H> c = maker.make(op);
    Case<double> d = promoted(c);
    std::vector<H> got(size_t(c.output_count()));
    std::vector<double> exact(size_t(d.output_count()));
    REQUIRE(softcheck::call(ops_of<H>(builtin_kernel_set()), c, data_of(c), got.data()) ==
            SOFTCHECK_OK);
    REQUIRE(oracle::call(d, exact.data()) == SOFTCHECK_OK);
    const std::vector<double> mag = scaled ? magnitudes(d) : std::vector<double>();
    for (size_t k = 0; k < got.size(); ++k) {
      const double e = exact[k], g = float(got[k]);
      if (std::isnan(e) || std::isnan(g)) {
        INFO(softcheck_op_name(op) << " output " << k);
        REQUIRE(std::isnan(e) == std::isnan(g));
        continue;
      }
      if (std::isinf(e)) {
        REQUIRE(g == e);
        continue;
      }
      const double bound = (scaled ? scaled_u * mag[k] : 0) + slack_elem * ulp_at<H>(e) +
                           std::ldexp(std::fabs(e), -53);
      // An infinite output errs by the distance from the exact result to
      // the overflow threshold, on the same side (0 past it).
      const double err = !std::isinf(g) ? std::fabs(g - e)
                         : std::signbit(g) != std::signbit(e)
                             ? HUGE_VAL
                             : std::max(0.0, overflow_threshold<H>() - std::fabs(e));
      INFO(softcheck_op_name(op) << " output " << k << " of case " << i << ": got " << g
                                 << ", exact " << e << ", classes " << c.shape.classes);
      REQUIRE(err <= bound);
      w.ulps = std::max(w.ulps, err / ulp_at<H>(e));
      w.ratio = std::max(w.ratio, err / bound);
      ++w.outputs;
    }
  }
  return w;
}

template <class H> void check_all(const char *name) {
  for (softcheck_op op : {SOFTCHECK_OP_SOFTMAX, SOFTCHECK_OP_LOG_SOFTMAX, SOFTCHECK_OP_LOGSUMEXP,
                          SOFTCHECK_OP_SOFTMAX_BACKWARD, SOFTCHECK_OP_LOG_SOFTMAX_BACKWARD,
                          SOFTCHECK_OP_NLL_LOSS, SOFTCHECK_OP_CROSS_ENTROPY}) {
    const Worst w = check_op<H>(op, 60);
    std::printf("%s %-22s outputs %8lld  max error %.4f ulp  (%.3f of the bound)\n", name,
                softcheck_op_name(op), static_cast<long long>(w.outputs), w.ulps, w.ratio);
  }
}

} // namespace

TEST_CASE("bf16 kernels: float32 compute rounded once, within the derived bound") {
  check_all<bf16>("bf16");
}
TEST_CASE("f16 kernels: float32 compute rounded once, within the derived bound") {
  check_all<f16>("f16");
}

TEST_CASE("half kernels: the seed example") {
  // softmax([2, 3]) = [0.2689, 0.7311]: bf16 [0.26953125, 0.73046875],
  // the values of the format nearest the exact ones.
  const bf16 x[2] = {2.0f, 3.0f};
  bf16 y[2];
  REQUIRE(softmax<bf16>({1, 2, 1}, x, y) == SOFTCHECK_OK);
  CHECK(float(y[0]) == 0.26953125f);
  CHECK(float(y[1]) == 0.73046875f);
  const f16 xf[2] = {2.0f, 3.0f};
  f16 yf[2];
  REQUIRE(log_softmax<f16>({1, 2, 1}, xf, yf) == SOFTCHECK_OK);
  CHECK(float(yf[0]) == float(f16(-1.3132616875182228)));
  CHECK(float(yf[1]) == float(f16(-0.3132616875182228)));
}

TEST_CASE("half kernels: bad input gets the status, outputs untouched") {
  const f16 x[4] = {1.0f, 2.0f, 3.0f, 4.0f};
  f16 y[4] = {7.0f, 7.0f, 7.0f, 7.0f};
  CHECK(softmax<f16>({-1, 4, 1}, x, y) == SOFTCHECK_ERR_NEGATIVE_SIZE);
  CHECK(softmax<f16>({1, 4, 1}, nullptr, y) == SOFTCHECK_ERR_NULL_POINTER);
  CHECK(softmax<f16>({INT64_MAX, 4, 1}, x, y) == SOFTCHECK_ERR_SIZE_OVERFLOW);
  const int64_t bad_target[1] = {9};
  LossOptions<f16> o;
  o.reduction = Reduction::none;
  CHECK(cross_entropy<f16>({1, 4, 1}, x, bad_target, o, y) == SOFTCHECK_ERR_TARGET_RANGE);
  const f16 w[4] = {1.0f, std::numeric_limits<f16>::infinity(), 1.0f, 1.0f};
  o.weight = w;
  const int64_t target[1] = {0};
  CHECK(cross_entropy<f16>({1, 4, 1}, x, target, o, y) == SOFTCHECK_ERR_BAD_WEIGHT);
  CHECK(nll_loss_backward<f16>({1, 4, 1}, target, o, nullptr, y) == SOFTCHECK_ERR_NULL_POINTER);
  for (f16 v : y) CHECK(float(v) == 7.0f);
}
