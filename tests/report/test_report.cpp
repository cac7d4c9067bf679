// The report as data: its JSON schema, determinism over thread counts, the
// baseline gate, the pipelines and the special-values table.
#include <softcheck/kernels.hpp>
#include <softcheck/report.hpp>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <string>

using namespace softcheck;
using json = nlohmann::json;

namespace {

report::Options small(int threads = 1) {
  report::Options o;
  o.seed = 7;
  o.cases = 4;
  o.threads = threads;
  return o;
}

const report::Output &builtin_run() {
  static const report::Output out = report::run({{&builtin_kernel_set(), ""}}, small(1));
  return out;
}

// log_softmax one ulp further from zero: the kind of regression the gate is for.
template <class T> softcheck_status nudged(softcheck_shape s, const void *x, void *out) {
  const softcheck_ops &ops = sizeof(T) == 4 ? builtin_kernel_set().f32 : builtin_kernel_set().f64;
  softcheck_status st = ops.log_softmax(s, x, out);
  T *y = static_cast<T *>(out);
  for (int64_t i = 0; st == SOFTCHECK_OK && i < s.outer * s.classes * s.inner; ++i)
    if (std::isfinite(y[i]) && y[i] != 0) y[i] = std::nextafter(y[i], T(-INFINITY));
  return st;
}

softcheck_kernel_set nudged_set() {
  softcheck_kernel_set s = builtin_kernel_set();
  s.f32.log_softmax = nudged<float>;
  s.f64.log_softmax = nudged<double>;
  return s;
}

} // namespace

TEST_CASE("histogram and gap bins have the documented edges", "[report]") {
  const int mid = int(report::kHistogramEdges.size());
  CHECK(report::histogram_bin(0) == mid);
  CHECK(report::histogram_bin(0.25) == mid + 1);
  CHECK(report::histogram_bin(0.5) == mid + 1);
  CHECK(report::histogram_bin(0.75) == mid + 2);
  CHECK(report::histogram_bin(-1) == mid - 2);
  CHECK(report::histogram_bin(1e9) == report::kHistogramBins - 1);
  CHECK(report::histogram_bin(-1e9) == 0);
  CHECK(report::histogram_label(mid + 2) == "+(0.5,1]");
  CHECK(report::gap_bin(0) == 0);
  CHECK(report::gap_bin(0x1p-11) == 1);
  CHECK(report::gap_bin(1.5) == 12);
  CHECK(report::gap_bin(1e9) == report::kGapBins - 1);
}

TEST_CASE("report.json follows its schema", "[report]") {
  const report::Report &r = builtin_run().report;
  const json j = json::parse(report::to_json(r));
  CHECK(j.at("schema") == "softcheck-report");
  CHECK(j.at("schema_version") == report::kSchemaVersion);
  CHECK(j.at("seed") == 7);
  CHECK(j.at("cases") == 4);
  REQUIRE(j.at("sets").size() == 1);
  CHECK(j.at("sets")[0].at("plugin") == "built-in");
  CHECK(j.at("histogram_bins").size() == size_t(report::kHistogramBins));
  // Every op, the four dtypes (the built-in set has half kernels), every regime.
  REQUIRE(j.at("results").size() ==
          size_t(SOFTCHECK_OP_COUNT) * 4 * 15); // 15 regimes: gen::kRegimes
  for (const json &e : j.at("results")) {
    INFO(e.at("op") << " " << e.at("dtype") << " " << e.at("regime"));
    CHECK(e.at("cases") == 4);
    // Numbers, or "nan" where nothing was measured.
    for (const char *k :
         {"max_ulp", "median_ulp", "p99_ulp", "normwise_u", "elementwise_max_ulp", "scaled_max_u"})
      CHECK((e.at(k).is_number() || e.at(k) == "nan"));
    if (e.at("max_ulp").is_number()) {
      CHECK(e.at("median_ulp").get<double>() <= e.at("p99_ulp").get<double>());
      CHECK(e.at("p99_ulp").get<double>() <= e.at("max_ulp").get<double>());
    }
    // Elementwise ops have a normwise error; logsumexp and losses reduce.
    const std::string op = e.at("op");
    CHECK(e.at("normwise_u").is_number() == (op != "logsumexp" && op != "nll_loss" &&
                                             op != "cross_entropy" && op != "cross_entropy_prob"));
    int64_t in_histogram = 0;
    REQUIRE(e.at("histogram").size() == size_t(report::kHistogramBins));
    for (const json &h : e.at("histogram")) in_histogram += h.get<int64_t>();
    CHECK(in_histogram <= e.at("outputs").get<int64_t>());
    CHECK(e.at("counts").size() == 9);
    CHECK(e.at("counts").at("declined") == 0);      // the built-in kernels decline nothing
    CHECK(e.at("counts").at("by_convention") == 0); // and follow softcheck's conventions
    // Headroom: the bound check applies beside the error; the built-in set
    // keeps its contract, so no share passes 1.
    const json &h = e.at("headroom");
    CHECK((h.at("share").is_number() || h.at("share") == "nan"));
    if (h.at("share").is_number()) {
      CHECK(h.at("share").get<double>() >= 0);
      CHECK(h.at("share").get<double>() <= 1);
      CHECK((h.at("unit") == "ulp" || h.at("unit") == "u scaled"));
    }
    CHECK(e.at("worst").size() <= 3);
    for (const json &w : e.at("worst")) {
      CHECK(w.at("case").get<std::string>().rfind("softcheck-case 1\n", 0) == 0);
      CHECK(w.at("reproduce")
                .get<std::string>()
                .find("softcheck eval --set softcheck --case cases/") == 0);
    }
  }
  for (const json &p : j.at("pipelines")) CHECK(p.at("points").size() > 0);
  // Per dtype (4), 8 inputs x 4 ops; a gap curve per dtype for softmax and log_softmax.
  CHECK(j.at("special_values").size() == 4 * 8 * 4);
  CHECK(j.at("error_vs_gap").size() == 4 * 2);
}

TEST_CASE("the same seed gives the same report.json for any thread count", "[report]") {
  const std::string one = report::to_json(builtin_run().report);
  const std::string three =
      report::to_json(report::run({{&builtin_kernel_set(), ""}}, small(3)).report);
  CHECK(one == three);
  report::Options other = small(2);
  other.seed = 8;
  CHECK(report::to_json(report::run({{&builtin_kernel_set(), ""}}, other).report) != one);
}

TEST_CASE("from_json reads back what to_json wrote, and refuses anything else", "[report]") {
  const report::Report &r = builtin_run().report;
  const report::Report back = report::from_json(report::to_json(r));
  REQUIRE(back.results.size() == r.results.size());
  CHECK(back.results[5].max_ulp == r.results[5].max_ulp);
  CHECK(back.seed == r.seed);
  CHECK(report::compare(r, back, {}).items.empty());
  // Every field, worst inputs, curves, special values and pipelines too.
  CHECK(report::to_json(back) == report::to_json(r));
  CHECK(report::to_json(report::timing_from_json(report::to_json(builtin_run().timing))) ==
        report::to_json(builtin_run().timing));

  auto refused = [](const std::string &text) {
    try {
      report::from_json(text);
    } catch (const report::FormatError &e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  CHECK_THAT(refused("{\"schema\": \"softcheck-report\", "), Catch::Contains("not JSON"));
  CHECK_THAT(refused("[1, 2]"), Catch::Contains("not a softcheck report"));
  json j = json::parse(report::to_json(r));
  j["schema_version"] = 2;
  CHECK_THAT(refused(j.dump()), Catch::Contains("schema version 2"));
  j["schema_version"] = report::kSchemaVersion;
  j["results"][3].erase("p99_ulp");
  CHECK_THAT(refused(j.dump()), Catch::Contains("results[3]") && Catch::Contains("p99_ulp"));
  j["results"][3]["p99_ulp"] = "lots";
  CHECK_THAT(refused(j.dump()), Catch::Contains("results[3]"));
}

TEST_CASE("the shards of a run, merged, are the run", "[report]") {
  // A textbook-like set beside the built-in one, so entries interleave.
  const softcheck_kernel_set nudged = nudged_set();
  const std::vector<report::SetRef> sets = {{&builtin_kernel_set(), ""}, {&nudged, ""}};
  report::Options o = small(2);
  o.ops = {SOFTCHECK_OP_LOG_SOFTMAX, SOFTCHECK_OP_SOFTMAX, SOFTCHECK_OP_CROSS_ENTROPY};
  o.dtypes = {SOFTCHECK_F64, SOFTCHECK_F32};
  const std::string whole = report::to_json(report::run(sets, o).report);
  for (int64_t n : {2, 5, 45}) { // 45: more shards than groups (3 ops x 2 dtypes x 15 regimes = 90)
    std::vector<report::Report> parts;
    for (int64_t i = n - 1; i >= 0; --i) { // any order
      report::Options p = o;
      p.shard = i;
      p.shards = n;
      parts.push_back(report::from_json(report::to_json(report::run(sets, p).report)));
      CHECK(parts.back().shard.count == n);
    }
    CHECK(report::to_json(report::merge(parts)) == whole);
  }

  std::vector<report::Report> parts;
  for (int64_t i = 0; i < 3; ++i) {
    report::Options p = o;
    p.shard = i;
    p.shards = 3;
    parts.push_back(report::run(sets, p).report);
  }
  auto refused = [](const std::vector<report::Report> &v) {
    try {
      report::merge(v);
    } catch (const report::FormatError &e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  CHECK_THAT(refused({parts[0], parts[2]}), Catch::Contains("1 of the 3 shards missing (1)"));
  CHECK_THAT(refused({parts[0], parts[1], parts[1], parts[2]}), Catch::Contains("given twice"));
  std::vector<report::Report> other = parts;
  other[1].seed = 8;
  CHECK_THAT(refused(other), Catch::Contains("not parts of one run"));
  other = parts;
  other[2].shard.dtypes = {"f32", "f64"};
  CHECK_THAT(refused(other), Catch::Contains("ops or dtypes"));
  CHECK_THAT(refused({builtin_run().report}), Catch::Contains("not a shard"));
}

TEST_CASE("the baseline gate flags a worse kernel and only a worse one", "[report]") {
  const report::Report &base = builtin_run().report;
  const softcheck_kernel_set worse_set = nudged_set();
  const report::Report worse = report::run({{&worse_set, ""}}, small(2)).report;
  const report::Diff d = report::compare(base, worse, {});
  CHECK(d.worse());
  bool log_softmax_worse = false, other_worse = false;
  for (const auto &x : d.items) {
    if (x.change != report::Change::worse) continue;
    const bool is_lsm = x.key.find("/ log_softmax /") != std::string::npos;
    log_softmax_worse = log_softmax_worse || is_lsm;
    other_worse = other_worse || !is_lsm;
  }
  CHECK(log_softmax_worse);
  CHECK_FALSE(other_worse);
  // Headroom moves with the kernel: the nudged log_softmax reaches its
  // 1-ulp contract (most outputs were correctly rounded, now one ulp off);
  // the untouched ops keep their shares.
  double nudged_share = 0;
  REQUIRE(worse.results.size() == base.results.size());
  for (size_t i = 0; i < worse.results.size(); ++i) {
    const report::Entry &w = worse.results[i], &b = base.results[i];
    if (w.op == SOFTCHECK_OP_LOG_SOFTMAX && !std::isnan(w.headroom.share))
      nudged_share = std::max(nudged_share, w.headroom.share);
    if (w.op == SOFTCHECK_OP_SOFTMAX) {
      INFO(w.regime);
      CHECK((w.headroom.share == b.headroom.share ||
             (std::isnan(w.headroom.share) && std::isnan(b.headroom.share))));
    }
  }
  CHECK(nudged_share >= 1);
  // The nudge is one ulp, which is at most 2u relative (ulp(y) <= 2u |y|):
  // a tolerance of 1 ulp and 2u lets it through.
  report::Tolerance one_ulp;
  one_ulp.ulp = 1;
  one_ulp.normwise = 2;
  CHECK_FALSE(report::compare(base, worse, one_ulp).worse());
  // And the good kernel against the worse one as a baseline is better, not worse.
  CHECK_FALSE(report::compare(worse, base, {}).worse());

  report::Report other = base;
  other.seed = 8;
  CHECK_THROWS_AS(report::compare(other, base, {}), report::FormatError);
  report::Report fewer = base;
  fewer.results.pop_back();
  const report::Diff added = report::compare(fewer, base, {});
  REQUIRE(added.items.size() == 1);
  CHECK(added.items[0].change == report::Change::new_entry);
  CHECK_FALSE(added.worse());
  // An entry gone (an op no longer provided) fails the gate.
  const report::Diff gone = report::compare(base, fewer, {});
  CHECK(gone.items[0].change == report::Change::gone);
  CHECK(gone.worse());
}

TEST_CASE("the pipelines show the pitfalls on correct kernels", "[report]") {
  const report::Report &r = builtin_run().report;
  auto find = [&](const std::string &id, softcheck_dtype d) -> const report::Pipeline & {
    for (const auto &p : r.pipelines)
      if (p.id == id && p.dtype == d) return p;
    FAIL("no pipeline " << id);
    return r.pipelines.front();
  };
  for (softcheck_dtype d : {SOFTCHECK_F32, SOFTCHECK_F64, SOFTCHECK_BF16, SOFTCHECK_F16}) {
    INFO(softcheck_dtype_name(d));
    const bool half = d == SOFTCHECK_BF16 || d == SOFTCHECK_F16;
    // Both pipelines are within 1 ulp of the correct loss (the built-in
    // contract for per-row losses), so they are within 2 ulps of each other.
    // In a half format each is within 1/2 ulp (and the float32 error) of
    // the exact loss, so within 1 ulp of the correctly rounded one: 2 again.
    for (const auto &pt : find("pipeline_gap", d).points) CHECK(pt.max <= 2);
    // Keras's clip: at scale 2^12 the typical loss is capped at 16.1 while
    // the true one is in the thousands.
    const auto &keras = find("keras_clip", d).points;
    CHECK(keras.back().at == "2^12");
    CHECK(keras.back().median > 0.9);
    if (!half) {
      CHECK(keras.front().median < 1e-6);
    } else {
      // At scale 1/4 nothing is clipped: p within 1/2 ulp of the exact
      // probability (relative 2^-p, p the format's digits), then -log p
      // rounded in the format (2^-p again); with |log p| near log 10 > 1 the
      // relative error is below 2 * 2^-p, and 4 * 2^-p leaves the float32
      // error and the median's spread room.
      const double u = std::ldexp(1.0, d == SOFTCHECK_BF16 ? -8 : -11);
      CHECK(keras.front().median < 4 * u);
    }
    // Softmax fed to cross_entropy is wrong at every scale.
    for (const auto &pt : find("double_softmax_loss", d).points) CHECK(pt.median > 1e-3);
    for (const auto &pt : find("double_softmax_gradient", d).points) CHECK(pt.median > 0.1);
  }
}

TEST_CASE("special values: the built-in kernels agree, a swapped op does not", "[report]") {
  for (const auto &s : builtin_run().report.special) {
    INFO(s.input << " " << softcheck_op_name(s.op) << ": " << s.got << " vs " << s.want);
    CHECK(s.agrees);
  }
  softcheck_kernel_set swapped = builtin_kernel_set();
  swapped.f32.softmax = swapped.f32.log_softmax;
  report::Options o = small();
  o.dtypes = {SOFTCHECK_F32};
  o.ops = {SOFTCHECK_OP_SOFTMAX};
  o.cases = 1;
  const report::Report r = report::run({{&swapped, ""}}, o).report;
  bool all_minus_inf_flagged = false;
  for (const auto &s : r.special)
    if (s.op == SOFTCHECK_OP_SOFTMAX && s.input == "all -inf row")
      all_minus_inf_flagged = !s.agrees && s.got == "-inf -inf -inf" && s.want == "0 0 0";
  CHECK(all_minus_inf_flagged);
}
