#include "store/schema.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sqlite3.h>

#include <vector>

namespace labtrace::store {

namespace {

// Migrations, applied in order; PRAGMA user_version counts those that ran. A migration
// is never edited once released: a change is a new entry.
struct Migration {
  const char* sql;
  // Append-only, enforced by the engine as well as by the absence of any update path.
  std::vector<const char*> append_only_tables;
};

const Migration kMigrations[] = {
    // 1: readings, audit events, the batches of the Merkle log over them, signed checkpoints,
    // uploads.
    {R"sql(
CREATE TABLE channels (
  channel_id INTEGER PRIMARY KEY,
  instrument TEXT NOT NULL,
  channel TEXT NOT NULL,
  UNIQUE (instrument, channel)
);
CREATE TABLE readings (
  sequence INTEGER PRIMARY KEY,
  channel_id INTEGER NOT NULL REFERENCES channels (channel_id),
  value REAL,
  unit TEXT NOT NULL,
  quality INTEGER NOT NULL,
  requested_at_ns INTEGER NOT NULL,
  raw_frame BLOB NOT NULL,
  detail TEXT NOT NULL,
  decimals INTEGER NOT NULL,
  supersedes INTEGER REFERENCES readings (sequence),  -- NULL for an original reading
  calibration_certificate TEXT NOT NULL,
  calibration_due_date TEXT NOT NULL
);
CREATE INDEX readings_by_channel ON readings (channel_id, sequence);

CREATE TABLE audit_events (
  event_id INTEGER PRIMARY KEY,
  time_ns INTEGER NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  entity TEXT NOT NULL,
  old_value TEXT NOT NULL,
  new_value TEXT NOT NULL,
  reason TEXT NOT NULL
);
CREATE INDEX audit_events_by_entity ON audit_events (entity, event_id);

-- One row per committed batch of records of one kind: leaves first_leaf .. first_leaf +
-- leaf_count - 1 of the RFC 6962 log are records first_record_id, first_record_id + 1, …
CREATE TABLE batches (
  batch_id INTEGER PRIMARY KEY,
  batch_uuid BLOB NOT NULL,         -- of the commit: tells, after an I/O error, whether it landed
  first_leaf INTEGER NOT NULL,
  leaf_count INTEGER NOT NULL,
  record_kind INTEGER NOT NULL,
  first_record_id INTEGER NOT NULL,
  leaf_hashes BLOB NOT NULL,        -- leaf_count hashes of 32 bytes, in leaf order
  batch_root BLOB NOT NULL,         -- MTH of this batch's leaves
  tree_root BLOB NOT NULL,          -- MTH of the whole log after this batch
  chain_hash BLOB NOT NULL,         -- SHA-256(previous chain_hash ‖ batch_root ‖ tree size)
  frontier BLOB NOT NULL,           -- the log's perfect-subtree roots, to resume without rehashing
  committed_at_ns INTEGER NOT NULL
);
CREATE INDEX batches_by_uuid ON batches (batch_uuid);

CREATE TABLE checkpoints (
  checkpoint_id INTEGER PRIMARY KEY,
  tree_size INTEGER NOT NULL,
  root_hash BLOB NOT NULL,
  time_ns INTEGER NOT NULL,
  public_key BLOB NOT NULL,
  signature BLOB NOT NULL
);

CREATE TABLE uploads (
  idempotency_key TEXT PRIMARY KEY,
  first_sequence INTEGER NOT NULL,
  last_sequence INTEGER NOT NULL,
  count INTEGER NOT NULL,
  batch_id INTEGER NOT NULL,
  received_at_ns INTEGER NOT NULL
);
)sql",
     {"channels", "readings", "audit_events", "batches", "checkpoints", "uploads"}},
    // 2: calibration and verification records. The record is the protobuf the ledger's
    // leaf covers, byte for byte; the other columns are for lookups.
    {R"sql(
CREATE TABLE calibration_records (
  record_id INTEGER PRIMARY KEY,
  certificate_number TEXT NOT NULL UNIQUE,
  idempotency_key TEXT NOT NULL UNIQUE,
  unit_under_test TEXT NOT NULL,
  performed_at_ns INTEGER NOT NULL,
  record BLOB NOT NULL
);
)sql",
     {"calibration_records"}},
    // 3: the text of string fields (Modbus STRING registers).
    {R"sql(
ALTER TABLE readings ADD COLUMN text TEXT NOT NULL DEFAULT '';
)sql",
     {}},
    // 4: readings are found by their runs, not one by one. A run is the readings one
    // instrument handed in together (a poll of all its registers, an upload's readings of
    // it): consecutive sequence numbers. One index entry per run instead of one per reading
    // took most of the store's CPU off a ten-register poll: an index by channel is written
    // at as many places as there are channels, a run's rows at the table's end. Readings
    // stored before this version are runs of one.
    {R"sql(
CREATE TABLE reading_runs (
  first_sequence INTEGER PRIMARY KEY,  -- readings first_sequence .. first_sequence + count - 1
  instrument TEXT NOT NULL,
  count INTEGER NOT NULL CHECK (count > 0)
);
INSERT INTO reading_runs (first_sequence, instrument, count)
  SELECT r.sequence, c.instrument, 1 FROM readings r JOIN channels c ON c.channel_id = r.channel_id;
CREATE INDEX reading_runs_by_instrument ON reading_runs (instrument, first_sequence);
DROP INDEX readings_by_channel;
)sql",
     {"reading_runs"}},
    // 5: each run names the set of channels its readings are of, and runs are found by
    // set: a search for a channel visits only the runs that hold it. By instrument, a
    // channel that stopped appearing (dropped from the configuration, or a rare channel of
    // a busy upload source) was searched through every later reading of its instrument.
    // A set's channel ids are written out ("3,4,9", ascending: SQLite keeps a subquery's
    // order in group_concat, though it does not promise to; a set listed in another order
    // is only stored twice, never searched wrongly) so that the writer finds an existing
    // set by its content; its members row by row, so that a search finds the
    // sets of a channel. reading_runs is rebuilt with the set beside each run (it is
    // append-only, so a column is not filled in place).
    {R"sql(
CREATE TABLE channel_sets (
  set_id INTEGER PRIMARY KEY,
  channel_ids TEXT NOT NULL UNIQUE  -- the members' channel_id, ascending, comma-separated
);
CREATE TABLE channel_set_members (
  channel_id INTEGER NOT NULL REFERENCES channels (channel_id),
  set_id INTEGER NOT NULL REFERENCES channel_sets (set_id),
  PRIMARY KEY (channel_id, set_id)
) WITHOUT ROWID;
CREATE TEMP TABLE run_channels AS
  SELECT u.first_sequence AS first_sequence, u.instrument AS instrument, u.count AS count,
         -- A run that holds no reading (only an altered store has one) gets the empty
         -- set, so that it is carried over for verify to name, not dropped.
         COALESCE((SELECT group_concat(channel_id, ',') FROM
                     (SELECT DISTINCT r.channel_id AS channel_id FROM readings r
                       WHERE r.sequence >= u.first_sequence AND r.sequence < u.first_sequence + u.count
                       ORDER BY r.channel_id)), '') AS channel_ids
  FROM reading_runs u;
INSERT OR IGNORE INTO channel_sets (channel_ids)
  SELECT channel_ids FROM temp.run_channels ORDER BY first_sequence;
INSERT OR IGNORE INTO channel_set_members (channel_id, set_id)
  SELECT r.channel_id, s.set_id FROM temp.run_channels t
  JOIN channel_sets s ON s.channel_ids = t.channel_ids
  JOIN readings r ON r.sequence >= t.first_sequence AND r.sequence < t.first_sequence + t.count;
CREATE TABLE reading_runs_with_sets (
  first_sequence INTEGER PRIMARY KEY,  -- readings first_sequence .. first_sequence + count - 1
  instrument TEXT NOT NULL,
  count INTEGER NOT NULL CHECK (count > 0),
  channel_set INTEGER NOT NULL REFERENCES channel_sets (set_id)
);
INSERT INTO reading_runs_with_sets (first_sequence, instrument, count, channel_set)
  SELECT t.first_sequence, t.instrument, t.count, s.set_id FROM temp.run_channels t
  JOIN channel_sets s ON s.channel_ids = t.channel_ids;
DROP TABLE temp.run_channels;
DROP TABLE reading_runs;
ALTER TABLE reading_runs_with_sets RENAME TO reading_runs;
CREATE INDEX reading_runs_by_channel_set ON reading_runs (channel_set, first_sequence);
)sql",
     {"reading_runs", "channel_sets", "channel_set_members"}},
    // 6: users and bearer tokens (issue 14). Each is its protobuf record, whole; the other
    // columns are for lookups. A change to an account is a new version, never an update,
    // and a revocation is a row of its own, so the history of who could do what stays.
    {R"sql(
CREATE TABLE user_accounts (
  name TEXT NOT NULL,
  version INTEGER NOT NULL,
  account BLOB NOT NULL,         -- UserAccount, deterministic bytes
  saved_at_ns INTEGER NOT NULL,
  PRIMARY KEY (name, version)
);
CREATE TABLE access_tokens (
  token_id TEXT PRIMARY KEY,
  text_sha256 BLOB NOT NULL UNIQUE,
  token BLOB NOT NULL            -- AccessToken as issued (not revoked), deterministic bytes
);
CREATE TABLE token_revocations (
  token_id TEXT PRIMARY KEY REFERENCES access_tokens (token_id),
  revoked_at_ns INTEGER NOT NULL,
  revoked_by TEXT NOT NULL
);
)sql",
     {"user_accounts", "access_tokens", "token_revocations"}},
    // 7: where each reading came from (issue 14). A provenance is stored once, as the
    // Provenance protobuf the reading's leaf covers, and named by its readings: a poll's
    // readings share their bus's, a file's readings their file's, so a reading costs one
    // small integer. Readings stored before have none (NULL): their leaves were hashed
    // without one, and a provenance cannot be added to a hashed record after the fact.
    // The sample a result file names is kept beside the reading. No foreign key: it would
    // cost a look-up per inserted reading, and verify names a reading whose provenance row
    // is missing (and its leaf, which covers the provenance, tells any other change).
    {R"sql(
CREATE TABLE provenances (
  provenance_id INTEGER PRIMARY KEY,
  record BLOB NOT NULL UNIQUE        -- Provenance, deterministic bytes
);
ALTER TABLE readings ADD COLUMN provenance_id INTEGER;  -- provenances.provenance_id; NULL: none
ALTER TABLE readings ADD COLUMN sample_id TEXT NOT NULL DEFAULT '';
)sql",
     {"provenances"}},
    // 8: the versions that corrections superseded, so that a query shows the current
    // version of each reading without scanning for its corrections. Partial: corrections
    // are rare, and an original reading (supersedes NULL) costs the index nothing.
    {R"sql(
CREATE INDEX readings_superseded ON readings (supersedes) WHERE supersedes IS NOT NULL;
)sql",
     {}},
    // 9: conformity records (issue 15): enterprises, products, samples, test runs, test
    // reports, dossiers, certificates. Each version is its ConformityRecord, whole, a leaf
    // of the log; a change is a new version, never an update. The other columns are for
    // lookups, and verify checks them against the record. `change_key` is unique per
    // change: a retried request, or a batch that landed before an I/O error, is found by it.
    {R"sql(
CREATE TABLE conformity_records (
  record_id INTEGER PRIMARY KEY,
  kind TEXT NOT NULL,
  key TEXT NOT NULL,
  version INTEGER NOT NULL CHECK (version > 0),
  parent TEXT NOT NULL,
  state TEXT NOT NULL,
  change_key TEXT NOT NULL UNIQUE,
  saved_at_ns INTEGER NOT NULL,
  record BLOB NOT NULL,
  UNIQUE (kind, key, version)
);
CREATE INDEX conformity_records_by_parent ON conformity_records (kind, parent, key);
)sql",
     {"conformity_records"}},
    // 10: the PDF of each issued test report, kept as it was handed out (ISO/IEC 17025
    // §7.8, docs/DECISIONS.md "Issued reports"). A report is issued once, so its number is
    // the key; the report's version that was issued carries the same SHA-256 in the log,
    // and verify checks the two agree. The verification code printed on it resolves here.
    {R"sql(
CREATE TABLE issued_documents (
  number TEXT PRIMARY KEY,
  version INTEGER NOT NULL CHECK (version > 0),
  verification_code TEXT NOT NULL UNIQUE,
  sha256 BLOB NOT NULL CHECK (length(sha256) = 32),
  pdf BLOB NOT NULL,
  stored_at_ns INTEGER NOT NULL
);
)sql",
     {"issued_documents"}},
};

}  // namespace

Status Migrate(Database& db) {
  auto version_query = db.Prepare("PRAGMA user_version");
  if (!version_query) return version_query.error();
  auto row = version_query->Step();
  if (!row) return row.error();
  const int64_t version = version_query->ColumnInt64(0);
  version_query->Reset();  // an active statement would lock the schema against DROP
  const int64_t known = static_cast<int64_t>(std::size(kMigrations));
  if (version > known) {
    return FailedPrecondition(fmt::format(
        "database schema version {} is newer than this labtrace knows ({}); upgrade labtrace", version, known));
  }
  if (version > 0 && version < known) {
    // An upgrade rewrites tables in one transaction, and a large store takes a while.
    spdlog::info("store: upgrading the database from schema {} to {}; readings are not taken meanwhile", version,
                 known);
  }
  for (int64_t next = version; next < known; ++next) {
    Transaction transaction(db);
    if (Status s = transaction.Begin(); !s.ok()) return s;
    const Migration& migration = kMigrations[next];
    if (Status s = db.Execute(migration.sql); !s.ok()) return s.Annotate(fmt::format("migration {}", next + 1));
    {
      for (const char* table : migration.append_only_tables) {
        // Table names are our own constants above, never input.
        const std::string triggers = fmt::format(
            "CREATE TRIGGER {0}_append_only_update BEFORE UPDATE ON {0} "
            "BEGIN SELECT RAISE(ABORT, '{0} are append-only'); END;"
            "CREATE TRIGGER {0}_append_only_delete BEFORE DELETE ON {0} "
            "BEGIN SELECT RAISE(ABORT, '{0} are append-only'); END;",
            table);
        if (Status s = db.Execute(triggers.c_str()); !s.ok()) return s;
      }
    }
    const std::string set_version = fmt::format("PRAGMA user_version = {}", next + 1);
    if (Status s = db.Execute(set_version.c_str()); !s.ok()) return s;
    if (Status s = transaction.Commit(); !s.ok()) return s;
  }
  return OkStatus();
}

Status ConfigureWriter(Database& db, bool exclusive_locking, bool synchronous_off) {
  // Defensive mode refuses writes that could corrupt the file (writable_schema and
  // friends); extension loading stays off, as it is by default.
  sqlite3_db_config(db.handle(), SQLITE_DBCONFIG_DEFENSIVE, 1, nullptr);
  std::vector<const char*> pragmas;
  if (exclusive_locking) pragmas.push_back("PRAGMA locking_mode = EXCLUSIVE");
  pragmas.push_back("PRAGMA journal_mode = WAL");
  pragmas.push_back(synchronous_off ? "PRAGMA synchronous = OFF" : "PRAGMA synchronous = FULL");
  pragmas.push_back("PRAGMA foreign_keys = ON");
  // 64 MiB of page cache: the last index page of every channel stays in memory (2 000
  // channels need 8 MB; the default 2 MB made every insert a read from the WAL).
  pragmas.push_back("PRAGMA cache_size = -65536");
  for (const char* pragma : pragmas) {
    auto statement = db.Prepare(pragma);
    if (!statement) return statement.error();
    if (auto row = statement->Step(); !row) return row.error();
  }
  return OkStatus();
}

}  // namespace labtrace::store
