// softcheck fuzz, engine 1: an error-guided search. Cases from the
// generators' regimes are mutated (bit flips, exponent jumps, inserted
// -inf / NaN / +-max, a logit moved toward a tie or a large gap, scaling,
// more or fewer classes, other options), and a mutant stays in the pool
// when it raises the error against the oracle, measured as a fraction of
// the bound a property run applies (the set's contract, else the default
// bound): the search climbs toward the worst inputs, and anything past 1
// breaks the bound and is a finding.
//
// A campaign is split into units: each op and dtype the set provides, times
// `streams` independent streams. A unit has its own pool and its own random
// stream, seeded by (seed, op, dtype, streams, stream), and, with --cases,
// its own share of the budget (the cases split evenly over the units). So a
// run with --cases is the same run everywhere, and shard I of N, which runs
// the units k with k mod N = I, writes exactly what those units write in an
// unsharded run: merged, N shards give the unsharded run's corpus and table.
#pragma once

#include <softcheck/generators.hpp>
#include <softcheck/host.hpp>
#include <softcheck/properties.hpp>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace softcheck::fuzz {

struct Options {
  uint64_t seed = 1;
  int64_t shard = 0, shards = 1; // this shard, of how many (0-based)
  int64_t streams = 1;           // independent streams per op and dtype
  int64_t cases = 0;             // executions of the whole campaign; 0: until `seconds`
  double seconds = 30;           // 0: until `cases`
  std::vector<softcheck_op> ops; // empty: every op the set provides
  // Lanes only where the set provides the op (no half lanes for a set
  // without half kernels).
  std::vector<softcheck_dtype> dtypes = {SOFTCHECK_F32, SOFTCHECK_F64, SOFTCHECK_BF16,
                                         SOFTCHECK_F16};
  // The regimes the pools are seeded from and rows are redrawn from
  // (--regime / --skip-regime); empty: every one. With a selection, no
  // mutation brings in a NaN or an infinity that no selected regime has, so
  // a run of finite regimes measures finite accuracy only.
  std::vector<gen::Regime> regimes;
  // The arguments that load the set again (--plugin PATH ...), for
  // reproduce lines; none for the built-in set.
  std::vector<std::string> load_args;
  bool progress = false;
};

// The worst case found for one op and dtype.
struct Worst {
  softcheck_op op = SOFTCHECK_OP_SOFTMAX;
  softcheck_dtype dtype = SOFTCHECK_F32;
  int64_t stream = -1; // of --streams, when more than one
  props::Judged judged;
  std::string got, want; // the worst output, hex
  std::string text;      // the case file
  std::string file;      // its name in the corpus
  int64_t execs = 0;     // executions spent on this op and dtype
  int64_t declined = 0;  // of them, valid cases the kernel declined (plugin.h): not scored
  // Cases with a special-value mismatch (NaN or an infinity on one side, or
  // a status), apart from the finite error in `judged`; the first of them.
  int64_t specials = 0;
  std::string special_reason, special_got, special_want;
};

// A case that breaks the bound (or whose status differs from the oracle's).
// Findings of one kind (op, dtype, what went wrong) are counted; the first
// kMaxFilesPerKind of each are written.
inline constexpr int kMaxFilesPerKind = 3;
struct Finding {
  softcheck_op op = SOFTCHECK_OP_SOFTMAX;
  softcheck_dtype dtype = SOFTCHECK_F32;
  std::string kind; // what went wrong, without the numbers
  std::string reason, file, text;
  int64_t count = 1; // findings of this kind (the first one's file is kept)
};

struct Result {
  std::vector<Worst> worst; // one per unit of this shard that scored a case
  std::vector<Finding> findings;
  int64_t units = 0; // of the whole campaign
  int64_t execs = 0;
  double seconds = 0;
};

// Writes a corpus file (name, text) at once; the CLI writes atomically.
using Writer = std::function<void(const std::string &name, const std::string &text)>;

// The campaign's units, in order (unit k runs in shard k mod N).
struct UnitKey {
  softcheck_op op;
  softcheck_dtype dtype;
  int64_t stream;
};
std::vector<UnitKey> campaign_units(const softcheck_kernel_set &set, const Options &o);

Result search(const softcheck_kernel_set &set, const Options &o, const Writer &write);

// The worst-case table: worst.json (schema softcheck-fuzz-worst, version 1)
// and worst.md, from one run or merged runs.
struct TableRow {
  std::string set, op, dtype, unit, file;
  double ratio = 0, error = 0, allowed = 0; // the finite error
  int64_t specials = 0;                     // cases with a special-value mismatch
  int64_t stream = -1;                      // of --streams, when more than one
};
// The run a table came from (absent from merged tables): a merge checks
// that every shard of each campaign is there.
struct Campaign {
  std::string set, seed, budget, selection; // budget: "cases N" or "seconds S"
  int64_t shard = 0, shards = 1, streams = 1, units = 0;
};
struct Table {
  std::vector<TableRow> rows;
  bool has_campaign = false;
  Campaign campaign;
};
std::string table_json(const std::vector<TableRow> &rows, const Campaign *campaign = nullptr);
std::string table_markdown(const std::vector<TableRow> &rows);
// Throws std::runtime_error naming the problem.
Table parse_table(const std::string &json_text);
std::vector<TableRow> table_of(const std::string &set, const Result &r);

} // namespace softcheck::fuzz
