// Landlock rules for the worker, where the kernel has Landlock: it may
// write nowhere but one folder of its own (its TMPDIR, removed with it) and
// /dev/null; with ABI 4 no TCP bind or connect; with ABI 6 no signal to a
// process outside its own tree (so not to the host, whatever the pids) and
// no abstract unix socket outside it. Reading is not restricted: kernels
// load libraries and data files.
#pragma once

#include <string>

namespace softcheck::sandbox {

// The kernel's Landlock ABI version, 0 when there is none.
int landlock_abi();

// Restricts this process (and everything it starts) as above; "" when
// done, else why not (the process is then unrestricted).
std::string restrict_writes(const std::string &writable_dir);

} // namespace softcheck::sandbox
