// The accuracy report: every provided op of every selected kernel set, over
// every input regime of the generators, against the oracle; the pipelines
// the project's pitfalls come from; special values; and the diff against a
// baseline (the CI accuracy gate).
//
// `Report` is plain data: report.json is its serialization (the source of
// truth, versioned by kSchemaVersion), report.md and index.html are views of
// it. Everything in it is a function of the kernels, the seed and the case
// count: the thread count never changes a byte. Measured speed is not (it
// changes with the machine's load), so it lives in `Timing`, written to
// timing.json and shown in the views, never in report.json.
#pragma once

#include <softcheck/host.hpp>

#include <array>
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace softcheck::report {

inline constexpr const char *kSchema = "softcheck-report";
inline constexpr int kSchemaVersion = 1;

// Signed ulp error bins: exactly 0, then (0, 0.5], (0.5, 1], (1, 2], (2, 4],
// (4, 16], (16, 256], (256, 65536], > 65536 on each side.
inline constexpr std::array<double, 8> kHistogramEdges = {0.5, 1, 2, 4, 16, 256, 65536, INFINITY};
inline constexpr int kHistogramBins = 2 * int(kHistogramEdges.size()) + 1;
int histogram_bin(double signed_ulp);
std::string histogram_label(int bin);

// Error against the gap d = max(row) - x_i: bin 0 holds d = 0 (the max),
// bin 1 d in (0, 2^-10], bin k in 2..24 d in (2^(k-12), 2^(k-11)], the
// last bin d > 2^13.
inline constexpr int kGapBins = 26;
int gap_bin(long double gap);
std::string gap_label(int bin);

struct Worst {
  // In the unit of the op's default bound (ranks the worst; inf: a special
  // mismatch).
  double error = 0;
  std::string unit;     // "ulp", "u scaled", or "" for a special mismatch
  double ulp = 0;       // |error| of the output element, in ulps (inf: a special mismatch)
  int64_t output = 0;   // the element of the kept case's output
  std::string got;      // hex float
  std::string want;     // hex float, the correctly rounded value
  std::string mismatch; // "" or the kind of special mismatch
  std::string file;     // case file, relative to the report folder
  std::string text;     // the case (the worst row alone when the op is row-wise)
  std::string reproduce;
};

// Special mismatches (metrics.hpp); flushed subnormals and wrong signs are
// counted only where the op's bound is elementwise (a scaled bound allows
// them for outputs far below the terms' magnitude).
struct Counts {
  int64_t nan_where_finite = 0;
  int64_t number_where_nan = 0;
  int64_t wrong_infinity = 0;
  int64_t flushed_subnormal = 0;
  int64_t wrong_sign = 0;
  int64_t positive_log_probability = 0;
  int64_t status_mismatch = 0; // the kernel's status differs from the oracle's (whole case)
  // Valid cases the kernel declined (SOFTCHECK_ERR_UNSUPPORTED): neither
  // passed nor mismatched, and not in mismatches().
  int64_t declined = 0;
  // Outputs that are NaN by the set's declared convention (plugin.h): agreed,
  // not mismatches, and listed under "conventions of this set".
  int64_t by_convention = 0;
};

// One op x dtype x regime x set.
struct Entry {
  std::string set;
  softcheck_op op = SOFTCHECK_OP_SOFTMAX;
  softcheck_dtype dtype = SOFTCHECK_F32;
  std::string regime; // generators' regime id
  int64_t cases = 0;
  int64_t outputs = 0; // output elements compared
  // Over the outputs without a special mismatch (those are counted, not
  // measured). NaN wherever nothing was measured.
  double max_ulp = 0, median_ulp = 0, p99_ulp = 0;
  double normwise_u = 0; // max over rows of ||got - want|| / ||want||, in u (ops with row outputs)
  // The error in the unit of the op's default bound (tolerance.hpp): the max
  // ulp over outputs judged elementwise, and the max of (|got - want| -
  // 1 ulp) / (u M) over outputs judged by the scaled bound (NaN: none).
  double elementwise_max_ulp = 0, scaled_max_u = NAN;
  // The bound a property run applies (the set's contract, else the default
  // bound) beside the error it judges: on the case that came closest to it,
  // share = error / allowed (> 1 breaks it), in that bound's unit. NaN:
  // nothing judged (every case special, declined or of another status).
  struct Headroom {
    double share = NAN, error = NAN, allowed = NAN;
    std::string unit; // "ulp" or "u scaled"
  } headroom;
  Counts counts;
  std::array<int64_t, kHistogramBins> histogram{};
  std::vector<Worst> worst; // the worst outputs, worst first, error beyond rounding only
};

// Max ulp error against x - max, per set, op (softmax, log_softmax) and dtype,
// over the regimes with finite rows.
struct GapCurve {
  std::string set;
  softcheck_op op = SOFTCHECK_OP_SOFTMAX;
  softcheck_dtype dtype = SOFTCHECK_F32;
  std::array<int64_t, kGapBins> count{};
  std::array<double, kGapBins> max_ulp{};
};

// What a set gives on one special input, next to what the ABI prescribes.
struct SpecialValue {
  std::string set;
  softcheck_dtype dtype = SOFTCHECK_F32;
  std::string input; // e.g. "NaN in row"
  softcheck_op op = SOFTCHECK_OP_SOFTMAX;
  std::string got, want; // outputs (or a status name), short form
  bool agrees = true;
};

// One point of a pipeline curve: error statistics at one logit scale (or in
// one regime for the two-pipelines comparison).
struct PipelinePoint {
  std::string at; // "2^3" or a regime id
  double scale = 0;
  int64_t rows = 0;
  double median = 0, max = 0;
};

struct Pipeline {
  std::string id; // "two_pipelines", "keras_clip", "double_softmax_loss", ...
  std::string set;
  softcheck_dtype dtype = SOFTCHECK_F32;
  std::string metric; // what median / max measure
  std::vector<PipelinePoint> points;
};

struct SetInfo {
  std::string name, description, version, plugin; // plugin: path, or "built-in"
  // The conventions it follows other than softcheck's (plugin.h), one line each.
  std::vector<std::string> conventions = {};
};

// Which part of a run a report is: shard `index` of `count` runs the op x
// dtype x regime groups g with g mod count = index (and shard 0 the
// special values and pipelines); `ops` and `dtypes` are the run's selection
// in its order, which a merge puts the entries back in. count 1: a whole run
// (report.json then has no "shard").
struct ReportShard {
  int64_t index = 0, count = 1;
  std::vector<std::string> ops, dtypes;
};

struct Report {
  std::string tool_version;
  uint64_t seed = 1;
  int64_t cases = 0; // per op x dtype x regime
  int64_t worst_n = 0;
  ReportShard shard;
  std::vector<SetInfo> sets;
  std::vector<Entry> results;
  std::vector<GapCurve> gaps;
  std::vector<SpecialValue> special;
  std::vector<Pipeline> pipelines;
};

struct TimingEntry {
  std::string set;
  softcheck_op op = SOFTCHECK_OP_SOFTMAX;
  softcheck_dtype dtype = SOFTCHECK_F32;
  std::string regime;
  int64_t elements = 0; // input elements through the kernel
  double seconds = 0;   // in the kernel
  double elements_per_second() const { return seconds > 0 ? double(elements) / seconds : 0; }
};
struct Timing {
  int threads = 1;
  double wall_seconds = 0;
  std::vector<TimingEntry> results;
};

struct Options {
  uint64_t seed = 1;
  int64_t cases = 200;
  int64_t worst_n = 3;
  int threads = 1;
  int64_t shard = 0, shards = 1; // this part of the run (ReportShard)
  std::vector<softcheck_op> ops; // empty: every op
  // Entries only for what a set provides (a set without half kernels has
  // no bf16 or f16 entries).
  std::vector<softcheck_dtype> dtypes = {SOFTCHECK_F32, SOFTCHECK_F64, SOFTCHECK_BF16,
                                         SOFTCHECK_F16};
  std::vector<int> regimes, skip_regimes; // gen::Regime values; empty: every regime
  std::string cli = "softcheck";          // how reproduce lines call the tool
  bool progress = false;                  // a status line on stderr
};

struct SetRef {
  const softcheck_kernel_set *set = nullptr;
  std::string plugin; // path, or "" for a built-in set
  // The arguments that load the set again (--plugin PATH and isolation
  // options), for reproduce lines.
  std::vector<std::string> load_args = {};
  // For a set whose calls cross a process boundary: the seconds the last
  // call on this thread spent in the kernel itself (< 0: unknown, then the
  // call's own time is used).
  double (*kernel_seconds)() = nullptr;
};

// Runs everything; the case files of the worst inputs are returned in
// `case_files` (name in the cases/ folder -> text) for the caller to write.
struct Output {
  Report report;
  Timing timing;
  std::vector<std::pair<std::string, std::string>> case_files;
};
Output run(const std::vector<SetRef> &sets, const Options &options);

// report.json and timing.json.
std::string to_json(const Report &r);
std::string to_json(const Timing &t);
// Reads a report.json; throws FormatError naming what is wrong (not JSON,
// not a report, another schema version, a missing or mistyped field).
struct FormatError : std::runtime_error {
  using std::runtime_error::runtime_error;
};
Report from_json(const std::string &text);
// timing.json, the same way.
Timing timing_from_json(const std::string &text);

// The shards of one run as the whole run: every shard of `count` exactly
// once, the same seed, cases, worst_n, version, selection and sets (by
// name, description and version; plugin paths may differ between machines:
// the first shard's are kept). The result is the report the run gives
// unsharded, byte for byte in to_json. Timing: every shard's entries, the
// longest wall time. Throws FormatError naming what does not fit.
Report merge(const std::vector<Report> &shards);
Timing merge(const std::vector<Report> &shards, const std::vector<Timing> &timings);

std::string to_markdown(const Report &r, const Timing *timing);
// One line per set for the terminal: max error per bound kind, mismatches.
std::string summary_lines(const Report &r);
std::string to_html(const Report &r, const Timing *timing);

// The baseline gate.
struct Tolerance {
  double ulp = 0;      // slack on max / median / p99 ulp
  double normwise = 0; // slack on normwise error, in u
  int64_t count = 0;   // slack on each special-value count
};
enum class Change { better, worse, new_entry, gone };
struct Difference {
  std::string key;    // set / op / dtype / regime
  std::string metric; // "" for new / gone entries
  double before = 0, after = 0;
  Change change = Change::better;
};
struct Diff {
  std::vector<Difference> items;
  int64_t compared = 0; // entries present in both
  bool worse() const;
};
// Throws FormatError when the runs are not comparable (other seed or cases).
Diff compare(const Report &baseline, const Report &current, const Tolerance &t);
std::string diff_markdown(const Diff &d, const Tolerance &t);

} // namespace softcheck::report
