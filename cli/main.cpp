// softcheck: the command-line tool.
//   softcheck kernels [--plugin PATH ...]
//   softcheck eval [--plugin PATH] [--set NAME] --op OP --dtype f32|f64 ... -- x1 x2 ...
//   softcheck check [--plugin PATH] [--set NAME ...] [--op NAME ...] [--cases N] [--seed S] ...
//   softcheck report [--plugin PATH ...] [--set NAME ...] [--cases N] [--seed S] [--out DIR] ...
//   softcheck fuzz [--plugin PATH] [--set NAME] [--seconds N | --cases N] [--corpus DIR] ...
//   softcheck merge DIR... [--out DIR]
//   softcheck zoo [--plugin PATH] [--cases N] [--seed S]
// Exit codes: 0 success, 1 a check failed, 2 usage or load error.
#include "commands.hpp"
#include "parse.hpp"

#include <softcheck/sandbox.hpp>

#include <CLI/CLI.hpp>

#include <cfenv>
#include <cstdio>
#include <exception>
#include <string>

namespace {

double g_run_timeout = 0; // --timeout

void add_isolation_options(CLI::App *cmd, softcheck::cli::IsolationArgs &a) {
  cmd->add_option("--timeout", g_run_timeout,
                  "stop the whole run after this many seconds (exit 1; nothing is written)");
  cmd->add_flag("--in-process", a.in_process,
                "load and run plugins in this process: faster, but not confined (a crash "
                "takes the run down, the kernel can touch softcheck's memory, files and "
                "processes); only the floating-point environment is restored after each call");
  cmd->add_option("--call-timeout", a.call_timeout,
                  "seconds a plugin kernel call may take (default 10)");
  cmd->add_option("--load-timeout", a.load_timeout,
                  "seconds a plugin may take to load (default 60)");
  cmd->add_option("--memory-limit", a.memory_limit_mb,
                  "MiB of memory for a plugin's whole worker tree where a cgroup can be made, "
                  "else of address space per process (default 4096)");
  cmd->add_option("--faults", a.faults,
                  "folder for the inputs of kernel faults, one run-N folder per run (default "
                  "softcheck-faults)")
      ->type_name("DIR");
  cmd->add_option("--convention", a.conventions,
                  "judge every set by this convention for a class of special cases, whatever "
                  "it declares: masked=nan|softcheck (fully masked rows), "
                  "zero_coefficient=nan|softcheck (a zero coefficient times inf or NaN); see "
                  "plugin.h")
      ->type_name("CLASS=VALUE");
}

// The floating-point environment every softcheck process starts from
// (round to nearest, no traps, no flush to zero), whatever started it.
void default_fp_environment() {
  std::fesetenv(FE_DFL_ENV);
#if defined(__x86_64__)
  __builtin_ia32_ldmxcsr(0x1F80);
#endif
}

// Parses the command line and runs the command.
int run(int argc, char **argv);

} // namespace

int main(int argc, char **argv) {
  default_fp_environment();
  if (argc >= 2 && std::string(argv[1]) == "__sandbox")
    return softcheck::sandbox::sandbox_main(argc, argv);
  const int code = run(argc, argv);
  // Every worker tree ends before softcheck does.
  softcheck::sandbox::shutdown();
  return code;
}

namespace {

int run(int argc, char **argv) {
  CLI::App app{"softcheck: property-based verification of softmax-family kernels", "softcheck"};
  app.require_subcommand(1);
  app.set_version_flag("--version", SOFTCHECK_VERSION);

  softcheck::cli::KernelsArgs kernels_args;
  CLI::App *kernels =
      app.add_subcommand("kernels", "list every kernel set and the ops it provides");
  kernels->add_option("--plugin", kernels_args.plugins, "plugin shared library to load")
      ->type_name("PATH");
  add_isolation_options(kernels, kernels_args.isolation);

  softcheck::cli::EvalArgs eval_args;
  CLI::App *eval = app.add_subcommand(
      "eval", "one input through a kernel and the oracle: values, correctly rounded values, ulps");
  eval->add_option("--plugin", eval_args.plugins, "plugin shared library to load")
      ->type_name("PATH");
  eval->add_option("--set", eval_args.set, "kernel set (default: softcheck, the built-in set)");
  eval->add_option("--op", eval_args.op, "op, e.g. softmax, log_softmax, cross_entropy");
  eval->add_option("--case", eval_args.case_file,
                   "a case file (from a report or a failed check): op, dtype and every input")
      ->type_name("FILE");
  eval->add_option("--dtype", eval_args.dtype, "f32, f64, bf16 or f16 (default f32)");
  eval->add_option("--shape", eval_args.shape,
                   "outer,classes,inner (default: one row of all the values)");
  eval->add_option("--input", eval_args.input,
                   "file of rows (decimal or hex floats), one row per line")
      ->type_name("FILE");
  eval->add_option("--dy", eval_args.dy, "incoming gradient (softmax/log_softmax backward)");
  eval->add_option("--prob", eval_args.prob, "probability targets (cross_entropy_prob*)");
  eval->add_option("--target", eval_args.target, "class-index targets, one per row");
  eval->add_option("--dout", eval_args.dout, "gradient of the loss output (default 1)");
  eval->add_option("--weight", eval_args.weight, "per-class weights");
  eval->add_option("--reduction", eval_args.reduction, "none, mean or sum (default mean)");
  eval->add_option("--ignore-index", eval_args.ignore_index, "ignored target (default -100)");
  eval->add_option("--label-smoothing", eval_args.label_smoothing, "in [0, 1] (default 0)");
  eval->add_option("values", eval_args.values, "the op's input, after --");
  add_isolation_options(eval, eval_args.isolation);

  softcheck::cli::CheckArgs check_args;
  CLI::App *check = app.add_subcommand(
      "check", "run the property suite on kernel sets; exit 0 passed, 1 failed, 2 error");
  check->add_option("--plugin", check_args.plugins, "plugin shared library to load")
      ->type_name("PATH");
  check->add_option("--set", check_args.sets,
                    "kernel sets to check (default: the plugins' sets, or the built-in set)");
  check->add_option("--op", check_args.ops, "only these ops");
  check->add_option("--property", check_args.properties, "only these properties");
  check->add_option("--dtype", check_args.dtype,
                    "only these of f32, f64, bf16, f16 (comma-separated; default: every dtype "
                    "the set provides)");
  check->add_option("--cases", check_args.cases, "cases per property, op and dtype (default 100)");
  check->add_option("--seed", check_args.seed, "seed (default 1), or 'random' for a fresh one");
  check->add_option("--junit", check_args.junit, "also write JUnit XML here")->type_name("FILE");
  check
      ->add_option("--json", check_args.json,
                   "also write the result as JSON here (schema softcheck-check-result, "
                   "version 1: check-json.md)")
      ->type_name("FILE");
  check->add_option("--replay", check_args.replay, "run these case files instead of generating")
      ->type_name("FILE");
  check->add_flag("--list", check_args.list, "list the properties and their bounds");
  check->add_flag("--quiet", check_args.quiet, "print failures and the summary only");
  check->add_option("--regime", check_args.regimes,
                    "draw rows only from these regimes (e.g. normal1 near_max; see README)");
  check->add_option("--skip-regime", check_args.skip_regimes,
                    "never draw rows from these regimes (e.g. masked fully_masked nan_inside "
                    "inf_inside: finite inputs only)");
  check->add_option(
      "--kinds", check_args.kinds,
      "after a property fails, look on for failures of other kinds (special "
      "values, finite accuracy, status or fault, on rows with NaN or infinities, near "
      "the overflow threshold or finite), each with its own counterexample, up "
      "to this many in all (default 4; 1: the first failure only)");
  add_isolation_options(check, check_args.isolation);

  softcheck::cli::ReportArgs report_args;
  CLI::App *report = app.add_subcommand(
      "report", "accuracy report per op, dtype and input regime against the oracle; with "
                "--baseline, exit 1 when a metric got worse");
  report->add_option("--plugin", report_args.plugins, "plugin shared library to load")
      ->type_name("PATH");
  report->add_option("--set", report_args.sets,
                     "kernel sets to report (default: the built-in set and every plugin's)");
  report->add_option("--op", report_args.ops, "only these ops");
  report->add_option("--dtype", report_args.dtype,
                     "only these of f32, f64, bf16, f16 (comma-separated; default: every dtype "
                     "a set provides)");
  report->add_option("--cases", report_args.cases, "cases per op, dtype and regime (default 200)");
  report->add_option("--seed", report_args.seed, "seed (default 1), or 'random'");
  report->add_option("--threads", report_args.threads,
                     "worker threads (default: every core); the report is the same for any");
  report->add_option("--worst", report_args.worst, "worst inputs kept per entry (default 3)");
  report->add_option("--regime", report_args.regimes, "only these regimes (ids as in check)");
  report->add_option("--skip-regime", report_args.skip_regimes, "leave out these regimes");
  report->add_option("--out", report_args.out, "output folder (default softcheck-report)")
      ->type_name("DIR");
  report
      ->add_option("--baseline", report_args.baseline,
                   "an earlier report.json: diff against it, exit 1 when a metric is worse")
      ->type_name("FILE");
  report
      ->add_option("--fuzz", report_args.fuzz,
                   "include the worst-case tables of these fuzz corpus folders")
      ->type_name("DIR");
  add_isolation_options(report, report_args.isolation);
  report->add_option("--shard", report_args.shard,
                     "I/N: run part I (from 0) of N of the report (the op x dtype x regime "
                     "groups g with g mod N = I), or auto / auto/N as for fuzz; --merge makes "
                     "the whole report of the parts");
  report
      ->add_option("--merge", report_args.merge,
                   "run nothing: the report of these --shard folders (every part of one run), "
                   "the same as the run unsharded; --baseline, --fuzz and --out apply")
      ->type_name("DIR");
  report->add_option("--tolerance", report_args.tolerance,
                     "slack for --baseline: ulp=X, normwise=X (in u), count=N (default 0)");

  softcheck::cli::FuzzArgs fuzz_args;
  CLI::App *fuzz = app.add_subcommand(
      "fuzz", "error-guided search for the inputs a kernel set gets most wrong; exit 1 when one "
              "breaks its bound");
  fuzz->add_option("--plugin", fuzz_args.plugins, "plugin shared library to load")
      ->type_name("PATH");
  fuzz->add_option("--set", fuzz_args.set, "kernel set (default: softcheck, the built-in set)");
  fuzz->add_option("--op", fuzz_args.ops, "only these ops");
  fuzz->add_option("--dtype", fuzz_args.dtype,
                   "only these of f32, f64, bf16, f16 (comma-separated; default: every dtype the "
                   "set provides)");
  fuzz->add_option("--seconds", fuzz_args.seconds, "run this long (default 30)");
  fuzz->add_option("--cases", fuzz_args.cases, "or this many executions (reproducible)");
  fuzz->add_option("--seed", fuzz_args.seed, "seed (default 1), or 'random'");
  fuzz->add_option("--corpus", fuzz_args.corpus,
                   "folder for findings and worst cases (default softcheck-corpus)")
      ->type_name("DIR");
  fuzz->add_option("--shard", fuzz_args.shard,
                   "I/N: run shard I (from 0) of N, the campaign's units k with k mod N = I; "
                   "'auto' or 'auto/N': I (and N) from SOFTCHECK_SHARD_INDEX/_COUNT, a "
                   "Kubernetes Indexed Job's JOB_COMPLETION_INDEX or a Slurm array's "
                   "SLURM_ARRAY_TASK_ID/_COUNT");
  fuzz->add_option("--streams", fuzz_args.streams,
                   "independent search streams per op and dtype (default 1): more units to "
                   "spread over shards; part of the campaign, like --seed");
  fuzz->add_option("--regime", fuzz_args.regimes,
                   "seed and redraw rows only from these regimes (ids as in check)");
  fuzz->add_option("--skip-regime", fuzz_args.skip_regimes,
                   "leave out these regimes; no mutation brings in a NaN or an infinity that no "
                   "selected regime has (e.g. --skip-regime masked fully_masked nan_inside "
                   "inf_inside: finite accuracy only)");

  add_isolation_options(fuzz, fuzz_args.isolation);

  softcheck::cli::MergeArgs merge_args;
  CLI::App *merge = app.add_subcommand(
      "merge", "combine the corpora and worst-case tables of several fuzz runs (shards)");
  merge->add_option("corpora", merge_args.inputs, "corpus folders")->required();
  merge->add_option("--out", merge_args.out, "merged corpus folder (default softcheck-corpus)")
      ->type_name("DIR");
  merge->add_flag("--partial", merge_args.partial,
                  "merge even when a campaign's shards are not all there (default: exit 2 "
                  "naming the missing shards)");

  softcheck::cli::ZooArgs zoo_args;
  CLI::App *zoo = app.add_subcommand(
      "zoo", "the bug zoo's mutation table: is every mutant killed, by what, how fast");
  zoo->add_option("--plugin", zoo_args.plugin, "the zoo plugin (default: the one built here)")
      ->type_name("PATH");
  zoo->add_option("--set", zoo_args.sets, "only these mutants");
  zoo->add_option("--cases", zoo_args.cases, "cases per property, op and dtype (default 100)");
  zoo->add_option("--seed", zoo_args.seed, "seed (default 1)");
  add_isolation_options(zoo, zoo_args.isolation);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp &e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp &e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion &e) {
    return app.exit(e);
  } catch (const CLI::ParseError &e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 2;
  }

  if (g_run_timeout < 0 || g_run_timeout > 30 * 86400) {
    std::fprintf(stderr, "error: --timeout must be between 0 and 2592000 seconds\n");
    return 2;
  }
  if (g_run_timeout > 0) softcheck::sandbox::stop_after(g_run_timeout);
  try {
    if (kernels->parsed()) return softcheck::cli::run_kernels(kernels_args);
    if (eval->parsed()) return softcheck::cli::run_eval(eval_args);
    if (check->parsed()) return softcheck::cli::run_check(check_args);
    if (report->parsed()) return softcheck::cli::run_report(report_args);
    if (fuzz->parsed()) return softcheck::cli::run_fuzz(fuzz_args);
    if (merge->parsed()) return softcheck::cli::run_merge(merge_args);
    if (zoo->parsed()) return softcheck::cli::run_zoo(zoo_args);
  } catch (const softcheck::cli::UsageError &e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 2;
  } catch (const std::exception &e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 2;
  }
  return 2;
}

} // namespace
