#include "files.hpp"
#include "parse.hpp"

#include <cstdio>
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

void replace_folder(const std::string &dir,
                    const std::vector<std::pair<std::string, std::string>> &files) {
  const std::string pid = std::to_string(getpid());
  const fs::path target(dir), fresh = target.string() + ".tmp." + pid,
      old = target.string() + ".old." + pid;
  std::error_code ec;
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
  const bool had = fs::exists(target, ec);
  if (had && std::rename(target.c_str(), old.c_str()) != 0) {
    fs::remove_all(fresh, ec);
    throw UsageError("cannot replace '" + dir + "'");
  }
  if (std::rename(fresh.c_str(), target.c_str()) != 0) {
    if (had) std::rename(old.c_str(), target.c_str());
    fs::remove_all(fresh, ec);
    throw UsageError("cannot replace '" + dir + "'");
  }
  if (had) fs::remove_all(old, ec);
}

void ensure_writable_folder(const std::string &dir, const char *flag) {
  std::error_code ec;
  const fs::path p(dir);
  if (fs::exists(p, ec) && !fs::is_directory(p, ec))
    throw UsageError(std::string(flag) + " '" + dir + "' is a file, not a folder");
  fs::create_directories(p, ec);
  if (ec) throw UsageError("cannot create " + std::string(flag) + " '" + dir + "': " + ec.message());
  if (access(p.c_str(), W_OK | X_OK) != 0)
    throw UsageError(std::string(flag) + " '" + dir + "' is not writable");
}

} // namespace softcheck::cli
