// The watched folders of result files: for each instrument with a result-file profile,
// its folder is looked at every `period`, and each file that has stopped growing is
// imported whole or refused whole:
//   - read and parsed (result_import.h); refused: moved to rejected/ with FILE.reason
//     beside it (line, column and what is wrong), an audit event, nothing stored;
//   - stored as one upload (one durable commit) keyed by its SHA-256, then moved to
//     imported/; the same content again is stored once: the copy goes to imported/ too,
//     with FILE.duplicate saying which readings hold it;
//   - when the store cannot commit (disk full, I/O error), left where it is and tried
//     again at the next look.
// Files whose name starts with "." or ends in ".part" or ".tmp" are being written and
// are left alone. Polled, not inotify: docs/DECISIONS.md, "Result files".
//
// Owned by main; the timer runs on the daemon's io_context, the file work (reading,
// hashing, parsing, waiting for the commit, moving) on a worker thread of its own, so a
// large file never stalls acquisition.
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>

#include "labtrace/config.pb.h"
#include "labtrace/status.h"
#include "store/record_store.h"

namespace labtrace::result_files {

inline constexpr std::chrono::milliseconds kDefaultLookEvery{1000};

class ResultFolders {
 public:
  // Makes each folder (and its imported/ and rejected/) if missing; a relative folder is
  // under `data_dir`. `lab` and `store` must outlive this.
  static Result<std::unique_ptr<ResultFolders>> Create(boost::asio::io_context& io, const config::Lab& lab,
                                                       const std::string& data_dir, store::RecordStore& store,
                                                       std::chrono::milliseconds period = kDefaultLookEvery);
  ~ResultFolders();

  void Start();
  void Stop();
  size_t folders() const { return folders_.size(); }

 private:
  struct Folder {
    const config::Instrument* instrument;
    std::filesystem::path path;
    // What each waiting file looked like at the last look: imported once it is the same
    // at the next one (the instrument's software has finished writing it).
    std::map<std::string, std::pair<uintmax_t, std::filesystem::file_time_type>> seen;
  };

  ResultFolders(boost::asio::io_context& io, store::RecordStore& store, std::chrono::milliseconds period)
      : io_(io), store_(store), period_(period), timer_(io) {}

  boost::asio::awaitable<void> Watch();
  boost::asio::awaitable<void> LookOnWorker();
  // One look at every folder; on the worker.
  void Look();
  void Import(const Folder& folder, const std::filesystem::path& file);
  // Moves a refused file to rejected/ with its reason, and puts the refusal on the trail.
  void Reject(const Folder& folder, const std::filesystem::path& file, const std::string& sha256,
              const std::string& reason);

  boost::asio::io_context& io_;
  store::RecordStore& store_;
  std::chrono::milliseconds period_;
  boost::asio::steady_timer timer_;
  bool stopping_ = false;  // io_context thread
  std::vector<Folder> folders_;  // touched on the worker only, once started
  boost::asio::thread_pool worker_{1};
};

}  // namespace labtrace::result_files
