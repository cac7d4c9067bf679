// The pipelines section: the pitfalls this project started from, measured
// on each set's own kernels against the oracle.
//   two pipelines    nll_loss(log_softmax(x)) and cross_entropy(x) must agree
//   keras_clip       softmax -> clip(p, eps, 1 - eps) -> -log p[t], Keras's
//                    categorical_crossentropy(from_logits=False), eps = 1e-7
//   double softmax   softmax(x) fed to cross_entropy (which applies
//                    log_softmax itself): the loss and its gradient
// The scaled rows are s * z, z ~ N(0, 1), ten classes, a uniform target:
// the error as the logits' scale s grows.
#include "parts.hpp"

#include <softcheck/case.hpp>
#include <softcheck/generators.hpp>
#include <softcheck/metrics.hpp>
#include <softcheck/oracle.hpp>

#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace softcheck::report {
namespace {

constexpr int64_t kClasses = 10;
constexpr int64_t kRows = 128;
constexpr int kMinScaleLog2 = -2, kMaxScaleLog2 = 12;

PipelinePoint missing(std::string at, double scale) { return {std::move(at), scale, 0, NAN, NAN}; }

PipelinePoint summarize(std::string at, double scale, std::vector<double> errors) {
  PipelinePoint p{std::move(at), scale, int64_t(errors.size()), NAN, NAN};
  if (errors.empty()) return p;
  std::sort(errors.begin(), errors.end());
  p.median = errors[(errors.size() - 1) / 2];
  p.max = errors.back();
  return p;
}

double rel(double got, double want) {
  if (got == want) return 0;
  if (std::isnan(got) || std::isnan(want) || want == 0) return INFINITY;
  return std::abs(got - want) / std::abs(want);
}

template <class T> Case<T> scaled_rows(uint64_t seed, int k) {
  gen::Draw d(seed * 0x9e3779b97f4a7c15ull + uint64_t(k + 64));
  Case<T> c;
  c.op = SOFTCHECK_OP_CROSS_ENTROPY;
  c.shape = {kRows, kClasses, 1};
  c.reduction = Reduction::none;
  const double s = std::ldexp(1.0, k);
  for (int64_t i = 0; i < kRows * kClasses; ++i) c.x.push_back(T(s * d.normal(1)));
  for (int64_t r = 0; r < kRows; ++r) c.target.push_back(d.below(kClasses));
  c.dout.assign(size_t(kRows), T(1));
  return c;
}

template <class T>
void two_pipelines(std::vector<Pipeline> &out, const SetRef &ref, softcheck_dtype dtype,
                   const Options &o) {
  const softcheck_ops &ops = ops_of<T>(*ref.set);
  const softcheck_kernel_set &set = *ref.set;
  if (!ops.log_softmax || !ops.nll_loss || !ops.cross_entropy) return;
  Pipeline a{"nll_of_log_softmax",
             ref.set->name,
             dtype,
             "ulp error of nll_loss(log_softmax(x)) against the correctly rounded loss",
             {}};
  Pipeline b{"cross_entropy",
             ref.set->name,
             dtype,
             "ulp error of cross_entropy(x) against the correctly rounded loss",
             {}};
  Pipeline g{"pipeline_gap",
             ref.set->name,
             dtype,
             "|nll_loss(log_softmax(x)) - cross_entropy(x)| in ulps of the correct loss",
             {}};
  std::vector<gen::Regime> regimes = gen::finite_regimes();
  regimes.push_back(gen::Regime::masked);
  for (gen::Regime r : regimes) {
    std::vector<double> ea, eb, eg;
    for (int64_t i = 0; i < o.cases; ++i) {
      gen::Draw d(o.seed * 0x2545f4914f6cdd1dull + uint64_t(r) * 1000003u + uint64_t(i));
      gen::Spec spec;
      spec.regimes = {r};
      spec.large_rows = false;
      spec.inner = false;
      spec.plain_options = true;
      Case<T> c = gen::draw_case<T>(d, SOFTCHECK_OP_CROSS_ENTROPY, spec, 50);
      c.reduction = Reduction::none;
      const size_t rows = size_t(c.rows());
      std::vector<T> logp(c.x.size()), via_nll(rows), ce(rows), want(rows);
      Case<T> nll = c;
      nll.op = SOFTCHECK_OP_NLL_LOSS;
      Case<T> lsm = c;
      lsm.op = SOFTCHECK_OP_LOG_SOFTMAX;
      // A failed call adds no rows (the point says how many it has).
      if (call(set, lsm, logp.data()) != SOFTCHECK_OK) continue;
      nll.x = logp;
      if (call(set, nll, via_nll.data()) != SOFTCHECK_OK) continue;
      if (call(set, c, ce.data()) != SOFTCHECK_OK) continue;
      if (oracle::call(c, want.data()) != SOFTCHECK_OK) continue;
      for (size_t k = 0; k < rows; ++k) {
        ea.push_back(ulp_error(via_nll[k], want[k]));
        eb.push_back(ulp_error(ce[k], want[k]));
        const bool both_numbers = std::isfinite(via_nll[k]) && std::isfinite(ce[k]);
        eg.push_back(both_numbers ? double(std::abs(static_cast<long double>(via_nll[k]) - ce[k]) /
                                           spacing(want[k]))
                                  : ulp_error(via_nll[k], ce[k]));
      }
    }
    a.points.push_back(summarize(gen::regime_id(r), 0, ea));
    b.points.push_back(summarize(gen::regime_id(r), 0, eb));
    g.points.push_back(summarize(gen::regime_id(r), 0, eg));
  }
  out.push_back(std::move(a));
  out.push_back(std::move(b));
  out.push_back(std::move(g));
}

template <class T>
void scaled(std::vector<Pipeline> &out, const SetRef &ref, softcheck_dtype dtype,
            const Options &o) {
  const softcheck_ops &ops = ops_of<T>(*ref.set);
  const softcheck_kernel_set &set = *ref.set;
  if (!ops.softmax) return;
  const bool grad = ops.cross_entropy && ops.cross_entropy_backward && ops.softmax_backward;
  Pipeline keras{"keras_clip",
                 ref.set->name,
                 dtype,
                 "relative error of -log(clip(softmax(x)[t], 1e-7, 1 - 1e-7)) against the "
                 "correctly rounded cross-entropy",
                 {}};
  Pipeline dl{"double_softmax_loss",
              ref.set->name,
              dtype,
              "relative error of cross_entropy(softmax(x)) against cross_entropy(x), correctly "
              "rounded",
              {}};
  Pipeline dg{"double_softmax_gradient",
              ref.set->name,
              dtype,
              "normwise relative error per row of the gradient through softmax then "
              "cross_entropy, against the correctly rounded gradient of cross_entropy(x)",
              {}};
  const T eps = T(1e-7);
  for (int k = kMinScaleLog2; k <= kMaxScaleLog2; ++k) {
    Case<T> c = scaled_rows<T>(o.seed, k);
    const size_t n = c.x.size();
    std::vector<T> p(n), want(static_cast<size_t>(kRows));
    Case<T> sm = c;
    sm.op = SOFTCHECK_OP_SOFTMAX;
    const std::string at = fmt::format("2^{}", k);
    const double scale = std::ldexp(1.0, k);
    // A call that fails leaves a point with no values, so the curves of
    // every set keep the same x positions.
    auto skip = [&](bool keras_too) {
      if (keras_too) keras.points.push_back(missing(at, scale));
      dl.points.push_back(missing(at, scale));
      dg.points.push_back(missing(at, scale));
    };
    if (call(set, sm, p.data()) != SOFTCHECK_OK || oracle::call(c, want.data()) != SOFTCHECK_OK) {
      skip(true);
      continue;
    }
    std::vector<double> ek;
    for (int64_t r = 0; r < kRows; ++r) {
      T pt = p[size_t(r * kClasses + c.target[size_t(r)])];
      // In T, as Keras computes it: 1 - eps rounds to 1 in the half
      // formats, and eps itself to the nearest value there.
      pt = std::min(std::max(pt, eps), T(T(1) - eps));
      ek.push_back(rel(double(T(-std::log(pt))), double(want[size_t(r)])));
    }
    keras.points.push_back(summarize(at, scale, ek));
    if (!grad) continue;
    Case<T> twice = c;
    twice.x = p;
    std::vector<T> loss(static_cast<size_t>(kRows)), gp(n), gx(n), gwant(n);
    if (call(set, twice, loss.data()) != SOFTCHECK_OK) {
      skip(false);
      continue;
    }
    std::vector<double> el;
    for (int64_t r = 0; r < kRows; ++r) el.push_back(rel(loss[size_t(r)], want[size_t(r)]));
    dl.points.push_back(summarize(at, scale, el));
    Case<T> back = twice;
    back.op = SOFTCHECK_OP_CROSS_ENTROPY_BACKWARD;
    Case<T> through = c;
    through.op = SOFTCHECK_OP_SOFTMAX_BACKWARD;
    through.x = p;
    Case<T> ce_back = c;
    ce_back.op = SOFTCHECK_OP_CROSS_ENTROPY_BACKWARD;
    bool ok = call(set, back, gp.data()) == SOFTCHECK_OK;
    through.aux = gp;
    ok = ok && call(set, through, gx.data()) == SOFTCHECK_OK &&
         oracle::call(ce_back, gwant.data()) == SOFTCHECK_OK;
    if (!ok) {
      dg.points.push_back(missing(at, scale));
      continue;
    }
    std::vector<double> eg;
    for (int64_t r = 0; r < kRows; ++r)
      eg.push_back(
          normwise_error(gx.data() + r * kClasses, gwant.data() + r * kClasses, size_t(kClasses)));
    dg.points.push_back(summarize(at, scale, eg));
  }
  out.push_back(std::move(keras));
  if (grad) {
    out.push_back(std::move(dl));
    out.push_back(std::move(dg));
  }
}

} // namespace

std::vector<Pipeline> pipelines(const std::vector<SetRef> &sets, const Options &o) {
  std::vector<Pipeline> out;
  for (const SetRef &ref : sets)
    for (softcheck_dtype d : o.dtypes)
      visit_dtype(d, [&](auto t) {
        using T = typename decltype(t)::type;
        two_pipelines<T>(out, ref, d, o);
        scaled<T>(out, ref, d, o);
      });
  return out;
}

} // namespace softcheck::report
