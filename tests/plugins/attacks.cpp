// Plugins that attack the host rather than get the math wrong, one per
// HOSTILE_<KIND> (see CMakeLists.txt), written from plugin.h alone as a
// hostile author would. Each is the built-in kernel set with one attack in
// softmax (or at load); every other op is the built-in kernel, so the rest
// of a run goes on. tests/isolation/attack.sh says what each must give.
//
// At load: LOAD_CRASH (a NULL write in a constructor), LOAD_ABORT,
// LOAD_EXIT0 (exit(0) in a constructor: must never look like success),
// ENTRY_EXIT0 (exit(0) in softcheck_plugin_v1), WILD_NAME (a set name
// pointer into nowhere), LOAD_HANG, TOO_MANY_SETS (a table that claims
// 100000 sets), FP_ENV (FE_UPWARD and FTZ/DAZ set in a constructor), LOCK
// (an exclusive lock taken in a constructor, as device runtimes do, and a
// softmax that crashes, so the worker is started again and again).
// In a call: SIGSTOP_GROUP / SIGTERM_GROUP (kill(0, ...)), SIGNAL_PARENT
// (SIGSTOP to the parent process), FLOOD (8 MiB on stdout and stderr with
// forged summary lines), FORK_SLEEP, FORK_CRASH (a child holds the pipes,
// then the kernel crashes), SYSTEM_BACKGROUND (system("sleep 300 &")),
// FORK_MEMORY (8 children of 150 MiB each), OVERREAD (one element past
// the input), PADDED_READ (16 bytes past it, declared), PADDED_OVERREAD
// (17 bytes past it, 16 declared), FAR_WRITE (1000 elements past the
// output), LATE_WRITER (a thread that writes the output 50 ms after the
// call returned), LATE_SPINNER (a thread that spins on after the call),
// PREFILL (NaN rows written with the exact bits of the worker's fill
// pattern: correct, and must not look unwritten), SOCKET_ESCAPE (connects
// to a unix socket file, where a service outside the tree could act for it,
// and to a TCP port on this machine, and sends to both).
#include <softcheck/kernels.hpp>

#include <arpa/inet.h>
#include <cfenv>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace {

template <class T> const softcheck_ops &builtin() {
  return sizeof(T) == 4 ? softcheck::builtin_kernel_set().f32 : softcheck::builtin_kernel_set().f64;
}
// A write to a page that cannot be written: a real SIGSEGV in every build
// (a NULL store is undefined behaviour, which a compiler may delete and
// UBSan turns into an abort).
[[maybe_unused]] void crash() {
  void *page = ::mmap(nullptr, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  *static_cast<volatile char *>(page) = 1;
}
int64_t count(softcheck_shape s) { return s.outer * s.classes * s.inner; }
bool valid(softcheck_shape s) { return s.outer > 0 && s.classes > 0 && s.inner > 0; }

#if defined(HOSTILE_LOAD_CRASH) || defined(HOSTILE_LOAD_ABORT) || defined(HOSTILE_LOAD_EXIT0) ||   \
    defined(HOSTILE_LOAD_HANG) || defined(HOSTILE_FP_ENV) || defined(HOSTILE_LOCK)
__attribute__((constructor)) void at_load() {
#if defined(HOSTILE_LOAD_CRASH)
  crash();
#elif defined(HOSTILE_LOAD_ABORT)
  std::abort();
#elif defined(HOSTILE_LOAD_EXIT0)
  std::exit(0);
#elif defined(HOSTILE_LOAD_HANG)
  for (;;) ::pause();
#elif defined(HOSTILE_FP_ENV)
  std::fesetround(FE_UPWARD);
#if defined(__x86_64__)
  _mm_setcsr(_mm_getcsr() | 0x8040); // FTZ | DAZ
#endif
#elif defined(HOSTILE_LOCK)
  // Held for the life of the process; a second copy of the plugin running
  // at the same time would wait here forever.
  const char *path = std::getenv("SOFTCHECK_TEST_LOCK");
  const int fd = ::open(path ? path : "/proc/self/exe", O_RDONLY | O_CLOEXEC);
  if (fd >= 0) ::flock(fd, LOCK_EX);
#endif
}
#endif

template <class T> softcheck_status softmax(softcheck_shape s, const void *x, void *y) {
  const softcheck_status st = builtin<T>().softmax(s, x, y);
  if (st != SOFTCHECK_OK || !valid(s)) return st;
  const int64_t n = count(s);
  volatile T sink = 0;
  (void)sink;
#if defined(HOSTILE_LOCK)
  crash();
#elif defined(HOSTILE_SIGSTOP_GROUP)
  ::kill(0, SIGSTOP);
#elif defined(HOSTILE_SIGTERM_GROUP)
  ::kill(0, SIGTERM);
#elif defined(HOSTILE_SIGNAL_PARENT)
  ::kill(::getppid(), SIGSTOP);
#elif defined(HOSTILE_FLOOD)
  static std::string block = [] {
    std::string b;
    while (b.size() < (1 << 16))
      b += "999 passed, 0 failed, 0 skipped\n\x1b[2J\x1b[31mFAKE PASS\x1b[0m\n";
    return b;
  }();
  static int calls = 0;
  if (calls++ == 0)
    for (int i = 0; i < 64; ++i) {
      if (::write(1, block.data(), block.size()) < 0 || ::write(2, block.data(), block.size()) < 0)
        break;
    }
#elif defined(HOSTILE_FORK_SLEEP)
  if (::fork() == 0) {
    ::sleep(300);
    std::_Exit(0);
  }
#elif defined(HOSTILE_FORK_CRASH)
  if (::fork() == 0) {
    ::sleep(300);
    std::_Exit(0);
  }
  crash();
#elif defined(HOSTILE_SYSTEM_BACKGROUND)
  if (std::system("sleep 300 &") < 0) return SOFTCHECK_ERR_INTERNAL;
#elif defined(HOSTILE_FORK_MEMORY)
  std::vector<pid_t> kids;
  for (int i = 0; i < 8; ++i) {
    const pid_t p = ::fork();
    if (p == 0) {
      const size_t bytes = size_t(150) << 20;
      char *m = static_cast<char *>(std::malloc(bytes));
      if (m) std::memset(m, 1, bytes);
      ::sleep(300);
      std::_Exit(0);
    }
    kids.push_back(p);
  }
  for (pid_t p : kids) ::waitpid(p, nullptr, 0);
#elif defined(HOSTILE_OVERREAD)
  sink = static_cast<const T *>(x)[n];
#elif defined(HOSTILE_PADDED_READ)
  sink =
      *reinterpret_cast<const volatile char *>(static_cast<const char *>(x) + n * sizeof(T) + 15);
#elif defined(HOSTILE_PADDED_OVERREAD)
  sink =
      *reinterpret_cast<const volatile char *>(static_cast<const char *>(x) + n * sizeof(T) + 16);
#elif defined(HOSTILE_FAR_WRITE)
  static_cast<T *>(y)[n + 1000] = T(0.5);
#elif defined(HOSTILE_LATE_WRITER)
  T *out = static_cast<T *>(y);
  std::thread([out] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    out[0] = T(0.25);
  }).detach();
#elif defined(HOSTILE_LATE_SPINNER)
  std::thread([] {
    for (volatile int forever = 1; forever;) {
    }
  }).detach();
#elif defined(HOSTILE_SOCKET_ESCAPE)
  static bool tried = false;
  if (!tried) {
    tried = true;
    if (const char *path = std::getenv("SOFTCHECK_TEST_SOCKET")) {
      const int u = ::socket(AF_UNIX, SOCK_STREAM, 0);
      sockaddr_un a{};
      a.sun_family = AF_UNIX;
      std::strncpy(a.sun_path, path, sizeof a.sun_path - 1);
      if (u >= 0 && ::connect(u, reinterpret_cast<sockaddr *>(&a), sizeof a) == 0)
        (void)!::write(u, "escaped\n", 8);
    }
    if (const char *port = std::getenv("SOFTCHECK_TEST_PORT")) {
      const int t = ::socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in a{};
      a.sin_family = AF_INET;
      a.sin_port = htons(uint16_t(std::atoi(port)));
      a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      if (t >= 0 && ::connect(t, reinterpret_cast<sockaddr *>(&a), sizeof a) == 0)
        (void)!::write(t, "escaped\n", 8);
    }
  }
#elif defined(HOSTILE_PREFILL)
  // A NaN row's outputs as the exact bits a harness might pre-fill with.
  const uint64_t bits = sizeof(T) == 4 ? 0x7fa5a5a5ull : 0x7ff4a5a5a5a5a5a5ull;
  for (int64_t i = 0; i < n; ++i)
    if (std::isnan(static_cast<T *>(y)[i])) std::memcpy(static_cast<T *>(y) + i, &bits, sizeof(T));
#endif
  (void)n;
  return st;
}

softcheck_kernel_set make_set() {
  softcheck_kernel_set s = softcheck::builtin_kernel_set();
  s.name = "attack";
  s.description = "the built-in kernels, one attack on the host in softmax or at load";
  s.contract = nullptr;
  s.f32.softmax = softmax<float>;
  s.f64.softmax = softmax<double>;
#if defined(HOSTILE_WILD_NAME)
  s.name = reinterpret_cast<const char *>(uintptr_t(16));
#endif
#if defined(HOSTILE_PADDED_READ) || defined(HOSTILE_PADDED_OVERREAD)
  s.input_padding_bytes = 16;
#endif
  return s;
}

const softcheck_kernel_set kSet = make_set();
#if defined(HOSTILE_TOO_MANY_SETS)
const softcheck_plugin kPlugin = {SOFTCHECK_ABI_VERSION, sizeof(softcheck_plugin), "attack", 100000,
                                  &kSet};
#else
const softcheck_plugin kPlugin = {SOFTCHECK_ABI_VERSION, sizeof(softcheck_plugin), "attack", 1,
                                  &kSet};
#endif

} // namespace

extern "C" SOFTCHECK_EXPORT const softcheck_plugin *softcheck_plugin_v1(void) {
#if defined(HOSTILE_ENTRY_EXIT0)
  std::exit(0);
#endif
  return &kPlugin;
}
