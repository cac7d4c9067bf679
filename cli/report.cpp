// softcheck report: the accuracy report of kernel sets, written to a folder
// (report.json, timing.json, report.md, index.html, cases/), and the gate
// against a baseline. Exit 0, 1 when a metric is worse than the baseline, 2
// on a usage, load or file error (nothing in the folder is touched then).
#include "commands.hpp"
#include "files.hpp"
#include "options.hpp"
#include "parse.hpp"

#include <softcheck/fuzz.hpp>
#include <softcheck/read.hpp>
#include <softcheck/report.hpp>
#include <softcheck/sandbox.hpp>
#include <softcheck/text.hpp>

#include <fmt/core.h>

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <random>
#include <sstream>
#include <thread>
#include <unistd.h>

namespace softcheck::cli {
namespace {

std::string read_text(const std::string &path, const char *what) {
  try {
    return read_bounded(path);
  } catch (const ReadError &e) {
    throw UsageError(std::string(what) + ": " + e.what());
  }
}

report::Tolerance parse_tolerance(const std::vector<std::string> &items) {
  report::Tolerance t;
  for (const std::string &item : items) {
    const size_t eq = item.find('=');
    const std::string name = eq == std::string::npos ? "ulp" : item.substr(0, eq);
    const std::string value = eq == std::string::npos ? item : item.substr(eq + 1);
    const double v = parse_value<double>(value);
    if (!(v >= 0) || v > 1e300)
      throw UsageError("--tolerance " + item + ": the value must be a finite number >= 0");
    if (name == "ulp")
      t.ulp = v;
    else if (name == "normwise")
      t.normwise = v;
    else if (name == "count") {
      if (v != std::floor(v) || v > 1e15)
        throw UsageError("--tolerance " + item + ": count must be a whole number up to 1e15");
      t.count = int64_t(v);
    } else
      throw UsageError("--tolerance " + item + ": expected ulp=X, normwise=X or count=N");
  }
  return t;
}

// The worst-case tables (worst*.json) of fuzz corpus folders, merged.
std::vector<fuzz::TableRow> fuzz_tables(const std::vector<std::string> &dirs) {
  std::vector<fuzz::TableRow> rows;
  for (const std::string &dir : dirs) {
    std::error_code ec;
    if (!std::filesystem::is_directory(dir, ec))
      throw UsageError("--fuzz '" + dir + "' is not a folder");
    std::vector<std::filesystem::path> tables;
    for (const auto &e : std::filesystem::directory_iterator(dir, ec))
      if (e.path().filename().string().rfind("worst", 0) == 0 && e.path().extension() == ".json")
        tables.push_back(e.path());
    if (tables.empty()) throw UsageError("--fuzz '" + dir + "' holds no worst-case table");
    std::sort(tables.begin(), tables.end());
    for (const auto &t : tables) {
      try {
        for (fuzz::TableRow &r : fuzz::parse_table(read_text(t.string(), "fuzz table")).rows)
          rows.push_back(std::move(r));
      } catch (const std::runtime_error &e) {
        throw UsageError("fuzz table '" + t.string() + "': " + e.what());
      }
    }
  }
  return rows;
}

std::string absolute(const std::string &path) {
  std::error_code ec;
  auto p = std::filesystem::absolute(path, ec);
  return ec ? path : p.lexically_normal().string();
}

report::SetRef set_ref(const KernelSetRef &ref, const IsolationArgs &iso) {
  report::SetRef s;
  s.set = ref.set;
  s.plugin = ref.source == "built-in" ? "" : absolute(ref.source);
  KernelSetRef again = ref;
  again.source = s.plugin.empty() ? ref.source : s.plugin;
  s.load_args = load_args(again, iso);
  if (ref.source != "built-in" && !iso.in_process) s.kernel_seconds = sandbox::last_kernel_seconds;
  return s;
}

// The report of the sets --plugin and --set name; nullopt when a plugin
// does not load (said so already).
std::optional<report::Output> run_sets(const ReportArgs &a, report::Options &opt) {
  Registry registry;
  if (!load_registry(registry, a.plugins, a.isolation)) return std::nullopt;
  std::vector<report::SetRef> sets;
  if (a.sets.empty()) {
    for (const KernelSetRef &ref : registry.sets()) sets.push_back(set_ref(ref, a.isolation));
  } else {
    for (const std::string &name : a.sets) {
      const KernelSetRef *ref = registry.find(name);
      if (ref == nullptr) throw UsageError("no kernel set named '" + name + "'");
      for (const report::SetRef &s : sets)
        if (std::string(s.set->name) == name) throw UsageError("--set " + name + " is given twice");
      sets.push_back(set_ref(*ref, a.isolation));
    }
  }
  opt.progress = isatty(STDERR_FILENO) != 0;

  return report::run(sets, opt);
}

} // namespace

int run_report(const ReportArgs &a) {
  report::Options opt;
  // 10000 cases per op, dtype and regime is about 7 minutes on 2 cores.
  if (a.cases < 1 || a.cases > 10000) throw UsageError("--cases must be between 1 and 10000");
  opt.cases = a.cases;
  if (a.worst < 0 || a.worst > 100) throw UsageError("--worst must be between 0 and 100");
  opt.worst_n = a.worst;
  const int cores = int(std::max(1u, std::thread::hardware_concurrency()));
  if (a.threads < 0 || a.threads > 1024) throw UsageError("--threads must be between 1 and 1024");
  opt.threads = a.threads == 0 ? cores : int(a.threads);
  opt.seed = parse_seed(a.seed);
  opt.ops = parse_ops(a.ops);
  opt.dtypes = parse_dtypes(a.dtype);
  opt.regimes = parse_regimes(a.regimes, "--regime");
  opt.skip_regimes = parse_regimes(a.skip_regimes, "--skip-regime");
  const report::Tolerance tolerance = parse_tolerance(a.tolerance);
  if (!a.tolerance.empty() && a.baseline.empty())
    throw UsageError("--tolerance applies to --baseline, which is missing");

  const std::string shard_from = a.shard.empty() ? "" : parse_shard(a.shard, opt.shard, opt.shards);
  if (opt.shards > 1 && !a.baseline.empty())
    throw UsageError("--baseline judges a whole run: give it to report --merge of the shards");
  if (!a.merge.empty() &&
      (!a.plugins.empty() || !a.sets.empty() || !a.shard.empty() || !a.ops.empty() ||
       !a.dtype.empty() || !a.regimes.empty() || !a.skip_regimes.empty()))
    throw UsageError("--merge takes the run from the shards' folders: no --plugin, --set, --op, "
                     "--dtype, --regime or --shard");

  // Everything that can be wrong with the command line is found before the
  // run, so a bad baseline or folder never costs a run or touches a file.
  report::Report baseline;
  if (!a.baseline.empty()) {
    try {
      baseline = report::from_json(read_text(a.baseline, "baseline"));
    } catch (const report::FormatError &e) {
      throw UsageError("baseline '" + a.baseline + "': " + e.what());
    }
    if (a.merge.empty() && (baseline.seed != opt.seed || baseline.cases != opt.cases))
      throw UsageError(fmt::format("baseline '{}' was made with --seed {} --cases {}; run with "
                                   "the same to compare the same inputs",
                                   a.baseline, baseline.seed, baseline.cases));
  }
  check_report_folder(a.out, "--out");
  const std::vector<fuzz::TableRow> fuzz_rows = fuzz_tables(a.fuzz);

  report::Output out;
  size_t set_count = 0;
  if (!a.merge.empty()) {
    std::vector<report::Report> parts;
    std::vector<report::Timing> timings;
    for (const std::string &dir : a.merge) {
      const std::string path = (std::filesystem::path(dir) / "report.json").string();
      try {
        parts.push_back(report::from_json(read_text(path, "report")));
        const std::string timing = (std::filesystem::path(dir) / "timing.json").string();
        std::error_code ec;
        if (std::filesystem::exists(timing, ec))
          timings.push_back(report::timing_from_json(read_text(timing, "timing")));
      } catch (const report::FormatError &e) {
        throw UsageError("--merge '" + dir + "': " + e.what());
      }
    }
    try {
      out.report = report::merge(parts);
      out.timing = report::merge(parts, timings);
    } catch (const report::FormatError &e) {
      throw UsageError(std::string("--merge: ") + e.what());
    }
    if (!a.baseline.empty() &&
        (baseline.seed != out.report.seed || baseline.cases != out.report.cases))
      throw UsageError(fmt::format("baseline '{}' was made with --seed {} --cases {}, the shards "
                                   "with --seed {} --cases {}",
                                   a.baseline, baseline.seed, baseline.cases, out.report.seed,
                                   out.report.cases));
    for (const report::Entry &e : out.report.results)
      for (const report::Worst &w : e.worst)
        out.case_files.emplace_back(w.file.substr(w.file.rfind('/') + 1), w.text);
    set_count = out.report.sets.size();
    opt.seed = out.report.seed;
    opt.cases = out.report.cases;
  } else {
    std::optional<report::Output> ran = run_sets(a, opt);
    if (!ran) return 2;
    out = std::move(*ran);
    set_count = out.report.sets.size();
  }
  if (opt.shards > 1)
    fmt::print("softcheck report: shard {}/{}{}; softcheck report --merge of every shard's folder "
               "gives the whole report\n",
               opt.shard, opt.shards, shard_from.empty() ? "" : " (from " + shard_from + ")");
  std::string md = report::to_markdown(out.report, &out.timing);
  int code = 0;
  std::string verdict;
  if (!a.baseline.empty()) {
    report::Diff diff = report::compare(baseline, out.report, tolerance);
    md += "\n" + report::diff_markdown(diff, tolerance);
    int64_t worse = 0, better = 0;
    for (const auto &d : diff.items) {
      worse += d.change == report::Change::worse;
      better += d.change == report::Change::better;
    }
    verdict = fmt::format("baseline {}: {} entries compared, {} metrics worse, {} better",
                          a.baseline, diff.compared, worse, better);
    if (diff.worse()) {
      code = 1;
      for (const auto &d : diff.items)
        if (d.change == report::Change::worse)
          std::fprintf(stderr, "worse: %s %s: %.6g -> %.6g\n", d.key.c_str(), d.metric.c_str(),
                       d.before, d.after);
    }
  }
  const std::string fault_text = sandbox::fault_lines();
  if (!fault_text.empty()) {
    md += "\n## Kernel faults\n\nCalls that crashed, hung, exited or broke memory safety in "
          "the worker process (counted as status mismatches above):\n\n";
    for (const sandbox::Fault &f : sandbox::faults())
      md += fmt::format("- {}: {}{}\n", text::markdown(sandbox::fault_title(f)),
                        text::markdown(f.what),
                        f.calls > 1 ? fmt::format(" ({} calls)", f.calls) : "");
    code = 1;
  }
  std::string html = report::to_html(out.report, &out.timing);
  if (!a.fuzz.empty()) {
    const std::string title = "Fuzzing: the worst inputs found";
    md += "\n## " + title +
          "\n\nFrom `softcheck fuzz` (error-guided search), per op and dtype, "
          "against the bound a property run applies:\n\n" +
          fuzz::table_markdown(fuzz_rows);
    std::string t = "<h2>" + title +
                    "</h2>\n<table><tr><th>set</th><th>op</th><th>dtype</th>"
                    "<th>worst error</th><th>bound</th><th>of the bound</th><th>case</th></tr>\n";
    for (const fuzz::TableRow &r : fuzz_rows)
      t += fmt::format("<tr><td>{}</td><td>{}</td><td>{}</td><td>{:.4g} {}</td><td>{:.4g}</td>"
                       "<td>{:.3g}%</td><td>{}</td></tr>\n",
                       text::html(r.set), text::html(r.op), text::html(r.dtype), r.error,
                       text::html(r.unit), r.allowed, r.ratio * 100, text::html(r.file));
    html.insert(html.rfind("</body>"), t + "</table>\n");
  }
  // Every file is made before anything is written, then the folder is
  // exchanged in one step.
  std::vector<std::pair<std::string, std::string>> files = {
      {"report.json", report::to_json(out.report)},
      {"timing.json", report::to_json(out.timing)},
      {"report.md", md},
      {"index.html", html}};
  for (auto &[name, text] : out.case_files) files.emplace_back("cases/" + name, std::move(text));
  replace_report_folder(a.out, files);

  fmt::print("{}", report::summary_lines(out.report));
  if (!verdict.empty()) fmt::print("{}\n", text::printable(verdict));
  fmt::print("{}", fault_text);
  fmt::print("softcheck report: {} sets, seed {}, {} cases per op x dtype x regime, {:.1f} s; "
             "written to {} (report.json, report.md, index.html)\n",
             set_count, opt.seed, opt.cases, out.timing.wall_seconds,
             text::printable(absolute(folder_target(a.out))));
  std::fflush(stdout);
  print_plugin_output();
  return code;
}

} // namespace softcheck::cli
