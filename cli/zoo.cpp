// softcheck zoo: every mutant of the bug zoo through the property suite,
// and the mutation table: killed or survived, by which property, how fast.
// Exit code 0 when every mutant is killed (and by the property the zoo
// expects), 1 otherwise, 2 on a usage or load error.
#include "commands.hpp"
#include "options.hpp"
#include "parse.hpp"

#include <softcheck/properties.hpp>
#include <softcheck/sandbox.hpp>
#include <softcheck/text.hpp>

#include <fmt/core.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <sstream>

namespace softcheck::cli {
namespace {

struct Row {
  std::string mutant, bug_class, expected, killed_by;
  bool killed = false, expected_kills = false;
  int cases = 0;
  double seconds = 0;
  std::string counterexample; // the x line of the minimal case
};

// "<bug class> [expected: <property>]"
void split_description(const char *d, std::string &bug_class, std::string &expected) {
  std::string s = d ? d : "";
  auto open = s.rfind(" [expected: ");
  if (open == std::string::npos || s.back() != ']') {
    bug_class = s;
    return;
  }
  bug_class = s.substr(0, open);
  expected = s.substr(open + 12, s.size() - open - 13);
}

std::string first_values(const std::string &case_text) {
  std::istringstream lines(case_text);
  std::string op, x;
  for (std::string l; std::getline(lines, l);) {
    if (l.rfind("op ", 0) == 0) op = l.substr(3);
    if (l.rfind("# x = ", 0) == 0) x = l.substr(6);
  }
  if (x.size() > 48) x = x.substr(0, 45) + "...";
  return op + (x.empty() ? "" : " [" + x + "]");
}

// The zoo plugin beside this softcheck: where `cmake --install` puts it
// (SOFTCHECK_ZOO_INSTALLED, relative to the installed executable's folder),
// else where the build tree has it (SOFTCHECK_ZOO_BUILT, relative to
// build/cli). Both are relative, so an installed tree can move.
std::string default_zoo_plugin() {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (ec) throw UsageError("cannot find this executable (/proc/self/exe); give --plugin");
  std::string looked;
  for (const char *rel : {SOFTCHECK_ZOO_INSTALLED, SOFTCHECK_ZOO_BUILT}) {
    const fs::path p = (exe.parent_path() / rel).lexically_normal();
    if (fs::is_regular_file(p, ec)) return p.string();
    looked += (looked.empty() ? "" : ", ") + p.string();
  }
  throw UsageError("no zoo plugin beside this softcheck (looked for " + looked +
                   "); give --plugin");
}

} // namespace

int run_zoo(const ZooArgs &a) {
  if (a.cases < 1 || a.cases > 1000000) throw UsageError("--cases must be between 1 and 1000000");
  const std::string plugin = a.plugin.empty() ? default_zoo_plugin() : a.plugin;
  props::Options base;
  base.cases = int(a.cases);
  base.seed = parse_seed(a.seed);
  base.kinds = 1; // the verdict is the first property that fails; no search for other kinds
  Registry registry;
  if (!load_registry(registry, {plugin}, a.isolation)) return 2;

  std::vector<Row> rows;
  fmt::print("{:<26} {:<9} {:<35} {:>6} {:>9}  {:<4} {}\n", "mutant", "verdict",
             "first property that failed", "cases", "seconds", "exp.", "minimal counterexample");
  for (const KernelSetRef &ref : registry.sets()) {
    if (ref.source == "built-in") continue;
    base.load_args = load_args(ref, a.isolation);
    if (!a.sets.empty() && std::find(a.sets.begin(), a.sets.end(), ref.set->name) == a.sets.end())
      continue;
    Row row;
    row.mutant = ref.set->name;
    split_description(ref.set->description, row.bug_class, row.expected);
    // Every property, op and dtype with a few cases first, then with the
    // full budget; stop at the first failure.
    const auto start = std::chrono::steady_clock::now();
    for (int pass_cases : {std::min(10, base.cases), base.cases}) {
      for (const auto &p : props::all_properties()) {
        for (softcheck_op op : p.ops) {
          for (softcheck_dtype d : {SOFTCHECK_F32, SOFTCHECK_F64, SOFTCHECK_BF16, SOFTCHECK_F16}) {
            props::Options o = base;
            o.cases = pass_cases;
            o.properties = {p.name};
            o.ops = {op};
            o.dtypes = {d};
            for (const auto &out : props::check(*ref.set, o)) {
              row.cases += out.cases;
              if (out.verdict == props::Verdict::failed && !row.killed) {
                row.killed = true;
                row.killed_by = p.name;
                row.counterexample = first_values(out.counterexample);
              }
            }
            if (row.killed) break;
          }
          if (row.killed) break;
        }
        if (row.killed) break;
      }
      if (row.killed || pass_cases == base.cases) break;
    }
    row.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    row.expected_kills = row.killed_by == row.expected;
    if (!row.expected_kills && !row.expected.empty()) {
      props::Options o = base;
      o.properties = {row.expected};
      for (const auto &out : props::check(*ref.set, o))
        row.expected_kills = row.expected_kills || out.verdict == props::Verdict::failed;
    }
    rows.push_back(row);
    const Row &r = rows.back();
    fmt::print("{:<26} {:<9} {:<35} {:>6} {:>8.3f}s  {:<4} {}\n", r.mutant,
               r.killed ? "killed" : "SURVIVED", r.killed ? r.killed_by : "-", r.cases, r.seconds,
               r.expected_kills ? "yes" : "NO", text::printable(r.counterexample));
    std::fflush(stdout);
  }
  // The table again with the bug classes, then the summary.
  fmt::print("\n{:<26} {}\n", "mutant", "bug class [expected killer]");
  for (const Row &r : rows)
    fmt::print("{:<26} {} [{}]\n", r.mutant, text::printable(r.bug_class),
               text::printable(r.expected));
  std::vector<double> times;
  int killed = 0, expected = 0;
  for (const Row &r : rows) {
    killed += r.killed;
    expected += r.expected_kills;
    if (r.killed) times.push_back(r.seconds);
  }
  std::sort(times.begin(), times.end());
  const double median = times.empty() ? 0 : times[times.size() / 2];
  const double worst = times.empty() ? 0 : times.back();
  fmt::print("\n{} of {} mutants killed ({:.0f}%), {} by the expected property; time to detection: "
             "median {:.3f} s, max {:.3f} s\n",
             killed, rows.size(), rows.empty() ? 0.0 : 100.0 * killed / double(rows.size()),
             expected, median, worst);
  // A mutant that writes into its input or leaves an output unwritten is
  // stopped by the worker: a fault is how those are killed.
  fmt::print("{}", sandbox::fault_lines());
  std::fflush(stdout);
  print_plugin_output();
  return killed == int(rows.size()) && expected == int(rows.size()) ? 0 : 1;
}

} // namespace softcheck::cli
