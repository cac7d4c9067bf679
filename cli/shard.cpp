// --shard for fuzz and report: I/N, or the index (and count) from the
// engine that started this process.
#include "options.hpp"
#include "parse.hpp"

#include <softcheck/text.hpp>

#include <fmt/core.h>

#include <algorithm>
#include <cstdlib>

namespace softcheck::cli {
namespace {

void parse_shard_numbers(const std::string &text, int64_t &index, int64_t &count) {
  const size_t slash = text.find('/');
  if (slash == std::string::npos) throw UsageError("--shard must be I/N, e.g. 0/4, or auto");
  index = parse_int(text.substr(0, slash));
  count = parse_int(text.substr(slash + 1));
  if (count < 1 || count > 1000000 || index < 0 || index >= count)
    throw UsageError("--shard " + text + ": need 0 <= I < N <= 1000000 (shards count from 0)");
}

// A whole non-negative number from the environment, or -1 when unset.
int64_t env_number(const char *name) {
  const char *v = std::getenv(name);
  if (v == nullptr || *v == 0) return -1;
  int64_t n = 0;
  try {
    n = parse_int(v);
  } catch (const UsageError &) {
    throw UsageError(std::string(name) + "='" + text::printable(v) + "' is not a whole number");
  }
  if (n < 0) throw UsageError(std::string(name) + "=" + v + " is negative");
  return n;
}

} // namespace

std::string parse_shard(const std::string &text, int64_t &index, int64_t &count) {
  if (text.rfind("auto", 0) != 0) {
    parse_shard_numbers(text, index, count);
    return "";
  }
  count = -1;
  if (text != "auto") {
    if (text.size() < 6 || text[4] != '/')
      throw UsageError("--shard takes I/N, auto or auto/N, not '" + text + "'");
    count = parse_int(text.substr(5));
  }
  std::string from;
  if ((index = env_number("SOFTCHECK_SHARD_INDEX")) >= 0) {
    from = "SOFTCHECK_SHARD_INDEX";
    if (count < 0 && (count = env_number("SOFTCHECK_SHARD_COUNT")) >= 0)
      from += " and SOFTCHECK_SHARD_COUNT";
  } else if ((index = env_number("JOB_COMPLETION_INDEX")) >= 0) {
    from = "JOB_COMPLETION_INDEX";
    if (count < 0 && (count = env_number("SOFTCHECK_SHARD_COUNT")) >= 0)
      from += " and SOFTCHECK_SHARD_COUNT";
  } else if ((index = env_number("SLURM_ARRAY_TASK_ID")) >= 0) {
    // Task ids run from --array's first to its last in its step.
    const int64_t first = std::max<int64_t>(env_number("SLURM_ARRAY_TASK_MIN"), 0);
    const int64_t step = std::max<int64_t>(env_number("SLURM_ARRAY_TASK_STEP"), 1);
    if (index < first || (index - first) % step != 0)
      throw UsageError(fmt::format("SLURM_ARRAY_TASK_ID={} is not in the array from {} in steps "
                                   "of {}",
                                   index, first, step));
    index = (index - first) / step;
    from = "SLURM_ARRAY_TASK_ID";
    if (count < 0 && (count = env_number("SLURM_ARRAY_TASK_COUNT")) >= 0)
      from += " and SLURM_ARRAY_TASK_COUNT";
  } else {
    throw UsageError("--shard auto: none of SOFTCHECK_SHARD_INDEX, JOB_COMPLETION_INDEX "
                     "(Kubernetes) or SLURM_ARRAY_TASK_ID (Slurm) is set; give --shard I/N");
  }
  if (count < 0)
    throw UsageError("--shard auto: " + from +
                     " gives the shard's index but nothing gives the count; give --shard "
                     "auto/N or set SOFTCHECK_SHARD_COUNT");
  parse_shard_numbers(std::to_string(index) + "/" + std::to_string(count), index, count);
  return from;
}

} // namespace softcheck::cli
