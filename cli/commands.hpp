#pragma once

#include <softcheck/host.hpp>

#include <string>
#include <vector>

namespace softcheck::cli {

// How plugin kernels run (see softcheck/sandbox.hpp): each plugin in a
// confined worker, unless --in-process.
struct IsolationArgs {
  bool in_process = false;
  double call_timeout = 10;
  double load_timeout = 60;
  int64_t memory_limit_mb = 4096;
  std::string faults = "softcheck-faults";
  std::vector<std::string> conventions; // --convention CLASS=VALUE (plugin.h)
};

// The registry with the built-in set and every --plugin loaded (in a
// confined worker, or here with --in-process); on a load error prints one
// "error:" line and returns false. Throws UsageError for bad options.
bool load_registry(Registry &registry, const std::vector<std::string> &plugins,
                   const IsolationArgs &isolation);

// The isolation options that are not the default, as arguments; and the
// arguments that load `ref`'s set again as this run did (--plugin PATH,
// none for the built-in set, then those), for reproduce lines.
std::vector<std::string> isolation_args(const IsolationArgs &isolation);
std::vector<std::string> load_args(const KernelSetRef &ref, const IsolationArgs &isolation);

// What the plugins' workers printed, on stderr (nothing when they printed
// nothing); every command that loads plugins calls it last.
void print_plugin_output();

struct KernelsArgs {
  std::vector<std::string> plugins;
  IsolationArgs isolation;
};
int run_kernels(const KernelsArgs &args);

// softcheck eval: one input through a kernel and the oracle, side by side.
struct EvalArgs {
  std::vector<std::string> plugins;
  std::string set = "softcheck";
  std::string op;
  std::string dtype = "f32";
  std::string shape;     // "outer,classes,inner"
  std::string input;     // file of rows
  std::string case_file; // a case file: op, dtype, shape and every input
  std::vector<std::string> values, dy, prob, dout, weight, target;
  std::string reduction = "mean";
  int64_t ignore_index = -100;
  double label_smoothing = 0.0;
  IsolationArgs isolation;
};
int run_eval(const EvalArgs &args);

// softcheck check: every property on every op of the selected sets.
struct CheckArgs {
  std::vector<std::string> plugins, sets, ops, properties, replay;
  std::string dtype; // "" = both
  int64_t cases = 100;
  std::string seed = "1"; // a number, or "random"
  std::string junit;
  std::string json; // --json FILE: the result as docs/check-json.md describes
  bool list = false;
  bool quiet = false;
  std::vector<std::string> regimes, skip_regimes; // --regime, --skip-regime
  int kinds = 4;                                  // --kinds
  IsolationArgs isolation;
};
int run_check(const CheckArgs &args);

// softcheck report: the accuracy report and the baseline gate.
struct ReportArgs {
  std::vector<std::string> plugins, sets, ops, tolerance;
  std::string dtype; // "" = both
  int64_t cases = 200;
  int64_t worst = 3;
  int64_t threads = 0; // 0: every core
  std::string seed = "1";
  std::string out = "softcheck-report";
  std::string baseline;
  std::vector<std::string> fuzz; // corpus folders whose worst-case tables to include
  std::vector<std::string> regimes, skip_regimes; // --regime, --skip-regime
  std::string shard;                              // --shard I/N | auto | auto/N
  std::vector<std::string> merge;                 // --merge DIR...: shards' report folders
  IsolationArgs isolation;
};
int run_report(const ReportArgs &args);

// softcheck fuzz: the error-guided search; softcheck merge: shards' corpora.
struct FuzzArgs {
  std::vector<std::string> plugins, ops;
  std::string set = "softcheck";
  std::string dtype;
  double seconds = 0;
  int64_t cases = 0;
  std::string seed = "1";
  std::string corpus = "softcheck-corpus";
  std::string shard;   // "I/N", "auto" or "auto/N"
  int64_t streams = 1; // --streams
  std::vector<std::string> regimes, skip_regimes;
  IsolationArgs isolation;
};
int run_fuzz(const FuzzArgs &args);
struct MergeArgs {
  std::vector<std::string> inputs;
  std::string out = "softcheck-corpus";
  bool partial = false; // --partial: merge campaigns that lack shards
};
int run_merge(const MergeArgs &args);

// softcheck zoo: the mutation table of the bug zoo.
struct ZooArgs {
  std::string plugin; // "" = the zoo built with this softcheck
  std::vector<std::string> sets;
  int64_t cases = 100;
  std::string seed = "1";
  IsolationArgs isolation;
};
int run_zoo(const ZooArgs &args);

} // namespace softcheck::cli
