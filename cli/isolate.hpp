// Fault isolation: a plugin's kernel set run in a worker process.
//
// `isolate` returns a kernel set with the same name, ops and contract whose
// every call is sent to a worker: this same executable, started with
// posix_spawn as `softcheck __worker PLUGIN SET` (no fork of a threaded
// process), which loads the plugin itself, runs the call and sends the
// outputs back. In the worker, every call's output sits between guard zones
// and is filled with a signalling pattern first, and the inputs are compared
// after the call. So a kernel that
//   crashes (SIGSEGV, SIGBUS, SIGFPE, abort), exits, or hangs past the call
//   timeout, or allocates past the worker's memory limit,
//   writes outside its output, changes an input, or leaves an output
//   element unwritten,
// becomes a fault: the call returns SOFTCHECK_HOST_FAULT (the caller's
// property or measurement fails as for any wrong status), the input is
// saved as a case file, the fault is logged with a reproduce command, and a
// fresh worker takes the next call. The host never runs the kernel, so no
// fault can take the input, or the run, down with it.
#pragma once

#include <softcheck/plugin.h>

#include <string>
#include <vector>

namespace softcheck::cli {

struct IsolationOptions {
  double call_timeout = 10;       // seconds per kernel call
  int64_t memory_limit_mb = 4096; // the worker's address space
  std::string fault_dir = "softcheck-faults";
};

struct Fault {
  std::string set, plugin;
  softcheck_op op = SOFTCHECK_OP_SOFTMAX;
  softcheck_dtype dtype = SOFTCHECK_F32;
  std::string what;      // "killed by signal 11 (SIGSEGV)", ...
  std::string case_file; // the input that was running the first time
  std::string reproduce;
  int64_t calls = 1; // calls that ended this way (shrinking repeats them)
};

// The proxy of `set` from the plugin at `plugin` (at most 16 per process).
// Throws std::runtime_error when the worker cannot start.
const softcheck_kernel_set *isolate(const softcheck_kernel_set &set, const std::string &plugin,
                                    const IsolationOptions &o);

// Seconds the last isolated call on this thread spent in the kernel (in the
// worker, without the pipe), or < 0 when unknown.
double last_kernel_seconds();

// Every fault so far, in order; and the lines that print them.
std::vector<Fault> faults();
std::string fault_lines();

// Stops the whole run after `seconds` (> 0) from now: prints one line,
// kills the workers and exits with status 1. Files are only ever replaced
// whole, so nothing is left half-written.
void stop_after(double seconds);

// The worker's main: `softcheck __worker PLUGIN SET MEMORY_MB`, requests on
// fd 3, responses on fd 4.
int worker_main(int argc, char **argv);

} // namespace softcheck::cli
