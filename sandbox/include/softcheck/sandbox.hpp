// The confined worker: how softcheck runs a kernel it did not write.
//
// What it guarantees (README "Fault isolation" has the table of faults):
// - The host never runs plugin code. dlopen, the plugin's constructors and
//   softcheck_plugin_v1 run in a worker process, which sends the set table
//   back as data; the host checks it again and builds proxy sets whose
//   every call goes to the worker. A load that crashes, exits, hangs or
//   sends garbage is a LoadError (one line), never a silent success.
// - The worker is a process tree the host owns: its own session and
//   process group, in a pid namespace of its own where the machine allows
//   one (so every process of it ends when it does), a cgroup that bounds
//   the whole tree's memory and process count where one can be made (else
//   RLIMIT_AS per process), a watch on the host that a stopped or spinning
//   kernel cannot block, Landlock rules where the kernel has them (no
//   writes outside a private temporary folder, no TCP, no signals out of
//   the tree) and a seccomp filter (no sockets at all, so no service
//   outside the tree can be reached through a socket file). The tree is
//   ended at every exit path, kill -9 of the host included; softcheck and
//   the sandbox are not dumpable, so their memory cannot be opened.
// - The kernel sees the buffers the caller built: the same offset within a
//   page (so the same alignment), the same aliasing (in place stays in
//   place), each array in pages of its own between PROT_NONE guard pages
//   (plus the set's declared input padding, readable). Inputs are
//   read-only. A read or write past an end, a write into an input, an
//   output element left unwritten (checked with two different fills), a
//   thread the call started and left at work (on a CPU, or asleep on a
//   timer), a child process left running: each is a fault of that call,
//   with its input saved as a case file and a reproduce line. Threads that
//   were there before a call (pools) are looked at when the run ends.
// - What the worker prints (stdout, stderr) is captured, bounded and shown
//   labelled by set, never mixed into softcheck's own output.
// - With --in-process none of this holds (the kernel runs in softcheck's
//   own process); the floating-point environment is still saved and
//   restored around every call and the load.
#pragma once

#include <softcheck/plugin.h>

#include <stdexcept>
#include <string>
#include <vector>

namespace softcheck::sandbox {

struct Limits {
  double call_timeout = 10;       // seconds per kernel call
  double load_timeout = 60;       // seconds for the plugin to load
  int64_t memory_limit_mb = 4096; // the worker tree's memory
  std::string fault_dir = "softcheck-faults";
  // Arguments that repeat these limits on a reproduce line (empty when all
  // are the defaults).
  std::vector<std::string> reproduce_args;
};

// A plugin that did not load: what happened, one line (no "error: ").
struct LoadError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The at most 64 kernel sets of one run, all plugins together (each set
// is a proxy with a slot of its own).
inline constexpr size_t kMaxSets = 64;

// Loads `plugin` in a confined worker and returns proxies of its sets
// (alive until shutdown). Throws LoadError, before any kernel runs, when
// the run's sets would pass kMaxSets.
std::vector<const softcheck_kernel_set *> load(const std::string &plugin, const Limits &limits);

// --in-process: dlopens `plugin` here; every call (and the load) runs with
// the floating-point environment saved before and restored after it. The
// same LoadErrors, the same limit.
std::vector<const softcheck_kernel_set *> load_in_process(const std::string &plugin);

// How this machine confines workers, one line (e.g. "pid namespace, cgroup
// v1 memory limit, Landlock v7"), for `softcheck kernels`.
std::string confinement();

struct Fault {
  std::string set, plugin;
  softcheck_op op = SOFTCHECK_OP_SOFTMAX;
  softcheck_dtype dtype = SOFTCHECK_F32;
  std::string what;      // "killed by signal 11 (SIGSEGV)", ...
  std::string case_file; // the input of the first call that did it ("" if not saved)
  std::string saved;     // why not, when case_file is ""
  std::string reproduce; // a shell-quoted command line
  int64_t calls = 1;     // calls that ended this way (shrinking repeats them)
};

// What a fault is of: "SET OP DTYPE", or "SET (outside a call)" for one of
// set_num_threads or of what a plugin started while it loaded.
std::string fault_title(const Fault &f);

// Every fault so far, in order; and the lines that print them (escaped).
// Live workers are settled first (see sandbox.hpp's late threads).
std::vector<Fault> faults();
std::string fault_lines();

// What the workers printed: per set (and while loading), the first 4 KiB,
// escaped, each line behind "  | "; "" when they printed nothing.
std::string captured_output();

// Seconds the last call on this thread spent in the kernel (in the worker,
// without the pipe), or < 0 when unknown.
double last_kernel_seconds();

// Stops the whole run `seconds` (> 0) from now: one line on stderr, every
// worker tree ended, exit status 1. Files are only ever replaced whole, so
// nothing is left half-written.
void stop_after(double seconds);

// Ends every worker tree and waits for it; call before exiting.
void shutdown();

// The sandbox process: `softcheck __sandbox PLUGIN MEMORY_MB`.
int sandbox_main(int argc, char **argv);

} // namespace softcheck::sandbox
