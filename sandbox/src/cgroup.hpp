// A control group for one worker tree, where the machine lets softcheck
// make one (root, or a delegated cgroup): the whole tree's memory bounded
// (memory.max in cgroup v2, memory.limit_in_bytes in v1), its process count
// bounded (pids.max), and every process in it ended in one step
// (cgroup.kill, v2) or by listing them (v1). Where none can be made the
// worker falls back to RLIMIT_AS, per process, and says so.
#pragma once

#include <string>
#include <sys/types.h>
#include <vector>

namespace softcheck::sandbox {

class Cgroup {
public:
  // Makes the groups; `why` says what could not be made (empty when all
  // could). memory_bytes 0: no memory limit asked.
  bool create(long long memory_bytes, int pids_max, std::string &why);
  bool limits_memory() const { return !memory_dir_.empty(); }
  bool limits_pids() const { return !pids_dir_.empty(); }
  // Which kinds, for messages: "cgroup v2", "cgroup v1", "".
  std::string kind() const { return kind_; }
  // Moves process `pid` into every group made.
  bool add(pid_t pid) const;
  // Ends every process in the groups (repeatedly, until none is left).
  void kill_all() const;
  // Processes the OOM killer ended in the memory group.
  long long oom_kills() const;
  // Removes the groups (after kill_all).
  void remove();

private:
  std::vector<std::string> dirs_; // every group made
  std::string memory_dir_, pids_dir_, v2_dir_, kind_;
};

} // namespace softcheck::sandbox
