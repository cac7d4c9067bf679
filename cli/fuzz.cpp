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
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
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
  const std::string shard_from = a.shard.empty() ? "" : parse_shard(a.shard, o.shard, o.shards);
  if (a.streams < 1 || a.streams > 1000000)
    throw UsageError("--streams must be between 1 and 1000000");
  o.streams = a.streams;
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
  const size_t units = fuzz::campaign_units(*ref->set, o).size();
  if (units > 0 && size_t(o.shards) > units)
    fmt::print("softcheck fuzz: note: {} shards for {} units (ops x dtypes x streams): shards past "
               "unit {} have nothing to run; --streams gives more units\n",
               o.shards, units, units - 1);
  fmt::print("softcheck fuzz: set {} [{}], seed {}, shard {}/{}{}, {}{}; corpus {}{}\n",
             ref->set->name, text::printable(ref->source), o.seed, o.shard, o.shards,
             shard_from.empty() ? "" : " (from " + shard_from + ")",
             o.cases > 0 ? fmt::format("{} cases", o.cases) : fmt::format("{:g} s", o.seconds),
             o.streams > 1 ? fmt::format(", {} streams", o.streams) : "", text::printable(a.corpus),
             regimes.empty() ? "" : "; regimes " + regimes);
  std::fflush(stdout);
  const fs::path dir(a.corpus);
  const fuzz::Result r =
      fuzz::search(*ref->set, o, [&](const std::string &name, const std::string &t) {
        write_atomically((dir / name).string(), t);
      });
  const auto rows = fuzz::table_of(ref->set->name, r);
  const std::string table = fmt::format("worst-shard{}of{}", o.shard, o.shards);
  fuzz::Campaign campaign;
  campaign.set = ref->set->name;
  campaign.seed = std::to_string(o.seed);
  campaign.budget = o.cases > 0 ? fmt::format("cases {}", o.cases) : "seconds";
  std::string selection = "ops";
  for (softcheck_op op : o.ops) selection += std::string(" ") + softcheck_op_name(op);
  selection += "; dtypes";
  for (softcheck_dtype d : o.dtypes) selection += std::string(" ") + softcheck_dtype_name(d);
  selection += "; regimes" + (regimes.empty() ? std::string(" all") : " " + regimes);
  campaign.selection = selection;
  campaign.shard = o.shard;
  campaign.shards = o.shards;
  campaign.streams = o.streams;
  campaign.units = r.units;
  write_atomically((dir / (table + ".json")).string(), fuzz::table_json(rows, &campaign));
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

// Which of two rows of one op and dtype is the worse case: the larger
// ratio, then the lower stream, then the file name, so a merge gives the
// same table whatever the order of its inputs.
bool worse(const fuzz::TableRow &a, const fuzz::TableRow &b) {
  if (a.ratio != b.ratio) return a.ratio > b.ratio;
  if (a.stream != b.stream) return a.stream < b.stream;
  return a.file < b.file;
}

int run_merge(const MergeArgs &a) {
  if (a.inputs.empty()) throw UsageError("give the corpus folders to merge");
  // Read everything first: a bad input changes nothing.
  std::map<std::string, std::string> cases;                       // findings, by name
  std::map<std::pair<size_t, std::string>, std::string> worsts;   // (corpus, name): text
  std::map<std::string, std::pair<fuzz::TableRow, size_t>> worst; // by set / op / dtype
  std::map<std::string, int64_t> specials;                        // summed over the corpora
  // The shards seen of each campaign, to name the missing ones.
  std::map<std::string, std::pair<fuzz::Campaign, std::set<int64_t>>> campaigns;
  for (size_t corpus = 0; corpus < a.inputs.size(); ++corpus) {
    const std::string &in = a.inputs[corpus];
    std::error_code ec;
    if (!fs::is_directory(in, ec)) throw UsageError("'" + in + "' is not a folder");
    std::vector<fs::path> entries;
    for (const auto &e : fs::directory_iterator(in, ec)) entries.push_back(e.path());
    if (ec) throw UsageError("cannot read '" + in + "': " + ec.message());
    std::sort(entries.begin(), entries.end());
    for (const fs::path &path : entries) {
      const std::string name = path.filename().string();
      if (path.extension() == ".case") {
        const std::string t = slurp(path);
        if (name.rfind("worst-", 0) == 0) {
          worsts[{corpus, name}] = t; // each corpus's own: campaigns reuse the names
          continue;
        }
        auto [it, added] = cases.emplace(name, t);
        if (!added && it->second != t)
          throw UsageError("'" + name + "' differs between two corpora");
      } else if (name.rfind("worst-", 0) == 0 && path.extension() == ".json") {
        fuzz::Table table;
        try {
          table = fuzz::parse_table(slurp(path));
        } catch (const std::runtime_error &err) {
          throw UsageError("'" + path.string() + "': " + err.what());
        }
        if (table.has_campaign) {
          const fuzz::Campaign &c = table.campaign;
          const std::string key = fmt::format("{}|{}|{}|{}|{}|{}|{}", c.set, c.seed, c.budget,
                                              c.selection, c.shards, c.streams, c.units);
          auto &entry = campaigns[key];
          entry.first = c;
          entry.second.insert(c.shard);
        }
        for (const fuzz::TableRow &row : table.rows) {
          const std::string key = row.set + "/" + row.op + "/" + row.dtype;
          specials[key] += row.specials;
          auto it = worst.find(key);
          if (it == worst.end() || worse(row, it->second.first)) worst[key] = {row, corpus};
        }
      }
    }
  }
  std::string missing;
  for (const auto &[key, entry] : campaigns) {
    const auto &[c, seen] = entry;
    std::string lacks;
    int64_t n = 0;
    for (int64_t i = 0; i < c.shards; ++i)
      if (!seen.count(i)) {
        if (++n <= 8) lacks += (lacks.empty() ? "" : ", ") + std::to_string(i);
      }
    if (n == 0) continue;
    if (n > 8) lacks += fmt::format(" and {} more", n - 8);
    missing +=
        fmt::format("{}campaign of set {}, seed {}, {}: {} of its {} shards missing ({})",
                    missing.empty() ? "" : "; ", c.set, c.seed, c.budget, n, c.shards, lacks);
  }
  if (!missing.empty() && !a.partial)
    throw UsageError(missing + "; merge their corpora too, or give --partial");
  if (!missing.empty()) fmt::print("softcheck merge: --partial: {}\n", missing);
  ensure_writable_folder(a.out, "--out");
  const fs::path dir(a.out);
  // The worst case files of the winners; every finding.
  size_t findings = 0;
  for (const auto &[name, t] : cases) {
    write_atomically((dir / name).string(), t);
    ++findings;
  }
  std::vector<fuzz::TableRow> rows;
  for (auto &[key, winner] : worst) {
    const auto &[row, corpus] = winner;
    auto it = worsts.find({corpus, row.file});
    if (it != worsts.end()) write_atomically((dir / row.file).string(), it->second);
    rows.push_back(row);
    rows.back().specials = specials[key];
    rows.back().stream = -1; // one row per op and dtype, over every stream
  }
  write_atomically((dir / "worst.json").string(), fuzz::table_json(rows));
  write_atomically((dir / "worst.md").string(), fuzz::table_markdown(rows));
  fmt::print("softcheck merge: {} corpora, {} findings, worst cases of {} ops into {}\n",
             a.inputs.size(), findings, rows.size(), a.out);
  fmt::print("{}", fuzz::table_markdown(rows));
  return 0;
}

} // namespace softcheck::cli
