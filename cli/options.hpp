// The options every command shares, read the same way everywhere.
#pragma once

#include "parse.hpp"

#include <softcheck/generators.hpp>
#include <softcheck/host.hpp>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

namespace softcheck::cli {

// --seed: a non-negative integer, or "random" (63 bits, so the seed printed
// can be given back).
inline uint64_t parse_seed(const std::string &text) {
  if (text == "random")
    return (std::random_device{}() * 0x100000001ull + std::random_device{}()) >> 1;
  const int64_t s = parse_int(text);
  if (s < 0) throw UsageError("--seed must be a non-negative integer or 'random'");
  return uint64_t(s);
}

// --shard: "I/N", or "auto" / "auto/N", where the index (and the count)
// come from SOFTCHECK_SHARD_INDEX (and _COUNT), a Kubernetes Indexed Job's
// JOB_COMPLETION_INDEX or a Slurm array's SLURM_ARRAY_TASK_ID (with its
// MIN, STEP and COUNT). Returns where they came from ("" for I/N).
std::string parse_shard(const std::string &text, int64_t &index, int64_t &count);

// --op NAME ...
inline std::vector<softcheck_op> parse_ops(const std::vector<std::string> &names) {
  std::vector<softcheck_op> ops;
  for (const std::string &name : names) {
    softcheck_op op;
    if (!op_from_name(name, op)) throw UsageError("unknown op '" + name + "'");
    ops.push_back(op);
  }
  return ops;
}

// --regime / --skip-regime ID ...: gen::Regime values.
inline std::vector<int> parse_regimes(const std::vector<std::string> &ids, const char *option) {
  std::vector<int> v;
  for (const std::string &id : ids) {
    gen::Regime r;
    if (!gen::regime_from_id(id, r)) {
      std::string known;
      for (int g = 0; g < gen::kRegimes; ++g)
        known += std::string(known.empty() ? "" : ", ") + gen::regime_id(gen::Regime(g));
      throw UsageError(std::string("unknown regime '") + id + "' for " + option + " (" + known +
                       ")");
    }
    v.push_back(int(r));
  }
  return v;
}

// The regimes left by --regime and --skip-regime; empty when neither is
// given (every regime).
inline std::vector<gen::Regime> selected_regimes(const std::vector<int> &in,
                                                 const std::vector<int> &out) {
  if (in.empty() && out.empty()) return {};
  std::vector<gen::Regime> v;
  for (int g = 0; g < gen::kRegimes; ++g) {
    const bool yes = in.empty() || std::find(in.begin(), in.end(), g) != in.end();
    if (yes && std::find(out.begin(), out.end(), g) == out.end()) v.push_back(gen::Regime(g));
  }
  if (v.empty()) throw UsageError("--regime and --skip-regime leave no regime");
  return v;
}

// --dtype: one or more of f32, f64, bf16, f16, comma-separated; "" is
// every dtype (callers that take only some say so with `halves`).
inline std::vector<softcheck_dtype> parse_dtypes(const std::string &text, bool halves = true,
                                                 const char *command = "") {
  std::vector<softcheck_dtype> out;
  if (text.empty()) {
    out = {SOFTCHECK_F32, SOFTCHECK_F64};
    if (halves) out.insert(out.end(), {SOFTCHECK_BF16, SOFTCHECK_F16});
    return out;
  }
  size_t at = 0;
  while (at <= text.size()) {
    const size_t comma = std::min(text.find(',', at), text.size());
    const std::string name = text.substr(at, comma - at);
    bool known = false;
    for (int d = 0; d < SOFTCHECK_DTYPE_COUNT && !known; ++d)
      if (name == softcheck_dtype_name(softcheck_dtype(d))) {
        known = true;
        const softcheck_dtype dt = softcheck_dtype(d);
        if (!halves && (dt == SOFTCHECK_BF16 || dt == SOFTCHECK_F16))
          throw UsageError(std::string("softcheck ") + command +
                           " takes f32 and f64 (bf16 and f16: softcheck check)");
        if (std::find(out.begin(), out.end(), dt) == out.end()) out.push_back(dt);
      }
    if (!known)
      throw UsageError("--dtype takes f32, f64, bf16 or f16 (comma-separated), not '" + name + "'");
    at = comma + 1;
  }
  return out;
}

} // namespace softcheck::cli
