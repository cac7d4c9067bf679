#include "cgroup.hpp"

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <fstream>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

namespace softcheck::sandbox {
namespace {

struct Mount {
  std::string root, point, type, options;
};

std::vector<Mount> cgroup_mounts() {
  std::vector<Mount> out;
  std::ifstream in("/proc/self/mountinfo");
  for (std::string line; std::getline(in, line);) {
    std::istringstream w(line);
    std::string id, parent, dev, root, point, opts, f;
    w >> id >> parent >> dev >> root >> point >> opts;
    while (w >> f && f != "-") {
    }
    Mount m;
    m.root = root;
    m.point = point;
    w >> m.type >> f >> m.options;
    if (m.type == "cgroup" || m.type == "cgroup2") out.push_back(m);
  }
  return out;
}

// This process's cgroup path per hierarchy: "" for v2, else the v1
// controller list ("memory", "pids", "cpu,cpuacct").
std::vector<std::pair<std::string, std::string>> own_groups() {
  std::vector<std::pair<std::string, std::string>> out;
  std::ifstream in("/proc/self/cgroup");
  for (std::string line; std::getline(in, line);) {
    const size_t a = line.find(':'), b = line.find(':', a + 1);
    if (a == std::string::npos || b == std::string::npos) continue;
    out.emplace_back(line.substr(a + 1, b - a - 1), line.substr(b + 1));
  }
  return out;
}

bool has_word(const std::string &list, const std::string &word, char sep) {
  std::istringstream s(list);
  for (std::string w; std::getline(s, w, sep);)
    if (w == word) return true;
  return false;
}

std::string dir_of(const Mount &m, const std::string &path) {
  std::string rel = path;
  if (m.root != "/" && rel.compare(0, m.root.size(), m.root) == 0) rel = rel.substr(m.root.size());
  return m.point + (rel == "/" ? "" : rel);
}

std::string read_file(const std::string &path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

bool write_file(const std::string &path, const std::string &text) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const bool ok = ::write(fd, text.data(), text.size()) == ssize_t(text.size());
  ::close(fd);
  return ok;
}

// Groups that earlier runs left (a sandbox killed before it could remove
// them): softcheck-PID-N whose sandbox PID is gone. Another sandbox's group,
// made but not filled yet, is not touched; a busy one rmdir refuses.
void remove_stale(const std::string &parent) {
  if (DIR *d = ::opendir(parent.c_str())) {
    while (dirent *e = ::readdir(d)) {
      if (std::strncmp(e->d_name, "softcheck-", 10) != 0) continue;
      const long owner = std::atol(e->d_name + 10);
      if (owner > 0 && ::kill(pid_t(owner), 0) != 0 && errno == ESRCH)
        ::rmdir((parent + "/" + e->d_name).c_str());
    }
    ::closedir(d);
  }
}

std::string fresh_name() {
  static std::atomic<int> n{0};
  return "softcheck-" + std::to_string(::getpid()) + "-" + std::to_string(n++);
}

bool make_dir(const std::string &parent, std::string &dir) {
  remove_stale(parent);
  dir = parent + "/" + fresh_name();
  return ::mkdir(dir.c_str(), 0755) == 0;
}

long long counter(const std::string &file, const std::string &key) {
  std::istringstream in(read_file(file));
  for (std::string k; in >> k;) {
    long long v = 0;
    if (!(in >> v)) break;
    if (k == key) return v;
  }
  return 0;
}

} // namespace

bool Cgroup::create(long long memory_bytes, int pids_max, std::string &why) {
  const std::vector<Mount> mounts = cgroup_mounts();
  const auto groups = own_groups();
  const std::string mem = std::to_string(memory_bytes), pids = std::to_string(pids_max);
  // cgroup v2: a child group with the memory and pids controllers when the
  // parent can hand them down, else (on hybrid machines) one for
  // cgroup.kill alone.
  for (const Mount &m : mounts) {
    if (m.type != "cgroup2") continue;
    for (const auto &[ctrl, path] : groups) {
      if (!ctrl.empty()) continue;
      const std::string parent = dir_of(m, path);
      const std::string avail = read_file(parent + "/cgroup.controllers");
      if (has_word(avail, "memory", ' ') &&
          !has_word(read_file(parent + "/cgroup.subtree_control"), "memory", ' '))
        write_file(parent + "/cgroup.subtree_control", "+memory +pids");
      const bool delegated = has_word(read_file(parent + "/cgroup.subtree_control"), "memory", ' ');
      std::string dir;
      if (!make_dir(parent, dir)) continue;
      dirs_.push_back(dir);
      v2_dir_ = dir;
      if (delegated && write_file(dir + "/memory.max", mem)) {
        write_file(dir + "/memory.swap.max", "0");
        memory_dir_ = dir;
        if (write_file(dir + "/pids.max", pids)) pids_dir_ = dir;
        kind_ = "cgroup v2";
      }
      break;
    }
    break;
  }
  // cgroup v1 controllers for what v2 did not give.
  for (const Mount &m : mounts) {
    if (m.type != "cgroup") continue;
    const bool memory = has_word(m.options, "memory", ','), pid = has_word(m.options, "pids", ',');
    if ((memory && !memory_dir_.empty()) || (pid && !pids_dir_.empty()) || (!memory && !pid))
      continue;
    for (const auto &[ctrl, path] : groups) {
      if (!has_word(ctrl, memory ? "memory" : "pids", ',')) continue;
      std::string dir;
      if (!make_dir(dir_of(m, path), dir)) break;
      dirs_.push_back(dir);
      if (memory && write_file(dir + "/memory.limit_in_bytes", mem)) {
        write_file(dir + "/memory.memsw.limit_in_bytes", mem);
        memory_dir_ = dir;
      }
      if (pid && write_file(dir + "/pids.max", pids)) pids_dir_ = dir;
      if (kind_.empty()) kind_ = "cgroup v1";
      break;
    }
  }
  if (memory_bytes > 0 && memory_dir_.empty())
    why = "no memory cgroup could be made (not root, or no delegated cgroup)";
  return !dirs_.empty();
}

bool Cgroup::add(pid_t pid) const {
  bool ok = true;
  for (const std::string &d : dirs_)
    ok = write_file(d + "/cgroup.procs", std::to_string(pid)) && ok;
  return ok;
}

void Cgroup::kill_all() const {
  if (!v2_dir_.empty()) write_file(v2_dir_ + "/cgroup.kill", "1");
  // v1 has no cgroup.kill: end what is listed until nothing is (a process
  // forking meanwhile is caught on the next pass; pids.max bounds them).
  for (int pass = 0; pass < 2000; ++pass) {
    bool any = false;
    for (const std::string &d : dirs_) {
      std::istringstream in(read_file(d + "/cgroup.procs"));
      for (long long p; in >> p;) {
        any = true;
        ::kill(pid_t(p), SIGKILL);
      }
    }
    if (!any) return;
    ::usleep(1000);
  }
}

long long Cgroup::oom_kills() const {
  if (memory_dir_.empty()) return 0;
  if (memory_dir_ == v2_dir_) return counter(memory_dir_ + "/memory.events", "oom_kill");
  return counter(memory_dir_ + "/memory.oom_control", "oom_kill");
}

void Cgroup::remove() {
  for (const std::string &d : dirs_)
    for (int i = 0; i < 1000 && ::rmdir(d.c_str()) != 0 && errno == EBUSY; ++i) ::usleep(1000);
  dirs_.clear();
}

} // namespace softcheck::sandbox
