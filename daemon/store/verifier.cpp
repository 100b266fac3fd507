#include "store/verifier.h"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <map>
#include <optional>
#include <vector>

#include <fmt/format.h>

#include "store/audit_row.h"
#include "store/reading_row.h"
#include "store/record_bytes.h"
#include "store/signing_key.h"
#include "store/sqlite.h"

namespace labtrace::store {

namespace {

// The reading's columns, then whether its channel row is missing, then its channel id.
constexpr const char* kSelectReadings =
    "SELECT " LABTRACE_READING_COLUMNS ", c.channel_id IS NULL, r.channel_id "
    "FROM readings r LEFT JOIN channels c ON c.channel_id = r.channel_id ORDER BY r.sequence";
// Walked beside the readings: a search by channel finds a reading only through a run of
// its instrument whose channel set holds the reading's channel.
// The last column: whether count and channel_set are whole numbers, as a search needs them.
constexpr const char* kSelectRuns =
    "SELECT first_sequence, count, instrument, channel_set, "
    "typeof(count) = 'integer' AND typeof(channel_set) = 'integer' FROM reading_runs ORDER BY first_sequence";
// Schema 4 (an archived copy) has runs without channel sets.
constexpr const char* kSelectRunsWithoutSets =
    "SELECT first_sequence, count, instrument, NULL, typeof(count) = 'integer' FROM reading_runs "
    "ORDER BY first_sequence";
constexpr const char* kSelectChannelSets = "SELECT set_id, channel_ids FROM channel_sets";
constexpr const char* kSelectChannelSetMembers =
    "SELECT set_id, channel_id, typeof(set_id) = 'integer' AND typeof(channel_id) = 'integer' "
    "FROM channel_set_members";
constexpr const char* kSelectAuditEvents = "SELECT " LABTRACE_AUDIT_COLUMNS " FROM audit_events ORDER BY event_id";
constexpr const char* kSelectCalibrations =
    "SELECT record_id, record, certificate_number, unit_under_test, performed_at_ns FROM calibration_records "
    "ORDER BY record_id";
constexpr const char* kSelectBatches =
    "SELECT batch_id, first_leaf, leaf_count, record_kind, first_record_id, leaf_hashes, batch_root, tree_root, "
    "chain_hash FROM batches ORDER BY batch_id";
constexpr const char* kSelectCheckpoints =
    "SELECT checkpoint_id, tree_size, root_hash, time_ns, public_key, signature FROM checkpoints "
    "ORDER BY checkpoint_id";
struct StoredBatch {
  int64_t id;
  uint64_t first_leaf, leaf_count;
  int64_t record_kind, first_record_id;
  std::string batch_root, tree_root, chain;
};

struct StoredCheckpoint {
  int64_t id;
  Checkpoint checkpoint;
};

Result<bool> HasTable(Database& db, const char* name) {
  auto has = db.Prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?");
  if (!has) return Error(has.error());
  has->BindText(1, name);
  return has->Step();
}

// Each channel set's members, ascending, as channel_sets lists them; `problem` is set when
// channel_set_members, which a search goes by, does not hold exactly those. Ids are
// compared as SQL compares them: a member stored as text or a fraction ('2x', 1.5) would
// read here as a whole number yet match nothing in a search, so it is a problem itself.
using ChannelSets = std::map<int64_t, std::vector<int64_t>>;
Result<ChannelSets> LoadChannelSets(Database& db, std::string& problem) {
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

std::string AsString(const Hash& h) { return std::string(reinterpret_cast<const char*>(h.data()), h.size()); }

std::string FormatTime(int64_t ns) {
  const std::time_t t = static_cast<std::time_t>(ns / 1'000'000'000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                     tm.tm_min, tm.tm_sec);
}

// The records of one kind, in id order, each with the bytes its leaf hash covers.
class RecordCursor {
 public:
  struct Record {
    std::string bytes;
    std::string description;  // for messages: "balance-xs205/mass, requested …"
    std::string problem;      // set when the row is inconsistent on its own
  };

  static Result<RecordCursor> Open(Database& db, RecordKind kind) {
    const char* sql = kind == RecordKind::kReading      ? kSelectReadings
                      : kind == RecordKind::kAuditEvent ? kSelectAuditEvents
                                                        : kSelectCalibrations;
    auto statement = db.Prepare(sql);
    if (!statement) return Error(statement.error());
    RecordCursor cursor(kind, std::move(*statement));
    if (kind == RecordKind::kReading) {
      // A store from before schema 4 (an archived copy: verify never migrates) has no
      // runs, and one from schema 4 no channel sets.
      auto has_runs = HasTable(db, "reading_runs");
      if (!has_runs) return Error(has_runs.error());
      auto has_sets = HasTable(db, "channel_sets");
      if (!has_sets) return Error(has_sets.error());
      if (*has_sets) {
        auto sets = LoadChannelSets(db, cursor.sets_problem_);
        if (!sets) return Error(sets.error());
        cursor.sets_.emplace(std::move(*sets));
      }
      if (*has_runs) {
        auto runs = db.Prepare(*has_sets ? kSelectRuns : kSelectRunsWithoutSets);
        if (!runs) return Error(runs.error());
        cursor.runs_.emplace(std::move(*runs));
        if (Status s = cursor.NextRun(); !s.ok()) return Error(s);
      }
    }
    if (Status s = cursor.Next(); !s.ok()) return Error(s);
    return cursor;
  }

  const char* noun() const {
    return kind_ == RecordKind::kReading ? "reading" : kind_ == RecordKind::kAuditEvent ? "audit event"
                                                                                        : "calibration record";
  }
  bool has_row() const { return has_row_; }
  // Readings only: what is wrong with the channel sets as a whole, or "".
  const std::string& sets_problem() const { return sets_problem_; }
  int64_t id() const { return statement_.ColumnInt64(0); }
  Status Next() {
    auto row = statement_.Step();
    if (!row) return row.error();
    has_row_ = *row;
    if (!has_row_ || !runs_) return OkStatus();
    // Runs before this reading are behind us; the run at the front must hold it.
    const int64_t sequence = last_sequence_ = id();
    while (has_run_ && run_first_ + run_count_ <= sequence) {
      if (Status s = NextRun(); !s.ok()) return s;
    }
    in_run_ = has_run_ && run_first_ <= sequence && run_instrument_ == statement_.ColumnText(1) &&
              (run_set_ == nullptr ||
               std::binary_search(run_set_->begin(), run_set_->end(), statement_.ColumnInt64(kReadingColumnCount + 1)));
    return OkStatus();
  }

  // After the last reading: a run that claims more readings than there are (a run added
  // there would also make the daemon's next run clash with it), or "" if none.
  Result<std::string> RunsBeyondTheReadings() {
    if (!runs_) return std::string();
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
      return fmt::format("reading_runs has a run from {} after the last reading: added outside labtrace",
                         run_first_);
    }
    return std::string();
  }

  Record Current() const {
    Record record;
    if (kind_ == RecordKind::kReading) {
      const Reading reading = ReadingFromRow(statement_);
      record.bytes = ReadingRecordBytes(CanonicalReading(reading));
      record.description = fmt::format("{}/{}, requested {}", reading.instrument(), reading.channel(),
                                       FormatTime(reading.requested_at_ns()));
      if (statement_.ColumnInt64(kReadingColumnCount) != 0) {
        record.problem = "names a channel that is missing: deleted";
      } else if (!run_problem_.empty()) {
        record.problem = run_problem_;
      } else if (runs_ && !in_run_) {
        record.problem = fmt::format("({}) is in no run of its instrument whose channel set holds its channel, so a "
                                     "search by channel cannot find it: reading_runs or channel_sets was altered",
                                     record.description);
      }
    } else if (kind_ == RecordKind::kAuditEvent) {
      const AuditEvent event = AuditEventFromRow(statement_);
      record.bytes = AuditEventRecordBytes(event);
      record.description = fmt::format("{} {} by {}", event.action(), event.entity(), event.actor());
    } else {
      // The leaf covers the stored protobuf; the lookup columns beside it must agree with it.
      record.bytes = statement_.ColumnBlob(1);
      CalibrationRecord parsed;
      const bool parses = parsed.ParseFromString(record.bytes);
      record.description = fmt::format("{}, unit under test {}", statement_.ColumnText(2), statement_.ColumnText(3));
      if (!parses || static_cast<int64_t>(parsed.record_id()) != id() ||
          parsed.certificate_number() != statement_.ColumnText(2) ||
          parsed.unit_under_test().id() != statement_.ColumnText(3) ||
          parsed.performed_at_ns() != statement_.ColumnInt64(4)) {
        record.problem = fmt::format("({}) has lookup columns that do not match the record: altered",
                                     record.description);
      }
    }
    return record;
  }

 private:
  RecordCursor(RecordKind kind, Statement statement) : kind_(kind), statement_(std::move(statement)) {}

  Status NextRun() {
    const int64_t previous_end = has_run_ ? run_first_ + run_count_ : 0;
    auto row = runs_->Step();
    if (!row) return row.error();
    has_run_ = *row;
    if (has_run_) {
      run_first_ = runs_->ColumnInt64(0);
      run_count_ = runs_->ColumnInt64(1);
      run_instrument_ = runs_->ColumnText(2);
      if (runs_->ColumnInt64(4) == 0 && run_problem_.empty()) {
        run_problem_ = fmt::format("follows a run from {} whose count or channel set is not a whole number, which a "
                                   "search matches to nothing: reading_runs was altered",
                                   run_first_);
      }
      run_set_ = nullptr;
      if (sets_) {
        auto set = sets_->find(runs_->ColumnInt64(3));
        if (set != sets_->end()) {
          run_set_ = &set->second;
        } else if (run_problem_.empty()) {
          run_problem_ = fmt::format("follows a run from {} with channel set {}, which does not exist: reading_runs "
                                     "was altered",
                                     run_first_, runs_->ColumnInt64(3));
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
    }
    return OkStatus();
  }

  RecordKind kind_;
  Statement statement_;
  bool has_row_ = false;
  // Readings only: the run cursor, and whether the current reading lies in a run of its
  // instrument.
  std::optional<Statement> runs_;
  bool has_run_ = false;
  int64_t run_first_ = 0, run_count_ = 0;
  std::string run_instrument_;
  std::optional<ChannelSets> sets_;                 // schema 5 on
  const std::vector<int64_t>* run_set_ = nullptr;  // the current run's channels, if known
  bool in_run_ = false;
  int64_t last_sequence_ = 0;
  std::string run_problem_;  // runs that overlap, found on the way
  std::string sets_problem_;
};

}  // namespace

Result<Checkpoint> LatestCheckpoint(const std::string& db_path) {
  auto db = Database::Open(db_path, Database::Mode::kReadOnly);
  if (!db) return Error(db.error());
  auto select = db->Prepare(
      "SELECT tree_size, root_hash, time_ns, public_key, signature FROM checkpoints "
      "ORDER BY checkpoint_id DESC LIMIT 1");
  if (!select) return Error(select.error());
  auto row = select->Step();
  if (!row) return Error(row.error());
  if (!*row) return Error(NotFound(fmt::format("{} holds no checkpoint yet", db_path)));
  Checkpoint c;
  c.set_tree_size(static_cast<uint64_t>(select->ColumnInt64(0)));
  c.set_root_hash(select->ColumnBlob(1));
  c.set_time_ns(select->ColumnInt64(2));
  c.set_public_key(select->ColumnBlob(3));
  c.set_signature(select->ColumnBlob(4));
  return c;
}

Result<VerifyReport> VerifyStore(const std::string& db_path, const VerifyOptions& options) {
  auto db = Database::Open(db_path, Database::Mode::kReadOnly);
  if (!db) return Error(db.error());
  // One snapshot for the whole check (its first read starts it): a daemon committing
  // meanwhile must not make tables read at different moments disagree.
  if (Status s = db->Execute("BEGIN"); !s.ok()) return Error(s);
  VerifyReport report;
  auto fail = [&report](std::string problem) -> Result<VerifyReport> {
    report.intact = false;
    report.problem = std::move(problem);
    return report;
  };

  {
    auto check = db->Prepare("PRAGMA integrity_check");
    if (!check) return Error(check.error().Annotate(fmt::format("{} is not a labtrace store", db_path)));
    auto row = check->Step();
    if (!row) return Error(row.error());
    if (*row && check->ColumnText(0) != "ok") return fail("SQLite integrity check failed: " + check->ColumnText(0));
  }


  std::multimap<uint64_t, StoredCheckpoint> checkpoints_by_size;
  std::string public_key = options.saved_checkpoint ? options.saved_checkpoint->public_key() : std::string();
  {
    auto select = db->Prepare(kSelectCheckpoints);
    if (!select) return Error(select.error());
    for (;;) {
      auto row = select->Step();
      if (!row) return Error(row.error());
      if (!*row) break;
      StoredCheckpoint stored{select->ColumnInt64(0), {}};
      stored.checkpoint.set_tree_size(static_cast<uint64_t>(select->ColumnInt64(1)));
      stored.checkpoint.set_root_hash(select->ColumnBlob(2));
      stored.checkpoint.set_time_ns(select->ColumnInt64(3));
      stored.checkpoint.set_public_key(select->ColumnBlob(4));
      stored.checkpoint.set_signature(select->ColumnBlob(5));
      if (!VerifyCheckpointSignature(stored.checkpoint)) {
        return fail(fmt::format("checkpoint {} (size {}, {}) has a signature that does not verify: altered",
                                stored.id, stored.checkpoint.tree_size(), FormatTime(stored.checkpoint.time_ns())));
      }
      if (public_key.empty()) public_key = stored.checkpoint.public_key();
      if (stored.checkpoint.public_key() != public_key) {
        return fail(fmt::format("checkpoint {} is signed by a different key than {}", stored.id,
                                options.saved_checkpoint ? "the saved checkpoint" : "checkpoint 1"));
      }
      checkpoints_by_size.emplace(stored.checkpoint.tree_size(), std::move(stored));
    }
  }
  report.checkpoints = checkpoints_by_size.size();
  if (options.saved_checkpoint && !VerifyCheckpointSignature(*options.saved_checkpoint)) {
    return Error(InvalidArgument("the saved checkpoint's signature does not verify; it is not a labtrace checkpoint"));
  }

  uint64_t total = 0;
  {
    auto count = db->Prepare("SELECT COALESCE(SUM(leaf_count), 0) FROM batches");
    if (!count) return Error(count.error().Annotate(fmt::format("{} is not a labtrace store", db_path)));
    if (auto row = count->Step(); !row) return Error(row.error());
    total = static_cast<uint64_t>(count->ColumnInt64(0));
  }

  // Batches and each kind of record are walked side by side, all in order: batch b covers
  // records first_record_id .. first_record_id + leaf_count - 1 of its kind, which are
  // leaves first_leaf … of the log.
  auto batches = db->Prepare(kSelectBatches);
  if (!batches) return Error(batches.error());
  std::map<int64_t, RecordCursor> cursors;
  for (RecordKind kind : {RecordKind::kReading, RecordKind::kAuditEvent, RecordKind::kCalibration}) {
    auto cursor = RecordCursor::Open(*db, kind);
    if (!cursor) return Error(cursor.error().Annotate(fmt::format("{} is not a labtrace store", db_path)));
    if (!cursor->sets_problem().empty()) return fail(cursor->sets_problem());
    cursors.emplace(static_cast<int64_t>(kind), std::move(*cursor));
  }

  CompactTree tree;
  Hash chain{};
  std::vector<Hash> batch_leaves;
  const uint64_t progress_step = std::max<uint64_t>(1, total / 100);
  for (;;) {
    auto row = batches->Step();
    if (!row) return Error(row.error());
    if (!*row) break;
    const StoredBatch batch{batches->ColumnInt64(0),
                            static_cast<uint64_t>(batches->ColumnInt64(1)),
                            static_cast<uint64_t>(batches->ColumnInt64(2)),
                            batches->ColumnInt64(3),
                            batches->ColumnInt64(4),
                            batches->ColumnBlob(6),
                            batches->ColumnBlob(7),
                            batches->ColumnBlob(8)};
    const std::string leaf_hashes = batches->ColumnBlob(5);
    ++report.batches;
    if (batch.first_leaf != tree.size()) {
      return fail(fmt::format("batch {} starts at leaf {}, expected {}: batches were removed or rewritten", batch.id,
                              batch.first_leaf, tree.size()));
    }
    const auto found = cursors.find(batch.record_kind);
    if (found == cursors.end()) {
      return fail(fmt::format("batch {} names an unknown record kind {}", batch.id, batch.record_kind));
    }
    RecordCursor& records = found->second;
    if (leaf_hashes.size() != 32 * batch.leaf_count) {
      return fail(fmt::format("batch {} holds {} bytes of leaf hashes for {} leaves: altered", batch.id,
                              leaf_hashes.size(), batch.leaf_count));
    }
    batch_leaves.clear();
    for (uint64_t j = 0; j < batch.leaf_count; ++j) {
      const int64_t expected = batch.first_record_id + static_cast<int64_t>(j);
      const uint64_t leaf_index = batch.first_leaf + j;
      if (!records.has_row() || records.id() > expected) {
        return fail(fmt::format("{} {} (leaf {}) is missing: deleted", records.noun(), expected, leaf_index));
      }
      if (records.id() < expected) {
        return fail(fmt::format("{} {} is not in the ledger: added outside labtrace", records.noun(), records.id()));
      }
      auto current = records.Current();
      if (!current.problem.empty()) {
        return fail(fmt::format("{} {} (leaf {}) {}", records.noun(), expected, leaf_index, current.problem));
      }
      const Hash leaf = LeafHash({reinterpret_cast<const uint8_t*>(current.bytes.data()), current.bytes.size()});
      if (std::memcmp(leaf.data(), leaf_hashes.data() + 32 * j, 32) != 0) {
        return fail(fmt::format("{} {} ({}) does not match its leaf hash: altered after commit", records.noun(),
                                expected, current.description));
      }
      if (Status s = records.Next(); !s.ok()) return Error(s);
      tree.Append(leaf);
      batch_leaves.push_back(leaf);

      const uint64_t size = tree.size();
      const auto [first, last] = checkpoints_by_size.equal_range(size);
      for (auto it = first; it != last; ++it) {
        if (AsString(tree.Root()) != it->second.checkpoint.root_hash()) {
          return fail(fmt::format("checkpoint {} (size {}, {}) does not match the records: altered or rewritten",
                                  it->second.id, size, FormatTime(it->second.checkpoint.time_ns())));
        }
      }
      if (options.saved_checkpoint && size == options.saved_checkpoint->tree_size() &&
          AsString(tree.Root()) != options.saved_checkpoint->root_hash()) {
        return fail(fmt::format("the store's first {} records do not match the saved checkpoint of {}: rewritten",
                                size, FormatTime(options.saved_checkpoint->time_ns())));
      }
      if (options.progress && (size % progress_step == 0 || size == total)) options.progress(size, total);
    }
    const Hash batch_root = RootOf(batch_leaves);
    if (AsString(batch_root) != batch.batch_root) {
      return fail(fmt::format("batch {} (leaves {}..{}) does not match its root: altered", batch.id, batch.first_leaf,
                              tree.size() - 1));
    }
    if (AsString(tree.Root()) != batch.tree_root) {
      return fail(fmt::format("the log's root after batch {} does not match: rewritten", batch.id));
    }
    chain = ChainHash(chain, batch_root, tree.size());
    if (AsString(chain) != batch.chain) return fail(fmt::format("the hash chain breaks at batch {}: rewritten", batch.id));
  }
  for (auto& [kind, records] : cursors) {
    if (records.has_row()) {
      return fail(fmt::format("{} {} is not in the ledger: added outside labtrace", records.noun(), records.id()));
    }
    auto runs = records.RunsBeyondTheReadings();
    if (!runs) return Error(runs.error());
    if (!runs->empty()) return fail(*runs);
  }
  report.records = tree.size();
  report.root = tree.Root();

  if (!checkpoints_by_size.empty() && checkpoints_by_size.rbegin()->first > report.records) {
    const auto& newest = checkpoints_by_size.rbegin()->second;
    return fail(fmt::format("checkpoint {} of {} covers {} records, but the store holds {}: the tail was truncated",
                            newest.id, FormatTime(newest.checkpoint.time_ns()), newest.checkpoint.tree_size(),
                            report.records));
  }
  if (options.saved_checkpoint && options.saved_checkpoint->tree_size() > report.records) {
    return fail(fmt::format("the saved checkpoint of {} covers {} records, but the store holds {}: the tail was truncated",
                            FormatTime(options.saved_checkpoint->time_ns()), options.saved_checkpoint->tree_size(),
                            report.records));
  }
  report.intact = true;
  return report;
}

}  // namespace labtrace::store
