// The property suite: randomized checks that a correct kernel always passes
// and a wrong one cannot hide from, parameterized by a kernel set, so the
// same code runs in the Catch2 suites (built-in kernels, fixed seeds) and
// behind `softcheck check` (any plugin).
#pragma once

#include <softcheck/case.hpp>
#include <softcheck/host.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace softcheck::props {

struct Options {
  uint64_t seed = 1;                   // the run's seed; each property derives its own from it
  int cases = 100;                     // successful cases per property, op and dtype
  std::vector<softcheck_op> ops;       // empty: every op
  std::vector<std::string> properties; // empty: every property
  std::vector<softcheck_dtype> dtypes = {SOFTCHECK_F32, SOFTCHECK_F64};
  // Only rows of these regimes (--regime), or none of those (--skip-regime);
  // empty: each property's own.
  std::vector<int> regimes, skip_regimes; // gen::Regime values
  // After a property fails, look on (within the same budget) for failures
  // of other kinds, each with its own counterexample: at most this many.
  int kinds = 4;
  // The arguments that load the set again (--plugin PATH and isolation
  // options; none for the built-in set), for reproduce lines.
  std::vector<std::string> load_args;
};

// An elementwise bound past this many ulps is called loose in check's and
// the report's headroom: a kernel a hundred times worse than a careful one
// still passes it.
inline constexpr double kLooseBoundUlp = 100;

enum class Verdict { passed, failed, skipped };

struct Outcome {
  std::string property;
  std::string set;
  softcheck_op op = SOFTCHECK_OP_SOFTMAX;
  softcheck_dtype dtype = SOFTCHECK_F32;
  Verdict verdict = Verdict::passed;
  int cases = 0; // cases run (passed ones, plus the failing one)
  // Cases the kernel declined (SOFTCHECK_ERR_UNSUPPORTED on a valid case,
  // plugin.h): another case was drawn; never counted as passed.
  int declined = 0;
  double seconds = 0;
  std::string reason;         // skipped: why; failed: what went wrong on the minimal case
  std::string counterexample; // failed: the minimal case as a case file (hex floats)
  std::string called_with;    // failed on a derived input: that input, as a case file
  // failed: "special values" (the case or the failing output is NaN or
  // infinite), "finite accuracy", or "status"; one outcome per kind found.
  std::string kind;
  // oracle_agreement: on the passing case closest to its bound, the error
  // measured and the bound there (error_unit "ulp" or "u scaled"; empty: none measured),
  // and the largest elementwise bound that applied, in ulps (headroom).
  double worst_error = 0, bound_there = 0, largest_bound_ulp = 0;
  double worst_share = 0; // that case's error / its bound (<= 1)
  std::string error_unit;
  std::string reproduce; // failed: one command line that reproduces it
  uint64_t seed = 0;     // the property's own seed
};

struct PropertyInfo {
  std::string name;
  std::string checks;            // what it asserts, one line
  std::string bound;             // the bound it uses and where it comes from
  std::vector<softcheck_op> ops; // the ops it applies to
};

// Every property, in the order they run.
const std::vector<PropertyInfo> &all_properties();

// Runs every selected property on every op and dtype the set provides.
std::vector<Outcome> check(const softcheck_kernel_set &set, const Options &options);

// How the default bounds judge the outputs of c: empty when elementwise, in
// ulps of the correctly rounded value; otherwise M per output, the
// magnitude of the terms it sums, for the scaled bound |got - ref| <= k u M
// + 1 ulp (see <softcheck/plugin.h> and properties/src/tolerance.hpp).
template <class T> std::vector<long double> scaled_magnitudes(const Case<T> &c);

// How far outputs are from the correctly rounded ones, against the bound a
// property run would apply (the set's contract, else the default bound).
struct Judged {
  double ratio = 0;    // max over the outputs where both are finite of
                       // |got - ref| / allowance: > 1 breaks the bound
  int64_t output = -1; // where (-1: every output exact)
  double error = 0;    // that output's error, in the bound's unit
  double allowed = 0;  // the bound there, same unit
  bool scaled = false; // unit: u times the terms' magnitude (else ulp)
  std::string reason;  // what is wrong, when ratio > 1
  // Special-value mismatches (NaN or an infinity on one side only, or a
  // status), kept apart from the finite error above: how many outputs, the
  // first of them and what is wrong there.
  int64_t specials = 0;
  int64_t special_output = -1;
  std::string special_reason;
};
template <class T>
Judged judge(const softcheck_kernel_set &set, const Case<T> &c, const T *got, const T *ref);

// Runs one case (from the case file at `path`) through the properties that
// apply to it, or only through those named (none named: all); the outcomes
// carry no seed, and a failure's reproduce line names the property and path.
template <class T>
std::vector<Outcome> replay(const softcheck_kernel_set &set, const Case<T> &c,
                            const std::vector<std::string> &properties,
                            const std::vector<std::string> &load_args, const std::string &path);

// ------------------------------------------------------------ conventions
// (<softcheck/plugin.h>). A set's declared convention per class, or the
// run's override (`--convention CLASS=VALUE`, set once at start).
void set_convention_override(softcheck_convention_class k, softcheck_convention v);
softcheck_convention convention_of(const softcheck_kernel_set &set, softcheck_convention_class k);
const char *convention_class_id(softcheck_convention_class k); // "masked", "zero_coefficient"
// "masked=nan: ..." for every class where the set follows NaN; empty: softcheck's everywhere.
std::vector<std::string> declared_conventions(const softcheck_kernel_set &set);
// Per output of c: 1 where the set's convention makes NaN an accepted
// result; empty when no output of c is in such a class.
template <class T>
std::vector<char> convention_nan(const softcheck_kernel_set &set, const Case<T> &c);
template <class T> bool under_convention(const softcheck_kernel_set &set, const Case<T> &c);
// Makes ref[i] NaN where the kernel gave NaN and the set's convention
// accepts it (so every comparison after agrees); returns how many.
template <class T>
int64_t apply_conventions(const softcheck_kernel_set &set, const Case<T> &c, const T *got, T *ref);

} // namespace softcheck::props
