#include "files.hpp"
#include "parse.hpp"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <poll.h>
#include <sys/stat.h>
#include <system_error>
#include <unistd.h>

namespace fs = std::filesystem;

namespace softcheck::cli {
namespace {

// A new file (never one that is there, never through a symlink), whole.
void write_file(const std::string &path, const std::string &text) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0) throw UsageError("cannot write '" + path + "': " + std::strerror(errno));
  size_t at = 0;
  while (at < text.size()) {
    const ssize_t w = ::write(fd, text.data() + at, text.size() - at);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      const int err = errno;
      ::close(fd);
      std::remove(path.c_str());
      throw UsageError("cannot write '" + path + "': " + std::strerror(err));
    }
    at += size_t(w);
  }
  if (::close(fd) != 0) {
    std::remove(path.c_str());
    throw UsageError("cannot write '" + path + "': " + std::strerror(errno));
  }
}

} // namespace

void write_atomically(const std::string &path, const std::string &text) {
  const std::string tmp = path + ".tmp." + std::to_string(getpid());
  write_file(tmp, text); // removes what it made when it fails
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    throw UsageError("cannot write '" + path + "'");
  }
}

namespace {

// The descriptor a name stands for ("-", /dev/stdout, /dev/fd/N, ...), or -1.
int named_descriptor(const std::string &path) {
  if (path == "-" || path == "/dev/stdout") return STDOUT_FILENO;
  if (path == "/dev/stderr") return STDERR_FILENO;
  for (const char *prefix : {"/dev/fd/", "/proc/self/fd/"}) {
    const size_t n = std::strlen(prefix);
    if (path.compare(0, n, prefix) == 0 && path.size() > n &&
        path.find_first_not_of("0123456789", n) == std::string::npos && path.size() - n < 9)
      return std::atoi(path.c_str() + n);
  }
  return -1;
}

// Follows symlinks to the final name (which may not exist); relative
// targets are taken from the link's folder. Stops at a name that stands for
// an open descriptor (a link to /dev/stdout stays one). Gives up after 40.
std::string resolve_links(std::string p) {
  for (int hops = 0; hops < 40; ++hops) {
    if (named_descriptor(p) >= 0) return p;
    struct stat st;
    if (::lstat(p.c_str(), &st) != 0 || !S_ISLNK(st.st_mode)) return p;
    std::string target(4096, '\0');
    const ssize_t n = ::readlink(p.c_str(), target.data(), target.size());
    if (n <= 0) return p;
    target.resize(size_t(n));
    if (target[0] != '/') target = (fs::path(p).parent_path() / target).string();
    p = target;
  }
  throw UsageError("'" + p + "': too many symbolic links");
}

enum class Target { descriptor, in_place, replace };

Target classify(const std::string &path, std::string &final_name, const char *flag) {
  if (path.empty()) throw UsageError(std::string(flag) + " needs a file name");
  final_name = resolve_links(path);
  if (named_descriptor(final_name) >= 0) return Target::descriptor;
  struct stat st;
  if (::stat(final_name.c_str(), &st) != 0) {
    if (errno != ENOENT)
      throw UsageError(std::string(flag) + " '" + path + "': " + std::strerror(errno));
    const fs::path parent = fs::path(final_name).parent_path();
    std::error_code ec;
    if (!parent.empty() && !fs::is_directory(parent, ec))
      throw UsageError(std::string(flag) + " '" + path + "': the folder '" + parent.string() +
                       "' does not exist");
    return Target::replace;
  }
  if (S_ISREG(st.st_mode)) return Target::replace;
  if (S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode)) return Target::in_place;
  throw UsageError(std::string(flag) + " '" + path + "' is " +
                   (S_ISDIR(st.st_mode)   ? "a folder"
                    : S_ISBLK(st.st_mode) ? "a block device"
                                          : "not a file") +
                   "; give a file name");
}

// All of `text`; on a non-blocking descriptor (a FIFO) a reader that takes
// nothing for 60 s is an error, not a hang.
void write_fd(int fd, const std::string &text, const std::string &path, const char *flag) {
  size_t at = 0;
  while (at < text.size()) {
    const ssize_t w = ::write(fd, text.data() + at, text.size() - at);
    if (w > 0) {
      at += size_t(w);
      continue;
    }
    if (w < 0 && errno == EINTR) continue;
    if (w < 0 && errno == EAGAIN) {
      pollfd pf{fd, POLLOUT, 0};
      if (::poll(&pf, 1, 60000) > 0) continue;
      throw UsageError(std::string(flag) + " '" + path + "': the reader stopped reading");
    }
    throw UsageError(std::string(flag) + " '" + path + "': " + std::strerror(errno));
  }
}

} // namespace

void check_output(const std::string &path, const char *flag) {
  std::string final_name;
  classify(path, final_name, flag);
}

void write_output(const std::string &path, const std::string &text, const char *flag) {
  std::string final_name;
  switch (classify(path, final_name, flag)) {
  case Target::descriptor: {
    const int fd = named_descriptor(final_name);
    if (fd == STDOUT_FILENO) std::fflush(stdout);
    write_fd(fd, text, path, flag);
    return;
  }
  case Target::in_place: {
    // A FIFO with no reader would block the open: refuse instead.
    const int fd = ::open(final_name.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
      throw UsageError(std::string(flag) + " '" + path + "': " +
                       (errno == ENXIO ? "no process is reading this FIFO" : std::strerror(errno)));
    try {
      write_fd(fd, text, path, flag);
    } catch (...) {
      ::close(fd);
      throw;
    }
    ::close(fd);
    return;
  }
  case Target::replace: write_atomically(final_name, text); return;
  }
}

std::string folder_target(const std::string &dir) {
  std::string d = dir;
  while (d.size() > 1 && d.back() == '/') d.pop_back();
  return resolve_links(d);
}

void ensure_writable_folder(const std::string &given, const char *flag) {
  std::error_code ec;
  const std::string dir = folder_target(given);
  const fs::path p(dir);
  if (fs::exists(p, ec) && !fs::is_directory(p, ec))
    throw UsageError(std::string(flag) + " '" + dir + "' is a file, not a folder");
  fs::create_directories(p, ec);
  if (ec)
    throw UsageError("cannot create " + std::string(flag) + " '" + dir + "': " + ec.message());
  if (access(p.c_str(), W_OK | X_OK) != 0)
    throw UsageError(std::string(flag) + " '" + dir + "' is not writable");
}

void check_report_folder(const std::string &given, const char *flag) {
  std::error_code ec;
  const std::string dir = folder_target(given);
  const fs::path p(dir);
  if (fs::exists(p, ec)) {
    if (!fs::is_directory(p, ec))
      throw UsageError(std::string(flag) + " '" + dir + "' is a file, not a folder");
    const bool empty = fs::is_empty(p, ec);
    if (ec)
      throw UsageError("cannot read " + std::string(flag) + " '" + dir + "': " + ec.message());
    if (!empty && !fs::exists(p / "report.json", ec))
      throw UsageError(std::string(flag) + " '" + dir +
                       "' holds files that are not a softcheck report; give a new or empty folder");
  }
  fs::path parent = fs::absolute(p, ec).lexically_normal().parent_path();
  if (parent.empty()) parent = ".";
  if (!fs::is_directory(parent, ec))
    throw UsageError(std::string(flag) + " '" + dir + "': the folder '" + parent.string() +
                     "' does not exist");
  if (access(parent.c_str(), W_OK | X_OK) != 0)
    throw UsageError(std::string(flag) + " '" + dir + "': the folder '" + parent.string() +
                     "' is not writable");
}

void replace_report_folder(const std::string &given,
                           const std::vector<std::pair<std::string, std::string>> &files) {
  std::error_code ec;
  const std::string dir = folder_target(given);
  const fs::path target = fs::absolute(dir, ec).lexically_normal();
  const fs::path fresh = target.string() + ".tmp." + std::to_string(getpid());
  fs::remove_all(fresh, ec);
  fs::create_directories(fresh, ec);
  if (ec) throw UsageError("cannot create '" + fresh.string() + "': " + ec.message());
  try {
    for (const auto &[name, text] : files) {
      const fs::path p = fresh / name;
      fs::create_directories(p.parent_path(), ec);
      write_file(p.string(), text);
    }
  } catch (...) {
    fs::remove_all(fresh, ec);
    throw;
  }
  if (fs::exists(target, ec)) {
    if (renameat2(AT_FDCWD, fresh.c_str(), AT_FDCWD, target.c_str(), RENAME_EXCHANGE) != 0) {
      fs::remove_all(fresh, ec);
      throw UsageError("cannot replace '" + dir + "': " + std::strerror(errno));
    }
    fs::remove_all(fresh, ec); // now the old report
  } else if (std::rename(fresh.c_str(), target.c_str()) != 0) {
    fs::remove_all(fresh, ec);
    throw UsageError("cannot write '" + dir + "': " + std::strerror(errno));
  }
}

} // namespace softcheck::cli
