#include <softcheck/read.hpp>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace softcheck {

std::string read_bounded(const std::string &path, size_t max_bytes, bool text) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw ReadError("cannot read '" + path + "': " + std::strerror(errno));
  struct stat st;
  if (::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
    ::close(fd);
    throw ReadError("'" + path + "' is a folder");
  }
  std::string out;
  char buf[1 << 16];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      ::close(fd);
      throw ReadError("cannot read '" + path + "': " + std::strerror(err));
    }
    if (n == 0) break;
    if (out.size() + size_t(n) > max_bytes) {
      ::close(fd);
      throw ReadError("'" + path + "' is larger than " + std::to_string(max_bytes >> 20) +
                      " MiB (the most softcheck reads)");
    }
    out.append(buf, size_t(n));
  }
  ::close(fd);
  if (text && out.find('\0') != std::string::npos)
    throw ReadError("'" + path + "' holds a NUL byte (not a text file)");
  return out;
}

} // namespace softcheck
