// The edge-case semantics written in <softcheck/plugin.h>, held against the
// built-in kernels, and relations between ops that a wrong kernel breaks.
#include <softcheck/kernels.hpp>
#include <softcheck/ulp.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <vector>

using softcheck::LossOptions;
using softcheck::Reduction;
using softcheck::Shape;

namespace {

template <class T> constexpr T inf_v = std::numeric_limits<T>::infinity();
template <class T> const T qnan = std::numeric_limits<T>::quiet_NaN();

template <class T> std::vector<T> run_softmax(Shape s, const std::vector<T> &x) {
  std::vector<T> y(x.size(), T(-7));
  REQUIRE(softcheck::softmax<T>(s, x.data(), y.data()) == SOFTCHECK_OK);
  return y;
}
template <class T> std::vector<T> run_log_softmax(Shape s, const std::vector<T> &x) {
  std::vector<T> y(x.size(), T(-7));
  REQUIRE(softcheck::log_softmax<T>(s, x.data(), y.data()) == SOFTCHECK_OK);
  return y;
}
template <class T> std::vector<T> run_lse(Shape s, const std::vector<T> &x) {
  std::vector<T> y(size_t(s.outer * s.inner), T(-7));
  REQUIRE(softcheck::logsumexp<T>(s, x.data(), y.data()) == SOFTCHECK_OK);
  return y;
}
template <class T>
T run_ce(Shape s, const std::vector<T> &x, const std::vector<int64_t> &t, LossOptions<T> o) {
  T out = T(-7);
  REQUIRE(o.reduction != Reduction::none);
  REQUIRE(softcheck::cross_entropy<T>(s, x.data(), t.data(), o, &out) == SOFTCHECK_OK);
  return out;
}

// |a - b| in ulps, for the tests' relational checks.
template <class T> int64_t ulps(T a, T b) { return std::abs(softcheck::ulp_distance(a, b)); }

} // namespace

TEMPLATE_TEST_CASE("a NaN spreads to its whole row and to no other row", "[semantics]", float,
                   double) {
  using T = TestType;
  const Shape s{3, 4, 1};
  std::vector<T> x = {1, 2, 3, 4, 1, qnan<T>, 3, 4, 0.5, -1, 2, 7};
  auto y = run_softmax(s, x), lp = run_log_softmax(s, x), lse = run_lse(s, x);
  for (int c = 0; c < 4; ++c) {
    CHECK(std::isnan(y[4 + c]));
    CHECK(std::isnan(lp[4 + c]));
  }
  CHECK(std::isnan(lse[1]));
  // The other rows are what they are on their own, bit for bit.
  for (int r : {0, 2}) {
    std::vector<T> row(x.begin() + 4 * r, x.begin() + 4 * r + 4);
    auto alone = run_softmax(Shape{1, 4, 1}, row);
    for (int c = 0; c < 4; ++c) CHECK(alone[c] == y[4 * r + c]);
    CHECK(run_lse(Shape{1, 4, 1}, row)[0] == lse[r]);
  }
}

TEMPLATE_TEST_CASE("+inf in a row: logsumexp +inf, softmax and log_softmax NaN", "[semantics]",
                   float, double) {
  using T = TestType;
  const Shape s{1, 3, 1};
  std::vector<T> x = {1, inf_v<T>, -inf_v<T>};
  for (T v : run_softmax(s, x)) CHECK(std::isnan(v));
  for (T v : run_log_softmax(s, x)) CHECK(std::isnan(v));
  CHECK(run_lse(s, x)[0] == inf_v<T>);
}

TEMPLATE_TEST_CASE("an all -inf row is fully masked: 0, -inf, -inf", "[semantics]", float, double) {
  using T = TestType;
  const Shape s{2, 3, 1};
  std::vector<T> x = {-inf_v<T>, -inf_v<T>, -inf_v<T>, 0, -inf_v<T>, 1};
  auto y = run_softmax(s, x), lp = run_log_softmax(s, x), lse = run_lse(s, x);
  for (int c = 0; c < 3; ++c) {
    CHECK(y[c] == 0);
    CHECK(!std::signbit(y[c]));
    CHECK(lp[c] == -inf_v<T>);
  }
  CHECK(lse[0] == -inf_v<T>);
  // -inf in a partly masked row gives exactly 0 and -inf.
  CHECK(y[4] == 0);
  CHECK(lp[4] == -inf_v<T>);
  CHECK(y[3] + y[5] == Approx(1.0));
  // A fully masked target row has infinite loss; a zero-weight one counts 0.
  LossOptions<T> o;
  o.reduction = Reduction::sum;
  CHECK(run_ce<T>(s, x, {1, 2}, o) == inf_v<T>);
  const T w[3] = {1, 0, 1};
  o.weight = w;
  std::vector<int64_t> t = {1, 2};
  CHECK(run_ce<T>(s, x, t, o) == run_ce<T>(Shape{1, 3, 1}, {0, -inf_v<T>, 1}, {2}, o));
}

TEMPLATE_TEST_CASE("one class: softmax 1, log_softmax 0, logsumexp x", "[semantics]", float,
                   double) {
  using T = TestType;
  const Shape s{4, 1, 1};
  std::vector<T> x = {-3, 0, T(1e30), std::numeric_limits<T>::denorm_min()};
  auto y = run_softmax(s, x), lp = run_log_softmax(s, x), lse = run_lse(s, x);
  for (int r = 0; r < 4; ++r) {
    CHECK(y[r] == 1);
    CHECK(lp[r] == 0);
    CHECK(lse[r] == x[r]);
  }
}

TEMPLATE_TEST_CASE("empty shapes compute nothing and succeed", "[semantics]", float, double) {
  using T = TestType;
  T sentinel[2] = {T(-7), T(-7)};
  const T x[1] = {1};
  for (Shape s : {Shape{0, 3, 1}, Shape{2, 3, 0}}) {
    CHECK(softcheck::softmax<T>(s, nullptr, nullptr) == SOFTCHECK_OK);
    CHECK(softcheck::logsumexp<T>(s, nullptr, nullptr) == SOFTCHECK_OK);
  }
  // classes = 0: softmax writes nothing, logsumexp is log(empty sum) = -inf.
  CHECK(softcheck::softmax<T>(Shape{2, 0, 1}, nullptr, nullptr) == SOFTCHECK_OK);
  CHECK(softcheck::logsumexp<T>(Shape{2, 0, 1}, x, sentinel) == SOFTCHECK_OK);
  CHECK(sentinel[0] == -inf_v<T>);
  CHECK(sentinel[1] == -inf_v<T>);
  // No rows: sum is 0, mean is 0/0.
  LossOptions<T> o;
  T out = T(-7);
  o.reduction = Reduction::sum;
  CHECK(softcheck::cross_entropy<T>(Shape{0, 3, 1}, nullptr, nullptr, o, &out) == SOFTCHECK_OK);
  CHECK(out == 0);
  o.reduction = Reduction::mean;
  CHECK(softcheck::cross_entropy<T>(Shape{0, 3, 1}, nullptr, nullptr, o, &out) == SOFTCHECK_OK);
  CHECK(std::isnan(out));
}

TEMPLATE_TEST_CASE("ignored targets contribute nothing, and all ignored under mean is NaN",
                   "[semantics][loss]", float, double) {
  using T = TestType;
  const Shape s3{3, 4, 1}, s2{2, 4, 1};
  std::vector<T> x = {1, 2, 3, 4, 9, -2, 0.5, 1, -1, 0, 1, 8};
  std::vector<T> x_kept = {1, 2, 3, 4, -1, 0, 1, 8};
  const T w[4] = {0.5, 2, 1, 3};
  for (double eps : {0.0, 0.1, 1.0}) {
    for (const T *weight : {static_cast<const T *>(nullptr), w}) {
      for (Reduction red : {Reduction::mean, Reduction::sum}) {
        LossOptions<T> o;
        o.reduction = red;
        o.weight = weight;
        o.label_smoothing = eps;
        INFO("eps " << eps << " weights " << (weight != nullptr) << " reduction " << int(red));
        // Dropping the ignored row changes nothing: not the loss, not the
        // smoothing term, not the mean's denominator.
        T with = run_ce<T>(s3, x, {2, -100, 3}, o);
        T without = run_ce<T>(s2, x_kept, {2, 3}, o);
        CHECK(with == without);
        // Nor the gradient of the other rows; the ignored row's is 0.
        std::vector<T> g3(12, T(-7)), g2(8, T(-7));
        const T one = 1;
        std::vector<int64_t> t3 = {2, -100, 3}, t2 = {2, 3};
        REQUIRE(softcheck::cross_entropy_backward<T>(s3, x.data(), t3.data(), o, &one, g3.data()) ==
                SOFTCHECK_OK);
        REQUIRE(softcheck::cross_entropy_backward<T>(s2, x_kept.data(), t2.data(), o, &one,
                                                     g2.data()) == SOFTCHECK_OK);
        for (int c = 0; c < 4; ++c) {
          CHECK(g3[c] == g2[c]);
          CHECK(g3[4 + c] == 0);
          CHECK(g3[8 + c] == g2[4 + c]);
        }
      }
    }
  }
  LossOptions<T> o;
  CHECK(std::isnan(run_ce<T>(s3, x, {-100, -100, -100}, o)));
  o.reduction = Reduction::sum;
  CHECK(run_ce<T>(s3, x, {-100, -100, -100}, o) == 0);
}

TEMPLATE_TEST_CASE("mean divides the sum by the weights of the counted targets",
                   "[semantics][loss]", float, double) {
  using T = TestType;
  const Shape s{3, 3, 1};
  std::vector<T> x = {0.25, 1, -2, 3, 3, 1, -1, 0, 2};
  std::vector<int64_t> t = {0, 2, -100};
  const T w[3] = {2, 0.5, 4};
  LossOptions<T> o;
  o.weight = w;
  o.reduction = Reduction::sum;
  T sum = run_ce<T>(s, x, t, o);
  o.reduction = Reduction::mean;
  T mean = run_ce<T>(s, x, t, o);
  // w[0] + w[2] = 6: both results are within 1 ulp of exact, so the
  // quotient is within 2 ulps of the mean.
  CHECK(ulps(mean, T(sum / T(6))) <= 2);
  // Negative weights are used as written: negating every weight negates
  // the sum exactly, and leaves the mean unchanged.
  const T neg[3] = {-2, -0.5, -4};
  o.weight = neg;
  CHECK(run_ce<T>(s, x, t, o) == mean);
  o.reduction = Reduction::sum;
  CHECK(run_ce<T>(s, x, t, o) == -sum);
}

TEMPLATE_TEST_CASE("label smoothing spreads eps/K over all K classes", "[semantics][loss]", float,
                   double) {
  using T = TestType;
  const Shape s{1, 4, 1};
  std::vector<T> x = {0.5, -1, 2, 0};
  auto lp = run_log_softmax(s, x);
  LossOptions<T> o;
  o.reduction = Reduction::sum;
  o.label_smoothing = 1.0;
  // eps = 1: the loss is the mean of -log p over the classes, whatever the target.
  T expected = -(lp[0] + lp[1] + lp[2] + lp[3]) / 4;
  for (int64_t t = 0; t < 4; ++t) {
    T got = run_ce<T>(s, x, {t}, o);
    // Each lp[k] is within 1 ulp, all are negative (no cancellation): the
    // recomputed value is within 3 ulps of exact, got within 1.
    CHECK(ulps(got, expected) <= 4);
  }
}

TEMPLATE_TEST_CASE("probability targets are used as written", "[semantics][loss]", float, double) {
  using T = TestType;
  const Shape s{2, 3, 1};
  std::vector<T> x = {1, 2, 3, -1, 0.5, 0};
  std::vector<T> p = {0.25, 0.5, 0.5, 0.125, 0.5, 0.125}; // rows sum to 1.25 and 0.75
  std::vector<T> p2(p.size());
  for (size_t i = 0; i < p.size(); ++i) p2[i] = 2 * p[i];
  LossOptions<T> o;
  o.reduction = Reduction::none;
  T l1[2], l2[2];
  REQUIRE(softcheck::cross_entropy_prob<T>(s, x.data(), p.data(), o, l1) == SOFTCHECK_OK);
  REQUIRE(softcheck::cross_entropy_prob<T>(s, x.data(), p2.data(), o, l2) == SOFTCHECK_OK);
  // No normalisation: doubling the targets doubles the loss, exactly
  // (scaling by 2 commutes with every rounding here).
  CHECK(l2[0] == 2 * l1[0]);
  CHECK(l2[1] == 2 * l1[1]);
  // A one-hot target gives the class-index loss.
  std::vector<T> onehot = {0, 0, 1, 1, 0, 0};
  REQUIRE(softcheck::cross_entropy_prob<T>(s, x.data(), onehot.data(), o, l1) == SOFTCHECK_OK);
  std::vector<int64_t> t = {2, 0};
  REQUIRE(softcheck::cross_entropy<T>(s, x.data(), t.data(), o, l2) == SOFTCHECK_OK);
  CHECK(l1[0] == l2[0]);
  CHECK(l1[1] == l2[1]);
}

TEMPLATE_TEST_CASE("inner > 1 reduces over the middle dimension", "[semantics][layout]", float,
                   double) {
  using T = TestType;
  // [outer 2, classes 3, inner 2]: row (o, i) is x[o][.][i].
  const Shape s{2, 3, 2};
  std::vector<T> x = {1, -1, 2, 0, 3, 5, 0.5, 7, -2, 7, 4, 1};
  auto y = run_softmax(s, x);
  auto lse = run_lse(s, x);
  for (int o = 0; o < 2; ++o)
    for (int i = 0; i < 2; ++i) {
      std::vector<T> row = {x[(o * 3 + 0) * 2 + i], x[(o * 3 + 1) * 2 + i], x[(o * 3 + 2) * 2 + i]};
      auto alone = run_softmax(Shape{1, 3, 1}, row);
      for (int c = 0; c < 3; ++c) CHECK(y[(o * 3 + c) * 2 + i] == alone[c]);
      CHECK(lse[o * 2 + i] == run_lse(Shape{1, 3, 1}, row)[0]);
    }
}

TEMPLATE_TEST_CASE("the two loss pipelines agree", "[semantics][loss]", float, double) {
  using T = TestType;
  const Shape s{3, 5, 1};
  std::vector<T> x = {2, 3, -1, 0, 1, 40, 0, 1, 2, 3, -7, -7, -7, -7, 10};
  std::vector<int64_t> t = {1, 0, 4};
  auto lp = run_log_softmax(s, x);
  LossOptions<T> o;
  o.reduction = Reduction::none;
  T ce[3], nll[3];
  REQUIRE(softcheck::cross_entropy<T>(s, x.data(), t.data(), o, ce) == SOFTCHECK_OK);
  REQUIRE(softcheck::nll_loss<T>(s, lp.data(), t.data(), o, nll) == SOFTCHECK_OK);
  // nll_loss of a target is -logp exactly; log_softmax and cross_entropy
  // are each within 1 ulp of the same exact value.
  for (int r = 0; r < 3; ++r) CHECK(ulps(ce[r], nll[r]) <= 2);
  // Confident rows keep their tiny loss (no log(sum) rounding to 0).
  CHECK(ce[1] > 0);
  CHECK(ce[2] > 0);
  CHECK(lp[5] < 0);
}

TEMPLATE_TEST_CASE("cross-entropy gradient is softmax minus the target", "[semantics][backward]",
                   float, double) {
  using T = TestType;
  const Shape s{2, 4, 1};
  std::vector<T> x = {0.5, 2, -1, 1, 3, 3, 0, -2};
  std::vector<int64_t> t = {1, 3};
  auto p = run_softmax(s, x);
  LossOptions<T> o;
  o.reduction = Reduction::sum;
  const T one = 1;
  std::vector<T> g(8);
  REQUIRE(softcheck::cross_entropy_backward<T>(s, x.data(), t.data(), o, &one, g.data()) ==
          SOFTCHECK_OK);
  for (int r = 0; r < 2; ++r)
    for (int c = 0; c < 4; ++c) {
      T expected = p[r * 4 + c] - (c == t[r] ? T(1) : T(0));
      // Both sides within 1 ulp of p - onehot's exact value, computed once.
      CHECK(ulps(g[r * 4 + c], expected) <= 2);
    }
  // softmax_backward with dy = 1 is 0: the Jacobian's rows sum to zero.
  std::vector<T> ones(8, T(1)), dx(8, T(-7));
  REQUIRE(softcheck::softmax_backward<T>(s, p.data(), ones.data(), dx.data()) == SOFTCHECK_OK);
  // dx_c = y_c (1 - sum y): each y within 1 ulp, so |1 - sum y| <= 2 eps.
  for (T v : dx) CHECK(std::abs(v) <= 2 * std::numeric_limits<T>::epsilon());
}
