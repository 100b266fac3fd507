#include "store/reading_runs_check.h"

#include <algorithm>
#include <charconv>

#include <fmt/format.h>

namespace labtrace::store {

namespace {

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

Result<std::optional<ReadingRunsCheck>> ReadingRunsCheck::Open(Database& db, Database runs_db) {
  auto has_runs = HasTable(db, "reading_runs");
  if (!has_runs) return Error(has_runs.error());
  if (!*has_runs) return std::optional<ReadingRunsCheck>();
  auto has_sets = HasTable(db, "channel_sets");
  if (!has_sets) return Error(has_sets.error());
  std::optional<ReadingRunsCheck> check(ReadingRunsCheck{});
  if (*has_sets) {
    auto sets = LoadChannelSets(db, check->sets_problem_);
    if (!sets) return Error(sets.error());
    check->sets_ = std::make_unique<ChannelSets>(std::move(*sets));
    auto has_index = HasRunsIndex(db);
    if (!has_index) return Error(has_index.error());
    if (!*has_index && check->sets_problem_.empty()) {
      check->sets_problem_ = "the index reading_runs_by_channel_set is missing, so a search by channel finds nothing: "
                             "dropped outside labtrace";
    }
    // The index is stepped only in a store that has it (INDEXED BY fails otherwise).
    check->walks_index_ = *has_index;
  }
  auto reader = RunReader::Start(std::move(runs_db), check->sets_.get(), check->walks_index_);
  if (!reader) return Error(reader.error());
  check->reader_ = std::move(*reader);
  if (Status s = check->NextRun(); !s.ok()) return Error(s);
  return check;
}

// Each channel set's members, ascending, as channel_sets lists them; `problem` is set when
// channel_set_members, which a search goes by, does not hold exactly those. Ids are
// compared as SQL compares them: a member stored as text or a fraction ('2x', 1.5) would
// read here as a whole number yet match nothing in a search, so it is a problem itself.
Result<ChannelSets> ReadingRunsCheck::LoadChannelSets(Database& db, std::string& problem) {
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
  while (run_ != nullptr && run_->end() <= sequence) {
    if (Status s = NextRun(); !s.ok()) return s;
  }
  in_run_ = run_ != nullptr && run_->first <= sequence && *run_->instrument == instrument &&
            (run_->set == nullptr || std::binary_search(run_->set->begin(), run_->set->end(), channel_id));
  return OkStatus();
}

std::string ReadingRunsCheck::Problem(std::string_view description) const {
  if (run_ != nullptr && !run_->problem.empty()) return run_->problem;
  if (in_run_) return "";
  return fmt::format("({}) is in no run of its instrument whose channel set holds its channel, so a search by "
                     "channel cannot find it: reading_runs or channel_sets was altered",
                     description);
}

Result<std::string> ReadingRunsCheck::BeyondTheReadings() {
  if (run_ != nullptr && run_->first <= last_sequence_) {  // the run of the last reading
    if (run_->end() > last_sequence_ + 1) {
      return fmt::format("the run of readings from {} claims {} readings, more than there are: reading_runs "
                         "was altered",
                         run_->first, run_->count);
    }
    if (Status s = NextRun(); !s.ok()) return Error(s);
  }
  if (run_ != nullptr) {
    if (!run_->problem.empty()) return run_->problem;
    return fmt::format("reading_runs has a run from {} after the last reading: added outside labtrace", run_->first);
  }
  if (!walks_index_) return std::string();
  // Each run was found in the index as the next of its set; the index holding no more
  // entries than that makes it hold exactly the table's runs.
  if (reader_->indexed_runs() != reader_->runs_read()) {
    return fmt::format("the index reading_runs_by_channel_set holds {} runs where reading_runs holds {}, so a search "
                       "by channel finds runs that are not there: the index was altered apart from its table",
                       reader_->indexed_runs(), reader_->runs_read());
  }
  return std::string();
}

Status ReadingRunsCheck::NextRun() {
  auto run = reader_->Next();
  if (!run) return run.error();
  run_ = *run;
  return OkStatus();
}

}  // namespace labtrace::store
