// Writing files so that a reader (or a later run) never sees half of one.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace softcheck::cli {

// Writes `text` to `path` through a temporary file in the same folder and a
// rename; throws UsageError when that fails (the old file stays).
void write_atomically(const std::string &path, const std::string &text);

// Makes `dir` (and its parents) if missing; throws UsageError when it is a
// file or cannot be written.
void ensure_writable_folder(const std::string &dir, const char *flag);

// Checks, before any work, that `dir` can become a report folder: missing
// (its parent writable), or a folder that is empty or holds a report
// (report.json). Throws UsageError naming the problem; creates nothing.
void check_report_folder(const std::string &dir, const char *flag);

// Makes `dir` hold exactly `files` (relative path, text) in one step: the
// folder is built beside it and exchanged with it by one atomic rename
// (renameat2 RENAME_EXCHANGE), so a reader, or a run killed at any moment,
// sees the old folder or the new one, never a mix.
void replace_report_folder(const std::string &dir,
                           const std::vector<std::pair<std::string, std::string>> &files);

} // namespace softcheck::cli
