// What the host and a plugin's worker say to each other. Every message is
// a Frame and `length` bytes of payload. Nothing a worker sends is trusted:
// the host checks every count against what it asked for.
//
// File descriptors of the sandbox process and of the worker:
//   0 /dev/null, 1 and 2 the output pipe (the host shows what arrives,
//   labelled and bounded), 3 requests (host -> worker), 4 replies
//   (worker -> host), 5 fault notes (the worker's signal handler -> host),
//   6 control (the host holds the write end: when it closes, on purpose or
//   because the host died, the sandbox ends the whole tree), 7 status (the
//   worker's wait status and the tree's end, from whoever reaps it).
#pragma once

#include <softcheck/plugin.h>

#include <cstddef>
#include <cstdint>

namespace softcheck::sandbox::wire {

constexpr int kRequestFd = 3, kReplyFd = 4, kFaultFd = 5, kControlFd = 6, kStatusFd = 7;

constexpr uint32_t kMagic = 0x736b3032; // "sk02"

enum Type : uint32_t {
  // host -> worker
  kCall = 1,
  kSetThreads = 2,
  kSettle = 3, // look at every thread now (the end of a run)
  // worker -> host
  kTable = 10,     // the plugin loaded: its sets as data
  kLoadError = 11, // the plugin did not load: one line of text
  kResult = 12,    // a call's result
  kThreadsResult = 13,
  kLateThreads = 14, // at the end of a run: threads still at work (LateNote)
  kSettled = 15,     // nothing left at work
};

// A thread a call starts and leaves at work is that call's fault, told at
// once (kLateThread). Threads that were there before the call (a pool that
// spins down after a parallel region, then blocks) are looked at once more
// when the run ends: still at work then, they are the last call's.
struct LateNote {
  uint64_t seq = 0;
  int32_t running = 0, pad = 0;
};

struct Frame {
  uint32_t magic = kMagic;
  uint32_t type = 0;
  uint64_t length = 0;
};

// The most a frame may carry (2^31 elements of 8 bytes and the rest).
constexpr uint64_t kMaxPayload = (uint64_t(1) << 34);

// Calls whose buffers the worker keeps PROT_NONE after they return (and
// whose requests the host keeps, to name the call a late touch belongs to).
constexpr int kRetiredCalls = 8;

// ------------------------------------------------------------- the table

constexpr size_t kMaxDescription = 1024, kMaxVersion = 256, kMaxPluginName = 256;
constexpr uint32_t kMaxPadding = 4096; // input_padding_bytes

// A set as data: the strings follow in order (name, description, version),
// each `*_len` bytes, no terminator.
struct SetRecord {
  uint32_t name_len = 0, description_len = 0, version_len = 0;
  uint32_t has_description = 0, has_version = 0;
  uint32_t provides[SOFTCHECK_DTYPE_COUNT] = {}; // bit op, per dtype
  uint32_t has_contract = 0, has_threads = 0;
  uint32_t input_padding = 0, has_half_contract = 0;
  uint8_t conventions[SOFTCHECK_CONVENTION_SLOTS] = {};
  softcheck_contract contract{};
  softcheck_half_contract half_contract{};
};
struct TableHeader {
  uint32_t set_count = 0, plugin_name_len = 0;
  // What the worker's restrictions came to, before the plugin loaded:
  // the Landlock ABI in force (0: none), 1 when sockets are denied.
  int32_t landlock = 0, no_sockets = 0;
};

// -------------------------------------------------------------- the calls

// The arrays of a call, in this order everywhere.
enum Array { kX, kAux, kTarget, kDout, kWeight, kOut, kArrays };
inline const char *array_name(int a) {
  static const char *const names[] = {"x", "aux", "target", "dout", "weight", "out"};
  return a >= 0 && a < kArrays ? names[a] : "?";
}

struct CallHeader {
  uint64_t seq = 0;
  uint32_t set = 0, op = 0, dtype = 0;
  int32_t reduction = 0;
  int64_t outer = 0, classes = 0, inner = 0;
  int64_t ignore_index = 0;
  double smoothing = 0;
  uint32_t present[kArrays] = {};     // a pointer was given
  uint32_t page_offset[kArrays] = {}; // the host's address modulo the page size
  int32_t out_aliases = -1;           // the input array the output is (in place), or -1
  uint32_t has_options = 0;           // loss options given (else the kernel gets NULL)
  // followed by the bytes of every present input array (x to weight), in
  // Array order; never the output's: the worker fills it (or, in place,
  // it is the input it aliases)
};

enum FaultKind : int32_t {
  kNoFault = 0,
  kWroteBeforeOutput, // into the bytes of its output's first page before it
  kWrotePastOutput,   // into the bytes of its output's last page after it
  kUnwritten,         // status ok, an output element never written (two fills)
  kLateThread,        // a thread the call started still at work after it returned
  kLateProcess,       // a child process still running after the call returned
};

struct ResultHeader {
  uint64_t seq = 0;
  int32_t status = 0, fault = kNoFault;
  int64_t index = 0;  // element (unwritten, wrote before/past)
  uint64_t count = 0; // output elements that follow
  double seconds = 0; // in the kernel
  // followed by count / 8 rounded up bytes of "written" bits, then the
  // output elements
};

struct ThreadsHeader {
  uint32_t set = 0;
  int32_t threads = 0;
};
struct ThreadsResult {
  int32_t status = 0, pad = 0;
};

// ------------------------------------------------------ from the handler

// What the worker's SIGSEGV/SIGBUS handler saw before it died: a guard
// page, a read-only input, or the quarantined buffers of an earlier call.
enum Touch : int32_t {
  kTouchNone = 0,
  kTouchAfter,   // the guard page after array `array`
  kTouchBefore,  // the guard page before it
  kTouchInput,   // the data of a read-only input (a write)
  kTouchRetired, // the buffers of call `seq` after it returned
};
struct FaultNote {
  uint32_t magic = kMagic;
  int32_t touch = kTouchNone;
  int32_t array = 0, write = 0; // write: 1 write, 0 read, -1 unknown
  uint64_t seq = 0;
  int64_t offset = 0; // bytes past the end / before the start / into the array
  int32_t signal = 0, pad = 0;
};

// ------------------------------------------------------------- the status

enum StatusKind : int32_t {
  kWorkerEnded = 1, // value = the worker's wait status
  kWorkerStopped,   // value = the signal that stopped it (then it is killed)
  kTreeEnded,       // value = processes the OOM killer ended in the tree
  kConfinement,     // value = kConfined* bits
};
namespace confined_bits {
enum : int64_t {
  kConfinedPidNamespace = 1,
  kConfinedMemory = 2, // a cgroup bounds the tree's memory
  kConfinedPids = 4,   // a cgroup bounds its process count
  kConfinedCgroupV2 = 8,
};
} // namespace confined_bits
using namespace confined_bits;
struct StatusNote {
  uint32_t magic = kMagic;
  int32_t kind = 0;
  int64_t value = 0;
};

} // namespace softcheck::sandbox::wire
