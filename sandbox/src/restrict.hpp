// What the worker may do, restricted before the plugin loads.
//
// Landlock, where the kernel has it: the worker may write nowhere but one
// folder of its own (its TMPDIR, removed with it) and /dev/null; with ABI
// 4 no TCP bind or connect; with ABI 6 no signal to a process outside its
// own tree (so not to the host, whatever the pids) and no abstract unix
// socket outside it. Reading is not restricted: kernels load libraries and
// data files.
//
// seccomp: no new sockets at all (socket(2) fails with EACCES, io_uring is
// refused), so no kernel reaches a service outside the tree through a
// socket file (a container runtime's, a desktop bus) that Landlock does not
// cover. socketpair(2) still works.
#pragma once

#include <string>

namespace softcheck::sandbox {

// The kernel's Landlock ABI version, 0 when there is none.
int landlock_abi();

// Restricts this process (and everything it starts) as above; "" when
// done, else why not (the process is then unrestricted in that way).
std::string restrict_writes(const std::string &writable_dir);
std::string deny_sockets();

} // namespace softcheck::sandbox
