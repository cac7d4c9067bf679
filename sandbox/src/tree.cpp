// The sandbox process (`softcheck __sandbox PLUGIN MEMORY_MB`), the one the
// host starts for a plugin, in a session of its own. It makes the worker's
// cgroup and private temporary folder, moves into a new pid namespace where
// it can, and starts the tree:
//
//   host -> sandbox (watches the host, ends the tree)
//             -> init (pid 1 of the namespace: reaps, reports the worker)
//                  -> worker (loads the plugin, runs the kernels)
//
// Without a pid namespace the worker is the sandbox's child and the sandbox,
// a subreaper, reaps and reports it, and ends by process group and by
// sweeping the orphans that come back to it. The sandbox never runs plugin
// code, and the worker cannot signal it (another pid namespace, or Landlock
// signal scoping), so neither a stopped nor a spinning kernel keeps it
// from seeing the host go.
#include "cgroup.hpp"
#include "common.hpp"
#include "protocol.hpp"
#include "restrict.hpp"
#include "worker.hpp"

#include <softcheck/sandbox.hpp>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <poll.h>
#include <sched.h>
#include <string>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

namespace softcheck::sandbox {
namespace {

using namespace wire;

void status_note(int32_t kind, int64_t value) {
  StatusNote n;
  n.kind = kind;
  n.value = value;
  const ssize_t ignored = ::write(kStatusFd, &n, sizeof n);
  (void)ignored;
}

bool write_text(const std::string &path, const std::string &text) {
  std::ofstream out(path);
  out << text;
  return bool(out.flush());
}

// A new pid namespace for the children to come (a user namespace first
// when not root, mapping the user to itself).
bool enter_pid_namespace() {
  if (const char *no = std::getenv("SOFTCHECK_NO_NAMESPACES"); no && *no && std::strcmp(no, "0"))
    return false;
  if (::unshare(CLONE_NEWPID) == 0) return true;
  const uid_t uid = ::getuid();
  const gid_t gid = ::getgid();
  if (uid == 0 || ::unshare(CLONE_NEWUSER | CLONE_NEWPID) != 0) return false;
  // In the namespace now, whatever the maps give (unmapped, the worker
  // runs as the overflow user and may read less).
  write_text("/proc/self/setgroups", "deny");
  write_text("/proc/self/uid_map", std::to_string(uid) + " " + std::to_string(uid) + " 1");
  write_text("/proc/self/gid_map", std::to_string(gid) + " " + std::to_string(gid) + " 1");
  return true;
}

void default_signals() {
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  for (int s = 1; s < NSIG; ++s)
    if (s != SIGKILL && s != SIGSTOP) ::signal(s, SIG_DFL);
}

struct Setup {
  std::string plugin, tmpdir;
  int64_t memory_mb = 0;
  bool memory_in_cgroup = false;
  pid_t sandbox = 0;
};

// The worker process: its own process group, dies with its parent, reaps
// whatever the kernel orphans, restricted, then the plugin.
[[noreturn]] void become_worker(const Setup &s, pid_t parent) {
  default_signals();
  ::setpgid(0, 0);
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != parent) std::_Exit(0); // the parent went first
  ::prctl(PR_SET_CHILD_SUBREAPER, 1);
  ::close(kControlFd);
  ::close(kStatusFd);
#ifndef SOFTCHECK_ASAN
  // Under AddressSanitizer the address space is reserved at start-up; the
  // host passes ASan's RSS limit instead.
  if (!s.memory_in_cgroup) {
    const rlim_t bytes = rlim_t(s.memory_mb) << 20;
    rlimit lim{bytes, bytes};
    ::setrlimit(RLIMIT_AS, &lim);
  }
#endif
  ::setenv("TMPDIR", s.tmpdir.c_str(), 1);
  Restrictions r;
  if (landlock_abi() > 0) {
    if (std::string why = restrict_writes(s.tmpdir); why.empty())
      r.landlock = landlock_abi();
    else
      std::fprintf(stderr, "softcheck worker: not restricted by Landlock: %s\n", why.c_str());
  }
  if (std::string why = deny_sockets(); why.empty())
    r.no_sockets = true;
  else
    std::fprintf(stderr, "softcheck worker: sockets not denied: %s\n", why.c_str());
  ::close_range(8, ~0U, 0);
  std::_Exit(serve(s.plugin, r));
}

// pid 1 of the namespace: starts the worker, reaps everything, reports the
// worker's end (and stops: a stopped worker is ended), then exits, which
// ends every process left in the namespace.
[[noreturn]] void become_init(const Setup &s) {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  ::close(kControlFd);
  const pid_t worker = ::fork();
  if (worker < 0) std::_Exit(1);
  if (worker == 0) become_worker(s, 1);
  ::close(kRequestFd);
  ::close(kReplyFd);
  ::close(kFaultFd);
  for (;;) {
    int st = 0;
    const pid_t p = ::waitpid(-1, &st, WUNTRACED | __WALL);
    if (p < 0 && errno == EINTR) continue;
    if (p < 0) std::_Exit(0);
    if (p != worker) continue;
    if (WIFSTOPPED(st)) {
      status_note(kWorkerStopped, WSTOPSIG(st));
      ::kill(worker, SIGKILL);
      continue;
    }
    status_note(kWorkerEnded, st);
    std::_Exit(0);
  }
}

// The children of this (single-threaded) process, from /proc.
std::vector<pid_t> children() {
  std::vector<pid_t> out;
  std::ifstream in("/proc/self/task/" + std::to_string(::getpid()) + "/children");
  for (long p; in >> p;) out.push_back(pid_t(p));
  return out;
}

void reap_all() {
  int st;
  while (::waitpid(-1, &st, WNOHANG | __WALL) > 0) {
  }
}

} // namespace

namespace {

int run_sandbox(int argc, char **argv);

} // namespace

// Never returns: the sandbox ends with _exit, so nothing of the host's
// (atexit handlers, LeakSanitizer, which cannot stop the world once this
// process has a pid namespace under it) runs here.
int sandbox_main(int argc, char **argv) { std::_Exit(run_sandbox(argc, argv)); }

namespace {

int run_sandbox(int argc, char **argv) {
  if (argc < 4) return 2;
  Setup s;
  s.plugin = argv[2];
  s.memory_mb = std::atoll(argv[3]);
  s.sandbox = ::getpid();
  default_signals();
  // A host that is gone must not end this process before the tree and its
  // cleanup (the last notes go to a pipe nobody reads); and nothing of the
  // worker's may open this process's memory.
  ::signal(SIGPIPE, SIG_IGN);
  ::prctl(PR_SET_DUMPABLE, 0);

  // A private temporary folder: the only one the worker may write.
  std::string base = std::getenv("TMPDIR") ? std::getenv("TMPDIR") : "/tmp";
  std::string tmpl = base + "/softcheck-worker-XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) {
    tmpl = "/tmp/softcheck-worker-XXXXXX";
    if (::mkdtemp(tmpl.data()) == nullptr) return 3;
  }
  s.tmpdir = tmpl;

  Cgroup cgroup;
  std::string why;
  cgroup.create(s.memory_mb << 20, 512, why);
  const bool ns = enter_pid_namespace();

  // Orphans come back here when there is no namespace init to take them.
  ::prctl(PR_SET_CHILD_SUBREAPER, 1);
  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  sigaddset(&chld, SIGTERM);
  sigaddset(&chld, SIGINT);
  sigaddset(&chld, SIGHUP);
  ::sigprocmask(SIG_BLOCK, &chld, nullptr);
  const int sfd = ::signalfd(-1, &chld, SFD_CLOEXEC);
  int go[2];
  if (sfd < 0 || ::pipe2(go, O_CLOEXEC) != 0) return 3;
  const pid_t child = ::fork();
  if (child < 0) return 3;
  if (child == 0) {
    // Into the cgroup before anything else runs; told whether it took.
    ::close(go[1]);
    char b;
    if (::read(go[0], &b, 1) != 1) std::_Exit(0);
    ::close(go[0]);
    s.memory_in_cgroup = b == 'g' && cgroup.limits_memory();
    if (ns) become_init(s);
    become_worker(s, s.sandbox);
  }
  ::close(go[0]);
  const bool in_cgroup = cgroup.add(child);
  const ssize_t ignored = ::write(go[1], in_cgroup ? "g" : "n", 1);
  (void)ignored;
  ::close(go[1]);
  // What the tree got, for the host's messages and `softcheck kernels`
  // (the worker says what its own restrictions came to).
  int64_t confined = 0;
  if (ns) confined |= kConfinedPidNamespace;
  if (in_cgroup && cgroup.limits_memory()) confined |= kConfinedMemory;
  if (in_cgroup && cgroup.limits_pids()) confined |= kConfinedPids;
  if (cgroup.kind() == "cgroup v2") confined |= kConfinedCgroupV2;
  status_note(kConfinement, confined);
  ::close(kRequestFd);
  ::close(kReplyFd);
  ::close(kFaultFd);

  // Until the host goes (its end of the control pipe closes), the worker
  // ends, or someone asks this process to stop.
  for (bool done = false; !done;) {
    pollfd p[2] = {{kControlFd, POLLIN, 0}, {sfd, POLLIN, 0}};
    if (::poll(p, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (p[0].revents) break; // data or hang-up: the host is done with us
    signalfd_siginfo info;
    if (::read(sfd, &info, sizeof info) != sizeof info) continue;
    if (info.ssi_signo != SIGCHLD) break;
    for (;;) {
      int st = 0;
      const pid_t q = ::waitpid(-1, &st, WNOHANG | WUNTRACED | __WALL);
      if (q <= 0) break;
      if (q != child) continue; // an orphan of the kernel's
      if (ns) {
        if (!WIFSTOPPED(st)) done = true; // init gone: the namespace with it
        continue;
      }
      if (WIFSTOPPED(st)) {
        status_note(kWorkerStopped, WSTOPSIG(st));
        ::kill(child, SIGKILL);
        continue;
      }
      status_note(kWorkerEnded, st);
      done = true;
    }
  }

  // The end of the tree: every process of it, then its cgroup and folder.
  if (ns) {
    ::kill(child, SIGKILL); // the namespace's init: the kernel ends the rest
  } else {
    ::kill(-child, SIGKILL);
    ::kill(child, SIGKILL);
  }
  cgroup.kill_all();
  for (int pass = 0; pass < 5000; ++pass) {
    reap_all();
    const std::vector<pid_t> left = children();
    if (left.empty()) break;
    for (pid_t q : left) ::kill(q, SIGKILL);
    ::usleep(1000);
  }
  reap_all();
  const long long oom = cgroup.oom_kills();
  cgroup.remove();
  std::error_code ec;
  std::filesystem::remove_all(s.tmpdir, ec);
  status_note(kTreeEnded, oom);
  return 0;
}

} // namespace

} // namespace softcheck::sandbox
