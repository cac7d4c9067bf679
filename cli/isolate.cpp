#include "isolate.hpp"

#include <softcheck/case.hpp>
#include <softcheck/case_io.hpp>
#include <softcheck/host.hpp>
#include <softcheck/validate.hpp>

#include <fmt/core.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <poll.h>
#include <spawn.h>
#include <stdexcept>
#include <sys/resource.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

extern char **environ;

// Under AddressSanitizer the address space is reserved at start-up, so the
// worker's memory is bounded by ASan's RSS limit instead of RLIMIT_AS.
#if defined(__SANITIZE_ADDRESS__)
#define SOFTCHECK_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SOFTCHECK_ASAN 1
#endif
#endif

namespace softcheck::cli {
namespace {

constexpr uint32_t kMagic = 0x73636b31; // "sck1"
constexpr int kSlots = 64;
constexpr uint32_t kSetThreads = 1000; // a request op: set_num_threads(ignore_index)
constexpr double kStartTimeout = 60;   // seconds for a worker to load the plugin
constexpr int64_t kGuard = 64;         // elements on each side of the output
constexpr uint8_t kGuardByte = 0xA5;
constexpr int64_t kMaxCopy = int64_t(1) << 31; // elements of one array

// The arrays of a call: x (logits, log-probabilities or y), aux (dy or
// probability targets), target (class indices), dout, weight, out.
enum Array { kX, kAux, kTarget, kDout, kWeight, kOut, kArrays };
const char *array_name(int a) {
  static const char *names[] = {"x", "aux", "target", "dout", "weight", "out"};
  return names[a];
}

struct Header {
  uint32_t magic = kMagic, op = 0, dtype = 0, pad = 0;
  int64_t outer = 0, classes = 0, inner = 0;
  int64_t reduction = 0, ignore_index = 0;
  double smoothing = 0;
  uint64_t present[kArrays] = {}; // pointer given
  uint64_t count[kArrays] = {};   // elements sent (out: elements expected back)
};

enum FaultKind : int32_t { kNone, kWroteOutside, kChangedInput, kUnwritten };
struct Reply {
  int32_t status = 0, fault = kNone;
  int64_t index = 0, array = 0;
  uint64_t written = 0; // out elements that follow
  double seconds = 0;   // in the kernel
};

thread_local double t_last_seconds = -1;

bool write_all(int fd, const void *p, size_t n) {
  const char *c = static_cast<const char *>(p);
  while (n > 0) {
    ssize_t w = ::write(fd, c, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    c += w;
    n -= size_t(w);
  }
  return true;
}

// Reads n bytes; with a deadline (seconds from now, < 0: none). Returns 1
// done, 0 end of file or error, -1 timeout.
int read_all(int fd, void *p, size_t n, double seconds) {
  char *c = static_cast<char *>(p);
  const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (n > 0) {
    if (seconds >= 0) {
      const double left =
          std::chrono::duration<double>(end - std::chrono::steady_clock::now()).count();
      if (left <= 0) return -1;
      pollfd pf{fd, POLLIN, 0};
      int r = ::poll(&pf, 1, int(std::min(left * 1000 + 1, 1e9)));
      if (r < 0 && errno == EINTR) continue;
      if (r == 0) return -1;
      if (r < 0) return 0;
    }
    ssize_t got = ::read(fd, c, n);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return 0;
    c += got;
    n -= size_t(got);
  }
  return 1;
}

bool is_loss(softcheck_op op) { return op >= SOFTCHECK_OP_NLL_LOSS; }
bool is_backward(softcheck_op op) {
  return op == SOFTCHECK_OP_SOFTMAX_BACKWARD || op == SOFTCHECK_OP_LOG_SOFTMAX_BACKWARD ||
         op == SOFTCHECK_OP_NLL_LOSS_BACKWARD || op == SOFTCHECK_OP_CROSS_ENTROPY_BACKWARD ||
         op == SOFTCHECK_OP_CROSS_ENTROPY_PROB_BACKWARD;
}

// Element counts of each array of a call with a valid shape.
void counts(Header &h) {
  const softcheck_op op = softcheck_op(h.op);
  Shape s{h.outer, h.classes, h.inner};
  detail::Extent e;
  const Status st = h.dtype == SOFTCHECK_F32 ? detail::check_shape<float>(s, e)
                                             : detail::check_shape<double>(s, e);
  const bool ok =
      st == SOFTCHECK_OK && e.elems <= kMaxCopy && e.rows <= kMaxCopy && h.classes <= kMaxCopy;
  const int64_t scalar_or_rows = h.reduction == SOFTCHECK_REDUCTION_NONE ? e.rows : 1;
  int64_t n[kArrays] = {};
  n[kX] = e.elems;
  n[kAux] = e.elems;
  n[kTarget] = e.rows;
  n[kDout] = scalar_or_rows;
  n[kWeight] = h.classes;
  n[kOut] = op == SOFTCHECK_OP_LOGSUMEXP      ? e.rows
            : is_loss(op) && !is_backward(op) ? scalar_or_rows
                                              : e.elems;
  for (int a = 0; a < kArrays; ++a) h.count[a] = ok && h.present[a] ? uint64_t(n[a]) : 0;
}

// ----------------------------------------------------------------- worker

template <class T> uint64_t sentinel_bits() {
  return sizeof(T) == 4 ? 0x7fa5a5a5ull : 0x7ff4a5a5a5a5a5a5ull; // signalling NaNs
}

template <class T>
Reply run_call(const softcheck_ops &ops, const Header &h, int in_fd, std::vector<char> &out_bytes) {
  using Bytes = std::vector<char>;
  Bytes data[kArrays], copy[kArrays];
  for (int a = 0; a < kArrays; ++a) {
    if (a == kOut) continue;
    const size_t size = a == kTarget ? 8 : sizeof(T);
    data[a].resize(size_t(h.count[a]) * size + 1); // +1: never a NULL data()
    if (read_all(in_fd, data[a].data(), size_t(h.count[a]) * size, -1) != 1) std::_Exit(0);
    copy[a] = data[a];
  }
  // The output between guard zones, its own elements a signalling pattern.
  const int64_t n = int64_t(h.count[kOut]);
  std::vector<T> buffer(size_t(n + 2 * kGuard));
  std::memset(buffer.data(), kGuardByte, buffer.size() * sizeof(T));
  const uint64_t bits = sentinel_bits<T>();
  for (int64_t i = 0; i < n; ++i) std::memcpy(&buffer[size_t(kGuard + i)], &bits, sizeof(T));
  auto ptr = [&](int a) -> void * { return h.present[a] ? data[a].data() : nullptr; };
  T *out = h.present[kOut] ? buffer.data() + kGuard : nullptr;
  softcheck_loss_options o{int32_t(h.reduction), h.ignore_index, ptr(kWeight), h.smoothing};
  const Shape s{h.outer, h.classes, h.inner};
  const auto *target = static_cast<const int64_t *>(ptr(kTarget));
  Reply r;
  auto have = [&](auto fn) { return fn != nullptr; };
  Status st = SOFTCHECK_ERR_UNSUPPORTED;
  const auto t0 = std::chrono::steady_clock::now();
  switch (softcheck_op(h.op)) {
  case SOFTCHECK_OP_SOFTMAX:
    if (have(ops.softmax)) st = ops.softmax(s, ptr(kX), out);
    break;
  case SOFTCHECK_OP_LOG_SOFTMAX:
    if (have(ops.log_softmax)) st = ops.log_softmax(s, ptr(kX), out);
    break;
  case SOFTCHECK_OP_LOGSUMEXP:
    if (have(ops.logsumexp)) st = ops.logsumexp(s, ptr(kX), out);
    break;
  case SOFTCHECK_OP_SOFTMAX_BACKWARD:
    if (have(ops.softmax_backward)) st = ops.softmax_backward(s, ptr(kX), ptr(kAux), out);
    break;
  case SOFTCHECK_OP_LOG_SOFTMAX_BACKWARD:
    if (have(ops.log_softmax_backward)) st = ops.log_softmax_backward(s, ptr(kX), ptr(kAux), out);
    break;
  case SOFTCHECK_OP_NLL_LOSS:
    if (have(ops.nll_loss)) st = ops.nll_loss(s, ptr(kX), target, &o, out);
    break;
  case SOFTCHECK_OP_NLL_LOSS_BACKWARD:
    if (have(ops.nll_loss_backward)) st = ops.nll_loss_backward(s, target, &o, ptr(kDout), out);
    break;
  case SOFTCHECK_OP_CROSS_ENTROPY:
    if (have(ops.cross_entropy)) st = ops.cross_entropy(s, ptr(kX), target, &o, out);
    break;
  case SOFTCHECK_OP_CROSS_ENTROPY_BACKWARD:
    if (have(ops.cross_entropy_backward))
      st = ops.cross_entropy_backward(s, ptr(kX), target, &o, ptr(kDout), out);
    break;
  case SOFTCHECK_OP_CROSS_ENTROPY_PROB:
    if (have(ops.cross_entropy_prob)) st = ops.cross_entropy_prob(s, ptr(kX), ptr(kAux), &o, out);
    break;
  case SOFTCHECK_OP_CROSS_ENTROPY_PROB_BACKWARD:
    if (have(ops.cross_entropy_prob_backward))
      st = ops.cross_entropy_prob_backward(s, ptr(kX), ptr(kAux), &o, ptr(kDout), out);
    break;
  case SOFTCHECK_OP_COUNT: break;
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  r.status = st;
  const auto *bytes = reinterpret_cast<const unsigned char *>(buffer.data());
  for (int64_t i = 0; i < int64_t(buffer.size()) && r.fault == kNone; ++i) {
    if (i >= kGuard && i < kGuard + n) continue;
    for (size_t b = 0; b < sizeof(T); ++b)
      if (bytes[size_t(i) * sizeof(T) + b] != kGuardByte) {
        r.fault = kWroteOutside;
        r.index = i - kGuard; // < 0: before the start; >= n: past the end
        break;
      }
  }
  for (int a = 0; a < kArrays && r.fault == kNone; ++a)
    if (a != kOut && data[a] != copy[a]) {
      const size_t size = a == kTarget ? 8 : sizeof(T);
      size_t at = 0;
      while (at < data[a].size() && data[a][at] == copy[a][at]) ++at;
      r.fault = kChangedInput;
      r.array = a;
      r.index = int64_t(at / size);
    }
  if (r.fault == kNone && st == SOFTCHECK_OK)
    for (int64_t i = 0; i < n; ++i)
      if (std::memcmp(&buffer[size_t(kGuard + i)], &bits, sizeof(T)) == 0) {
        r.fault = kUnwritten;
        r.index = i;
        break;
      }
  out_bytes.assign(reinterpret_cast<const char *>(buffer.data() + kGuard),
                   reinterpret_cast<const char *>(buffer.data() + kGuard + n));
  r.written = uint64_t(n);
  return r;
}

// ------------------------------------------------------------------- host

struct Slot {
  std::mutex lock;
  const softcheck_kernel_set *real = nullptr;
  softcheck_kernel_set proxy{};
  std::string plugin, name;
  IsolationOptions options;
  pid_t pid = -1;
  int to = -1, from = -1;
  bool hung[2][SOFTCHECK_OP_COUNT] = {};
  int threads = 0; // last set_num_threads, sent again to a fresh worker
};

Slot g_slots[kSlots];
int g_used = 0;
std::mutex g_faults_lock;
std::vector<Fault> g_faults;

std::string self_exe() {
  std::error_code ec;
  auto p = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) throw std::runtime_error("cannot find this executable (/proc/self/exe)");
  return p.string();
}

void stop(Slot &s) {
  if (s.pid > 0) {
    ::kill(s.pid, SIGKILL);
    int status;
    ::waitpid(s.pid, &status, 0);
  }
  if (s.to >= 0) ::close(s.to);
  if (s.from >= 0) ::close(s.from);
  s.pid = -1;
  s.to = s.from = -1;
}

// A copy of fd at 10 or above (so dup2 onto 3 and 4 cannot collide).
int high_fd(int fd) {
  const int h = ::fcntl(fd, F_DUPFD_CLOEXEC, 10);
  ::close(fd);
  return h;
}

void start(Slot &s) {
  int req[2], rep[2];
  if (::pipe2(req, O_CLOEXEC) != 0) throw std::runtime_error("cannot create pipes for a worker");
  if (::pipe2(rep, O_CLOEXEC) != 0) {
    ::close(req[0]);
    ::close(req[1]);
    throw std::runtime_error("cannot create pipes for a worker");
  }
  for (int *fd : {&req[0], &req[1], &rep[0], &rep[1]}) *fd = high_fd(*fd);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, req[0], 3);
  posix_spawn_file_actions_adddup2(&fa, rep[1], 4);
  const std::string exe = self_exe(), mem = std::to_string(s.options.memory_limit_mb);
  std::vector<char *> argv = {
      const_cast<char *>(exe.c_str()),      const_cast<char *>("__worker"),
      const_cast<char *>(s.plugin.c_str()), const_cast<char *>(s.name.c_str()),
      const_cast<char *>(mem.c_str()),      nullptr};
  std::vector<std::string> env_text;
  for (char **e = environ; *e; ++e)
    if (std::strncmp(*e, "ASAN_OPTIONS=", 13) != 0) env_text.emplace_back(*e);
#ifdef SOFTCHECK_ASAN
  const char *asan = std::getenv("ASAN_OPTIONS");
  // A kernel's crash is the worker's death by its signal, as without ASan
  // (ASan would report it and abort: SIGABRT for every kind).
  env_text.push_back(std::string("ASAN_OPTIONS=") + (asan ? std::string(asan) + ":" : "") +
                     "hard_rss_limit_mb=" + mem +
                     ":handle_segv=0:handle_sigbus=0:handle_sigfpe=0:handle_abort=0");
#else
  if (const char *asan = std::getenv("ASAN_OPTIONS"))
    env_text.push_back(std::string("ASAN_OPTIONS=") + asan);
#endif
  std::vector<char *> envp;
  for (std::string &e : env_text) envp.push_back(e.data());
  envp.push_back(nullptr);
  pid_t pid;
  const int err = posix_spawn(&pid, exe.c_str(), &fa, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  ::close(req[0]);
  ::close(rep[1]);
  if (err != 0) {
    ::close(req[1]);
    ::close(rep[0]);
    throw std::runtime_error(std::string("cannot start a worker: ") + std::strerror(err));
  }
  s.pid = pid;
  s.to = req[1];
  s.from = rep[0];
  // The worker says it is ready once the plugin is loaded, so start-up time
  // never counts against a call's timeout.
  char ready = 0;
  if (read_all(s.from, &ready, 1, kStartTimeout) != 1 || ready != 'R') {
    stop(s);
    throw std::runtime_error("the worker for '" + s.name + "' did not start (cannot load " +
                             s.plugin + " in a fresh process?)");
  }
}

// Sends s.threads to the worker's set_num_threads; its status, or
// SOFTCHECK_HOST_FAULT (worker stopped) when the worker does not answer.
softcheck_status send_threads(Slot &s) {
  Header h;
  h.op = kSetThreads;
  h.ignore_index = s.threads;
  int32_t status = SOFTCHECK_HOST_FAULT;
  if (!write_all(s.to, &h, sizeof h) ||
      read_all(s.from, &status, sizeof status, s.options.call_timeout) != 1) {
    stop(s);
    return SOFTCHECK_HOST_FAULT;
  }
  return softcheck_status(status);
}

// A running worker, with the thread count the host last set.
void ensure_started(Slot &s) {
  if (s.pid >= 0) return;
  start(s);
  if (s.threads > 0 && send_threads(s) == SOFTCHECK_HOST_FAULT)
    throw std::runtime_error("the worker for '" + s.name + "' did not answer set_num_threads");
}

std::string signal_text(int sig) {
  const char *name = sig == SIGSEGV   ? "SIGSEGV"
                     : sig == SIGBUS  ? "SIGBUS"
                     : sig == SIGFPE  ? "SIGFPE"
                     : sig == SIGABRT ? "SIGABRT"
                     : sig == SIGILL  ? "SIGILL"
                     : sig == SIGKILL ? "SIGKILL"
                                      : nullptr;
  return name ? fmt::format("signal {} ({})", sig, name) : fmt::format("signal {}", sig);
}

// After the worker went away: what happened to it.
std::string death(Slot &s) {
  int status = 0;
  pid_t w = 0;
  // A worker that closed its pipe may still be alive: a grace period, then kill.
  for (int i = 0; i < 100 && (w = ::waitpid(s.pid, &status, WNOHANG)) == 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  if (w == 0) {
    ::kill(s.pid, SIGKILL);
    w = ::waitpid(s.pid, &status, 0);
    s.pid = -1;
    stop(s);
    return "closed its pipe and did not exit (killed)";
  }
  s.pid = -1;
  stop(s);
  if (w <= 0) return "the worker went away";
  if (WIFSIGNALED(status)) {
    const int sig = WTERMSIG(status);
    std::string t = "killed by " + signal_text(sig);
    if (sig == SIGSEGV || sig == SIGABRT || sig == SIGBUS)
      t += fmt::format(" (or an allocation past the worker's {} MiB memory limit)",
                       s.options.memory_limit_mb);
    return t;
  }
  if (WIFEXITED(status))
    return fmt::format("exited with status {} inside the kernel", WEXITSTATUS(status));
  return "the worker went away";
}

template <class T> std::vector<T> copy_of(const void *p, uint64_t n) {
  const T *t = static_cast<const T *>(p);
  return t ? std::vector<T>(t, t + n) : std::vector<T>();
}

// The call as a case file, for the fault log.
template <class T> std::string case_text(const Header &h, const void *const ptrs[kArrays]) {
  Case<T> c;
  c.op = softcheck_op(h.op);
  c.shape = {h.outer, h.classes, h.inner};
  c.x = copy_of<T>(ptrs[kX], h.count[kX]);
  c.aux = copy_of<T>(ptrs[kAux], h.count[kAux]);
  c.target = copy_of<int64_t>(ptrs[kTarget], h.count[kTarget]);
  c.dout = copy_of<T>(ptrs[kDout], h.count[kDout]);
  c.weight = copy_of<T>(ptrs[kWeight], h.count[kWeight]);
  c.reduction = Reduction(h.reduction);
  c.ignore_index = h.ignore_index;
  c.label_smoothing = h.smoothing;
  if (c.aux.size() != c.x.size()) c.aux.resize(c.x.size());
  return to_text(c);
}

void record(Slot &s, const Header &h, const void *const ptrs[kArrays], const std::string &what) {
  const softcheck_op op = softcheck_op(h.op);
  const char *dt = h.dtype == SOFTCHECK_F32 ? "f32" : "f64";
  {
    // One fault a kind: the first input is kept, later ones counted.
    std::lock_guard<std::mutex> g(g_faults_lock);
    for (Fault &f : g_faults)
      if (f.set == s.name && f.op == op && f.dtype == softcheck_dtype(h.dtype) && f.what == what) {
        ++f.calls;
        return;
      }
  }
  const std::string text =
      h.dtype == SOFTCHECK_F32 ? case_text<float>(h, ptrs) : case_text<double>(h, ptrs);
  std::string file;
  std::error_code ec;
  std::filesystem::create_directories(s.options.fault_dir, ec);
  std::lock_guard<std::mutex> g(g_faults_lock);
  file = fmt::format("{}/fault-{}-{}-{}-{}.case", s.options.fault_dir, s.name,
                     softcheck_op_name(op), dt, g_faults.size() + 1);
  std::ofstream(file) << "# softcheck: " << s.name << " " << softcheck_op_name(op) << " " << dt
                      << ": " << what << "\n"
                      << text;
  g_faults.push_back(
      {s.name, s.plugin, op, softcheck_dtype(h.dtype), what, file,
       fmt::format("softcheck eval --plugin {} --set {} --case {}", s.plugin, s.name, file)});
}

template <class T>
softcheck_status forward(int slot, softcheck_op op, softcheck_shape shape, const void *x,
                         const void *aux, const int64_t *target, const softcheck_loss_options *opt,
                         const void *dout, void *out) {
  Slot &s = g_slots[slot];
  std::lock_guard<std::mutex> g(s.lock);
  t_last_seconds = -1;
  Header h;
  h.op = op;
  h.dtype = sizeof(T) == 4 ? SOFTCHECK_F32 : SOFTCHECK_F64;
  h.outer = shape.outer;
  h.classes = shape.classes;
  h.inner = shape.inner;
  if (opt) {
    h.reduction = opt->reduction;
    h.ignore_index = opt->ignore_index;
    h.smoothing = opt->label_smoothing;
  }
  const void *ptrs[kArrays] = {x, aux, target, dout, opt ? opt->weight : nullptr, out};
  for (int a = 0; a < kArrays; ++a) h.present[a] = ptrs[a] != nullptr;
  counts(h);
  {
    Shape sh{h.outer, h.classes, h.inner};
    detail::Extent e;
    if ((sizeof(T) == 4 ? detail::check_shape<float>(sh, e) : detail::check_shape<double>(sh, e)) ==
            SOFTCHECK_OK &&
        (e.elems > kMaxCopy || e.rows > kMaxCopy || h.classes > kMaxCopy))
      return SOFTCHECK_ERR_INTERNAL; // more than the pipe protocol carries (2^31 elements)
  }
  if (s.hung[h.dtype][op]) return SOFTCHECK_HOST_FAULT; // one hang per op is enough
  try {
    ensure_started(s);
  } catch (const std::runtime_error &e) {
    record(s, h, ptrs, e.what());
    return SOFTCHECK_HOST_FAULT;
  }
  bool sent = write_all(s.to, &h, sizeof h);
  for (int a = 0; a < kArrays && sent; ++a)
    if (a != kOut)
      sent = write_all(s.to, ptrs[a], size_t(h.count[a]) * (a == kTarget ? 8 : sizeof(T)));
  Reply r;
  const int got = sent ? read_all(s.from, &r, sizeof r, s.options.call_timeout) : 0;
  if (got == -1) {
    stop(s);
    s.hung[h.dtype][op] = true;
    record(s, h, ptrs,
           fmt::format("did not return within {:g} s (killed; later calls of this op are not "
                       "run)",
                       s.options.call_timeout));
    return SOFTCHECK_HOST_FAULT;
  }
  if (got == 0) {
    record(s, h, ptrs, death(s));
    return SOFTCHECK_HOST_FAULT;
  }
  // The worker's memory may be what the kernel corrupted: nothing in the
  // reply is trusted beyond what the host can check.
  if (r.written != h.count[kOut] || r.array < 0 || r.array >= kArrays || r.fault < kNone ||
      r.fault > kUnwritten) {
    stop(s);
    record(s, h, ptrs, "sent back a malformed reply (the worker's memory was corrupted)");
    return SOFTCHECK_HOST_FAULT;
  }
  t_last_seconds = r.seconds;
  std::vector<T> result(size_t(r.written));
  const int rest =
      read_all(s.from, result.data(), result.size() * sizeof(T), s.options.call_timeout);
  if (rest == -1) {
    stop(s);
    record(s, h, ptrs, "did not finish sending its outputs (killed)");
    return SOFTCHECK_HOST_FAULT;
  }
  if (rest != 1) {
    record(s, h, ptrs, death(s));
    return SOFTCHECK_HOST_FAULT;
  }
  // Only the elements the kernel wrote reach the caller's output.
  const uint64_t bits = sentinel_bits<T>();
  T *o = static_cast<T *>(out);
  for (size_t i = 0; o && i < result.size(); ++i)
    if (std::memcmp(&result[i], &bits, sizeof(T)) != 0) o[i] = result[i];
  // After a memory-safety fault the worker may be corrupted: a fresh one.
  if (r.fault != kNone) stop(s);
  if (r.fault == kWroteOutside) {
    record(s, h, ptrs,
           r.index < 0 ? fmt::format("wrote {} elements before the start of its output", -r.index)
                       : fmt::format("wrote past the end of its output ({} elements): element "
                                     "{}, offset +{}",
                                     h.count[kOut], r.index, r.index - int64_t(h.count[kOut])));
    return SOFTCHECK_HOST_FAULT;
  }
  if (r.fault == kChangedInput) {
    record(s, h, ptrs, fmt::format("changed its input {}[{}]", array_name(int(r.array)), r.index));
    return SOFTCHECK_HOST_FAULT;
  }
  if (r.fault == kUnwritten) {
    record(s, h, ptrs, fmt::format("returned ok but left output element {} unwritten", r.index));
    return SOFTCHECK_HOST_FAULT;
  }
  return softcheck_status(r.status);
}

// One trampoline per slot, op and dtype: the ABI's function pointers carry
// no context, so the slot is a template argument.
template <int S, class T> struct Tramp {
  static softcheck_status softmax(softcheck_shape s, const void *x, void *y) {
    return forward<T>(S, SOFTCHECK_OP_SOFTMAX, s, x, nullptr, nullptr, nullptr, nullptr, y);
  }
  static softcheck_status log_softmax(softcheck_shape s, const void *x, void *y) {
    return forward<T>(S, SOFTCHECK_OP_LOG_SOFTMAX, s, x, nullptr, nullptr, nullptr, nullptr, y);
  }
  static softcheck_status logsumexp(softcheck_shape s, const void *x, void *y) {
    return forward<T>(S, SOFTCHECK_OP_LOGSUMEXP, s, x, nullptr, nullptr, nullptr, nullptr, y);
  }
  static softcheck_status softmax_backward(softcheck_shape s, const void *y, const void *dy,
                                           void *dx) {
    return forward<T>(S, SOFTCHECK_OP_SOFTMAX_BACKWARD, s, y, dy, nullptr, nullptr, nullptr, dx);
  }
  static softcheck_status log_softmax_backward(softcheck_shape s, const void *y, const void *dy,
                                               void *dx) {
    return forward<T>(S, SOFTCHECK_OP_LOG_SOFTMAX_BACKWARD, s, y, dy, nullptr, nullptr, nullptr,
                      dx);
  }
  static softcheck_status nll_loss(softcheck_shape s, const void *x, const int64_t *t,
                                   const softcheck_loss_options *o, void *out) {
    return forward<T>(S, SOFTCHECK_OP_NLL_LOSS, s, x, nullptr, t, o, nullptr, out);
  }
  static softcheck_status nll_loss_backward(softcheck_shape s, const int64_t *t,
                                            const softcheck_loss_options *o, const void *dout,
                                            void *out) {
    return forward<T>(S, SOFTCHECK_OP_NLL_LOSS_BACKWARD, s, nullptr, nullptr, t, o, dout, out);
  }
  static softcheck_status cross_entropy(softcheck_shape s, const void *x, const int64_t *t,
                                        const softcheck_loss_options *o, void *out) {
    return forward<T>(S, SOFTCHECK_OP_CROSS_ENTROPY, s, x, nullptr, t, o, nullptr, out);
  }
  static softcheck_status cross_entropy_backward(softcheck_shape s, const void *x, const int64_t *t,
                                                 const softcheck_loss_options *o, const void *dout,
                                                 void *out) {
    return forward<T>(S, SOFTCHECK_OP_CROSS_ENTROPY_BACKWARD, s, x, nullptr, t, o, dout, out);
  }
  static softcheck_status cross_entropy_prob(softcheck_shape s, const void *x, const void *p,
                                             const softcheck_loss_options *o, void *out) {
    return forward<T>(S, SOFTCHECK_OP_CROSS_ENTROPY_PROB, s, x, p, nullptr, o, nullptr, out);
  }
  static softcheck_status cross_entropy_prob_backward(softcheck_shape s, const void *x,
                                                      const void *p,
                                                      const softcheck_loss_options *o,
                                                      const void *dout, void *out) {
    return forward<T>(S, SOFTCHECK_OP_CROSS_ENTROPY_PROB_BACKWARD, s, x, p, nullptr, o, dout, out);
  }
  // The proxy table: a trampoline where the real set provides the op.
  static softcheck_ops table(const softcheck_ops &real) {
    softcheck_ops t{};
    t.softmax = real.softmax ? softmax : nullptr;
    t.log_softmax = real.log_softmax ? log_softmax : nullptr;
    t.logsumexp = real.logsumexp ? logsumexp : nullptr;
    t.softmax_backward = real.softmax_backward ? softmax_backward : nullptr;
    t.log_softmax_backward = real.log_softmax_backward ? log_softmax_backward : nullptr;
    t.nll_loss = real.nll_loss ? nll_loss : nullptr;
    t.nll_loss_backward = real.nll_loss_backward ? nll_loss_backward : nullptr;
    t.cross_entropy = real.cross_entropy ? cross_entropy : nullptr;
    t.cross_entropy_backward = real.cross_entropy_backward ? cross_entropy_backward : nullptr;
    t.cross_entropy_prob = real.cross_entropy_prob ? cross_entropy_prob : nullptr;
    t.cross_entropy_prob_backward =
        real.cross_entropy_prob_backward ? cross_entropy_prob_backward : nullptr;
    return t;
  }
};

// set_num_threads goes to the worker, and again to every fresh one.
template <int S> softcheck_status set_threads(int threads) {
  Slot &s = g_slots[S];
  std::lock_guard<std::mutex> g(s.lock);
  s.threads = threads;
  try {
    if (s.pid < 0) start(s);
  } catch (const std::runtime_error &) {
    return SOFTCHECK_HOST_FAULT;
  }
  return send_threads(s);
}

template <int S> void make_proxy(Slot &s) {
  s.proxy = *s.real;
  s.proxy.f32 = Tramp<S, float>::table(s.real->f32);
  s.proxy.f64 = Tramp<S, double>::table(s.real->f64);
  s.proxy.set_num_threads = s.real->set_num_threads ? set_threads<S> : nullptr;
}

template <int... S> void make_proxy_at(int slot, std::integer_sequence<int, S...>) {
  ((slot == S ? make_proxy<S>(g_slots[S]) : void()), ...);
}

} // namespace

const softcheck_kernel_set *isolate(const softcheck_kernel_set &set, const std::string &plugin,
                                    const IsolationOptions &o) {
  if (g_used >= kSlots)
    throw std::runtime_error(fmt::format("at most {} isolated kernel sets", kSlots));
  Slot &s = g_slots[g_used];
  s.real = &set;
  s.plugin = plugin;
  s.name = set.name;
  s.options = o;
  make_proxy_at(g_used, std::make_integer_sequence<int, kSlots>());
  ++g_used;
  std::signal(SIGPIPE, SIG_IGN); // a dead worker is seen on read, not by a signal
  return &s.proxy;
}

std::vector<Fault> faults() {
  std::lock_guard<std::mutex> g(g_faults_lock);
  return g_faults;
}

std::string fault_lines() {
  std::string out;
  for (const Fault &f : faults())
    out +=
        fmt::format("FAULT {} {} {}: {}{}\n  input: {}\n  reproduce: {}\n", f.set,
                    softcheck_op_name(f.op), f.dtype == SOFTCHECK_F32 ? "f32" : "f64", f.what,
                    f.calls > 1 ? fmt::format(" ({} calls; the first one's input)", f.calls) : "",
                    f.case_file, f.reproduce);
  return out;
}

double last_kernel_seconds() { return t_last_seconds; }

void stop_after(double seconds) {
  std::thread([seconds] {
    std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
    std::fprintf(stderr,
                 "softcheck: stopped by --timeout %g s before the run finished; nothing was "
                 "written\n",
                 seconds);
    for (Slot &s : g_slots) // no locks: a worker may be mid-call
      if (s.pid > 0) ::kill(s.pid, SIGKILL);
    std::_Exit(1);
  }).detach();
}

int worker_main(int argc, char **argv) {
  if (argc < 5) return 2;
  Registry registry;
  if (!registry.load(argv[2]).empty()) return 2;
  const KernelSetRef *ref = registry.find(argv[3]);
  if (ref == nullptr) return 2;
  // Dies with its host, even inside a kernel that never returns (a watch on
  // the parent; PR_SET_PDEATHSIG would fire when the host *thread* that
  // started the worker ends); keeps no descriptor but the pipes and stdio.
  const pid_t host = ::getppid();
  std::thread([host] {
    for (;;) {
      if (::getppid() != host) std::_Exit(0);
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
  }).detach();
  ::close_range(5, ~0U, 0);
#ifndef SOFTCHECK_ASAN
  const rlim_t bytes = rlim_t(std::stoll(argv[4])) << 20;
  rlimit lim{bytes, bytes};
  ::setrlimit(RLIMIT_AS, &lim);
#endif
  if (!write_all(4, "R", 1)) return 0;
  for (;;) {
    Header h;
    if (read_all(3, &h, sizeof h, -1) != 1 || h.magic != kMagic) return 0;
    if (h.op == kSetThreads) {
      const int32_t st = ref->set->set_num_threads ? ref->set->set_num_threads(int(h.ignore_index))
                                                   : SOFTCHECK_ERR_UNSUPPORTED;
      if (!write_all(4, &st, sizeof st)) return 0;
      continue;
    }
    if (h.op >= SOFTCHECK_OP_COUNT || (h.dtype != SOFTCHECK_F32 && h.dtype != SOFTCHECK_F64))
      return 0;
    counts(h); // recomputed here: the worker trusts no sizes from the pipe but the shape
    std::vector<char> out;
    const softcheck_ops &ops = h.dtype == SOFTCHECK_F32 ? ref->set->f32 : ref->set->f64;
    Reply r = h.dtype == SOFTCHECK_F32 ? run_call<float>(ops, h, 3, out)
                                       : run_call<double>(ops, h, 3, out);
    if (!write_all(4, &r, sizeof r) || !write_all(4, out.data(), out.size())) return 0;
  }
}

} // namespace softcheck::cli
