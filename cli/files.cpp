#include "files.hpp"
#include "parse.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <system_error>
#include <unistd.h>

namespace fs = std::filesystem;

namespace softcheck::cli {
namespace {

void write_file(const std::string &path, const std::string &text) {
  std::ofstream out(path, std::ios::binary);
  if (!out) throw UsageError("cannot write '" + path + "'");
  out << text;
  out.flush();
  if (!out) throw UsageError("cannot write '" + path + "' (disk full?)");
}

} // namespace

void write_atomically(const std::string &path, const std::string &text) {
  const std::string tmp = path + ".tmp." + std::to_string(getpid());
  try {
    write_file(tmp, text);
  } catch (...) {
    std::remove(tmp.c_str());
    throw;
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    throw UsageError("cannot write '" + path + "'");
  }
}

void ensure_writable_folder(const std::string &dir, const char *flag) {
  std::error_code ec;
  const fs::path p(dir);
  if (fs::exists(p, ec) && !fs::is_directory(p, ec))
    throw UsageError(std::string(flag) + " '" + dir + "' is a file, not a folder");
  fs::create_directories(p, ec);
  if (ec)
    throw UsageError("cannot create " + std::string(flag) + " '" + dir + "': " + ec.message());
  if (access(p.c_str(), W_OK | X_OK) != 0)
    throw UsageError(std::string(flag) + " '" + dir + "' is not writable");
}

void check_report_folder(const std::string &dir, const char *flag) {
  std::error_code ec;
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

void replace_report_folder(const std::string &dir,
                           const std::vector<std::pair<std::string, std::string>> &files) {
  std::error_code ec;
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
