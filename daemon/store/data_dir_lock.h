// One store per data directory at a time: an exclusive flock on <data_dir>/labtrace.lock,
// held by the RecordStore for its whole life. Two writers on one file would each keep
// their own idea of the ledger's frontier and chain, and the second to commit would break
// the chain; SQLite's own locks serialise commits but cannot prevent that.
//
// flock locks belong to an open file description, so a second Take in the same process
// (which opens the file anew) is refused like one from another process; the lock goes
// away with the process, so a crashed daemon leaves nothing to clean up.
#pragma once

#include <string>
#include <utility>

#include "labtrace/status.h"

namespace labtrace::store {

class DataDirLock {
 public:
  static constexpr const char* kFileName = "labtrace.lock";

  // The lock, or FailedPrecondition when another store holds it.
  static Result<DataDirLock> Take(const std::string& data_dir);

  DataDirLock(DataDirLock&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  DataDirLock& operator=(DataDirLock&&) = delete;
  ~DataDirLock();

 private:
  explicit DataDirLock(int fd) : fd_(fd) {}
  int fd_;
};

}  // namespace labtrace::store
