// Reading a file a user named (a case file, --input, a baseline, a fuzz
// table) with a bound, so /dev/zero or a 10 GiB file is a clear error and
// not a process that grows without end.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>

namespace softcheck {

// 64 MiB: the largest legitimate inputs (a 100,003-class case file, a
// report.json of several sets) are a few MiB.
inline constexpr size_t kMaxInputBytes = size_t(64) << 20;

struct ReadError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The whole of `path` (a regular file, a FIFO, /dev/stdin), at most
// `max_bytes`; throws ReadError ("cannot read 'x': ...", "'x' is a folder",
// "'x' is larger than 64 MiB", "'x' holds a NUL byte" when text is asked).
std::string read_bounded(const std::string &path, size_t max_bytes = kMaxInputBytes,
                         bool text = true);

} // namespace softcheck
