// softcheck check: the property suite on any kernel set. Exit code 0 when
// every property passed, 1 when one failed, 2 on a usage or load error.
#include "commands.hpp"
#include "files.hpp"
#include "options.hpp"
#include "parse.hpp"

#include <softcheck/case_io.hpp>
#include <softcheck/properties.hpp>
#include <softcheck/sandbox.hpp>
#include <softcheck/text.hpp>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>
#include <sstream>

namespace softcheck::cli {
namespace {

// JUnit is XML: valid UTF-8, no control characters, entities for markup
// (newlines kept in a failure's text).
std::string xml_escape(const std::string &s, bool lines = false) { return text::html(s, lines); }

const char *dtype_name(softcheck_dtype d) { return softcheck_dtype_name(d); }

// JUnit: one testcase per outcome; a property that failed in several kinds
// gives one testcase per kind (the first keeps the property's name, the
// others add the kind), the kind in the failure's type. Conventions of the
// sets are properties of the suite; declined cases a property of their
// testcase.
std::string junit_xml(const std::vector<props::Outcome> &outcomes, uint64_t seed,
                      const std::vector<std::pair<std::string, std::string>> &conventions) {
  int failures = 0, skipped = 0;
  double seconds = 0;
  for (const auto &o : outcomes) {
    failures += o.verdict == props::Verdict::failed;
    skipped += o.verdict == props::Verdict::skipped;
    seconds += o.seconds;
  }
  std::ostringstream x;
  x << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  x << fmt::format(
      "<testsuites name=\"softcheck check\" tests=\"{}\" failures=\"{}\" skipped=\"{}\" "
      "time=\"{:.3f}\">\n",
      outcomes.size(), failures, skipped, seconds);
  x << fmt::format("  <testsuite name=\"softcheck check (seed {})\" tests=\"{}\" failures=\"{}\" "
                   "skipped=\"{}\" time=\"{:.3f}\">\n",
                   seed, outcomes.size(), failures, skipped, seconds);
  if (!conventions.empty()) {
    x << "    <properties>\n";
    for (const auto &[set, text] : conventions)
      x << "      <property name=\"conventions of " << xml_escape(set) << "\" value=\""
        << xml_escape(text) << "\"/>\n";
    x << "    </properties>\n";
  }
  for (size_t k = 0; k < outcomes.size(); ++k) {
    const props::Outcome &o = outcomes[k];
    const bool another_kind = k > 0 && outcomes[k - 1].property == o.property &&
                              outcomes[k - 1].set == o.set && outcomes[k - 1].op == o.op &&
                              outcomes[k - 1].dtype == o.dtype;
    const std::string name = another_kind ? o.property + " (" + o.kind + ")" : o.property;
    x << fmt::format("    <testcase classname=\"{}.{}.{}\" name=\"{}\" time=\"{:.3f}\"",
                     xml_escape(o.set), softcheck_op_name(o.op), dtype_name(o.dtype),
                     xml_escape(name), o.seconds);
    const std::string declined = o.declined > 0
                                     ? fmt::format("      <properties><property name=\"declined\" "
                                                   "value=\"{}\"/></properties>\n",
                                                   o.declined)
                                     : "";
    if (o.verdict == props::Verdict::passed) {
      x << (declined.empty() ? "/>\n" : ">\n" + declined + "    </testcase>\n");
    } else if (o.verdict == props::Verdict::skipped) {
      x << ">\n"
        << declined << "      <skipped message=\"" << xml_escape(o.reason)
        << "\"/>\n    </testcase>\n";
    } else {
      x << ">\n"
        << declined << "      <failure message=\"" << xml_escape(o.reason) << "\" type=\""
        << xml_escape(o.kind.empty() ? "failure" : o.kind) << "\">"
        << xml_escape(o.reason + "\n" + o.counterexample +
                          (o.called_with.empty() ? "" : "called with:\n" + o.called_with) +
                          "reproduce: " + o.reproduce,
                      true)
        << "</failure>\n    </testcase>\n";
    }
  }
  x << "  </testsuite>\n</testsuites>\n";
  return x.str();
}

// The result as JSON (docs/check-json.md; docs/check-result.schema.json).
// Version 1: a field may be added within a version, never removed or
// changed in meaning.
struct SetInfo {
  std::string name, source;
  std::vector<std::string> conventions;
};

std::string verdict_name(props::Verdict v) {
  return v == props::Verdict::passed   ? "passed"
         : v == props::Verdict::failed ? "failed"
                                       : "skipped";
}

std::string result_json(const std::vector<props::Outcome> &outcomes,
                        const std::vector<SetInfo> &sets, const props::Options &opt, bool replayed,
                        int exit_code) {
  using nlohmann::ordered_json;
  ordered_json j;
  j["schema"] = "softcheck-check-result";
  j["version"] = 1;
  j["softcheck_version"] = SOFTCHECK_VERSION;
  // Seeds as decimal strings: they reach 2^63, past what a double (a
  // JavaScript number) holds exactly.
  j["seed"] = std::to_string(opt.seed);
  j["cases"] = opt.cases;
  j["replayed"] = replayed;
  j["verdict"] = exit_code == 0 ? "passed" : "failed";
  j["exit_code"] = exit_code;
  const std::vector<sandbox::Fault> faults = sandbox::faults();
  int passed = 0, failed = 0, skipped = 0;
  for (const auto &o : outcomes) {
    passed += o.verdict == props::Verdict::passed;
    failed += o.verdict == props::Verdict::failed;
    skipped += o.verdict == props::Verdict::skipped;
  }
  j["summary"] = {{"passed", passed},
                  {"failed", failed},
                  {"skipped", skipped},
                  {"kernel_faults", faults.size()}};
  j["sets"] = ordered_json::array();
  for (const SetInfo &s : sets)
    j["sets"].push_back({{"name", s.name}, {"source", s.source}, {"conventions", s.conventions}});
  j["results"] = ordered_json::array();
  for (const auto &o : outcomes) {
    ordered_json r;
    r["set"] = o.set;
    r["op"] = softcheck_op_name(o.op);
    r["dtype"] = dtype_name(o.dtype);
    r["property"] = o.property;
    r["verdict"] = verdict_name(o.verdict);
    r["kind"] = o.kind;
    r["cases"] = o.cases;
    r["declined"] = o.declined;
    r["seconds"] = o.seconds;
    r["seed"] = std::to_string(o.seed);
    r["reason"] = o.reason;
    r["counterexample"] = o.counterexample;
    r["called_with"] = o.called_with;
    r["reproduce"] = o.reproduce;
    if (o.verdict != props::Verdict::skipped && !o.error_unit.empty() &&
        std::isfinite(o.worst_error) && std::isfinite(o.bound_there) &&
        std::isfinite(o.worst_share))
      r["worst"] = {{"error", o.worst_error},
                    {"unit", o.error_unit},
                    {"bound", o.bound_there},
                    {"share_of_bound", o.worst_share}};
    else
      r["worst"] = nullptr;
    j["results"].push_back(std::move(r));
  }
  j["faults"] = ordered_json::array();
  for (const sandbox::Fault &f : faults)
    j["faults"].push_back({{"set", f.set},
                           {"plugin", f.plugin},
                           {"op", softcheck_op_name(f.op)},
                           {"dtype", dtype_name(f.dtype)},
                           {"what", f.what},
                           {"case_file", f.case_file},
                           {"reproduce", f.reproduce},
                           {"calls", f.calls}});
  // A plugin's names need not be UTF-8: invalid bytes become U+FFFD.
  return j.dump(2, ' ', false, ordered_json::error_handler_t::replace) + "\n";
}

void print_outcome(const props::Outcome &o, bool quiet) {
  const char *tag = o.verdict == props::Verdict::passed   ? "PASS"
                    : o.verdict == props::Verdict::failed ? "FAIL"
                                                          : "SKIP";
  if (quiet && o.verdict != props::Verdict::failed) return;
  std::string tail = o.verdict == props::Verdict::skipped
                         ? "(" + o.reason + ")"
                         : fmt::format("{} cases{}, {:.2f} s{}", o.cases,
                                       o.declined ? fmt::format(" ({} declined)", o.declined) : "",
                                       o.seconds, o.kind.empty() ? "" : ", " + o.kind);
  // Headroom: the passing case closest to its bound. A scaled bound is
  // k u M + 1 ulp (+ underflow), so its share says more than the u count.
  if (o.verdict != props::Verdict::skipped && !o.error_unit.empty()) {
    if (o.error_unit == "ulp")
      tail += o.bound_there > 0
                  ? fmt::format("; worst {:.3g} of {:.3g} ulp", o.worst_error, o.bound_there)
                  : fmt::format("; worst {:.3g} ulp", o.worst_error);
    else
      tail += fmt::format("; worst {:.3g} of its scaled bound", o.worst_share);
  }
  if (o.verdict != props::Verdict::skipped && o.largest_bound_ulp > props::kLooseBoundUlp)
    tail += fmt::format("; bound up to {:.0f} ulp: loose", o.largest_bound_ulp);
  fmt::print("  {}  {:<34} {:<28} {}  {}\n", tag, o.property, softcheck_op_name(o.op),
             dtype_name(o.dtype), text::printable(tail));
  if (o.verdict != props::Verdict::failed) return;
  fmt::print("        {}\n", text::printable(o.reason));
  if (!o.counterexample.empty()) {
    fmt::print("        minimal counterexample:\n");
    std::istringstream lines(o.counterexample);
    for (std::string l; std::getline(lines, l);) fmt::print("          {}\n", l);
  }
  if (!o.called_with.empty()) {
    fmt::print("        the property derived this input from it, and the kernel failed on it "
               "(saved as a file, softcheck eval --case FILE shows its outputs):\n");
    std::istringstream lines(o.called_with);
    for (std::string l; std::getline(lines, l);) fmt::print("          {}\n", l);
  }
  if (!o.reproduce.empty()) fmt::print("        reproduce: {}\n", o.reproduce);
}

} // namespace

int run_check(const CheckArgs &a) {
  if (a.list) {
    for (const auto &p : props::all_properties()) {
      std::string ops;
      for (softcheck_op op : p.ops)
        ops += std::string(ops.empty() ? "" : ", ") + softcheck_op_name(op);
      fmt::print("{}\n  checks: {}\n  bound:  {}\n  ops:    {}\n", p.name, p.checks, p.bound, ops);
    }
    return 0;
  }
  if (a.cases < 1 || a.cases > 1000000) throw UsageError("--cases must be between 1 and 1000000");
  props::Options opt;
  opt.cases = int(a.cases);
  opt.seed = parse_seed(a.seed);
  opt.ops = parse_ops(a.ops);
  for (const std::string &name : a.properties) {
    bool known = false;
    for (const auto &p : props::all_properties()) known = known || p.name == name;
    if (!known) throw UsageError("unknown property '" + name + "' (softcheck check --list)");
    opt.properties.push_back(name);
  }
  opt.dtypes = parse_dtypes(a.dtype);
  opt.regimes = parse_regimes(a.regimes, "--regime");
  opt.skip_regimes = parse_regimes(a.skip_regimes, "--skip-regime");
  if (a.kinds < 1 || a.kinds > 8) throw UsageError("--kinds must be between 1 and 8");
  opt.kinds = a.kinds;
  if (!a.junit.empty()) check_output(a.junit, "--junit");
  if (!a.json.empty()) check_output(a.json, "--json");
  if (!a.json.empty() && a.json == a.junit) throw UsageError("--json and --junit name one file");

  std::vector<CaseFile> replays;
  for (const std::string &path : a.replay) {
    try {
      replays.push_back(read_case_file(path));
    } catch (const CaseFormatError &e) {
      throw UsageError(e.what());
    }
  }
  Registry registry;
  if (!load_registry(registry, a.plugins, a.isolation)) return 2;
  std::vector<const KernelSetRef *> sets;
  if (a.sets.empty()) {
    for (const KernelSetRef &ref : registry.sets())
      if (a.plugins.empty() ? ref.source == "built-in" : ref.source != "built-in")
        sets.push_back(&ref);
  } else {
    for (const std::string &name : a.sets) {
      const KernelSetRef *ref = registry.find(name);
      if (ref == nullptr) throw UsageError("no kernel set named '" + name + "'");
      sets.push_back(ref);
    }
  }

  std::vector<props::Outcome> all;
  std::vector<std::pair<std::string, std::string>> conventions; // (set, declared), for JUnit
  std::vector<SetInfo> set_infos;                               // for --json
  for (const KernelSetRef *ref : sets) {
    const softcheck_kernel_set &set = *ref->set;
    opt.load_args = load_args(*ref, a.isolation);
    if (replays.empty())
      fmt::print("softcheck check: set {} [{}], seed {}, {} cases per property\n", ref->set->name,
                 text::printable(ref->source), opt.seed, opt.cases);
    else
      fmt::print("softcheck check: set {} [{}], replaying {} case files\n", ref->set->name,
                 text::printable(ref->source), replays.size());
    // Reported once, never as failed properties (plugin.h, "Conventions").
    set_infos.push_back({set.name, ref->source, {}});
    for (const std::string &c : props::declared_conventions(set)) {
      fmt::print("  conventions of this set: {}\n", c);
      conventions.emplace_back(set.name, c);
      set_infos.back().conventions.push_back(c);
    }
    std::fflush(stdout);
    std::vector<props::Outcome> outcomes;
    if (replays.empty()) {
      // Without --dtype, the half formats only where the set has kernels
      // for them (a set of the first two versions of plugin.h has none).
      props::Options for_set = opt;
      if (a.dtype.empty())
        for (softcheck_dtype d : {SOFTCHECK_BF16, SOFTCHECK_F16}) {
          bool any = false;
          for (int op = 0; op < SOFTCHECK_OP_COUNT; ++op)
            any = any || provides(set, d, softcheck_op(op));
          if (!any)
            for_set.dtypes.erase(std::find(for_set.dtypes.begin(), for_set.dtypes.end(), d));
        }
      outcomes = props::check(set, for_set);
    } else {
      for (size_t k = 0; k < replays.size(); ++k) {
        const CaseFile &f = replays[k];
        // --op and --dtype select files; --property overrides the file's own.
        const softcheck_op op = visit_case(f, [](const auto &c) { return c.op; });
        if (!opt.ops.empty() && std::find(opt.ops.begin(), opt.ops.end(), op) == opt.ops.end())
          continue;
        if (std::find(opt.dtypes.begin(), opt.dtypes.end(), f.dtype) == opt.dtypes.end()) continue;
        std::vector<std::string> names = opt.properties;
        if (names.empty() && !f.property.empty()) names.push_back(f.property);
        const std::string &path = a.replay[k];
        auto r = visit_case(
            f, [&](const auto &c) { return props::replay(set, c, names, opt.load_args, path); });
        outcomes.insert(outcomes.end(), r.begin(), r.end());
      }
    }
    for (const auto &o : outcomes) print_outcome(o, a.quiet);
    all.insert(all.end(), outcomes.begin(), outcomes.end());
  }
  int passed = 0, failed = 0, skipped = 0;
  for (const auto &o : all) {
    passed += o.verdict == props::Verdict::passed;
    failed += o.verdict == props::Verdict::failed;
    skipped += o.verdict == props::Verdict::skipped;
  }
  const std::string fault_text = sandbox::fault_lines();
  fmt::print("{}", fault_text);
  fmt::print("{} passed, {} failed, {} skipped{}\n", passed, failed, skipped,
             fault_text.empty() ? "" : fmt::format(", {} kernel faults", sandbox::faults().size()));
  std::fflush(stdout);
  const int code = failed > 0 || !fault_text.empty() ? 1 : 0;
  if (!a.junit.empty()) write_output(a.junit, junit_xml(all, opt.seed, conventions), "--junit");
  if (!a.json.empty())
    write_output(a.json, result_json(all, set_infos, opt, !replays.empty(), code), "--json");
  print_plugin_output();
  return code;
}

} // namespace softcheck::cli
