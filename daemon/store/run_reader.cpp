#include "store/run_reader.h"

#include <fmt/format.h>

namespace labtrace::store {

namespace {

// A search by channel finds a reading only through a run of its instrument whose channel
// set holds the reading's channel. count and channel_set must be whole numbers, as a
// search needs them (checked by the storage class SQLite reports).
constexpr const char* kSelectRuns =
    "SELECT first_sequence, count, instrument, channel_set FROM reading_runs ORDER BY first_sequence";
// Schema 4 (an archived copy) has runs without channel sets.
constexpr const char* kSelectRunsWithoutSets =
    "SELECT first_sequence, count, instrument FROM reading_runs ORDER BY first_sequence";
// SQLite's integrity_check compared this index with its table by one seek per run, the
// verifier's slowest step by far at millions of runs (docs/BENCHMARKS.md); stepping each
// set's runs in the index beside the table's own walk is linear. The count is forced
// through the index by its WHERE clause (a bare count(*) would count the table).
constexpr const char* kSelectIndexedRunsOfSet =
    "SELECT first_sequence FROM reading_runs INDEXED BY reading_runs_by_channel_set WHERE channel_set = ? "
    "ORDER BY channel_set, first_sequence";
constexpr const char* kCountIndexedRuns =
    "SELECT count(*) FROM reading_runs INDEXED BY reading_runs_by_channel_set "
    "WHERE channel_set IS NULL OR channel_set IS NOT NULL";

// Enough to keep both threads busy between hand-overs, little enough to stay in cache.
constexpr size_t kRunsPerBlock = 4096;
constexpr size_t kBlocksAhead = 4;

}  // namespace

Result<std::unique_ptr<RunReader>> RunReader::Start(Database db, const ChannelSets* sets, bool walk_index) {
  auto runs = db.Prepare(sets != nullptr ? kSelectRuns : kSelectRunsWithoutSets);
  if (!runs) return Error(runs.error());
  std::unique_ptr<RunReader> reader(new RunReader(std::move(db), std::move(*runs), sets, walk_index));
  reader->thread_ = std::thread([r = reader.get()] { r->ReadAhead(); });
  return reader;
}

RunReader::~RunReader() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  changed_.notify_all();
  if (thread_.joinable()) thread_.join();
}

Result<const StoredRun*> RunReader::Next() {
  if (next_ < taken_.size()) return &taken_[next_++];
  std::unique_lock lock(mutex_);
  if (!taken_.empty()) spare_.push_back(std::move(taken_));
  taken_.clear();
  changed_.wait(lock, [this] { return !full_.empty() || done_; });
  if (full_.empty()) {
    if (!failure_.ok()) return Error(failure_);
    return nullptr;
  }
  taken_ = std::move(full_.front());
  full_.pop_front();
  lock.unlock();
  changed_.notify_all();
  next_ = 0;
  return &taken_[next_++];
}

void RunReader::ReadAhead() {
  Status failure;
  for (bool more = true; more;) {
    Block block;
    {
      std::unique_lock lock(mutex_);
      changed_.wait(lock, [this] { return full_.size() < kBlocksAhead || stop_; });
      if (stop_) return;
      if (!spare_.empty()) {
        block = std::move(spare_.back());
        spare_.pop_back();
      }
    }
    block.clear();
    block.reserve(kRunsPerBlock);
    auto filled = Fill(block);
    if (!filled) failure = filled.error();
    more = filled && *filled;
    if (!more && failure.ok() && walk_index_) failure = CountIndexedRuns();
    {
      std::lock_guard lock(mutex_);
      if (!block.empty()) full_.push_back(std::move(block));
      done_ = !more;
      failure_ = failure;
    }
    changed_.notify_all();
  }
}

Result<bool> RunReader::Fill(Block& block) {
  while (block.size() < kRunsPerBlock) {
    auto row = runs_.Step();
    if (!row) return Error(row.error());
    if (!*row) return false;
    if (Status s = Read(block.emplace_back()); !s.ok()) return Error(s);
  }
  return true;
}

Status RunReader::Read(StoredRun& run) {
  ++runs_read_;
  // The storage classes are asked before the columns are read as numbers, which may
  // convert them.
  const bool whole = runs_.ColumnIsInteger(1) && (sets_ == nullptr || runs_.ColumnIsInteger(3));
  run.first = runs_.ColumnInt64(0);
  run.count = runs_.ColumnInt64(1);
  const std::string_view instrument = runs_.ColumnTextView(2);
  auto known = instruments_.find(instrument);
  if (known == instruments_.end()) known = instruments_.emplace(instrument).first;
  run.instrument = &*known;
  if (!whole && problem_.empty()) {
    problem_ = fmt::format("follows a run from {} whose count or channel set is not a whole number, which a "
                           "search matches to nothing: reading_runs was altered",
                           run.first);
  }
  run.set = nullptr;
  if (sets_ != nullptr) {
    const int64_t set_id = runs_.ColumnInt64(3);
    auto set = sets_->find(set_id);
    if (set != sets_->end()) {
      run.set = &set->second;
      if (walk_index_) {
        auto indexed = IndexHoldsRun(set_id, run.first);
        if (!indexed) return indexed.error();
        if (!*indexed && problem_.empty()) {
          problem_ = fmt::format("is in a run from {} that the index reading_runs_by_channel_set does not hold "
                                 "in its place, so a search by channel cannot find it: the index was altered "
                                 "apart from its table",
                                 run.first);
        }
      }
    } else if (problem_.empty()) {
      problem_ = fmt::format("follows a run from {} with channel set {}, which does not exist: reading_runs "
                             "was altered",
                             run.first, set_id);
    }
  }
  // Overlapping runs would make a search by channel return their readings twice.
  if (run.first < previous_end_ && problem_.empty()) {
    problem_ = fmt::format("follows runs that overlap (one from {}): reading_runs was altered", run.first);
  }
  previous_end_ = run.end();
  if (run.count <= 0 || previous_end_ == INT64_MAX) {
    problem_ = fmt::format("follows a run from {} of {} readings: reading_runs was altered", run.first, run.count);
  }
  run.problem = problem_;
  return OkStatus();
}

Result<bool> RunReader::IndexHoldsRun(int64_t set, int64_t first) {
  auto found = indexed_runs_of_set_.find(set);
  if (found == indexed_runs_of_set_.end()) {
    auto select = db_.Prepare(kSelectIndexedRunsOfSet);
    if (!select) return Error(select.error());
    select->BindInt64(1, set);
    found = indexed_runs_of_set_.emplace(set, std::move(*select)).first;
  }
  auto row = found->second.Step();
  if (!row) return Error(row.error());
  return *row && found->second.ColumnInt64(0) == first;
}

Status RunReader::CountIndexedRuns() {
  auto count = db_.Prepare(kCountIndexedRuns);
  if (!count) return count.error();
  if (auto row = count->Step(); !row) return row.error();
  indexed_runs_ = count->ColumnInt64(0);
  return OkStatus();
}

}  // namespace labtrace::store
