// Part of offline verification (verifier.h): reading_runs read ahead, in sequence order,
// on a thread and a read-only connection of their own, and handed to ReadingRunsCheck in
// blocks. With one run per reading at worst, stepping the runs and their index beside the
// readings was a third of what SQLite did in a verify; here it runs on the second core.
//
// Each run is checked here on its own and against the one before (whole numbers, a set
// that exists, its place in the index reading_runs_by_channel_set, no overlap); whether it
// holds the readings is ReadingRunsCheck's part. The connection must read the same
// snapshot as the verifier's (SameSnapshot, verifier.cpp). The thread is started by Start
// and stopped and joined by the destructor; Next() is for one consumer thread.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_set>
#include <vector>

#include "labtrace/status.h"
#include "store/sqlite.h"

namespace labtrace::store {

// Each channel set's channel ids, ascending, by set id.
using ChannelSets = std::map<int64_t, std::vector<int64_t>>;

struct StoredRun {
  int64_t first = 0, count = 0;
  // One past its last reading (for a count too large to add, the largest sequence).
  int64_t end() const {
    int64_t sum = 0;
    return __builtin_add_overflow(first, count, &sum) ? (count > 0 ? INT64_MAX : INT64_MIN) : sum;
  }
  // Owned by the RunReader, the same pointer for every run of one instrument.
  const std::string* instrument = nullptr;
  // The run's channels, from the ChannelSets given to Start; nullptr without sets or when
  // the set does not exist (then `problem` says so).
  const std::vector<int64_t>* set = nullptr;
  // The first thing found wrong with the runs up to this one, in words ("follows a run
  // from …"), or "".
  std::string problem;
};

class RunReader {
 public:
  // Starts reading `db`'s runs. `sets` (read by the thread, so unchanged while it lives):
  // a store's channel sets, or nullptr in a store of schema 4, whose runs have none.
  // `walk_index`: step the index of runs by channel set beside the table.
  static Result<std::unique_ptr<RunReader>> Start(Database db, const ChannelSets* sets, bool walk_index);
  RunReader(const RunReader&) = delete;
  RunReader& operator=(const RunReader&) = delete;
  ~RunReader();

  // The next run, valid until the next call; nullptr after the last.
  Result<const StoredRun*> Next();
  // Once Next() has returned nullptr: how many runs there are, and how many entries the
  // index holds (walk_index only).
  int64_t runs_read() const { return runs_read_; }
  int64_t indexed_runs() const { return indexed_runs_; }

 private:
  using Block = std::vector<StoredRun>;

  RunReader(Database db, Statement runs, const ChannelSets* sets, bool walk_index)
      : db_(std::move(db)), runs_(std::move(runs)), sets_(sets), walk_index_(walk_index) {}

  // On the thread.
  void ReadAhead();
  // Reads into `block` up to its capacity; false after the last run.
  Result<bool> Fill(Block& block);
  Status Read(StoredRun& run);
  // Whether the index holds the run from `first` as the next of set `set`.
  Result<bool> IndexHoldsRun(int64_t set, int64_t first);
  Status CountIndexedRuns();

  // The thread's alone until it is joined.
  Database db_;
  Statement runs_;
  const ChannelSets* const sets_;
  const bool walk_index_;
  std::map<int64_t, Statement> indexed_runs_of_set_;
  // Looked up by the row's text without making a string of it (one run per reading, at worst).
  struct TextHash {
    using is_transparent = void;
    size_t operator()(std::string_view text) const { return std::hash<std::string_view>{}(text); }
  };
  std::unordered_set<std::string, TextHash, std::equal_to<>> instruments_;
  std::string problem_;
  int64_t previous_end_ = 0;
  int64_t runs_read_ = 0, indexed_runs_ = 0;

  // Shared, under mutex_.
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<Block> full_;
  std::vector<Block> spare_;
  bool done_ = false, stop_ = false;
  Status failure_;

  // The consumer's.
  Block taken_;
  size_t next_ = 0;
  std::thread thread_;
};

}  // namespace labtrace::store
