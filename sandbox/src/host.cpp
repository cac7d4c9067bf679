// The host side: one confined worker tree per plugin (started again after
// a fault), proxy kernel sets whose calls go to it, the faults, and what the
// workers printed. See softcheck/sandbox.hpp for what is guaranteed.
#include "common.hpp"
#include "protocol.hpp"

#include <softcheck/case_io.hpp>
#include <softcheck/guarded.hpp>
#include <softcheck/host.hpp>
#include <softcheck/sandbox.hpp>
#include <softcheck/text.hpp>

#include <fmt/core.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <cfenv>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <deque>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <poll.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

extern char **environ;

namespace softcheck::sandbox {
namespace {

using namespace wire;

constexpr size_t kShownOutput = 4096; // bytes of a set's output shown
constexpr double kEndWait = 5;        // seconds for a sandbox to end its tree
constexpr int kMaxFaults = 16; // faults in a row of one op and dtype before it is not called again

// --timeout fired: no more fault files, no new workers.
std::atomic<bool> g_stopping{false};

thread_local double t_last_seconds = -1;

const char *dtype_name(uint32_t d) { return softcheck_dtype_name(softcheck_dtype(d)); }

std::string signal_text(int sig) {
  const char *abbrev = sigabbrev_np(sig);
  return fmt::format("signal {} ({})", sig, abbrev ? std::string("SIG") + abbrev : "unknown");
}

// ------------------------------------------------------------------ faults

std::mutex g_faults_lock;
std::vector<Fault> g_faults;
std::string g_run_dir; // this run's folder under the fault folder, made at the first fault

// The folder for this run's fault inputs: DIR/run-N, the first N free, so
// two runs in one folder never share a file and a fresh folder gives the
// same names every time.
std::string run_dir(const std::string &fault_dir, std::string &error) {
  if (!g_run_dir.empty()) return g_run_dir;
  std::error_code ec;
  std::filesystem::create_directories(fault_dir, ec);
  if (ec) {
    error = fmt::format("cannot create '{}': {}", fault_dir, ec.message());
    return "";
  }
  for (int k = 1; k < 100000; ++k) {
    const std::string dir = fmt::format("{}/run-{}", fault_dir, k);
    if (::mkdir(dir.c_str(), 0755) == 0) return g_run_dir = dir;
    if (errno != EEXIST) {
      error = fmt::format("cannot create '{}': {}", dir, std::strerror(errno));
      return "";
    }
  }
  error = fmt::format("'{}' holds too many runs", fault_dir);
  return "";
}

// Written whole (a temporary file, then a rename) or not at all.
bool write_whole(const std::string &path, const std::string &text, std::string &error) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary);
    out << text;
    out.flush();
    if (!out) {
      error = fmt::format("cannot write '{}'", tmp);
      std::remove(tmp.c_str());
      return false;
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    error = fmt::format("cannot write '{}': {}", path, std::strerror(errno));
    std::remove(tmp.c_str());
    return false;
  }
  return true;
}

// ---------------------------------------------------------------- plugins

struct Captured {
  std::string head;
  uint64_t total = 0;
};

struct Tree {
  pid_t pid = -1;
  int request = -1, reply = -1, faults = -1, control = -1, status = -1, output = -1;
  bool ended = false;     // the worker is gone (a status note said so)
  int worker_status = -1; // its wait status, when it ended
  int stopped_by = 0;     // the signal that stopped it, if one did
  int64_t oom_kills = 0;  // in the tree's cgroup, when it was ended
  int64_t confined = -1;  // kConfined* | Landlock ABI << 8
  std::string inbox;      // reply bytes read ahead
};

struct Sent {
  uint64_t seq = 0;
  uint32_t set = 0;
  std::string bytes; // the request: header and inputs
};

struct Plugin {
  std::string path; // as the user gave it (messages, reproduce lines)
  std::string file; // what the worker opens (absolute)
  Limits limits;
  std::vector<SetData> table;
  std::vector<int> slots; // the proxy slot of each set
  std::mutex lock;
  Tree tree;
  bool broken = false;
  std::vector<int> threads; // last set_num_threads per set (0: never)
  std::vector<std::array<bool, SOFTCHECK_DTYPE_COUNT * SOFTCHECK_OP_COUNT>> hung; // per set
  std::vector<std::array<int, SOFTCHECK_DTYPE_COUNT * SOFTCHECK_OP_COUNT>>
      faulty; // faults in a row, per set, dtype, op
  uint64_t seq = 0;
  std::map<std::string, Captured> output; // by label, in first-seen order below
  std::vector<std::string> labels;
  std::string label = "while loading";
  std::deque<Sent> last; // the newest first: the call in flight and kRetiredCalls before it
  Restrictions restrictions;
};

struct Slot {
  Plugin *plugin = nullptr;                   // sandboxed
  const softcheck_kernel_set *real = nullptr; // in process
  uint32_t index = 0;
  SetData data;
  softcheck_contract contract{};
  softcheck_half_contract half_contract{};
  softcheck_kernel_set proxy{};
};

std::mutex g_load_lock;
Slot g_slots[kMaxSets];
size_t g_used = 0;
std::vector<std::unique_ptr<Plugin>> g_plugins;
int64_t g_confined = -1;        // what the last sandbox reported
Restrictions g_restrictions;    // and what its worker's restrictions came to
std::vector<pid_t> g_sandboxes; // every sandbox process started, for --timeout (g_load_lock)
std::mutex g_sandboxes_lock;

void capture(Plugin &p, const char *data, size_t n) {
  auto [it, added] = p.output.try_emplace(p.label);
  if (added) p.labels.push_back(p.label);
  Captured &c = it->second;
  c.total += n;
  if (c.head.size() < kShownOutput) c.head.append(data, std::min(n, kShownOutput - c.head.size()));
}

// At most 1 MiB a time: a worker whose threads write without pause cannot
// keep the host here past its deadline.
void drain_output(Plugin &p) {
  char buf[65536];
  for (int reads = 0; reads < 16; ++reads) {
    const ssize_t n = ::read(p.tree.output, buf, sizeof buf);
    if (n > 0) {
      capture(p, buf, size_t(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    return;
  }
}

void read_status(Plugin &p) {
  StatusNote n;
  for (;;) {
    const ssize_t got = ::read(p.tree.status, &n, sizeof n);
    if (got != sizeof n) return;
    if (n.magic != kMagic) continue;
    switch (n.kind) {
    case kWorkerEnded:
      p.tree.ended = true;
      p.tree.worker_status = int(n.value);
      break;
    case kWorkerStopped:
      p.tree.ended = true;
      p.tree.stopped_by = int(n.value);
      break;
    case kTreeEnded: p.tree.oom_kills = n.value; break;
    case kConfinement:
      p.tree.confined = n.value;
      g_confined = n.value;
      break;
    default: break;
    }
  }
}

void close_fd(int &fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

// The tree's end: the control pipe closes, the sandbox ends every process
// of the tree and exits; what the pipes still hold is read.
void end_tree(Plugin &p) {
  Tree &t = p.tree;
  if (t.pid <= 0) return;
  close_fd(t.control);
  close_fd(t.request);
  const double until = now() + kEndWait;
  bool reaped = false;
  while (!reaped) {
    int st;
    const pid_t r = ::waitpid(t.pid, &st, WNOHANG);
    if (r == t.pid || (r < 0 && errno == ECHILD)) {
      reaped = true;
      break;
    }
    if (now() > until) {
      ::kill(t.pid, SIGKILL); // its init or worker dies with it (PR_SET_PDEATHSIG)
      ::waitpid(t.pid, &st, 0);
      reaped = true;
      break;
    }
    pollfd f[2] = {{t.status, POLLIN, 0}, {t.output, POLLIN, 0}};
    ::poll(f, 2, 5);
    read_status(p);
    drain_output(p);
  }
  read_status(p);
  drain_output(p);
  {
    std::lock_guard<std::mutex> g(g_sandboxes_lock);
    g_sandboxes.erase(std::remove(g_sandboxes.begin(), g_sandboxes.end(), t.pid),
                      g_sandboxes.end());
  }
  t.pid = -1;
}

void close_tree(Plugin &p) {
  Tree &t = p.tree;
  for (int *fd : {&t.request, &t.reply, &t.faults, &t.control, &t.status, &t.output}) close_fd(*fd);
  t = Tree{};
}

// A copy of fd at 10 or above (so dup2 onto 0-7 cannot collide), close-on-exec.
int high_fd(int fd) {
  const int h = ::fcntl(fd, F_DUPFD_CLOEXEC, 10);
  ::close(fd);
  return h;
}

std::string self_exe() {
  std::error_code ec;
  auto p = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) throw LoadError("cannot find this executable (/proc/self/exe)");
  return p.string();
}

// Starts the plugin's sandbox; the worker then loads the plugin.
void spawn(Plugin &p) {
  int fds[6][2]; // request, reply, faults, control, status, output
  for (auto &f : fds) {
    if (::pipe2(f, O_CLOEXEC) != 0) throw LoadError("cannot create pipes for a worker");
    f[0] = high_fd(f[0]);
    f[1] = high_fd(f[1]);
  }
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, fds[5][1], 1);
  posix_spawn_file_actions_adddup2(&fa, fds[5][1], 2);
  posix_spawn_file_actions_adddup2(&fa, fds[0][0], kRequestFd);
  posix_spawn_file_actions_adddup2(&fa, fds[1][1], kReplyFd);
  posix_spawn_file_actions_adddup2(&fa, fds[2][1], kFaultFd);
  posix_spawn_file_actions_adddup2(&fa, fds[3][0], kControlFd);
  posix_spawn_file_actions_adddup2(&fa, fds[4][1], kStatusFd);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setflags(&attr,
                           POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  const std::string exe = self_exe(), mem = std::to_string(p.limits.memory_limit_mb);
  std::vector<char *> argv = {const_cast<char *>(exe.c_str()), const_cast<char *>("__sandbox"),
                              const_cast<char *>(p.file.c_str()), const_cast<char *>(mem.c_str()),
                              nullptr};
  std::vector<std::string> env_text;
  for (char **e = environ; *e; ++e)
    if (std::strncmp(*e, "ASAN_OPTIONS=", 13) != 0) env_text.emplace_back(*e);
  const char *asan = std::getenv("ASAN_OPTIONS");
#ifdef SOFTCHECK_ASAN
  // A kernel's crash is the worker's death by its signal, as without ASan
  // (ASan would report it and abort: SIGABRT for every kind); the worker's
  // own handler names guard pages.
  env_text.push_back(std::string("ASAN_OPTIONS=") + (asan ? std::string(asan) + ":" : "") +
                     "handle_segv=0:handle_sigbus=0:handle_sigfpe=0:handle_abort=0");
#else
  if (asan) env_text.push_back(std::string("ASAN_OPTIONS=") + asan);
#endif
  std::vector<char *> envp;
  for (std::string &e : env_text) envp.push_back(e.data());
  envp.push_back(nullptr);
  pid_t pid;
  const int err = posix_spawn(&pid, exe.c_str(), &fa, &attr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  // The host keeps its ends; the sandbox has the others.
  for (int i : {0, 3}) ::close(fds[i][0]);
  for (int i : {1, 2, 4, 5}) ::close(fds[i][1]);
  Tree &t = p.tree;
  t.request = fds[0][1];
  t.reply = fds[1][0];
  t.faults = fds[2][0];
  t.control = fds[3][1];
  t.status = fds[4][0];
  t.output = fds[5][0];
  if (err != 0) {
    close_tree(p);
    throw LoadError(fmt::format("cannot start a worker: {}", std::strerror(err)));
  }
  t.pid = pid;
  {
    std::lock_guard<std::mutex> g(g_sandboxes_lock);
    g_sandboxes.push_back(pid);
  }
  for (int fd : {t.request, t.reply, t.faults, t.status, t.output})
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
}

enum class Io { ok, timeout, ended, malformed };

// Sends `send` and reads `want` bytes into `into`, draining the output and
// status pipes meanwhile, until `deadline`. Reads take what the pipe holds
// (kept for the next read), writes go out before any wait.
Io pump(Plugin &p, const std::string *send, char *into, size_t want, double deadline) {
  Tree &t = p.tree;
  size_t sent = 0, got = std::min(want, t.inbox.size());
  if (got > 0) {
    std::memcpy(into, t.inbox.data(), got);
    t.inbox.erase(0, got);
  }
  char buf[1 << 16];
  short output_ready = 0, status_ready = 0;
  for (;;) {
    if (send && sent < send->size()) {
      const ssize_t w = ::write(t.request, send->data() + sent, send->size() - sent);
      if (w > 0) sent += size_t(w);
      if (w < 0 && errno != EAGAIN && errno != EINTR) return Io::ended;
    }
    if (got < want) {
      const ssize_t n = ::read(t.reply, buf, sizeof buf);
      if (n == 0) return Io::ended;
      if (n < 0 && errno != EAGAIN && errno != EINTR) return Io::ended;
      if (n > 0) {
        const size_t k = std::min(size_t(n), want - got);
        std::memcpy(into + got, buf, k);
        got += k;
        t.inbox.append(buf + k, size_t(n) - k);
      }
    }
    if (output_ready) drain_output(p);
    if (status_ready) read_status(p);
    if (got >= want && (!send || sent >= send->size())) return Io::ok;
    if (t.ended) {
      // What it wrote before it ended is in the pipe already: take it.
      for (ssize_t n; got < want && (n = ::read(t.reply, buf, sizeof buf)) > 0;) {
        const size_t k = std::min(size_t(n), want - got);
        std::memcpy(into + got, buf, k);
        got += k;
        t.inbox.append(buf + k, size_t(n) - k);
      }
      return got >= want && (!send || sent >= send->size()) ? Io::ok : Io::ended;
    }
    const double left = deadline - now();
    if (left <= 0) return Io::timeout;
    // A pipe that is not waited on stays out of the set: poll reports a
    // hang-up on it whatever was asked.
    const bool sending = send && sent < send->size();
    pollfd f[4] = {{got < want ? t.reply : -1, POLLIN, 0},
                   {sending ? t.request : -1, POLLOUT, 0},
                   {t.output, POLLIN, 0},
                   {t.status, POLLIN, 0}};
    const int r = ::poll(f, 4, int(std::min(left * 1000 + 1, 1e9)));
    if (r < 0 && errno != EINTR) return Io::ended;
    if (f[1].revents & (POLLERR | POLLHUP)) return Io::ended;
    output_ready = f[2].revents;
    status_ready = f[3].revents;
  }
}

// Reads one frame of `type`, at most `max` bytes of payload.
Io read_frame(Plugin &p, uint32_t &type, std::string &payload, uint64_t max, double deadline) {
  Frame f;
  if (Io r = pump(p, nullptr, reinterpret_cast<char *>(&f), sizeof f, deadline); r != Io::ok)
    return r;
  if (f.magic != kMagic || f.length > max) return Io::malformed;
  type = f.type;
  payload.resize(f.length);
  return pump(p, nullptr, payload.data(), payload.size(), deadline);
}

// A worker that died is reported by its reaper: wait for that note while
// the tree is still whole (ending it first could lose it).
void await_worker_end(Plugin &p) {
  for (const double until = now() + 2; !p.tree.ended && now() < until;) {
    pollfd f{p.tree.status, POLLIN, 0};
    ::poll(&f, 1, 10);
    read_status(p);
  }
}

// How the worker ended, for messages: after end_tree.
std::string death(const Plugin &p, const char *where = "") {
  const Tree &t = p.tree;
  const bool memory_cgroup = t.confined >= 0 && (t.confined & kConfinedMemory);
  if (t.stopped_by)
    return fmt::format("stopped by {} (ended by softcheck)", signal_text(t.stopped_by));
  if (t.worker_status < 0) return "the worker went away";
  const int st = t.worker_status;
  if (WIFSIGNALED(st)) {
    const int sig = WTERMSIG(st);
    std::string s = "killed by " + signal_text(sig);
    if (t.oom_kills > 0)
      s += fmt::format(" (the worker tree went over its {} MiB memory limit)",
                       p.limits.memory_limit_mb);
    else if (!memory_cgroup && (sig == SIGSEGV || sig == SIGBUS || sig == SIGABRT))
      s += fmt::format(" (or an allocation past the worker's {} MiB memory limit)",
                       p.limits.memory_limit_mb);
    return s;
  }
  if (WIFEXITED(st)) return fmt::format("exited with status {}{}", WEXITSTATUS(st), where);
  return "the worker went away";
}

// What a fault note says about the call `request` (its header), or "".
std::string touch_text(const FaultNote &n, const Plugin &p, uint32_t set,
                       const std::string &request) {
  const bool write = n.write == 1;
  const std::string arr =
      n.array == kOut ? "its output" : std::string("its input ") + array_name(n.array);
  const uint32_t pad = set < p.table.size() ? p.table[set].input_padding : 0;
  CallHeader h;
  if (request.size() >= sizeof(Frame) + sizeof h)
    std::memcpy(&h, request.data() + sizeof(Frame), sizeof h);
  const Counts c = counts_of(h);
  const int a = n.array >= 0 && n.array < kArrays ? n.array : 0;
  const int64_t size = int64_t(element_size(a, h.dtype)), count = int64_t(c.n[a]);
  switch (n.touch) {
  case kTouchAfter: {
    // offset: bytes past the end (0 is the first byte after it).
    std::string s =
        fmt::format("{} past the end of {} ({} elements): element {}, offset +{} (a "
                    "guard page)",
                    write ? "wrote" : "read", arr, count, count + n.offset / size, n.offset / size);
    if (!write && n.array != kOut)
      s += pad > 0 ? fmt::format("; the set declares input_padding_bytes = {}", pad)
                   : "; a set that reads past its inputs declares input_padding_bytes";
    return s;
  }
  case kTouchBefore:
    return fmt::format("{} before the start of {}: element -{} (a guard page)",
                       write ? "wrote" : "read", arr, (n.offset + size - 1) / size);
  case kTouchInput:
    return fmt::format("changed its input {}[{}] (inputs are read-only)", array_name(a),
                       n.offset / size);
  case kTouchRetired: return "a thread it left running touched its buffers after the call returned";
  default: return "";
  }
}

// ------------------------------------------------------------ case files

template <class T> std::string case_of(const std::string &request) {
  CallHeader h;
  if (request.size() < sizeof(Frame) + sizeof h) return "";
  std::memcpy(&h, request.data() + sizeof(Frame), sizeof h);
  const Counts c = counts_of(h);
  Case<T> cs;
  cs.op = softcheck_op(h.op);
  cs.shape = {h.outer, h.classes, h.inner};
  cs.reduction = Reduction(h.reduction);
  cs.ignore_index = h.ignore_index;
  cs.label_smoothing = h.smoothing;
  size_t at = sizeof(Frame) + sizeof h;
  auto take = [&](auto &v, int a) {
    using E = std::decay_t<decltype(v[0])>;
    v.resize(c.n[a]);
    const size_t bytes = c.n[a] * sizeof(E);
    if (at + bytes <= request.size() && bytes > 0)
      std::memcpy(v.data(), request.data() + at, bytes);
    at += bytes;
  };
  take(cs.x, kX);
  take(cs.aux, kAux);
  take(cs.target, kTarget);
  take(cs.dout, kDout);
  take(cs.weight, kWeight);
  if (cs.aux.size() != cs.x.size()) cs.aux.resize(cs.x.size());
  return to_text(cs);
}

void record(Plugin &p, uint32_t set, uint32_t op, uint32_t dtype, const std::string &request,
            const std::string &what) {
  if (g_stopping) return; // --timeout: nothing more is written
  const std::string name = set < p.table.size() ? p.table[set].name : "?";
  {
    // One fault a kind: the first input is kept, later ones counted.
    std::lock_guard<std::mutex> g(g_faults_lock);
    for (Fault &f : g_faults)
      if (f.set == name && f.op == softcheck_op(op) && f.dtype == softcheck_dtype(dtype) &&
          f.what == what) {
        ++f.calls;
        return;
      }
  }
  Fault f;
  f.set = name;
  f.plugin = p.path;
  f.op = softcheck_op(op);
  f.dtype = softcheck_dtype(dtype);
  f.what = what;
  const bool is_call = op < SOFTCHECK_OP_COUNT && !request.empty();
  std::string text = !is_call                  ? ""
                     : dtype == SOFTCHECK_F32  ? case_of<float>(request)
                     : dtype == SOFTCHECK_F64  ? case_of<double>(request)
                     : dtype == SOFTCHECK_BF16 ? case_of<bf16>(request)
                                               : case_of<f16>(request);
  std::lock_guard<std::mutex> g(g_faults_lock);
  if (is_call) {
    std::string error;
    const std::string dir = run_dir(p.limits.fault_dir, error);
    const std::string file =
        dir.empty() ? ""
                    : fmt::format("{}/fault-{}-{}-{}-{}.case", dir, name, softcheck_op_name(f.op),
                                  dtype_name(dtype), g_faults.size() + 1);
    const std::string body =
        fmt::format("# softcheck: {} {} {}: {}\n", name, softcheck_op_name(f.op), dtype_name(dtype),
                    text::printable(what)) +
        text;
    if (!file.empty() && write_whole(file, body, error)) {
      f.case_file = file;
      std::vector<std::string> words = {"softcheck", "eval", "--plugin", p.path};
      for (std::string &a : set_arguments(name)) words.push_back(std::move(a));
      words.insert(words.end(), {"--case", file});
      words.insert(words.end(), p.limits.reproduce_args.begin(), p.limits.reproduce_args.end());
      f.reproduce = text::shell_line(words);
    } else {
      f.saved = "not saved: " + error;
    }
  }
  g_faults.push_back(std::move(f));
}

// ------------------------------------------------------------------ loads

[[noreturn]] void load_failed(Plugin &p, const std::string &what) {
  end_tree(p);
  close_tree(p);
  throw LoadError(fmt::format("plugin '{}' {}", text::printable(p.path), what));
}

std::string check_table(const std::vector<SetData> &sets) {
  for (const SetData &d : sets) {
    bool ok = !d.name.empty() && d.name.size() <= 64;
    for (char c : d.name)
      ok = ok && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '_' || c == '.' || c == '-');
    if (!ok) return "a set name that is not 1-64 characters of [A-Za-z0-9_.-]";
    uint32_t any = 0;
    for (uint32_t bits : d.provides) any |= bits;
    if (any == 0) return "a set that provides no ops";
    for (const SetData &e : sets)
      if (&e != &d && e.name == d.name) return "two sets with one name";
  }
  return "";
}

// Starts the tree and reads the table (the first time) or checks that a
// reload gives the same one. Throws LoadError.
void start(Plugin &p) {
  if (p.tree.pid <= 0) close_tree(p);
  ::prctl(PR_SET_CHILD_SUBREAPER, 1); // the tree's orphans, if any escape, come back here
  p.label = "while loading";
  spawn(p);
  uint32_t type = 0;
  std::string payload;
  const Io r = read_frame(p, type, payload, 1 << 24, now() + p.limits.load_timeout);
  if (r == Io::timeout)
    load_failed(p, fmt::format("did not finish loading within {:g} s (--load-timeout)",
                               p.limits.load_timeout));
  if (r == Io::malformed) load_failed(p, "sent something that is not a set table");
  if (r == Io::ended) {
    await_worker_end(p);
    end_tree(p);
    const std::string how = death(p);
    close_tree(p);
    throw LoadError(fmt::format("plugin '{}' {} while loading, before it described its kernel "
                                "sets",
                                text::printable(p.path),
                                how.rfind("exited", 0) == 0 ? how : "crashed: " + how));
  }
  if (type == kLoadError)
    load_failed(p, "did not load: " + text::printable(text::truncated(payload, 1000)));
  if (type != kTable) load_failed(p, "sent something that is not a set table");
  std::string name;
  std::vector<SetData> sets;
  std::string bad = decode_table(payload, name, sets, p.restrictions);
  g_restrictions = p.restrictions;
  if (bad.empty()) bad = check_table(sets);
  if (!bad.empty()) load_failed(p, "sent " + bad);
  if (!p.table.empty() && !(sets == p.table)) {
    p.broken = true;
    load_failed(p, "described other kernel sets when it was loaded again");
  }
  p.table = std::move(sets);
  p.label = "between calls";
}

// The request of call `seq` among those kept, or nullptr.
const Sent *sent_call(const Plugin &p, uint64_t seq) {
  for (const Sent &s : p.last)
    if (s.seq == seq && !s.bytes.empty()) return &s;
  return nullptr;
}

// The fault of a call that ended the worker, told from what the pipes hold.
// `seq` is the call in flight (0: none); a fault note names the call whose
// buffers were touched, which may be an earlier one (a thread it left).
void worker_fault(Plugin &p, uint32_t set, uint32_t op, uint32_t dtype, const std::string &request,
                  uint64_t seq, const std::string &fallback) {
  if (fallback.empty()) await_worker_end(p);
  end_tree(p);
  FaultNote n, next;
  bool have_note = false; // the first one of a kept call: later ones are threads dying with it
  while (::read(p.tree.faults, &next, sizeof next) == sizeof next)
    if (!have_note && next.magic == kMagic && next.touch != kTouchNone &&
        ((seq != 0 && next.seq == seq) || sent_call(p, next.seq))) {
      n = next;
      have_note = true;
    }
  std::string what = fallback.empty() ? death(p, " inside the kernel") : fallback;
  const Sent *blamed = have_note && n.seq != seq ? sent_call(p, n.seq) : nullptr;
  if (have_note) {
    const std::string touched = touch_text(n, p, set, blamed ? blamed->bytes : request);
    if (!touched.empty()) what = touched + "; " + what;
  }
  if (blamed) {
    CallHeader h;
    std::memcpy(&h, blamed->bytes.data() + sizeof(Frame), sizeof h);
    record(p, blamed->set, h.op, h.dtype, blamed->bytes, what);
  } else {
    record(p, set, op, dtype, request, what);
  }
  close_tree(p);
}

// A fresh worker for the next call (after a fault, or the first): started,
// its set_num_threads settings given again. A worker that died since the
// last call (a thread that call left, say) is that call's fault. A plugin
// that no longer loads is given up: every later call is a fault at once.
bool ensure(Plugin &p, uint32_t set, uint32_t op, uint32_t dtype) {
  if (p.tree.pid > 0) {
    read_status(p);
    if (!p.tree.ended) return true;
    if (!p.last.empty()) {
      const Sent &last = p.last.front();
      CallHeader h;
      std::memcpy(&h, last.bytes.data() + sizeof(Frame), sizeof h);
      worker_fault(p, last.set, h.op, h.dtype, last.bytes, 0, "");
    } else {
      worker_fault(p, set, SOFTCHECK_OP_COUNT, dtype, "", 0, "");
    }
  }
  if (p.broken || g_stopping) return false;
  try {
    start(p);
  } catch (const LoadError &e) {
    p.broken = true;
    record(p, set, op, dtype, "", std::string(e.what()) + " (its later calls are not run)");
    return false;
  }
  for (uint32_t s = 0; s < p.threads.size(); ++s) {
    if (p.threads[s] <= 0) continue;
    Frame f;
    f.type = kSetThreads;
    f.length = sizeof(ThreadsHeader);
    ThreadsHeader th{s, p.threads[s]};
    std::string req(reinterpret_cast<const char *>(&f), sizeof f);
    req.append(reinterpret_cast<const char *>(&th), sizeof th);
    uint32_t type = 0;
    std::string payload;
    Io io = pump(p, &req, nullptr, 0, now() + p.limits.call_timeout);
    if (io == Io::ok) io = read_frame(p, type, payload, 64, now() + p.limits.call_timeout);
    if (io != Io::ok || type != kThreadsResult) {
      worker_fault(p, s, SOFTCHECK_OP_COUNT, dtype, "", 0,
                   io == Io::timeout ? "set_num_threads did not return" : "");
      return false;
    }
  }
  return true;
}

// ------------------------------------------------------------------ calls

// A worker that says, at the end of a run, that threads are still at work:
// the last call's fault, and the worker ended. False for a malformed note.
bool late_threads(Plugin &p, const std::string &payload) {
  LateNote note;
  if (payload.size() != sizeof note) return false;
  std::memcpy(&note, payload.data(), sizeof note);
  const Sent *blamed = sent_call(p, note.seq);
  end_tree(p);
  if (blamed) {
    CallHeader h;
    std::memcpy(&h, blamed->bytes.data() + sizeof(Frame), sizeof h);
    record(p, blamed->set, h.op, h.dtype, blamed->bytes,
           "a thread was still at work when the run ended (0.2 s after this, the last call)");
  } else {
    record(p, 0, SOFTCHECK_OP_COUNT, SOFTCHECK_F32, "",
           "a thread it started while loading was still at work when the run ended");
  }
  close_tree(p);
  return true;
}

softcheck_status call_in_worker(Plugin &p, uint32_t set, uint32_t dtype, softcheck_op op,
                                softcheck_shape shape, const void *const in[kOut],
                                const softcheck_loss_options *opt, void *out) {
  std::lock_guard<std::mutex> g(p.lock);
  t_last_seconds = -1;
  CallHeader h = header_of(dtype, op, shape, opt);
  h.seq = ++p.seq;
  h.set = set;
  const void *ptrs[kArrays] = {in[kX], in[kAux], in[kTarget], in[kDout], in[kWeight], out};
  for (int a = 0; a < kArrays; ++a) {
    h.present[a] = ptrs[a] != nullptr;
    h.page_offset[a] = uint32_t(reinterpret_cast<uintptr_t>(ptrs[a]) % kPage);
  }
  const Counts c = counts_of(h);
  if (!c.fits) return SOFTCHECK_ERR_INTERNAL; // more than the protocol carries (2^31 elements)
  // In place stays in place: the output is the input it aliases exactly.
  for (int a : {kX, kAux})
    if (out != nullptr && out == ptrs[a] && c.n[a] == c.n[kOut]) h.out_aliases = a;
  if (p.broken) return SOFTCHECK_HOST_FAULT;
  const size_t which = size_t(dtype) * SOFTCHECK_OP_COUNT + op;
  bool &hung = p.hung[set][which];
  if (hung) return SOFTCHECK_HOST_FAULT; // one hang per op is enough
  // After kMaxFaults in a row an op is not called again: each fault costs
  // a fresh worker (a load). A kernel that faults on some inputs only (NaN
  // rows, say) goes on being called: any call that returns resets it.
  int &faults = p.faulty[set][which];
  if (faults >= kMaxFaults) return SOFTCHECK_HOST_FAULT;
  const auto fault = [&faults] {
    ++faults;
    return SOFTCHECK_HOST_FAULT;
  };
  uint64_t payload = sizeof h;
  for (int a = 0; a < kOut; ++a) payload += c.bytes(a, dtype);
  if (payload > kMaxPayload) return SOFTCHECK_ERR_INTERNAL; // more than a frame carries
  if (!ensure(p, set, op, dtype)) return fault();
  std::string req;
  Frame f;
  f.type = kCall;
  f.length = payload;
  req.reserve(sizeof f + payload);
  req.append(reinterpret_cast<const char *>(&f), sizeof f);
  req.append(reinterpret_cast<const char *>(&h), sizeof h);
  for (int a = 0; a < kOut; ++a)
    if (c.n[a] > 0) req.append(static_cast<const char *>(ptrs[a]), c.bytes(a, dtype));
  p.last.push_front({h.seq, set, std::move(req)});
  if (p.last.size() > size_t(kRetiredCalls) + 1) p.last.pop_back();
  const std::string &sent = p.last.front().bytes;
  const uint64_t n = c.n[kOut];
  const size_t esize = element_size(kOut, dtype);
  p.label = p.table[set].name;
  const double started = now(), deadline = started + p.limits.call_timeout;
  Io io = pump(p, &sent, nullptr, 0, deadline);
  uint32_t type = 0;
  std::string reply;
  if (io == Io::ok)
    io = read_frame(p, type, reply, sizeof(ResultHeader) + (n + 7) / 8 + n * esize, deadline);
  p.label = "between calls";
  if (io == Io::timeout) {
    hung = true;
    worker_fault(p, set, op, dtype, sent, h.seq,
                 fmt::format("did not return within {:g} s (killed; later calls of this op are "
                             "not run)",
                             p.limits.call_timeout));
    return SOFTCHECK_HOST_FAULT;
  }
  if (io == Io::ended) {
    worker_fault(p, set, op, dtype, sent, h.seq, "");
    return fault();
  }
  if (io == Io::malformed) {
    worker_fault(p, set, op, dtype, sent, h.seq, "sent back a malformed reply");
    return fault();
  }
  // Nothing in the reply is trusted beyond what the host can check.
  ResultHeader res;
  const size_t mask = (n + 7) / 8;
  if (type != kResult || reply.size() != sizeof res + mask + n * esize) {
    worker_fault(p, set, op, dtype, sent, h.seq, "sent back a malformed reply");
    return fault();
  }
  std::memcpy(&res, reply.data(), sizeof res);
  if (res.seq != h.seq || res.count != n || res.fault < kNoFault || res.fault > kLateProcess) {
    worker_fault(p, set, op, dtype, sent, h.seq, "sent back a malformed reply");
    return fault();
  }
  // The kernel's time as the worker measured it, within what the call took.
  t_last_seconds = std::isfinite(res.seconds) ? std::clamp(res.seconds, 0.0, now() - started) : -1;
  // Only the elements the kernel wrote reach the caller's output.
  const auto *bits = reinterpret_cast<const unsigned char *>(reply.data() + sizeof res);
  const char *values = reply.data() + sizeof res + mask;
  for (uint64_t i = 0; out != nullptr && i < n; ++i)
    if (bits[i / 8] & (1u << (i % 8)))
      std::memcpy(static_cast<char *>(out) + i * esize, values + i * esize, esize);
  if (res.fault == kNoFault) {
    faults = 0;
    return softcheck_status(res.status);
  }
  std::string what;
  switch (res.fault) {
  case kWroteBeforeOutput:
    what = fmt::format("wrote before the start of its output (element {})", res.index);
    break;
  case kWrotePastOutput:
    what = fmt::format("wrote past the end of its output ({} elements): element {}, offset +{}", n,
                       res.index, res.index - int64_t(n));
    break;
  case kUnwritten:
    what = fmt::format("returned ok but left output element {} unwritten", res.index);
    break;
  case kLateThread:
    what = "left a thread at work after it returned (on a CPU, or asleep on a timer, 0.2 s "
           "later)";
    break;
  case kLateProcess: what = "left a child process running after it returned"; break;
  }
  end_tree(p);
  record(p, set, op, dtype, sent, what);
  close_tree(p);
  return fault();
}

softcheck_status threads_in_worker(Plugin &p, uint32_t set, int threads) {
  std::lock_guard<std::mutex> g(p.lock);
  p.threads[set] = threads;
  if (p.broken) return SOFTCHECK_HOST_FAULT;
  const bool fresh = p.tree.pid <= 0;
  if (!ensure(p, set, SOFTCHECK_OP_COUNT, SOFTCHECK_F32)) return SOFTCHECK_HOST_FAULT;
  if (fresh) return SOFTCHECK_OK; // ensure() gave it already
  Frame f;
  f.type = kSetThreads;
  f.length = sizeof(ThreadsHeader);
  ThreadsHeader th{set, threads};
  std::string req(reinterpret_cast<const char *>(&f), sizeof f);
  req.append(reinterpret_cast<const char *>(&th), sizeof th);
  uint32_t type = 0;
  std::string payload;
  Io io = pump(p, &req, nullptr, 0, now() + p.limits.call_timeout);
  if (io == Io::ok) io = read_frame(p, type, payload, 64, now() + p.limits.call_timeout);
  ThreadsResult r;
  if (io != Io::ok || type != kThreadsResult || payload.size() != sizeof r) {
    worker_fault(p, set, SOFTCHECK_OP_COUNT, SOFTCHECK_F32, "", 0,
                 io == Io::timeout ? "set_num_threads did not return" : "");
    return SOFTCHECK_HOST_FAULT;
  }
  std::memcpy(&r, payload.data(), sizeof r);
  return softcheck_status(r.status);
}

// -------------------------------------------------------------- in process

// The floating-point environment of this process, saved and put back
// around plugin code that runs here (--in-process): rounding mode,
// exception flags, and on x86 MXCSR (FTZ and DAZ too).
struct FpGuard {
  std::fenv_t env;
#if defined(__x86_64__)
  unsigned mxcsr;
#endif
  FpGuard() {
    std::fegetenv(&env);
#if defined(__x86_64__)
    mxcsr = _mm_getcsr();
#endif
  }
  ~FpGuard() {
    std::fesetenv(&env);
#if defined(__x86_64__)
    _mm_setcsr(mxcsr);
#endif
  }
};

// The harness leaves a set's declared input padding (case.hpp's call).
softcheck_status call_in_process(const Slot &s, uint32_t dtype, softcheck_op op,
                                 softcheck_shape shape, const void *const in[kOut],
                                 const softcheck_loss_options *opt, void *out) {
  const CallHeader h = header_of(dtype, op, shape, opt);
  void *p[kArrays] = {const_cast<void *>(in[kX]),      const_cast<void *>(in[kAux]),
                      const_cast<void *>(in[kTarget]), const_cast<void *>(in[kDout]),
                      const_cast<void *>(in[kWeight]), out};
  FpGuard fp;
  return invoke(ops_of(*s.real, softcheck_dtype(dtype)), h, p);
}

softcheck_status dispatch(size_t slot, uint32_t dtype, softcheck_op op, softcheck_shape shape,
                          const void *x, const void *aux, const int64_t *target,
                          const softcheck_loss_options *opt, const void *dout, void *out) {
  const Slot &s = g_slots[slot];
  const void *in[kOut] = {x, aux, target, dout, opt ? opt->weight : nullptr};
  if (s.plugin) return call_in_worker(*s.plugin, s.index, dtype, op, shape, in, opt, out);
  return call_in_process(s, dtype, op, shape, in, opt, out);
}

// One trampoline per slot, op and dtype: the ABI's function pointers carry
// no context, so the slot is a template argument.
template <size_t S, class T> struct Tramp {
  static constexpr uint32_t D = dtype_of<T>;
  static softcheck_status softmax(softcheck_shape s, const void *x, void *y) {
    return dispatch(S, D, SOFTCHECK_OP_SOFTMAX, s, x, nullptr, nullptr, nullptr, nullptr, y);
  }
  static softcheck_status log_softmax(softcheck_shape s, const void *x, void *y) {
    return dispatch(S, D, SOFTCHECK_OP_LOG_SOFTMAX, s, x, nullptr, nullptr, nullptr, nullptr, y);
  }
  static softcheck_status logsumexp(softcheck_shape s, const void *x, void *y) {
    return dispatch(S, D, SOFTCHECK_OP_LOGSUMEXP, s, x, nullptr, nullptr, nullptr, nullptr, y);
  }
  static softcheck_status softmax_backward(softcheck_shape s, const void *y, const void *dy,
                                           void *dx) {
    return dispatch(S, D, SOFTCHECK_OP_SOFTMAX_BACKWARD, s, y, dy, nullptr, nullptr, nullptr, dx);
  }
  static softcheck_status log_softmax_backward(softcheck_shape s, const void *y, const void *dy,
                                               void *dx) {
    return dispatch(S, D, SOFTCHECK_OP_LOG_SOFTMAX_BACKWARD, s, y, dy, nullptr, nullptr, nullptr,
                    dx);
  }
  static softcheck_status nll_loss(softcheck_shape s, const void *x, const int64_t *t,
                                   const softcheck_loss_options *o, void *out) {
    return dispatch(S, D, SOFTCHECK_OP_NLL_LOSS, s, x, nullptr, t, o, nullptr, out);
  }
  static softcheck_status nll_loss_backward(softcheck_shape s, const int64_t *t,
                                            const softcheck_loss_options *o, const void *dout,
                                            void *out) {
    return dispatch(S, D, SOFTCHECK_OP_NLL_LOSS_BACKWARD, s, nullptr, nullptr, t, o, dout, out);
  }
  static softcheck_status cross_entropy(softcheck_shape s, const void *x, const int64_t *t,
                                        const softcheck_loss_options *o, void *out) {
    return dispatch(S, D, SOFTCHECK_OP_CROSS_ENTROPY, s, x, nullptr, t, o, nullptr, out);
  }
  static softcheck_status cross_entropy_backward(softcheck_shape s, const void *x, const int64_t *t,
                                                 const softcheck_loss_options *o, const void *dout,
                                                 void *out) {
    return dispatch(S, D, SOFTCHECK_OP_CROSS_ENTROPY_BACKWARD, s, x, nullptr, t, o, dout, out);
  }
  static softcheck_status cross_entropy_prob(softcheck_shape s, const void *x, const void *p,
                                             const softcheck_loss_options *o, void *out) {
    return dispatch(S, D, SOFTCHECK_OP_CROSS_ENTROPY_PROB, s, x, p, nullptr, o, nullptr, out);
  }
  static softcheck_status cross_entropy_prob_backward(softcheck_shape s, const void *x,
                                                      const void *p,
                                                      const softcheck_loss_options *o,
                                                      const void *dout, void *out) {
    return dispatch(S, D, SOFTCHECK_OP_CROSS_ENTROPY_PROB_BACKWARD, s, x, p, nullptr, o, dout, out);
  }
  // The proxy table: a trampoline where the set provides the op.
  static softcheck_ops table(uint32_t provides) {
    auto has = [&](softcheck_op op) { return (provides >> op) & 1u; };
    softcheck_ops t{};
    t.softmax = has(SOFTCHECK_OP_SOFTMAX) ? softmax : nullptr;
    t.log_softmax = has(SOFTCHECK_OP_LOG_SOFTMAX) ? log_softmax : nullptr;
    t.logsumexp = has(SOFTCHECK_OP_LOGSUMEXP) ? logsumexp : nullptr;
    t.softmax_backward = has(SOFTCHECK_OP_SOFTMAX_BACKWARD) ? softmax_backward : nullptr;
    t.log_softmax_backward =
        has(SOFTCHECK_OP_LOG_SOFTMAX_BACKWARD) ? log_softmax_backward : nullptr;
    t.nll_loss = has(SOFTCHECK_OP_NLL_LOSS) ? nll_loss : nullptr;
    t.nll_loss_backward = has(SOFTCHECK_OP_NLL_LOSS_BACKWARD) ? nll_loss_backward : nullptr;
    t.cross_entropy = has(SOFTCHECK_OP_CROSS_ENTROPY) ? cross_entropy : nullptr;
    t.cross_entropy_backward =
        has(SOFTCHECK_OP_CROSS_ENTROPY_BACKWARD) ? cross_entropy_backward : nullptr;
    t.cross_entropy_prob = has(SOFTCHECK_OP_CROSS_ENTROPY_PROB) ? cross_entropy_prob : nullptr;
    t.cross_entropy_prob_backward =
        has(SOFTCHECK_OP_CROSS_ENTROPY_PROB_BACKWARD) ? cross_entropy_prob_backward : nullptr;
    return t;
  }
};

template <size_t S> softcheck_status set_threads(int threads) {
  const Slot &s = g_slots[S];
  if (s.plugin) return threads_in_worker(*s.plugin, s.index, threads);
  FpGuard fp;
  return s.real->set_num_threads(threads);
}

template <size_t S> void make_proxy(Slot &s) {
  s.proxy = softcheck_kernel_set{};
  s.proxy.struct_size = sizeof(softcheck_kernel_set);
  s.proxy.name = s.data.name.c_str();
  s.proxy.description = s.data.has_description ? s.data.description.c_str() : nullptr;
  s.proxy.version = s.data.has_version ? s.data.version.c_str() : nullptr;
  s.proxy.f32 = Tramp<S, float>::table(s.data.provides[0]);
  s.proxy.f64 = Tramp<S, double>::table(s.data.provides[1]);
  s.proxy.bf16 = Tramp<S, bf16>::table(s.data.provides[SOFTCHECK_BF16]);
  s.proxy.f16 = Tramp<S, f16>::table(s.data.provides[SOFTCHECK_F16]);
  s.contract = s.data.contract;
  s.proxy.contract = s.data.has_contract ? &s.contract : nullptr;
  s.half_contract = s.data.half_contract;
  s.proxy.half_contract = s.data.has_half_contract ? &s.half_contract : nullptr;
  s.proxy.set_num_threads = s.data.has_threads ? set_threads<S> : nullptr;
  s.proxy.input_padding_bytes = s.data.input_padding;
  std::memcpy(s.proxy.conventions, s.data.conventions, sizeof s.proxy.conventions);
}

template <size_t... S> void make_proxy_at(size_t slot, std::index_sequence<S...>) {
  ((slot == S ? make_proxy<S>(g_slots[S]) : void()), ...);
}

// Proxies for `sets` in the next free slots (g_load_lock held).
std::vector<const softcheck_kernel_set *> proxies(const std::string &path,
                                                  const std::vector<SetData> &sets, Plugin *plugin,
                                                  const std::vector<softcheck_kernel_set> *real) {
  if (g_used + sets.size() > kMaxSets)
    throw LoadError(fmt::format("plugin '{}' brings the run to {} kernel sets; a run takes at most "
                                "{}",
                                text::printable(path), g_used + sets.size(), kMaxSets));
  std::vector<const softcheck_kernel_set *> out;
  for (size_t i = 0; i < sets.size(); ++i) {
    Slot &s = g_slots[g_used];
    s.plugin = plugin;
    s.real = real ? &(*real)[i] : nullptr;
    s.index = uint32_t(i);
    s.data = sets[i];
    // What a plugin calls itself reaches messages and reports: valid UTF-8
    // here, escaped again wherever it is written out.
    s.data.description = text::valid_utf8(s.data.description);
    s.data.version = text::valid_utf8(s.data.version);
    make_proxy_at(g_used, std::make_index_sequence<kMaxSets>());
    if (plugin) plugin->slots.push_back(int(g_used));
    out.push_back(&s.proxy);
    ++g_used;
  }
  return out;
}

std::string absolute_file(const std::string &path) {
  // A path without a slash is the file in this folder (never a search).
  std::error_code ec;
  const std::filesystem::path p = path.find('/') == std::string::npos ? "./" + path : path;
  const std::filesystem::path a = std::filesystem::absolute(p, ec);
  return ec ? p.string() : a.string();
}

} // namespace

std::vector<const softcheck_kernel_set *> load(const std::string &plugin, const Limits &limits) {
  std::lock_guard<std::mutex> g(g_load_lock);
  std::signal(SIGPIPE, SIG_IGN); // a dead worker is seen on read, not by a signal
  // No process of the same user may open this one's memory (/proc/PID/mem,
  // ptrace) to change what the oracle or the properties computed.
  ::prctl(PR_SET_DUMPABLE, 0);
  auto p = std::make_unique<Plugin>();
  p->path = plugin;
  p->file = absolute_file(plugin);
  p->limits = limits;
  {
    std::lock_guard<std::mutex> pg(p->lock);
    start(*p);
  }
  p->threads.assign(p->table.size(), 0);
  p->hung.assign(p->table.size(), {});
  p->faulty.assign(p->table.size(), {});
  Plugin *raw = p.get();
  g_plugins.push_back(std::move(p));
  try {
    return proxies(plugin, raw->table, raw, nullptr);
  } catch (...) {
    std::lock_guard<std::mutex> pg(raw->lock);
    end_tree(*raw);
    close_tree(*raw);
    throw;
  }
}

std::vector<const softcheck_kernel_set *> load_in_process(const std::string &plugin) {
  std::lock_guard<std::mutex> g(g_load_lock);
  const softcheck_plugin *p = nullptr;
  std::string err;
  {
    FpGuard fp;
    err = open_plugin(plugin, p);
  }
  if (!err.empty()) throw LoadError(text::printable(err));
  static std::deque<std::vector<softcheck_kernel_set>> kept;
  std::vector<softcheck_kernel_set> real;
  std::vector<SetData> sets;
  for (size_t i = 0; i < p->set_count; ++i) {
    real.push_back(plugin_set(p, i));
    sets.push_back(describe(real.back()));
  }
  if (std::string bad = check_table(sets); !bad.empty())
    throw LoadError(fmt::format("plugin '{}' has {}", text::printable(plugin), bad));
  kept.push_back(std::move(real));
  return proxies(plugin, sets, nullptr, &kept.back());
}

std::string confinement() {
  {
    // The tree's supervisor sends its note while the worker loads the
    // plugin, so a load may be answered first: wait for the note (a
    // second at most per tree) rather than report nothing.
    std::lock_guard<std::mutex> g(g_load_lock);
    for (const auto &plugin : g_plugins) {
      Plugin &p = *plugin;
      std::lock_guard<std::mutex> pg(p.lock);
      const double until = now() + 1.0;
      while (p.tree.pid > 0 && p.tree.confined < 0 && !p.tree.ended && now() < until) {
        pollfd f{p.tree.status, POLLIN, 0};
        ::poll(&f, 1, 10);
        read_status(p);
      }
    }
  }
  if (g_confined < 0) return "";
  std::vector<std::string> parts;
  parts.push_back(g_confined & kConfinedPidNamespace ? "a pid namespace of its own"
                                                     : "no pid namespace (process group and "
                                                       "subreaper)");
  if (g_confined & kConfinedMemory)
    parts.push_back(std::string(g_confined & kConfinedCgroupV2 ? "a cgroup v2" : "a cgroup v1") +
                    " memory limit for the whole tree");
  else
    parts.push_back("RLIMIT_AS per process (no memory cgroup)");
  if (g_confined & kConfinedPids) parts.push_back("a process-count limit");
  const int abi = g_restrictions.landlock;
  parts.push_back(abi > 0 ? fmt::format("Landlock ABI {} (writes only to a private folder{}{})",
                                        abi, abi >= 4 ? ", no TCP" : "",
                                        abi >= 6 ? ", no signals out of the tree" : "")
                          : "no Landlock (writes not restricted)");
  parts.push_back(g_restrictions.no_sockets ? "no sockets (seccomp)" : "sockets allowed");
  std::string s;
  for (const std::string &p : parts) s += (s.empty() ? "" : ", ") + p;
  return s;
}

namespace {

// The end of a run: every live worker looks at its threads once more (those
// that were there before a call were not looked at after it).
void settle() {
  std::lock_guard<std::mutex> g(g_load_lock);
  for (const auto &plugin : g_plugins) {
    Plugin &p = *plugin;
    std::lock_guard<std::mutex> pg(p.lock);
    if (p.tree.pid <= 0) continue;
    Frame f;
    f.type = kSettle;
    const std::string req(reinterpret_cast<const char *>(&f), sizeof f);
    uint32_t type = 0;
    std::string payload;
    const double deadline = now() + p.limits.call_timeout;
    Io io = pump(p, &req, nullptr, 0, deadline);
    if (io == Io::ok) io = read_frame(p, type, payload, 64, deadline);
    if (io == Io::ok && type == kSettled) continue;
    if (io == Io::ok && type == kLateThreads && late_threads(p, payload)) continue;
    // Gone meanwhile (a late thread touched the last call's buffers):
    // that call's fault.
    if (p.last.empty()) continue;
    const Sent &last = p.last.front();
    CallHeader h;
    std::memcpy(&h, last.bytes.data() + sizeof(Frame), sizeof h);
    worker_fault(p, last.set, h.op, h.dtype, last.bytes, 0, "");
  }
}

} // namespace

std::vector<Fault> faults() {
  settle();
  std::lock_guard<std::mutex> g(g_faults_lock);
  return g_faults;
}

std::string fault_title(const Fault &f) {
  if (f.op >= SOFTCHECK_OP_COUNT) return f.set + " (outside a call)";
  return fmt::format("{} {} {}", f.set, softcheck_op_name(f.op), dtype_name(f.dtype));
}

std::string fault_lines() {
  std::string out;
  for (const Fault &f : faults()) {
    out +=
        fmt::format("FAULT {}: {}{}\n", fault_title(f), text::printable(f.what),
                    f.calls > 1 ? fmt::format(" ({} calls; the first one's input)", f.calls) : "");
    if (!f.case_file.empty())
      out +=
          fmt::format("  input: {}\n  reproduce: {}\n", text::printable(f.case_file), f.reproduce);
    else if (!f.saved.empty())
      out += fmt::format("  input: {}\n", text::printable(f.saved));
  }
  return out;
}

std::string captured_output() {
  std::lock_guard<std::mutex> g(g_load_lock);
  std::string out;
  for (const auto &p : g_plugins) {
    std::lock_guard<std::mutex> pg(p->lock);
    if (p->tree.pid > 0) drain_output(*p);
    for (const std::string &label : p->labels) {
      const Captured &c = p->output.at(label);
      if (c.total == 0) continue;
      const bool is_set = std::any_of(p->table.begin(), p->table.end(),
                                      [&](const SetData &d) { return d.name == label; });
      out += fmt::format(
          "  {} [{}], {} bytes{}:\n", is_set ? "set " + label : label, text::printable(p->path),
          c.total, c.total > c.head.size() ? fmt::format(", the first {}", c.head.size()) : "");
      size_t at = 0;
      while (at < c.head.size()) {
        size_t end = c.head.find('\n', at);
        if (end == std::string::npos) end = c.head.size();
        out += "    | " + text::printable(c.head.substr(at, end - at)) + "\n";
        at = end + 1;
      }
      if (c.total > c.head.size())
        out += fmt::format("    | ({} more bytes not shown)\n", c.total - c.head.size());
    }
  }
  if (out.empty()) return "";
  return "softcheck: what the plugin kernels printed (their own stdout and stderr, kept out of "
         "softcheck's output; control characters escaped):\n" +
         out;
}

double last_kernel_seconds() { return t_last_seconds; }

namespace {

// Any process that came back to this one (it is a subreaper: an orphan a
// sandbox could not end) is ended and reaped.
void sweep_orphans() {
  for (int pass = 0; pass < 1000; ++pass) {
    std::vector<pid_t> left;
    std::ifstream in("/proc/self/task/" + std::to_string(::getpid()) + "/children");
    for (long q; in >> q;) left.push_back(pid_t(q));
    int st;
    while (::waitpid(-1, &st, WNOHANG) > 0) {
    }
    if (left.empty()) break;
    for (pid_t q : left) ::kill(q, SIGKILL);
    ::usleep(1000);
  }
}

} // namespace

void shutdown() {
  std::lock_guard<std::mutex> g(g_load_lock);
  for (const auto &p : g_plugins) {
    std::lock_guard<std::mutex> pg(p->lock);
    end_tree(*p);
  }
  sweep_orphans();
}

void stop_after(double seconds) {
  std::thread([seconds] {
    std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
    std::fprintf(stderr,
                 "softcheck: stopped by --timeout %g s before the run finished; nothing was "
                 "written\n",
                 seconds);
    // A call may be in flight on another thread: nothing here touches its
    // pipes. Each sandbox, asked, ends its tree and exits.
    g_stopping = true;
    std::vector<pid_t> pids;
    {
      std::lock_guard<std::mutex> g(g_sandboxes_lock);
      pids = g_sandboxes;
      for (pid_t pid : pids) ::kill(pid, SIGTERM);
    }
    const double until = now() + kEndWait;
    for (pid_t pid : pids)
      while (now() < until) {
        int st;
        const pid_t r = ::waitpid(pid, &st, WNOHANG);
        if (r == pid || (r < 0 && errno == ECHILD)) break;
        ::usleep(5000);
      }
    sweep_orphans();
    std::_Exit(1);
  }).detach();
}

} // namespace softcheck::sandbox
