// The oracle's fast phase (oracle/src/fast.hpp) against its interval path,
// bit for bit, per op and format: random rows of every kind the fast phase
// takes (and some it must hand on), and traps whose exact results lie
// within the double computation's error of a rounding boundary. A fast
// phase whose bounds are shrunk (Config::fast_bound_scale) must then differ
// from the interval path: the comparison can fail.
//
// SOFTCHECK_FAST_OUTPUTS sets the outputs compared per op and format
// (default 10^6, about 13 minutes; ctest runs 10^5, and 10^4 under the
// sanitizers: tests/CMakeLists.txt). Ops with one output per row or one in
// all compare a twentieth of that many.
#include <softcheck/half.hpp>
#include <softcheck/oracle.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <vector>

using softcheck::bf16;
using softcheck::f16;
namespace oracle = softcheck::oracle;

namespace {

int64_t outputs_wanted() {
  const char *v = std::getenv("SOFTCHECK_FAST_OUTPUTS");
  return v != nullptr ? std::atoll(v) : 1000000;
}

template <class T> double to_d(T v) {
  if constexpr (softcheck::is_half_v<T>)
    return double(float(v));
  else
    return double(v);
}

// Bit for bit; any NaN matches any NaN.
template <class T> bool same_bits(T a, T b) {
  if (std::isnan(to_d(a)) && std::isnan(to_d(b))) return true;
  return std::memcmp(&a, &b, sizeof a) == 0;
}

enum class Op {
  softmax,
  log_softmax,
  logsumexp,
  softmax_backward,
  log_softmax_backward,
  nll_loss,
  nll_loss_backward,
  cross_entropy,
  cross_entropy_backward,
  cross_entropy_prob,
  cross_entropy_prob_backward
};
const char *name(Op op) {
  static const char *n[] = {"softmax",
                            "log_softmax",
                            "logsumexp",
                            "softmax_backward",
                            "log_softmax_backward",
                            "nll_loss",
                            "nll_loss_backward",
                            "cross_entropy",
                            "cross_entropy_backward",
                            "cross_entropy_prob",
                            "cross_entropy_prob_backward"};
  static_assert(sizeof n / sizeof n[0] == size_t(Op::cross_entropy_prob_backward) + 1);
  return n[int(op)];
}
bool is_loss(Op op) { return op >= Op::nll_loss; }
bool is_nll(Op op) { return op == Op::nll_loss || op == Op::nll_loss_backward; }
bool per_row_or_one(Op op) {
  return op == Op::nll_loss || op == Op::cross_entropy || op == Op::cross_entropy_prob;
}
bool is_prob(Op op) {
  return op == Op::cross_entropy_prob || op == Op::cross_entropy_prob_backward;
}

struct Rows {
  int64_t rows = 0, classes = 0;
  std::vector<double> x, y, dy; // x: logits (forward), log-probabilities (nll); y, dy: backward
  // nll_loss: targets, options, the gradient of the loss output
  std::vector<int64_t> target;
  std::vector<double> weight, dout, prob;
  softcheck::Reduction reduction = softcheck::Reduction::none;
  int64_t ignore_index = -100;
  double eps = 0;
};

// A batch of rows of one regime. Backward inputs: y the softmax (or
// log_softmax) of the logits, rounded to T, and dy by regime; traps make
// the exact result cancel to a value the double computation holds to only
// a few bits more than T.
template <class T> Rows draw(std::mt19937_64 &rng, Op op, int regime, bool trap) {
  auto normal = [&](double s) { return std::normal_distribution<double>(0, s)(rng); };
  auto uniform = [&]() { return std::uniform_real_distribution<double>(0, 1)(rng); };
  Rows b;
  b.rows = 8;
  b.classes = regime % 5 == 0 ? 700 : 1 + int64_t(uniform() * 60);
  const size_t n = size_t(b.rows * b.classes);
  b.x.resize(n);
  const double big = to_d(std::numeric_limits<T>::max());
  for (double &v : b.x) {
    switch (regime) {
    case 0: v = normal(1); break;
    case 1: v = normal(30); break;
    case 2: v = normal(1000); break;
    case 3: v = std::round(normal(2)); break;
    case 4: v = big * (1 - uniform() * 1e-2); break;
    case 5: v = uniform() < 0.5 ? -100.0 : -100 - normal(1); break;
    case 6: v = normal(1) * std::exp(normal(3)); break;
    default: v = -uniform() * 800; break; // outputs far below double's normal range
    }
    v = to_d(T(v));
  }
  if (trap && op <= Op::log_softmax) // a tiny max beside a flat rest: midpoint traps
    for (int64_t r = 0; r < b.rows; ++r)
      b.x[size_t(r * b.classes)] = to_d(T(std::ldexp(1.0, 6 - 24) * double(r + 1)));
  if (trap && op == Op::logsumexp) // k equal logits near -log k: lse cancels to near 0
    for (int64_t r = 0; r < b.rows; ++r) {
      const int64_t k = 1 + r % 4;
      for (int64_t c = 0; c < b.classes; ++c)
        b.x[size_t(r * b.classes + c)] =
            c < k ? to_d(T(-std::log(double(k)) * (1 + std::ldexp(normal(1), -30)))) : -INFINITY;
    }
  if (is_loss(op)) {
    // log-probabilities (the logits' log_softmax), targets with some
    // ignored, weights or none, smoothing, every reduction.
    for (int64_t r = 0; r < b.rows && is_nll(op); ++r) {
      double m = -INFINITY, sum = 0;
      double *x = &b.x[size_t(r * b.classes)];
      for (int64_t c = 0; c < b.classes; ++c) m = std::max(m, x[c]);
      for (int64_t c = 0; c < b.classes; ++c) sum += std::exp(x[c] - m);
      for (int64_t c = 0; c < b.classes; ++c) x[c] = to_d(T((x[c] - m) - std::log(sum)));
    }
    const int pick = int(uniform() * 1000);
    b.reduction = softcheck::Reduction(pick % 3);
    const double eps_of[] = {0, 0, 0.1, 0.25, 1, 0.5};
    b.eps = pick % 7 == 6 ? uniform() : eps_of[(pick / 3) % 6];
    b.ignore_index = pick % 2 ? -100 : int64_t(uniform() * double(b.classes));
    b.target.resize(size_t(b.rows));
    for (int64_t &t : b.target) t = int64_t(uniform() * double(b.classes));
    if ((pick / 18) % 2) {
      b.weight.resize(size_t(b.classes));
      for (double &w : b.weight) w = to_d(T(uniform() < 0.1 ? 0 : uniform() * 3));
    }
    if (is_prob(op)) { // probability rows: a softmax, a one-hot, or with zeros
      b.prob.resize(n);
      for (int64_t r = 0; r < b.rows; ++r) {
        double total = 0;
        for (int64_t c = 0; c < b.classes; ++c) {
          double &p = b.prob[size_t(r * b.classes + c)];
          p = (pick + r) % 3 == 0 ? (c == b.target[size_t(r)] ? 1 : 0)
              : uniform() < 0.2   ? 0
                                  : std::exp(normal(2));
          total += p;
        }
        for (int64_t c = 0; c < b.classes; ++c) {
          double &p = b.prob[size_t(r * b.classes + c)];
          p = to_d(T(total > 0 ? p / total : 0));
        }
      }
    }
    b.dout.resize(size_t(b.reduction == softcheck::Reduction::none ? b.rows : 1));
    for (double &d : b.dout) d = to_d(T(trap ? 1 : normal(1) * std::exp(normal(2))));
    return b;
  }
  if (op <= Op::logsumexp) return b;
  b.y.resize(n);
  b.dy.resize(n);
  for (int64_t r = 0; r < b.rows; ++r) {
    const double *x = &b.x[size_t(r * b.classes)];
    double m = -INFINITY, s = 0;
    for (int64_t c = 0; c < b.classes; ++c) m = std::max(m, x[c]);
    for (int64_t c = 0; c < b.classes; ++c) s += std::exp(x[c] - m);
    for (int64_t c = 0; c < b.classes; ++c) {
      const size_t i = size_t(r * b.classes + c);
      const double p = std::exp(x[c] - m) / s;
      b.y[i] = to_d(T(op == Op::softmax_backward ? p : (x[c] - m) - std::log(s)));
      double d = 0;
      switch (regime % 4) {
      case 0: d = normal(1); break;
      case 1: d = normal(1) * std::exp(normal(5)); break;
      case 2: d = std::round(normal(3)); break;
      default: d = uniform() < 0.3 ? 0 : normal(100); break;
      }
      if (trap) // dy_c - D (or dy_c - exp(y_c) S) cancels to T's rounding error
        d = op == Op::softmax_backward ? 1 + (c == 0 ? std::ldexp(normal(1), -20) : 0)
                                       : std::exp(b.y[i]) * (1 + std::ldexp(normal(1), -30));
      b.dy[i] = to_d(T(d));
    }
  }
  if (regime == 6 && !trap && b.classes > 1) { // special values, one kind a row
    const size_t K = size_t(b.classes);
    b.y[0] = NAN;                       // row 0: a NaN y
    b.dy[K] = NAN;                      // row 1: a NaN dy
    b.dy[2 * K] = INFINITY;             // row 2: an infinite dy
    for (size_t c = 0; c < K; c += 2) { // row 3: masked classes
      b.y[3 * K + c] = op == Op::log_softmax_backward ? -INFINITY : 0;
      if (c % 4 == 0) b.dy[3 * K + c] = -0.0;
    }
    b.y[4 * K] = op == Op::log_softmax_backward ? INFINITY : -INFINITY; // row 4: falls back
  }
  return b;
}

template <class T> std::vector<T> as(const std::vector<double> &v) {
  std::vector<T> out(v.size());
  for (size_t i = 0; i < v.size(); ++i) out[i] = T(v[i]);
  return out;
}

template <class T> std::vector<T> run(Op op, const Rows &b, const oracle::Config &c) {
  const softcheck::Shape s{b.rows, b.classes, 1};
  const size_t loss_outputs = b.reduction == softcheck::Reduction::none ? size_t(b.rows) : 1;
  std::vector<T> out(op == Op::logsumexp  ? size_t(b.rows)
                     : per_row_or_one(op) ? loss_outputs
                                          : size_t(b.rows * b.classes));
  softcheck_status st = SOFTCHECK_OK;
  if (is_loss(op)) {
    const std::vector<T> x = as<T>(b.x), w = as<T>(b.weight), dout = as<T>(b.dout),
                         pr = as<T>(b.prob);
    softcheck::LossOptions<T> o;
    o.reduction = b.reduction;
    o.ignore_index = b.ignore_index;
    o.weight = w.empty() ? nullptr : w.data();
    o.label_smoothing = b.eps;
    const int64_t *t = b.target.data();
    switch (op) {
    case Op::nll_loss: st = oracle::nll_loss<T>(s, x.data(), t, o, out.data(), c); break;
    case Op::nll_loss_backward:
      st = oracle::nll_loss_backward<T>(s, t, o, dout.data(), out.data(), c);
      break;
    case Op::cross_entropy: st = oracle::cross_entropy<T>(s, x.data(), t, o, out.data(), c); break;
    case Op::cross_entropy_backward:
      st = oracle::cross_entropy_backward<T>(s, x.data(), t, o, dout.data(), out.data(), c);
      break;
    case Op::cross_entropy_prob:
      st = oracle::cross_entropy_prob<T>(s, x.data(), pr.data(), o, out.data(), c);
      break;
    default:
      st = oracle::cross_entropy_prob_backward<T>(s, x.data(), pr.data(), o, dout.data(),
                                                  out.data(), c);
      break;
    }
  } else if (op <= Op::logsumexp) {
    const std::vector<T> x = as<T>(b.x);
    st = op == Op::softmax       ? oracle::softmax<T>(s, x.data(), out.data(), c)
         : op == Op::log_softmax ? oracle::log_softmax<T>(s, x.data(), out.data(), c)
                                 : oracle::logsumexp<T>(s, x.data(), out.data(), c);
  } else {
    const std::vector<T> y = as<T>(b.y), dy = as<T>(b.dy);
    st = op == Op::softmax_backward
             ? oracle::softmax_backward<T>(s, y.data(), dy.data(), out.data(), c)
             : oracle::log_softmax_backward<T>(s, y.data(), dy.data(), out.data(), c);
  }
  REQUIRE(st == SOFTCHECK_OK);
  return out;
}

struct Tally {
  int64_t outputs = 0, differ = 0;
  // Outputs the oracle computed (fast and interval), of the random regimes
  // and of the traps, and those the fast phase settled.
  int64_t computed = 0, settled = 0, trap_computed = 0, trap_settled = 0;
  std::string by_regime; // settled / computed outputs per regime
};

template <class T> Tally compare(Op op, int64_t wanted, double scale, bool traps, uint64_t seed) {
  oracle::Config fast_cfg, slow_cfg;
  oracle::Stats stats;
  fast_cfg.stats = &stats;
  fast_cfg.fast_bound_scale = scale;
  slow_cfg.fast = false;
  std::mt19937_64 rng(seed);
  Tally t;
  constexpr int regimes = 8;
  std::vector<int64_t> computed(regimes), settled(regimes);
  for (int batch = 0; t.outputs < wanted; ++batch) {
    const bool trap = traps && (batch / regimes) % 2 == 1;
    const int regime = batch % regimes;
    const Rows b = draw<T>(rng, op, regime, trap);
    const oracle::Stats before = stats;
    const std::vector<T> fast = run<T>(op, b, fast_cfg), slow = run<T>(op, b, slow_cfg);
    for (size_t i = 0; i < fast.size(); ++i)
      if (!same_bits(fast[i], slow[i])) {
        ++t.differ;
        if (scale == 1)
          FAIL_CHECK(name(op) << ": fast " << std::hexfloat << to_d(fast[i]) << " vs interval "
                              << to_d(slow[i]) << " (batch " << batch << ", output " << i
                              << ", classes " << b.classes << ")");
      }
    t.outputs += int64_t(fast.size());
    const int64_t fast_n = stats.fast_outputs - before.fast_outputs;
    const int64_t n = fast_n + stats.interval_outputs - before.interval_outputs;
    (trap ? t.trap_computed : t.computed) += n;
    (trap ? t.trap_settled : t.settled) += fast_n;
    if (!trap) computed[size_t(regime)] += n, settled[size_t(regime)] += fast_n;
  }
  for (size_t g = 0; g < computed.size(); ++g)
    t.by_regime += " " + std::to_string(settled[g]) + "/" + std::to_string(computed[g]);
  return t;
}

template <class T> void fast_equals_intervals(std::initializer_list<Op> ops) {
  const int64_t wanted = outputs_wanted();
  for (Op op : ops) {
    // logsumexp and nll_loss have one output per row or one in all: fewer
    // outputs for the same work.
    const int64_t n = op == Op::logsumexp || per_row_or_one(op) ? wanted / 20 : wanted;
    const Tally t = compare<T>(op, n, 1, true, 2024);
    INFO(name(op) << ": " << t.outputs << " outputs; outputs settled fast, per regime:"
                  << t.by_regime << "; traps " << t.trap_settled << "/" << t.trap_computed);
    CHECK(t.differ == 0);
    WARN(name(op) << " outputs settled per regime:" << t.by_regime << "; traps " << t.trap_settled
                  << "/" << t.trap_computed);
  }
}

// The backward traps cancel to values the double computation holds to a
// few bits past float32's, so its rounding errors (many double ulps, past
// the one ulp settle widens by even at scale 0) cross float32's rounding
// boundaries: there the shrunk bounds must show. (The half formats keep 40
// spare bits and more, and the forward ops' traps sit within one double ulp
// of a boundary, which the widening alone hands on.)
void weakened_bound_is_caught() {
  for (Op op : {Op::softmax_backward, Op::log_softmax_backward}) {
    const Tally t = compare<float>(op, 200000, 0, true, 77);
    INFO(name(op) << ": " << t.differ << " of " << t.outputs << " outputs differ");
    CHECK(t.differ > 0);
  }
}

} // namespace

TEMPLATE_TEST_CASE("oracle fast phase: the interval path's bits on every op it takes",
                   "[oracle][fast]", float, bf16, f16) {
  fast_equals_intervals<TestType>(
      {Op::softmax, Op::log_softmax, Op::logsumexp, Op::softmax_backward, Op::log_softmax_backward,
       Op::nll_loss, Op::nll_loss_backward, Op::cross_entropy, Op::cross_entropy_backward,
       Op::cross_entropy_prob, Op::cross_entropy_prob_backward});
}

TEST_CASE("oracle fast phase: the interval path's bits on float64 (double-double)",
          "[oracle][fast]") {
  fast_equals_intervals<double>({Op::softmax, Op::log_softmax, Op::logsumexp, Op::softmax_backward,
                                 Op::log_softmax_backward, Op::nll_loss, Op::nll_loss_backward,
                                 Op::cross_entropy, Op::cross_entropy_backward,
                                 Op::cross_entropy_prob, Op::cross_entropy_prob_backward});
}

TEST_CASE("oracle fast phase: with its bounds shrunk to 0 it differs (the check can fail)",
          "[oracle][fast]") {
  weakened_bound_is_caught();
}
