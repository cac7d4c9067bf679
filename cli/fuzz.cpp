// softcheck fuzz: the error-guided search on one kernel set, its findings
// and worst cases written to a corpus folder as it goes; softcheck merge:
// the corpora and worst-case tables of several runs (shards) as one.
// Exit codes: 0 nothing broke a bound, 1 a finding, 2 usage or load error.
#include "commands.hpp"
#include "files.hpp"
#include "options.hpp"
#include "parse.hpp"

#include <softcheck/fuzz.hpp>
#include <softcheck/read.hpp>
#include <softcheck/sandbox.hpp>
#include <softcheck/text.hpp>

#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <unistd.h>

namespace fs = std::filesystem;

namespace softcheck::cli {
namespace {

std::string slurp(const fs::path &p) {
  try {
    return read_bounded(p.string());
  } catch (const ReadError &e) {
    throw UsageError(e.what());
  }
}

void parse_shard(const std::string &text, int64_t &index, int64_t &count) {
  const size_t slash = text.find('/');
  if (slash == std::string::npos) throw UsageError("--shard must be I/N, e.g. 0/4");
  index = parse_int(text.substr(0, slash));
  count = parse_int(text.substr(slash + 1));
  if (count < 1 || count > 1000000 || index < 0 || index >= count)
    throw UsageError("--shard " + text + ": need 0 <= I < N <= 1000000 (shards count from 0)");
}

std::string text(double v) { return std::isinf(v) ? "inf" : fmt::format("{:.4g}", v); }

} // namespace

int run_fuzz(const FuzzArgs &a) {
  fuzz::Options o;
  if (a.cases > 0 && a.seconds > 0) throw UsageError("give --seconds or --cases, not both");
  if (a.cases < 0 || a.cases > 1000000000) throw UsageError("--cases must be between 1 and 1e9");
  if (a.seconds < 0 || a.seconds > 30 * 86400)
    throw UsageError("--seconds must be between 1 and 2592000 (30 days)");
  o.cases = a.cases;
  o.seconds = a.cases > 0 ? 0 : a.seconds > 0 ? a.seconds : 30;
  o.seed = parse_seed(a.seed);
  if (!a.shard.empty()) parse_shard(a.shard, o.shard, o.shards);
  o.ops = parse_ops(a.ops);
  o.dtypes = parse_dtypes(a.dtype);
  o.regimes = selected_regimes(parse_regimes(a.regimes, "--regime"),
                               parse_regimes(a.skip_regimes, "--skip-regime"));
  ensure_writable_folder(a.corpus, "--corpus");

  Registry registry;
  if (!load_registry(registry, a.plugins, a.isolation)) return 2;
  const KernelSetRef *ref = registry.find(a.set);
  if (ref == nullptr) throw UsageError("no kernel set named '" + text::printable(a.set) + "'");
  o.load_args = load_args(*ref, a.isolation);
  o.progress = isatty(STDERR_FILENO) != 0;

  std::string regimes;
  for (gen::Regime g : o.regimes)
    regimes += std::string(regimes.empty() ? "" : " ") + gen::regime_id(g);
  fmt::print("softcheck fuzz: set {} [{}], seed {}, shard {}/{}, {}; corpus {}{}\n", ref->set->name,
             text::printable(ref->source), o.seed, o.shard, o.shards,
             o.cases > 0 ? fmt::format("{} cases", o.cases) : fmt::format("{:g} s", o.seconds),
             text::printable(a.corpus), regimes.empty() ? "" : "; regimes " + regimes);
  std::fflush(stdout);
  const fs::path dir(a.corpus);
  const fuzz::Result r =
      fuzz::search(*ref->set, o, [&](const std::string &name, const std::string &t) {
        write_atomically((dir / name).string(), t);
      });
  const auto rows = fuzz::table_of(ref->set->name, r);
  const std::string table = fmt::format("worst-shard{}of{}", o.shard, o.shards);
  write_atomically((dir / (table + ".json")).string(), fuzz::table_json(rows));
  write_atomically((dir / (table + ".md")).string(), fuzz::table_markdown(rows));

  // Finite error and special-value mismatches apart: a library whose masked
  // rows are NaN still shows its finite accuracy.
  fmt::print("{:<28} {:<4} {:>12} {:>10} {:>9} {:>8}  {}\n", "op", "", "finite error", "bound",
             "execs", "special", "worst finite output (got, correctly rounded)");
  for (const fuzz::Worst &w : r.worst) {
    const char *unit = w.judged.scaled ? "u" : "ulp";
    const std::string declined =
        w.declined ? fmt::format("  ({} of the executions declined)", w.declined) : "";
    if (w.declined == w.execs)
      fmt::print("{:<28} {:<4} {:>8} {:<3} {:>6} {:<3} {:>9} {:>8}  every case declined\n",
                 softcheck_op_name(w.op), softcheck_dtype_name(w.dtype), "-", "", "-", "", w.execs,
                 "-");
    else
      fmt::print("{:<28} {:<4} {:>8} {:<3} {:>6} {:<3} {:>9} {:>8}  {} {}{}\n",
                 softcheck_op_name(w.op), softcheck_dtype_name(w.dtype), text(w.judged.error), unit,
                 text(w.judged.allowed), unit, w.execs, w.specials, w.got, w.want, declined);
    if (w.specials > 0)
      fmt::print("{:<28} first special-value mismatch: {}\n", "",
                 text::printable(w.special_reason));
  }
  int64_t findings = 0;
  for (const fuzz::Finding &f : r.findings) {
    findings += f.count;
    std::vector<std::string> words = {"softcheck", "check"};
    words.insert(words.end(), o.load_args.begin(), o.load_args.end());
    for (std::string &s : set_arguments(ref->set->name)) words.push_back(std::move(s));
    words.insert(words.end(), {"--replay", (dir / f.file).string()});
    fmt::print("FINDING {} {}: {}{}\n  saved: {}\n  reproduce: {}\n", softcheck_op_name(f.op),
               softcheck_dtype_name(f.dtype), text::printable(f.reason),
               f.count > 1 ? fmt::format(" ({} cases of this kind; the first {} saved)", f.count,
                                         std::min<int64_t>(f.count, fuzz::kMaxFilesPerKind))
                           : "",
               text::printable((dir / f.file).string()), text::shell_line(words));
  }
  fmt::print("{} executions in {:.1f} s ({:.0f}/s), {} findings; worst cases in {}\n", r.execs,
             r.seconds, r.seconds > 0 ? double(r.execs) / r.seconds : 0.0, findings,
             (dir / (table + ".md")).string());
  fmt::print("{}", sandbox::fault_lines());
  std::fflush(stdout);
  print_plugin_output();
  return r.findings.empty() && sandbox::faults().empty() ? 0 : 1;
}

int run_merge(const MergeArgs &a) {
  if (a.inputs.empty()) throw UsageError("give the corpus folders to merge");
  // Read everything first: a bad input changes nothing.
  std::map<std::string, std::string> cases;
  std::map<std::string, fuzz::TableRow> worst; // by set / op / dtype
  std::map<std::string, int64_t> specials;     // summed over the corpora
  for (const std::string &in : a.inputs) {
    std::error_code ec;
    if (!fs::is_directory(in, ec)) throw UsageError("'" + in + "' is not a folder");
    for (const auto &e : fs::directory_iterator(in, ec)) {
      const std::string name = e.path().filename().string();
      if (e.path().extension() == ".case") {
        const std::string t = slurp(e.path());
        auto [it, added] = cases.emplace(name, t);
        if (!added && it->second != t && name.rfind("worst-", 0) != 0)
          throw UsageError("'" + name + "' differs between two corpora");
      } else if (name.rfind("worst-", 0) == 0 && e.path().extension() == ".json") {
        std::vector<fuzz::TableRow> rows;
        try {
          rows = fuzz::parse_table(slurp(e.path()));
        } catch (const std::runtime_error &err) {
          throw UsageError("'" + e.path().string() + "': " + err.what());
        }
        for (const fuzz::TableRow &row : rows) {
          const std::string key = row.set + "/" + row.op + "/" + row.dtype;
          specials[key] += row.specials;
          auto it = worst.find(key);
          if (it == worst.end() || row.ratio > it->second.ratio) worst[key] = row;
        }
      }
    }
    if (ec) throw UsageError("cannot read '" + in + "': " + ec.message());
  }
  ensure_writable_folder(a.out, "--out");
  const fs::path dir(a.out);
  // The worst case files of the winners; every finding.
  size_t findings = 0;
  for (const auto &[name, t] : cases) {
    if (name.rfind("worst-", 0) == 0) continue;
    write_atomically((dir / name).string(), t);
    ++findings;
  }
  std::vector<fuzz::TableRow> rows;
  for (auto &[key, row] : worst) {
    auto it = cases.find(row.file);
    if (it != cases.end()) write_atomically((dir / row.file).string(), it->second);
    rows.push_back(row);
    rows.back().specials = specials[key];
  }
  write_atomically((dir / "worst.json").string(), fuzz::table_json(rows));
  write_atomically((dir / "worst.md").string(), fuzz::table_markdown(rows));
  fmt::print("softcheck merge: {} corpora, {} findings, worst cases of {} ops into {}\n",
             a.inputs.size(), findings, rows.size(), a.out);
  fmt::print("{}", fuzz::table_markdown(rows));
  return 0;
}

} // namespace softcheck::cli
