// The worker: the only process that runs plugin code. It loads the plugin,
// sends its table as data, then serves calls until the host closes the
// request pipe. Each call's arrays are laid out as the host's were (same
// offset within a page), each in pages of its own between PROT_NONE guard
// zones; inputs are read-only; the output is filled with a pattern before
// the call (and with a second one when an element still holds the first).
// A SIGSEGV or SIGBUS handler names the guard or input it hit before the
// worker dies by that signal.
#include "worker.hpp"

#include "common.hpp"

#include <softcheck/guarded.hpp>
#include <softcheck/host.hpp>
#include <softcheck/types.hpp>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <thread>
#include <ucontext.h>
#include <unistd.h>

namespace softcheck::sandbox {
namespace {

using namespace wire;

constexpr size_t kGuard = 16 * kPage;      // between arrays: far misses land here too
constexpr size_t kTailGuard = 256 * kPage; // after the last array
constexpr int kRetired = kRetiredCalls;    // calls whose buffers stay PROT_NONE
constexpr unsigned char kCanary = 0xA5, kPadding = 0xFF;
constexpr double kThreadGrace = 0.2; // seconds a thread may run on after a call

// ------------------------------------------------- what the handler reads

struct Zone {
  uintptr_t lo = 0, hi = 0, ref = 0; // ref: the address offsets count from
  int32_t touch = kTouchNone, array = 0;
  uint64_t seq = 0;
};
constexpr int kMaxZones = 3 * kArrays + kRetired;
// Written by the main thread between calls, read by the handler on any
// thread: the count is published after the zones it covers.
Zone g_zones[kMaxZones];
std::atomic<int> g_zone_count{0};

void note_touch(int sig, siginfo_t *info, void *context) {
  const auto addr = reinterpret_cast<uintptr_t>(info->si_addr);
  FaultNote n;
  n.signal = sig;
#if defined(__x86_64__)
  // Page-fault error code: bit 1 set for a write.
  n.write = (static_cast<ucontext_t *>(context)->uc_mcontext.gregs[REG_ERR] & 2) ? 1 : 0;
#else
  (void)context;
  n.write = -1;
#endif
  const int zones = g_zone_count.load(std::memory_order_acquire);
  for (int i = 0; i < zones; ++i) {
    const Zone &z = g_zones[i];
    if (addr < z.lo || addr >= z.hi) continue;
    if (z.touch == kTouchInput && n.write == 0) continue; // reading an input is fine
    n.touch = z.touch;
    n.array = z.array;
    n.seq = z.seq;
    n.offset = z.touch == kTouchBefore ? int64_t(z.ref - addr) : int64_t(addr - z.ref);
    break;
  }
  if (n.touch != kTouchNone) {
    // One write of a small struct: atomic on a pipe; nothing else here.
    const ssize_t ignored = ::write(kFaultFd, &n, sizeof n);
    (void)ignored;
  }
  // SA_RESETHAND put the default action back: returning re-runs the access
  // and the worker dies by this signal, as the host expects.
}

void install_handlers() {
  static char stack[64 * 1024];
  stack_t ss{};
  ss.ss_sp = stack;
  ss.ss_size = sizeof stack;
  ::sigaltstack(&ss, nullptr);
  struct sigaction sa {};
  sa.sa_sigaction = note_touch;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESETHAND | SA_NODEFER;
  sigemptyset(&sa.sa_mask);
  ::sigaction(SIGSEGV, &sa, nullptr);
  ::sigaction(SIGBUS, &sa, nullptr);
}

// --------------------------------------------------------------- regions

struct Placed {
  char *data = nullptr;
  size_t bytes = 0;
  char *lo = nullptr, *hi = nullptr; // its pages
};

struct Region {
  char *base = nullptr;
  size_t size = 0;
  uint64_t seq = 0;
  bool live = false;          // the call in flight; else retired (PROT_NONE)
  std::vector<size_t> layout; // pages of each array, to reuse the mapping
  Placed a[kArrays];
};

// The last kRetired calls' regions stay mapped PROT_NONE, so a thread the
// kernel left behind that touches them is caught and named; the oldest one
// is mapped again for the next call (same layout: no mmap, pages kept).
Region g_ring[kRetired + 1];
int g_ring_next = 0;

// The zones of the call in flight and of the retired calls.
void publish_zones(const Region *r, int out_alias) {
  int n = 0;
  g_zone_count.store(0, std::memory_order_release);
  if (r != nullptr) {
    const Placed *prev = nullptr;
    int prev_array = 0;
    for (int a = 0; a < kArrays; ++a) {
      const Placed &p = r->a[a];
      if (p.lo == nullptr || (a == kOut && out_alias >= 0)) continue;
      const uintptr_t lo = reinterpret_cast<uintptr_t>(p.lo),
                      hi = reinterpret_cast<uintptr_t>(p.hi);
      // The guard before this array: its first half belongs to the array
      // before it (an over-run), the rest to this one (an under-run).
      const uintptr_t guard_lo =
          prev ? reinterpret_cast<uintptr_t>(prev->hi) : reinterpret_cast<uintptr_t>(r->base);
      const uintptr_t mid = prev ? guard_lo + (lo - guard_lo) / 2 : guard_lo;
      if (prev)
        g_zones[n++] = {
            guard_lo,    mid,        reinterpret_cast<uintptr_t>(prev->data + prev->bytes),
            kTouchAfter, prev_array, r->seq};
      g_zones[n++] = {mid, lo, reinterpret_cast<uintptr_t>(p.data), kTouchBefore, a, r->seq};
      if (a != kOut && a != out_alias)
        g_zones[n++] = {lo, hi, reinterpret_cast<uintptr_t>(p.data), kTouchInput, a, r->seq};
      prev = &p;
      prev_array = a;
    }
    if (prev)
      g_zones[n++] = {reinterpret_cast<uintptr_t>(prev->hi),
                      reinterpret_cast<uintptr_t>(r->base) + r->size,
                      reinterpret_cast<uintptr_t>(prev->data + prev->bytes),
                      kTouchAfter,
                      prev_array,
                      r->seq};
  }
  for (const Region &old : g_ring)
    if (old.base != nullptr && !old.live)
      g_zones[n++] = {reinterpret_cast<uintptr_t>(old.base),
                      reinterpret_cast<uintptr_t>(old.base) + old.size,
                      reinterpret_cast<uintptr_t>(old.base),
                      kTouchRetired,
                      0,
                      old.seq};
  g_zone_count.store(n, std::memory_order_release);
}

void retire(Region &r) {
  ::mprotect(r.base, r.size, PROT_NONE);
  r.live = false;
}

size_t pages_for(size_t span) { return (span + kPage - 1) / kPage; }

// The region of a call: every present array (but an aliased output) at the
// host's offset within its first page, `padding` readable bytes after each
// input, each between guard zones.
Region *map_region(const CallHeader &h, const Counts &c, uint32_t padding) {
  Region &r = g_ring[g_ring_next];
  g_ring_next = (g_ring_next + 1) % (kRetired + 1);
  std::vector<size_t> layout(kArrays, 0);
  size_t offsets[kArrays] = {};
  size_t cursor = kGuard;
  for (int a = 0; a < kArrays; ++a) {
    if (!h.present[a] || (a == kOut && h.out_aliases >= 0)) continue; // in place: the input's
    const size_t bytes = c.bytes(a, h.dtype) + (a == kOut ? 0 : padding);
    offsets[a] = cursor;
    layout[a] = pages_for((h.page_offset[a] % kPage) + bytes) + 1; // +1: present
    cursor += (layout[a] - 1) * kPage + kGuard;
  }
  const size_t size = cursor - kGuard + kTailGuard;
  if (r.base == nullptr || r.layout != layout) {
    if (r.base != nullptr) ::munmap(r.base, r.size);
    r = Region{};
    void *base =
        ::mmap(nullptr, size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (base == MAP_FAILED) return nullptr;
    r.base = static_cast<char *>(base);
    r.size = size;
    r.layout = layout;
  }
  r.seq = h.seq;
  r.live = true;
  for (int a = 0; a < kArrays; ++a) {
    r.a[a] = Placed{};
    if (layout[a] == 0) continue;
    Placed &p = r.a[a];
    const size_t pages = layout[a] - 1;
    p.lo = r.base + offsets[a];
    p.hi = p.lo + pages * kPage;
    p.data = p.lo + h.page_offset[a] % kPage;
    p.bytes = c.bytes(a, h.dtype);
    if (pages > 0 && ::mprotect(p.lo, pages * kPage, PROT_READ | PROT_WRITE) != 0) return nullptr;
  }
  if (h.out_aliases >= 0 && h.present[kOut]) r.a[kOut] = r.a[h.out_aliases];
  return &r;
}

// Requests, read through a buffer: one read() takes a small call whole.
struct Reader {
  char buf[1 << 16];
  size_t at = 0, end = 0;
  bool read(void *p, size_t n) {
    char *c = static_cast<char *>(p);
    while (n > 0) {
      if (at == end) {
        if (n >= sizeof buf) return read_all(kRequestFd, c, n); // large: straight in
        const ssize_t got = ::read(kRequestFd, buf, sizeof buf);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) return false;
        at = 0;
        end = size_t(got);
      }
      const size_t k = std::min(n, end - at);
      std::memcpy(c, buf + at, k);
      at += k;
      c += k;
      n -= k;
    }
    return true;
  }
};
Reader g_in;

// ---------------------------------------------------------------- checks

// This thread's id as /proc numbers it (the host's pid namespace, not the
// worker's: gettid() would not match), read once.
pid_t proc_tid() {
  static const pid_t tid = [] {
    char link[64] = {};
    const ssize_t len = ::readlink("/proc/thread-self", link, sizeof link - 1);
    const char *slash = len > 0 ? std::strrchr(link, '/') : nullptr;
    return slash ? pid_t(std::atoi(slash + 1)) : pid_t(::syscall(SYS_gettid));
  }();
  return tid;
}

// Whether thread `tid` is still at work: on a CPU, or asleep on a timer
// (it wakes by itself and goes on with what the kernel started). A thread
// blocked waiting for something (a futex, poll, a read: an idle pool
// thread) is not.
bool at_work(pid_t tid) {
  char path[64], buf[256];
  std::snprintf(path, sizeof path, "/proc/self/task/%d/syscall", int(tid));
  const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    const ssize_t n = ::read(fd, buf, sizeof buf - 1);
    ::close(fd);
    if (n > 0) {
      buf[n] = '\0';
      if (std::strncmp(buf, "running", 7) == 0) return true;
#if defined(__x86_64__)
      const long nr = std::strtol(buf, nullptr, 10);
      return nr == SYS_nanosleep || nr == SYS_clock_nanosleep || nr < 0;
#endif
    }
  }
  // Without /proc/PID/syscall: the scheduler's state, R for running.
  std::snprintf(path, sizeof path, "/proc/self/task/%d/stat", int(tid));
  const int sfd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (sfd < 0) return false;
  const ssize_t n = ::read(sfd, buf, sizeof buf - 1);
  ::close(sfd);
  if (n <= 0) return false;
  buf[n] = '\0';
  const char *close_paren = std::strrchr(buf, ')');
  return close_paren && close_paren[1] == ' ' && close_paren[2] == 'R';
}

// This process's threads but this one, as /proc numbers them.
std::vector<pid_t> other_threads() {
  static DIR *tasks = ::opendir("/proc/self/task");
  std::vector<pid_t> out;
  if (tasks == nullptr) return out;
  const pid_t self = proc_tid();
  ::rewinddir(tasks);
  while (dirent *e = ::readdir(tasks)) {
    if (e->d_name[0] == '.') continue;
    const pid_t tid = pid_t(std::atoi(e->d_name));
    if (tid != self) out.push_back(tid);
  }
  return out;
}

// Threads the worker has seen before (at load, in earlier calls).
std::vector<pid_t> g_known;

// Of `threads`, those still at work; waits until `end` for them to stop
// (a pool spinning down before it blocks).
int running_threads(const std::vector<pid_t> &threads, double end) {
  for (;;) {
    int running = 0;
    for (pid_t tid : threads) running += at_work(tid);
    if (running == 0 || now() >= end) return running;
    ::usleep(2000);
  }
}

// The threads that are new since the last look (and now known).
std::vector<pid_t> new_threads() {
  std::vector<pid_t> fresh;
  for (pid_t tid : other_threads())
    if (std::find(g_known.begin(), g_known.end(), tid) == g_known.end()) {
      fresh.push_back(tid);
      g_known.push_back(tid);
    }
  return fresh;
}

// Child processes still alive (the worker is a subreaper, so everything a
// kernel started and orphaned is its child); exited ones are reaped.
int live_children() {
  int live = 0;
  for (;;) {
    int st;
    const pid_t p = ::waitpid(-1, &st, WNOHANG | __WALL);
    if (p > 0) continue;
    if (p == 0) live = 1;
    break;
  }
  return live;
}

// The two fills of an output: a signalling NaN and a plain number of the
// element's format (0x7fa5 is a NaN of bf16 and of f16 alike).
template <class T> T pattern(int which) {
  const uint64_t bits = sizeof(T) == 2 ? (which == 0 ? 0x7fa5ull : 0x5a5aull)
                        : sizeof(T) == 4
                            ? (which == 0 ? 0x7fa5a5a5ull : 0x5a5a5a5aull)
                            : (which == 0 ? 0x7ff4a5a5a5a5a5a5ull : 0x5a5a5a5a5a5a5a5aull);
  T v;
  std::memcpy(&v, &bits, sizeof v);
  return v;
}

template <class T> bool is_pattern(const T &v, int which) {
  const T p = pattern<T>(which);
  return std::memcmp(&v, &p, sizeof v) == 0;
}

template <class T> void fill(T *out, uint64_t n, int which) {
  const T p = pattern<T>(which);
  for (uint64_t i = 0; i < n; ++i) std::memcpy(&out[i], &p, sizeof p);
}

// ----------------------------------------------------------------- calls

bool send(uint32_t type, const void *p, size_t n) {
  Frame f;
  f.type = type;
  f.length = n;
  return write_all(kReplyFd, &f, sizeof f) && write_all(kReplyFd, p, n);
}

struct Worker {
  std::vector<softcheck_kernel_set> sets;
  pid_t pid = 0;
};

// The last call and when it ended.
struct Last {
  uint64_t seq = 0;
  double ended = 0;
};
Last g_last;

// The end of a run: every thread at rest (after the grace since the last
// call), or the last call's fault.
bool settle() {
  const int running = running_threads(other_threads(), g_last.ended + kThreadGrace);
  if (running == 0) return send(kSettled, nullptr, 0);
  const LateNote note{g_last.seq, running, 0};
  return send(kLateThreads, &note, sizeof note);
}

// T is the element's storage: float, double, or uint16_t for the half
// formats (the worker only moves and compares bits).
template <class T>
bool serve_call(const Worker &w, const CallHeader &h, const Counts &c, uint64_t payload) {
  const softcheck_kernel_set &set = w.sets[h.set];
  const softcheck_ops &ops = ops_of(set, softcheck_dtype(h.dtype));
  uint64_t expect = 0;
  for (int a = 0; a < kOut; ++a) expect += c.bytes(a, h.dtype);
  if (payload != expect) return false;
  const bool in_place = h.out_aliases >= 0 && h.present[kOut];
  if (in_place && (h.out_aliases != kX && h.out_aliases != kAux)) return false;
  if (in_place && (!h.present[h.out_aliases] || c.n[h.out_aliases] != c.n[kOut])) return false;

  Region *region = map_region(h, c, set.input_padding_bytes);
  if (region == nullptr) return false;
  Region &r = *region;
  for (int a = 0; a < kOut; ++a) {
    Placed &p = r.a[a];
    if (p.lo == nullptr) continue;
    if (!g_in.read(p.data, p.bytes)) return false;
    std::memset(p.data + p.bytes, kPadding,
                std::min<size_t>(set.input_padding_bytes, size_t(p.hi - (p.data + p.bytes))));
    if (a != h.out_aliases && p.hi > p.lo) ::mprotect(p.lo, size_t(p.hi - p.lo), PROT_READ);
  }
  const uint64_t n = c.n[kOut];
  Placed &po = r.a[kOut];
  T *out = h.present[kOut] ? reinterpret_cast<T *>(po.data) : nullptr;
  if (out && !in_place) {
    std::memset(po.lo, kCanary, size_t(po.data - po.lo));
    std::memset(po.data + po.bytes, kCanary, size_t(po.hi - (po.data + po.bytes)));
    fill(out, n, 0);
  }
  void *p[kArrays];
  for (int a = 0; a < kArrays; ++a) p[a] = h.present[a] ? r.a[a].data : nullptr;
  publish_zones(&r, in_place ? h.out_aliases : -1);

  ResultHeader res;
  res.seq = h.seq;
  const auto t0 = std::chrono::steady_clock::now();
  res.status = invoke(ops, h, p);
  res.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (::getpid() != w.pid) std::_Exit(0); // a fork of the kernel returned here: not ours

  std::vector<unsigned char> written((n + 7) / 8, 0xFF);
  std::vector<T> result(out ? out : static_cast<T *>(nullptr), out ? out + n : nullptr);
  if (out && !in_place) {
    // Bytes of the output's pages outside it: the kernel wrote there.
    for (const char *b = po.lo; b < po.data && res.fault == kNoFault; ++b)
      if (static_cast<unsigned char>(*b) != kCanary) {
        res.fault = kWroteBeforeOutput;
        res.index = -int64_t((po.data - b + sizeof(T) - 1) / sizeof(T));
      }
    for (const char *b = po.data + po.bytes; b < po.hi && res.fault == kNoFault; ++b)
      if (static_cast<unsigned char>(*b) != kCanary) {
        res.fault = kWrotePastOutput;
        res.index = int64_t(n) + int64_t((b - (po.data + po.bytes)) / sizeof(T));
      }
    // Still the first pattern: written, or never touched? A second call
    // with another pattern tells (an element that holds the first pattern
    // in one and the second in the other was never written).
    bool suspects = false;
    for (uint64_t i = 0; i < n; ++i)
      if (is_pattern(result[i], 0)) {
        suspects = true;
        if (res.status != SOFTCHECK_OK) written[i / 8] &= uint8_t(~(1u << (i % 8)));
      }
    if (suspects && res.status == SOFTCHECK_OK && res.fault == kNoFault) {
      fill(out, n, 1);
      invoke(ops, h, p);
      if (::getpid() != w.pid) std::_Exit(0);
      for (uint64_t i = 0; i < n; ++i)
        if (is_pattern(result[i], 0) && is_pattern(out[i], 1)) {
          written[i / 8] &= uint8_t(~(1u << (i % 8)));
          if (res.fault == kNoFault) {
            res.fault = kUnwritten;
            res.index = int64_t(i);
          }
        }
    }
  }
  // The buffers go PROT_NONE before the threads are looked at: a thread
  // the kernel left behind that touches them now is caught and named.
  retire(r);
  publish_zones(nullptr, -1);
  if (res.fault == kNoFault) {
    if (const std::vector<pid_t> fresh = new_threads(); !fresh.empty()) {
      if (const int running = running_threads(fresh, now() + kThreadGrace); running > 0) {
        res.fault = kLateThread;
        res.index = running;
      }
    }
  }
  if (res.fault == kNoFault && live_children() > 0) res.fault = kLateProcess;
  g_last = {h.seq, now()};
  res.count = n;
  Frame f;
  f.type = kResult;
  f.length = sizeof res + written.size() + n * sizeof(T);
  std::string reply;
  reply.reserve(sizeof f + f.length);
  reply.append(reinterpret_cast<const char *>(&f), sizeof f);
  reply.append(reinterpret_cast<const char *>(&res), sizeof res);
  reply.append(reinterpret_cast<const char *>(written.data()), written.size());
  reply.append(reinterpret_cast<const char *>(result.data()), n * sizeof(T));
  return write_all(kReplyFd, reply.data(), reply.size());
}

} // namespace

int serve(const std::string &plugin, const Restrictions &restrictions) {
  Worker w;
  w.pid = ::getpid();
  const softcheck_plugin *p = nullptr;
  if (std::string err = open_plugin(plugin, p); !err.empty()) {
    send(kLoadError, err.data(), err.size());
    return 0;
  }
  std::vector<SetData> table;
  for (size_t i = 0; i < p->set_count; ++i) {
    w.sets.push_back(plugin_set(p, i));
    table.push_back(describe(w.sets.back()));
  }
  const std::string name = p->name ? std::string(p->name, ::strnlen(p->name, kMaxPluginName)) : "";
  const std::string payload = encode_table(name, table, restrictions);
  install_handlers();
  new_threads(); // what loading started is not any call's
  if (!send(kTable, payload.data(), payload.size())) return 0;
  for (;;) {
    Frame f;
    if (!g_in.read(&f, sizeof f) || f.magic != kMagic) return 0;
    if (f.type == kSettle && f.length == 0) {
      if (!settle()) return 0;
      continue;
    }
    if (f.type == kSetThreads && f.length == sizeof(ThreadsHeader)) {
      ThreadsHeader t;
      if (!g_in.read(&t, sizeof t) || t.set >= w.sets.size()) return 0;
      ThreadsResult r;
      const softcheck_kernel_set &set = w.sets[t.set];
      r.status = set.set_num_threads ? set.set_num_threads(t.threads) : SOFTCHECK_ERR_UNSUPPORTED;
      new_threads(); // a pool it made is no call's (and is looked at when the run ends)
      if (!send(kThreadsResult, &r, sizeof r)) return 0;
      continue;
    }
    if (f.type != kCall || f.length < sizeof(CallHeader) || f.length > kMaxPayload) return 0;
    CallHeader h;
    if (!g_in.read(&h, sizeof h)) return 0;
    if (h.set >= w.sets.size() || h.op >= SOFTCHECK_OP_COUNT || h.dtype >= SOFTCHECK_DTYPE_COUNT)
      return 0;
    // Only the shape is taken from the host; counts are recomputed here.
    const Counts c = counts_of(h);
    if (!c.fits) return 0;
    const uint64_t payload_bytes = f.length - sizeof h;
    const bool ok = h.dtype == SOFTCHECK_F32   ? serve_call<float>(w, h, c, payload_bytes)
                    : h.dtype == SOFTCHECK_F64 ? serve_call<double>(w, h, c, payload_bytes)
                                               : serve_call<uint16_t>(w, h, c, payload_bytes);
    if (!ok) return 0;
  }
}

} // namespace softcheck::sandbox
