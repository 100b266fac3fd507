#include "store/reading_runs_check.h"

#include <algorithm>
#include <charconv>

#include <fmt/format.h>

namespace labtrace::store {

namespace {

// A search by channel finds a reading only through a run of its instrument whose channel
// set holds the reading's channel. The last column: whether count and channel_set are
// whole numbers, as a search needs them.
constexpr const char* kSelectRuns =
    "SELECT first_sequence, count, instrument, channel_set, "
    "typeof(count) = 'integer' AND typeof(channel_set) = 'integer' FROM reading_runs ORDER BY first_sequence";
// Schema 4 (an archived copy) has runs without channel sets.
constexpr const char* kSelectRunsWithoutSets =
    "SELECT first_sequence, count, instrument, NULL, typeof(count) = 'integer' FROM reading_runs "
    "ORDER BY first_sequence";
constexpr const char* kSelectChannelSets = "SELECT set_id, channel_ids FROM channel_sets ORDER BY set_id";
constexpr const char* kSelectChannelSetMembers =
    "SELECT set_id, channel_id, typeof(set_id) = 'integer' AND typeof(channel_id) = 'integer' "
    "FROM channel_set_members ORDER BY set_id, channel_id";
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
constexpr const char* kHasTable = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?";
constexpr const char* kHasRunsIndex =
    "SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = 'reading_runs_by_channel_set' "
    "AND tbl_name = 'reading_runs'";

Result<bool> HasTable(Database& db, const char* name) {
  auto has = db.Prepare(kHasTable);
  if (!has) return Error(has.error());
  has->BindText(1, name);
  return has->Step();
}

Result<bool> HasRunsIndex(Database& db) {
  auto has = db.Prepare(kHasRunsIndex);
  if (!has) return Error(has.error());
  return has->Step();
}

}  // namespace

Result<std::optional<ReadingRunsCheck>> ReadingRunsCheck::Open(Database& db) {
  auto has_runs = HasTable(db, "reading_runs");
  if (!has_runs) return Error(has_runs.error());
  if (!*has_runs) return std::optional<ReadingRunsCheck>();
  auto has_sets = HasTable(db, "channel_sets");
  if (!has_sets) return Error(has_sets.error());
  auto runs = db.Prepare(*has_sets ? kSelectRuns : kSelectRunsWithoutSets);
  if (!runs) return Error(runs.error());
  std::optional<ReadingRunsCheck> check(ReadingRunsCheck(std::move(*runs)));
  if (*has_sets) {
    auto sets = LoadChannelSets(db, check->sets_problem_);
    if (!sets) return Error(sets.error());
    check->sets_.emplace(std::move(*sets));
    auto has_index = HasRunsIndex(db);
    if (!has_index) return Error(has_index.error());
    if (!*has_index && check->sets_problem_.empty()) {
      check->sets_problem_ = "the index reading_runs_by_channel_set is missing, so a search by channel finds nothing: "
                             "dropped outside labtrace";
    }
    // The index is stepped only in a store that has it (INDEXED BY fails otherwise).
    if (*has_index) check->db_ = &db;
  }
  if (Status s = check->NextRun(); !s.ok()) return Error(s);
  return check;
}

// Each channel set's members, ascending, as channel_sets lists them; `problem` is set when
// channel_set_members, which a search goes by, does not hold exactly those. Ids are
// compared as SQL compares them: a member stored as text or a fraction ('2x', 1.5) would
// read here as a whole number yet match nothing in a search, so it is a problem itself.
Result<ReadingRunsCheck::ChannelSets> ReadingRunsCheck::LoadChannelSets(Database& db, std::string& problem) {
  auto note = [&problem](std::string found) {
    if (problem.empty()) problem = std::move(found);
  };
  ChannelSets sets, members;
  auto select = db.Prepare(kSelectChannelSets);
  if (!select) return Error(select.error());
  for (;;) {
    auto row = select->Step();
    if (!row) return Error(row.error());
    if (!*row) break;
    const int64_t set = select->ColumnInt64(0);
    const std::string text = select->ColumnText(1);
    std::vector<int64_t>& ids = sets[set];
    // The writer lists them ascending; the order is not what a search depends on.
    const char* at = text.data();
    const char* end = text.data() + text.size();
    while (at < end) {
      int64_t id = 0;
      auto [next, error] = std::from_chars(at, end, id);
      if (error != std::errc() || (next != end && *next != ',')) {
        note(fmt::format("channel set {} lists \"{}\", which are not channel ids: altered", set, text));
        break;
      }
      ids.push_back(id);
      at = next + (next != end);
    }
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  }
  auto select_members = db.Prepare(kSelectChannelSetMembers);
  if (!select_members) return Error(select_members.error());
  for (;;) {
    auto row = select_members->Step();
    if (!row) return Error(row.error());
    if (!*row) break;
    if (select_members->ColumnInt64(2) == 0) {
      note(fmt::format("channel_set_members holds a member of set {} that is not a whole number, which a search "
                       "matches to nothing: altered",
                       select_members->ColumnText(0)));
    }
    members[select_members->ColumnInt64(0)].push_back(select_members->ColumnInt64(1));
  }
  for (auto& [set, ids] : members) std::sort(ids.begin(), ids.end());
  const std::vector<int64_t> none;
  for (const auto& [set, ids] : sets) {
    auto found = members.find(set);
    if ((found == members.end() ? none : found->second) != ids) {
      note(fmt::format("channel_set_members does not hold the channels of channel set {}, so a search by channel "
                       "misses its readings: altered",
                       set));
    }
  }
  for (const auto& [set, ids] : members) {
    if (sets.count(set) == 0) {
      note(fmt::format("channel_set_members names channel set {}, which does not exist: altered", set));
    }
  }
  return sets;
}

Status ReadingRunsCheck::Advance(int64_t sequence, std::string_view instrument, int64_t channel_id) {
  // Runs before this reading are behind us; the run at the front must hold it.
  last_sequence_ = sequence;
  while (has_run_ && run_first_ + run_count_ <= sequence) {
    if (Status s = NextRun(); !s.ok()) return s;
  }
  in_run_ = has_run_ && run_first_ <= sequence && run_instrument_ == instrument &&
            (run_set_ == nullptr || std::binary_search(run_set_->begin(), run_set_->end(), channel_id));
  return OkStatus();
}

std::string ReadingRunsCheck::Problem(std::string_view description) const {
  if (!run_problem_.empty()) return run_problem_;
  if (in_run_) return "";
  return fmt::format("({}) is in no run of its instrument whose channel set holds its channel, so a search by "
                     "channel cannot find it: reading_runs or channel_sets was altered",
                     description);
}

Result<bool> ReadingRunsCheck::IndexHoldsRun(int64_t set) {
  auto found = indexed_runs_.find(set);
  if (found == indexed_runs_.end()) {
    auto select = db_->Prepare(kSelectIndexedRunsOfSet);
    if (!select) return Error(select.error());
    select->BindInt64(1, set);
    found = indexed_runs_.emplace(set, std::move(*select)).first;
  }
  auto row = found->second.Step();
  if (!row) return Error(row.error());
  return *row && found->second.ColumnInt64(0) == run_first_;
}

Result<std::string> ReadingRunsCheck::BeyondTheReadings() {
  if (has_run_ && run_first_ <= last_sequence_) {  // the run of the last reading
    if (run_first_ + run_count_ > last_sequence_ + 1) {
      return fmt::format("the run of readings from {} claims {} readings, more than there are: reading_runs "
                         "was altered",
                         run_first_, run_count_);
    }
    if (Status s = NextRun(); !s.ok()) return Error(s);
  }
  if (!run_problem_.empty()) return run_problem_;
  if (has_run_) {
    return fmt::format("reading_runs has a run from {} after the last reading: added outside labtrace", run_first_);
  }
  if (db_ == nullptr) return std::string();
  // Each run was found in the index as the next of its set; the index holding no more
  // entries than that makes it hold exactly the table's runs.
  auto count = db_->Prepare(kCountIndexedRuns);
  if (!count) return Error(count.error());
  if (auto row = count->Step(); !row) return Error(row.error());
  if (count->ColumnInt64(0) != runs_read_) {
    return fmt::format("the index reading_runs_by_channel_set holds {} runs where reading_runs holds {}, so a search "
                       "by channel finds runs that are not there: the index was altered apart from its table",
                       count->ColumnInt64(0), runs_read_);
  }
  return std::string();
}

Status ReadingRunsCheck::NextRun() {
  const int64_t previous_end = has_run_ ? run_first_ + run_count_ : 0;
  auto row = runs_.Step();
  if (!row) return row.error();
  has_run_ = *row;
  if (!has_run_) return OkStatus();
  ++runs_read_;
  run_first_ = runs_.ColumnInt64(0);
  run_count_ = runs_.ColumnInt64(1);
  run_instrument_.assign(runs_.ColumnTextView(2));  // its capacity reused: one run per reading at worst
  if (runs_.ColumnInt64(4) == 0 && run_problem_.empty()) {
    run_problem_ = fmt::format("follows a run from {} whose count or channel set is not a whole number, which a "
                               "search matches to nothing: reading_runs was altered",
                               run_first_);
  }
  run_set_ = nullptr;
  if (sets_) {
    auto set = sets_->find(runs_.ColumnInt64(3));
    if (set != sets_->end()) {
      run_set_ = &set->second;
      if (db_ != nullptr) {
        auto indexed = IndexHoldsRun(set->first);
        if (!indexed) return indexed.error();
        if (!*indexed && run_problem_.empty()) {
          run_problem_ = fmt::format("is in a run from {} that the index reading_runs_by_channel_set does not hold "
                                     "in its place, so a search by channel cannot find it: the index was altered "
                                     "apart from its table",
                                     run_first_);
        }
      }
    } else if (run_problem_.empty()) {
      run_problem_ = fmt::format("follows a run from {} with channel set {}, which does not exist: reading_runs "
                                 "was altered",
                                 run_first_, runs_.ColumnInt64(3));
    }
  }
  // Overlapping runs would make a search by channel return their readings twice.
  if (run_first_ < previous_end && run_problem_.empty()) {
    run_problem_ = fmt::format("follows runs that overlap (one from {}): reading_runs was altered", run_first_);
  }
  if (run_count_ <= 0 || run_count_ > INT64_MAX - run_first_) {
    run_problem_ = fmt::format("follows a run from {} of {} readings: reading_runs was altered", run_first_,
                               run_count_);
  }
  return OkStatus();
}

}  // namespace labtrace::store
