// Writing files so that a reader (or a later run) never sees half of one.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace softcheck::cli {

// Writes `text` to `path` through a temporary file in the same folder and a
// rename; throws UsageError when that fails (the old file stays). For files
// inside a folder softcheck writes (a corpus, a report).
void write_atomically(const std::string &path, const std::string &text);

// Writes a file the user named for an output (--junit FILE):
//   "-", /dev/stdout, /dev/stderr, /dev/fd/N, /proc/self/fd/N: to that open
//     descriptor, as is;
//   a FIFO or a character device (or a symlink to one): opened and written
//     in place, never replaced; a FIFO that nobody reads is an error, not a
//     hang;
//   a symlink to a regular file or to a name not taken: the file it points
//     to is replaced whole (the link stays a link);
//   a regular file or a new name: replaced whole (temporary file, rename);
//   a folder, a block device or a socket: refused.
// check_output says, before any work, whether write_output would refuse;
// both throw UsageError naming `flag`.
void check_output(const std::string &path, const char *flag);
void write_output(const std::string &path, const std::string &text, const char *flag);

// What a folder argument names: a trailing slash dropped, a symlink
// followed to its target (which may not exist yet).
std::string folder_target(const std::string &dir);

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
