// Writing files so that a reader (or a later run) never sees half of one.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace softcheck::cli {

// Writes `text` to `path` through a temporary file in the same folder and a
// rename; throws UsageError when that fails (the old file stays).
void write_atomically(const std::string &path, const std::string &text);

// Replaces the folder `dir` by one holding exactly `files` (relative path,
// text): built beside it, then swapped in with renames.
void replace_folder(const std::string &dir,
                    const std::vector<std::pair<std::string, std::string>> &files);

// Makes `dir` (and its parents) if missing; throws UsageError when it is a
// file or cannot be written.
void ensure_writable_folder(const std::string &dir, const char *flag);

} // namespace softcheck::cli
