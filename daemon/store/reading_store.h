// The embedded store of readings: one SQLite file in WAL mode.
//
// Writing: any thread hands readings to Append(); one writer thread owns the write
// connection and group-commits what has arrived within a bounded window (kCommitWindow
// or kMaxBatch readings, whichever comes first), with synchronous=FULL, so a crash
// loses at most one window of polled readings and never corrupts the file.
// Reading: Query() opens its own read-only connection per call, so the API's queries
// never wait for, or block, the writer.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "labtrace/api.pb.h"
#include "labtrace/reading.pb.h"
#include "labtrace/status.h"
#include "store/sqlite.h"

namespace labtrace::store {

inline constexpr auto kCommitWindow = std::chrono::milliseconds(20);
inline constexpr size_t kMaxBatch = 1000;
// The most readings one query returns; the answer says when it was cut.
inline constexpr size_t kMaxQueryRows = 10000;

class ReadingStore {
 public:
  // Opens (creating if needed) `data_dir`/labtrace.db and brings its schema up to date.
  static Result<std::unique_ptr<ReadingStore>> Open(const std::string& data_dir);
  ~ReadingStore();  // commits what is pending, then stops the writer

  // Thread-safe. Readings are committed within kCommitWindow; sequence numbers are
  // assigned at commit.
  void Append(std::vector<Reading> readings);

  // Called on the writer thread after each commit, with the committed count and the
  // last sequence number. For logging.
  void OnCommit(std::function<void(size_t, uint64_t)> callback) { on_commit_ = std::move(callback); }

  // Waits until everything appended so far is committed (or failed). For shutdown and tests.
  void Flush();

  // Safe from any thread.
  Result<api::ReadingsResponse> Query(const api::ReadingsQuery& query) const;

  const std::string& path() const { return path_; }

 private:
  ReadingStore(std::string path, Database db) : path_(std::move(path)), db_(std::move(db)) {}
  void WriterLoop();
  Status CommitBatch(std::vector<Reading>& batch, uint64_t& last_sequence);
  Result<int64_t> ChannelId(const Reading& reading);

  std::string path_;
  Database db_;  // the writer's; touched only on the writer thread after Open()
  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable flushed_;
  std::deque<Reading> pending_;
  uint64_t appended_ = 0, done_ = 0;
  bool stopping_ = false;
  std::function<void(size_t, uint64_t)> on_commit_;
  std::thread writer_;
};

}  // namespace labtrace::store
