#include "store/verifier.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <map>
#include <vector>

#include <fmt/format.h>

#include "store/checkpoint_check.h"
#include "store/log_check.h"
#include "store/record_cursor.h"
#include "store/sqlite.h"
#include "store/store_rows.h"

namespace labtrace::store {

namespace {

constexpr const char* kSelectBatches =
    "SELECT batch_id, first_leaf, leaf_count, record_kind, first_record_id, leaf_hashes, batch_root, tree_root, "
    "chain_hash FROM batches ORDER BY batch_id";
constexpr const char* kCountLeaves = "SELECT COALESCE(SUM(leaf_count), 0) FROM batches";
constexpr const char* kSelectLatestCheckpoint =
    "SELECT tree_size, root_hash, time_ns, public_key, signature FROM checkpoints ORDER BY checkpoint_id DESC LIMIT 1";

struct StoredBatch {
  int64_t id;
  uint64_t first_leaf, leaf_count;
  int64_t record_kind, first_record_id;
  std::string leaf_hashes, batch_root, tree_root, chain;
};

StoredBatch BatchFromRow(const Statement& row) {
  return {row.ColumnInt64(0), static_cast<uint64_t>(row.ColumnInt64(1)), static_cast<uint64_t>(row.ColumnInt64(2)),
          row.ColumnInt64(3), row.ColumnInt64(4), row.ColumnBlob(5), row.ColumnBlob(6), row.ColumnBlob(7),
          row.ColumnBlob(8)};
}

// The walk of the ledger: batches and each kind of record side by side, all in order.
// Batch b covers records first_record_id .. first_record_id + leaf_count - 1 of its kind,
// which are leaves first_leaf … of the log. The walk recomputes every leaf from its
// record; the log's tree over them, the batch roots and the chain are checked by a
// LogCheck on a thread of its own. Each check returns the first thing that does not
// match, in words, or "": the log's problem when it found one in an earlier leaf or
// batch, as a walk in one thread would have.
class LedgerWalk {
 public:
  LedgerWalk(std::map<int64_t, RecordCursor> cursors, const CheckpointCheck& checkpoints, const VerifyOptions& options,
             uint64_t total)
      : cursors_(std::move(cursors)),
        options_(options),
        total_(total),
        progress_step_(std::max<uint64_t>(1, total / 100)),
        log_(checkpoints) {}

  Result<std::string> Batch(StoredBatch batch);
  // After the last batch: records or runs that no batch covers. Then tree() is the log.
  Result<std::string> Rest();
  const CompactTree& tree() const { return log_.tree(); }

 private:
  // Leaf j of the batch: the record first_record_id + j of its kind.
  Result<std::string> Leaf(const StoredBatch& batch, RecordCursor& records, uint64_t j);
  // `found` (by the walk, maybe "") unless the log found a problem before it.
  std::string FirstProblem(std::string found) {
    std::string in_log = log_.Finish();
    return in_log.empty() ? found : in_log;
  }

  std::map<int64_t, RecordCursor> cursors_;
  const VerifyOptions& options_;
  const uint64_t total_, progress_step_;
  uint64_t leaves_ = 0;  // walked and found equal to their leaf hashes
  LogCheck log_;
};

Result<std::string> LedgerWalk::Batch(StoredBatch batch) {
  if (log_.failed()) return FirstProblem("");
  if (batch.first_leaf != leaves_) {
    return FirstProblem(fmt::format("batch {} starts at leaf {}, expected {}: batches were removed or rewritten",
                                    batch.id, batch.first_leaf, leaves_));
  }
  const auto found = cursors_.find(batch.record_kind);
  if (found == cursors_.end()) {
    return FirstProblem(fmt::format("batch {} names an unknown record kind {}", batch.id, batch.record_kind));
  }
  if (batch.leaf_hashes.size() != 32 * batch.leaf_count) {
    return FirstProblem(fmt::format("batch {} holds {} bytes of leaf hashes for {} leaves: altered", batch.id,
                                    batch.leaf_hashes.size(), batch.leaf_count));
  }
  uint64_t j = 0;
  Result<std::string> problem = std::string();
  for (; j < batch.leaf_count; ++j) {
    problem = Leaf(batch, found->second, j);
    if (!problem || !problem->empty()) break;
  }
  const bool whole = j == batch.leaf_count;
  log_.Add({batch.id, j, whole, std::move(batch.leaf_hashes), std::move(batch.batch_root), std::move(batch.tree_root),
            std::move(batch.chain)});
  if (!problem) return problem;
  return whole ? std::string() : FirstProblem(std::move(*problem));
}

Result<std::string> LedgerWalk::Leaf(const StoredBatch& batch, RecordCursor& records, uint64_t j) {
  const int64_t expected = batch.first_record_id + static_cast<int64_t>(j);
  const uint64_t leaf_index = batch.first_leaf + j;
  if (!records.has_row() || records.id() > expected) {
    return fmt::format("{} {} (leaf {}) is missing: deleted", records.noun(), expected, leaf_index);
  }
  if (records.id() < expected) {
    return fmt::format("{} {} is not in the ledger: added outside labtrace", records.noun(), records.id());
  }
  if (std::string problem = records.Problem(); !problem.empty()) {
    return fmt::format("{} {} (leaf {}) {}", records.noun(), expected, leaf_index, problem);
  }
  const std::string& bytes = records.Bytes();
  const Hash leaf = LeafHash({reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()});
  if (std::memcmp(leaf.data(), batch.leaf_hashes.data() + 32 * j, 32) != 0) {
    return fmt::format("{} {} ({}) does not match its leaf hash: altered after commit", records.noun(), expected,
                       records.Description());
  }
  if (Status s = records.Next(); !s.ok()) return Error(s);
  const uint64_t size = ++leaves_;
  if (options_.progress && (size % progress_step_ == 0 || size == total_)) options_.progress(size, total_);
  return std::string();
}

Result<std::string> LedgerWalk::Rest() {
  for (auto& [kind, records] : cursors_) {
    if (records.has_row()) {
      return FirstProblem(
          fmt::format("{} {} is not in the ledger: added outside labtrace", records.noun(), records.id()));
    }
    auto runs = records.RunsBeyondTheRecords();
    if (!runs) return runs;
    if (!runs->empty()) return FirstProblem(std::move(*runs));
  }
  return FirstProblem("");
}

// SQLite's own check (b-trees, constraints, each index against its table) of every table
// but the two that grow with the readings, which PRAGMA integrity_check would check by
// one index seek per row: readings, which has no index and whose every row the walk reads
// and hashes, and reading_runs, whose one index the walk checks against the table itself
// (reading_runs_check.h). What that leaves unchecked: docs/DECISIONS.md, "Verify at scale".
// reading_runs is left to SQLite in a store without channel sets (schema 4, an archive),
// whose index the walk does not step.
constexpr const char* kSelectTablesSqliteChecks =
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite!_%' ESCAPE '!' "
    "AND name <> 'readings' AND (name <> 'reading_runs' OR NOT EXISTS "
    "(SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'channel_sets')) ORDER BY name";
constexpr const char* kIntegrityCheckOfTable = "SELECT integrity_check FROM pragma_integrity_check(?)";

Result<std::string> IntegrityProblem(Database& db, const std::string& db_path) {
  auto tables = db.Prepare(kSelectTablesSqliteChecks);
  if (!tables) return Error(tables.error().Annotate(fmt::format("{} is not a labtrace store", db_path)));
  for (;;) {
    auto table = tables->Step();
    if (!table) return Error(table.error());
    if (!*table) return std::string();
    auto check = db.Prepare(kIntegrityCheckOfTable);
    if (!check) return Error(check.error());
    check->BindText(1, tables->ColumnText(0));
    auto row = check->Step();
    if (!row) return Error(row.error());
    if (*row && check->ColumnText(0) != "ok") {
      return fmt::format("SQLite integrity check of {} failed: {}", tables->ColumnText(0), check->ColumnText(0));
    }
  }
}

// Read-only, the file mapped into memory (up to SQLite's limit here, 2 GiB) rather than
// copied page by page into SQLite's cache: 5-10 % less CPU on both connections at 2 M
// records (BENCHMARKS.md). A mapped file that shrinks under a reader faults it; the
// daemon never shrinks its file (no VACUUM), and an auditor verifies a copy.
constexpr const char* kMapTheFile = "PRAGMA mmap_size = 2147418112";

Result<Database> OpenToVerify(const std::string& db_path) {
  auto db = Database::Open(db_path, Database::Mode::kReadOnly);
  if (!db) return Error(db.error());
  if (Status s = db->Execute(kMapTheFile); !s.ok()) return Error(s);
  return db;
}

// Where the store stands: its schema's version and its last batch. Both connections of a
// verify must read one snapshot, and this SQLite is built without sqlite3_snapshot_open;
// nor does `labtrace verify` hold the data directory's lock (it may check a live store
// beside its daemon). So each connection begins its read transaction with this query, and
// the two must agree. They do exactly when no commit fell between their two first reads:
// every commit of the daemon that adds runs (the second connection reads only
// reading_runs and its index) adds their readings' batch in the same transaction, and a
// migration changes the schema's version. (Only writing outside labtrace could change the
// runs alone, and verify exists to find that; it would be found by the next verify too.)
constexpr const char* kWhereTheStoreStands =
    "SELECT v.schema_version, b.batch_id, b.chain_hash FROM pragma_schema_version v LEFT JOIN "
    "(SELECT batch_id, chain_hash FROM batches ORDER BY batch_id DESC LIMIT 1) b";
constexpr int kSnapshotAttempts = 20;

Result<std::string> WhereTheStoreStands(Database& db) {
  if (Status s = db.Execute("BEGIN"); !s.ok()) return Error(s);
  auto select = db.Prepare(kWhereTheStoreStands);
  if (!select) return Error(select.error());
  auto row = select->Step();
  if (!row) return Error(row.error());
  std::string stands = fmt::format("{} {} ", select->ColumnInt64(0), select->ColumnInt64(1));
  stands.append(select->ColumnBlobView(2));
  return stands;
}

// A second read-only connection to `db_path` whose read transaction sees what `db`'s does;
// both are left in their read transactions, for the whole verify.
Result<Database> SecondConnectionOnOneSnapshot(Database& db, const std::string& db_path) {
  auto second = OpenToVerify(db_path);
  if (!second) return Error(second.error());
  for (int attempt = 0; attempt < kSnapshotAttempts; ++attempt) {
    auto first_stands = WhereTheStoreStands(db);
    if (!first_stands) return Error(first_stands.error().Annotate(fmt::format("{} is not a labtrace store", db_path)));
    auto second_stands = WhereTheStoreStands(*second);
    if (!second_stands) return Error(second_stands.error());
    if (*first_stands == *second_stands) return std::move(*second);
    // A commit came between: both begin again, at the newer state.
    if (Status s = db.Execute("COMMIT"); !s.ok()) return Error(s);
    if (Status s = second->Execute("COMMIT"); !s.ok()) return Error(s);
  }
  return Error(Unavailable(fmt::format("{} changed {} times while verify began to read it: verify again, or verify "
                                       "a copy",
                                       db_path, kSnapshotAttempts)));
}

Result<uint64_t> CountLeaves(Database& db, const std::string& db_path) {
  auto count = db.Prepare(kCountLeaves);
  if (!count) return Error(count.error().Annotate(fmt::format("{} is not a labtrace store", db_path)));
  if (auto row = count->Step(); !row) return Error(row.error());
  return static_cast<uint64_t>(count->ColumnInt64(0));
}

}  // namespace

Result<Checkpoint> LatestCheckpoint(const std::string& db_path) {
  auto db = Database::Open(db_path, Database::Mode::kReadOnly);
  if (!db) return Error(db.error());
  auto select = db->Prepare(kSelectLatestCheckpoint);
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
  auto db = OpenToVerify(db_path);
  if (!db) return Error(db.error());
  // One snapshot for the whole check, on both connections: a daemon committing meanwhile
  // must not make tables read at different moments disagree.
  auto runs_db = SecondConnectionOnOneSnapshot(*db, db_path);
  if (!runs_db) return Error(runs_db.error());
  VerifyReport report;
  auto verdict = [&report](const std::string& problem) -> Result<VerifyReport> {
    report.intact = problem.empty();
    report.problem = problem;
    return report;
  };

  auto integrity = IntegrityProblem(*db, db_path);
  if (!integrity) return Error(integrity.error());
  if (!integrity->empty()) return verdict(*integrity);

  std::string problem;
  auto checkpoints = CheckpointCheck::Load(*db, options, problem);
  if (!checkpoints) return Error(checkpoints.error());
  report.checkpoints = checkpoints->count();
  report.signed_records = checkpoints->signed_records();
  report.signer = checkpoints->signer();
  if (!problem.empty()) return verdict(problem);

  auto total = CountLeaves(*db, db_path);
  if (!total) return Error(total.error());
  std::map<int64_t, RecordCursor> cursors;
  for (RecordKind kind :
       {RecordKind::kReading, RecordKind::kAuditEvent, RecordKind::kCalibration, RecordKind::kConformity}) {
    auto cursor = kind == RecordKind::kReading ? RecordCursor::Open(*db, kind, std::move(*runs_db))
                                               : RecordCursor::Open(*db, kind);
    if (!cursor) return Error(cursor.error().Annotate(fmt::format("{} is not a labtrace store", db_path)));
    if (!cursor->sets_problem().empty()) return verdict(cursor->sets_problem());
    cursors.emplace(static_cast<int64_t>(kind), std::move(*cursor));
  }
  LedgerWalk walk(std::move(cursors), *checkpoints, options, *total);
  auto batches = db->Prepare(kSelectBatches);
  if (!batches) return Error(batches.error());
  for (;;) {
    auto row = batches->Step();
    if (!row) return Error(row.error());
    if (!*row) break;
    ++report.batches;
    auto found = walk.Batch(BatchFromRow(*batches));
    if (!found) return Error(found.error());
    if (!found->empty()) return verdict(*found);
  }
  auto rest = walk.Rest();
  if (!rest) return Error(rest.error());
  if (!rest->empty()) return verdict(*rest);
  // The reports are checked now; the PDFs kept beside them must match what they carry.
  auto documents = IssuedDocumentsProblem(*db);
  if (!documents) return Error(documents.error());
  if (!documents->empty()) return verdict(*documents);
  report.records = walk.tree().size();
  report.root = walk.tree().Root();
  return verdict(checkpoints->AfterWalk(report.records));
}

}  // namespace labtrace::store
