#include "store/data_dir_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include <fmt/format.h>

namespace labtrace::store {

Result<DataDirLock> DataDirLock::Take(const std::string& data_dir) {
  const std::string path = (std::filesystem::path(data_dir) / kFileName).string();
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    return Error(Unavailable(fmt::format("cannot open {}: {}; check the data directory's permissions", path,
                                         std::strerror(errno))));
  }
  int locked;
  do {
    locked = ::flock(fd, LOCK_EX | LOCK_NB);
  } while (locked != 0 && errno == EINTR);
  if (locked != 0) {
    const int error = errno;
    ::close(fd);
    if (error == EWOULDBLOCK) {
      return Error(FailedPrecondition(fmt::format(
          "labtraced (or another labtrace tool) is using {}; stop it first, or use the API", data_dir)));
    }
    return Error(Unavailable(fmt::format("cannot lock {}: {}", path, std::strerror(error))));
  }
  return DataDirLock(fd);
}

DataDirLock::~DataDirLock() {
  if (fd_ >= 0) ::close(fd_);  // releases the flock
}

}  // namespace labtrace::store
