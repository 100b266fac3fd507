// The lab's records in one SQLite file: readings, and the tamper-evident ledger over them.
//
// Writing: any thread hands polled readings to Append() and uploads to Upload(); one
// writer thread owns the write connection and group-commits what arrived within the
// commit window (the poll window, when only polled readings are waiting; see
// StoreOptions), with synchronous=FULL. Each commit appends its records' leaf hashes to
// the RFC 6962 log, records the batch's root, the log's root and the hash chain, and at
// intervals a checkpoint signed with the lab's Ed25519 key. An upload is acknowledged
// (its callback runs) only after its commit returned; a repeated idempotency key gets
// the first receipt again.
// Failures: a full disk or an I/O error stops acknowledging, keeps polled readings
// queued (bounded), and retries; after an I/O error the database is reopened and the
// batch's UUID tells whether the failed commit in fact landed, so nothing is written twice.
// Reading: queries run on read-only connections of their own (a small pool), so they never
// block the writer.
//
// The parts, a file each: record_store.cpp (handing in), writer_loop.cpp (batches and
// their commit), ledger_writer.cpp (batch rows, chain, checkpoints), reading_writer.cpp
// (readings and runs), uploads.cpp (uploads and idempotency), corrections.cpp,
// calibration_rows.cpp, accounts.cpp (users and tokens), conformity_rows.cpp (samples,
// runs, reports, dossiers, certificates), issued_documents.cpp (issued reports' PDFs),
// reading_queries.cpp and
// record_queries.cpp (what the API and CLI ask).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "labtrace/api.pb.h"
#include "labtrace/auth.pb.h"
#include "labtrace/calibration.pb.h"
#include "labtrace/conformity.pb.h"
#include "labtrace/ledger.pb.h"
#include "labtrace/reading.pb.h"
#include "labtrace/reading_buffers.h"
#include "labtrace/status.h"
#include "store/channel_directory.h"
#include "store/data_dir_lock.h"
#include "store/ledger_writer.h"
#include "store/merkle.h"
#include "store/polled_readings.h"
#include "store/reader_pool.h"
#include "store/reading_writer.h"
#include "store/signing_key.h"
#include "store/sqlite.h"

namespace labtrace::store {

// A batch closes after the commit window or at this many records, whichever comes first;
// under a backlog, batches are full and each fsync carries this many. Large, so that a
// store that falls behind catches up: a commit's fixed cost (the pages it rewrites, the
// fsync) is shared by more records.
inline constexpr size_t kMaxBatch = 65536;
// Polled readings waiting for the writer. While the store is healthy, Append() waits for
// room beyond this (backpressure: a burst is slowed, never thinned). While the disk
// refuses writes, the oldest are dropped instead, counted and logged, so acquisition
// never stalls on a broken disk (an upload is never dropped: it is not acknowledged).
inline constexpr size_t kMaxQueuedReadings = 1'000'000;
// The most readings one query returns; the answer says when it was cut.
inline constexpr size_t kMaxQueryRows = 10000;

struct StoreOptions {
  // How long a batch gathers: polled readings and audit events for the poll window
  // (nobody waits for them, and fewer, larger commits rewrite fewer index pages), and
  // anything somebody waits for (an upload, a correction, a calibration, a Flush) for at
  // most the commit window. A crash loses at most the poll window of polled readings,
  // which were never acknowledged to anyone.
  std::chrono::milliseconds commit_window{20};
  std::chrono::milliseconds poll_window{100};
  std::chrono::seconds checkpoint_interval{60};
  size_t max_queued_readings = kMaxQueuedReadings;
  std::string signing_key_path;  // empty: <data_dir>/lab-signing.key
  // Where committed polls go, for the drivers to make their next polls in (may be null).
  std::shared_ptr<ReadingBuffers> give_back;
  // Told of the readings each commit made durable (polled, uploaded, corrections), in
  // sequence order, on the writer thread: the live stream's source (may be empty). It
  // must not block or take long, since the next commit waits for it; the pointers are
  // valid only during the call.
  std::function<void(const std::vector<const Reading*>&)> on_readings_committed;
};

// Seams for tests only, kept out of StoreOptions so that no configuration of the daemon
// can reach them: a fault-injecting SQLite VFS (which needs exclusive locking, having no
// shared memory), and synchronous=OFF for the power-loss test's negative control.
struct StoreTestHooks {
  std::string vfs;
  bool exclusive_locking = false;
  bool synchronous_off = false;
  // Called on the writer thread before it gathers each batch, with no lock held: a test
  // holds the writer here to hand in what it needs in one batch.
  std::function<void()> before_batch;
};

using UploadDone = std::function<void(Result<api::UploadReceipt>)>;
using CorrectionDone = std::function<void(Result<api::CorrectionReceipt>)>;
using CalibrationDone = std::function<void(Result<api::CalibrationReceipt>)>;
using AccountDone = std::function<void(Status)>;

// A new version of a conformity record (conformity_rows.cpp).
struct ConformityChange {
  // With an empty key, a new record: the store numbers it (NumberFor, in `year`) and
  // gives it version 1. Otherwise the next version of that record.
  ConformityRecord record;
  // The version the change was made from (0 for a new record). When another change came
  // first, this one is refused (kFailedPrecondition) rather than silently overwriting it.
  uint64_t based_on = 0;
  std::string year;        // the lab's year, for a new record's number: "2026"
  // Unique per change, 1..200 characters: a retry with the same key gets the version the
  // first one stored (nothing is stored twice), and so does recovery after an I/O error.
  std::string change_key;
  // Committed with the record; an event with no entity gets "<kind>:<key>".
  std::vector<AuditEvent> events;
  // An issued test report's PDF, kept in the same commit beside the record and never
  // changed (issued_documents.cpp). Its SHA-256 must be the report's pdf_sha256. Empty
  // for any other change.
  std::string issued_pdf;
};

// The PDF of an issued test report as it was handed out.
struct IssuedDocument {
  std::string number;             // the report's: "PKQ-2026-00005"
  uint64_t version = 0;           // the report's version issued with it
  std::string verification_code;  // printed on it
  std::string sha256;             // of `pdf`, 32 bytes
  std::string pdf;
  int64_t stored_at_ns = 0;
};
using ConformityDone = std::function<void(Result<ConformityRecord>)>;

class RecordStore {
 public:
  static constexpr const char* kFileName = "labtrace.db";

  // Refuses (FailedPrecondition) while another RecordStore, in this process or another,
  // has `data_dir` open: see DataDirLock.
  static Result<std::unique_ptr<RecordStore>> Open(const std::string& data_dir, StoreOptions options = {},
                                                   StoreTestHooks hooks = {});
  ~RecordStore();  // commits what is pending, signs a final checkpoint, stops the writer

  // Thread-safe. Polled readings; committed within the commit window. Waits while the
  // queue is full and the store healthy (see kMaxQueuedReadings).
  void Append(std::vector<Reading> readings);
  // Thread-safe. `done` runs on the writer thread once the upload is durable, or failed.
  // Every reading is stored with `provenance` (UPLOADED by a token and its user, or
  // IMPORTED from a file): the sender's own word on where its readings came from is
  // refused (ValidateUpload).
  void Upload(api::UploadRequest request, Provenance provenance, UploadDone done);
  // Thread-safe. Stores a new version of reading `sequence`, which stays as it was, and
  // an "amend" audit event with who, when, why, and the old and new values. `done` runs
  // on the writer thread once durable.
  void Correct(uint64_t sequence, api::CorrectionRequest request, CorrectionDone done);
  // Thread-safe. Stores a calibration or verification record, giving it its id and
  // certificate number ("KD-2026-00007"), with a "create" audit event by its performer
  // and an "override" event for each expired standard used with approval. `done` runs
  // on the writer thread once durable; a repeated idempotency key gets the first receipt.
  void RecordCalibration(CalibrationRecord record, CalibrationDone done);
  // Thread-safe; accounts.cpp. Users and tokens, each change committed with its audit
  // events (which become leaves of the log) and durable before `done` runs, on the
  // writer thread. A change the store refuses (a duplicate token, an unknown token to
  // revoke) is answered with why, and its events are not recorded.
  // A new version of the account (found by name; version = last + 1), with its audit events.
  void SaveAccount(UserAccount account, std::vector<AuditEvent> events, AccountDone done);
  // A new token record (its token_id and text_sha256 unique), with its audit events.
  void SaveToken(AccessToken token, std::vector<AuditEvent> events, AccountDone done);
  // Revokes a token; revoking twice keeps the first revocation, records nothing more and
  // answers Ok.
  void RevokeToken(std::string token_id, std::string revoked_by, int64_t revoked_at_ns,
                   std::vector<AuditEvent> events, AccountDone done);
  // Thread-safe; conformity_rows.cpp. Stores a new version of a conformity record with its
  // audit events; `done` runs on the writer thread once durable, with the record as
  // stored (key and version filled in).
  void SaveConformity(ConformityChange change, ConformityDone done);
  // Thread-safe. Adds an event to the audit trail at the next commit (sequence and, when
  // zero, time are filled in).
  void RecordAudit(AuditEvent event);
  // Records the configuration the daemon starts with: "configure" with the previous and
  // new digest when it changed since the last start, "start" when it did not.
  Status RecordConfiguration(const std::string& config_path, const std::string& config_digest);
  // Thread-safe. Signs a checkpoint at the next commit (or now, if nothing is pending).
  void RequestCheckpoint();

  // Called on the writer thread after each commit, with the committed record count and
  // the log's size. For logging.
  void OnCommit(std::function<void(size_t, uint64_t)> callback) { on_commit_ = std::move(callback); }

  // Waits until everything handed in so far is committed or failed.
  void Flush();

  // Safe from any thread, as are the queries below. reading_queries.cpp: a page of
  // readings; a full one ends with the cursor of the next.
  Result<api::ReadingsResponse> Query(const api::ReadingsQuery& query) const;
  // The audit trail of one entity ("reading:17"), or all of it, oldest first.
  Result<api::AuditResponse> QueryAudit(const std::string& entity, int64_t since_ns) const;
  // The audit trail by actor, action, entity (or entity prefix) and time, a page at a time.
  Result<api::AuditResponse> QueryAudit(const api::AuditQuery& query) const;
  // uploads.cpp. Stored uploads, oldest first, a page at a time.
  Result<api::UploadsResponse> ListUploads(const api::UploadsQuery& query) const;
  // calibration_rows.cpp. Calibration and verification records by id, a page at a time.
  Result<api::CalibrationList> ListCalibrations(const api::CalibrationsQuery& query) const;

  // A calibration record by its certificate number.
  Result<CalibrationRecord> FindCalibration(const std::string& certificate_number) const;
  // The record stored under an idempotency key, if any.
  Result<std::optional<CalibrationRecord>> FindCalibrationByKey(const std::string& idempotency_key) const;
  // Every calibration record performed at or after `since_ns`, oldest first.
  Result<std::vector<CalibrationRecord>> CalibrationsSince(int64_t since_ns) const;
  // Readings requested at or after `since_ns` that carry a calibration, counted by
  // instrument, channel and certificate.
  Result<std::vector<api::AffectedReadings>> ReadingGroupsSince(int64_t since_ns) const;
  // The readings with these sequence numbers; absent ones are left out.
  Result<std::map<uint64_t, Reading>> ReadingsBySequence(const std::vector<uint64_t>& sequences) const;

  // conformity_rows.cpp. A conformity record of `kind` ("test_run") by key: `version`, or
  // the latest when 0; nullopt when there is none.
  Result<std::optional<ConformityRecord>> FindConformity(std::string_view kind, const std::string& key,
                                                         uint64_t version = 0) const;
  // The latest version of each record of `kind`, those of `parent` when it is not empty,
  // in `state` when that is not empty, by key, at most kMaxQueryRows.
  Result<std::vector<ConformityRecord>> ListConformity(std::string_view kind, const std::string& parent,
                                                       const std::string& state) const;
  // Every version of one record, oldest first.
  Result<std::vector<ConformityRecord>> ConformityVersions(std::string_view kind, const std::string& key) const;
  // issued_documents.cpp. The PDF kept when report `number` was issued; nullopt when it
  // was never issued.
  Result<std::optional<IssuedDocument>> FindIssuedDocument(const std::string& number) const;
  // The number of the issued report that printed verification code `code`; nullopt when
  // none did (a draft's code was never handed out).
  Result<std::optional<std::string>> FindIssuedReportByCode(const std::string& code) const;

  // accounts.cpp. The latest version of an account, by login name.
  Result<std::optional<UserAccount>> FindAccount(const std::string& name) const;
  // The latest version of every account, by name.
  Result<std::vector<UserAccount>> Accounts() const;
  // The token whose text has this SHA-256 (auth::TokenLookupKey), with revoked_at_ns and
  // revoked_by filled in from its revocation, if any.
  Result<std::optional<AccessToken>> FindToken(const std::string& text_sha256) const;
  // Every token, revocations filled in, by token_id.
  Result<std::vector<AccessToken>> Tokens() const;

  const std::string& path() const { return path_; }
  const std::array<uint8_t, 32>& public_key() const { return key_.public_key(); }

 private:
  struct PendingUpload {
    api::UploadRequest request;
    Provenance provenance;
    UploadDone done;
  };
  struct PendingCorrection {
    uint64_t sequence;
    api::CorrectionRequest request;
    CorrectionDone done;
  };
  struct PendingCalibration {
    CalibrationRecord record;
    CalibrationDone done;
  };
  struct PendingConformity {
    ConformityChange change;
    ConformityDone done;
  };
  struct TokenRevocation {
    std::string token_id, revoked_by;
    int64_t revoked_at_ns;
  };
  struct PendingAccountChange {
    std::variant<UserAccount, AccessToken, TokenRevocation> change;
    std::vector<AuditEvent> events;
    AccountDone done;
  };
  struct Batch {
    PolledReadings readings;
    std::vector<PendingUpload> uploads;
    std::vector<PendingCorrection> corrections;
    std::vector<PendingCalibration> calibrations;
    std::vector<PendingAccountChange> account_changes;
    std::vector<PendingConformity> conformity;
    std::vector<AuditEvent> audit_events;
    // Those somebody waits for, and is told about whether or not the batch commits.
    size_t awaited() const {
      return uploads.size() + corrections.size() + calibrations.size() + account_changes.size() + conformity.size();
    }
    size_t items() const { return readings.size() + awaited() + audit_events.size(); }
    bool empty() const { return items() == 0; }
  };
  struct Outcome {
    std::vector<api::UploadReceipt> receipts;  // one per upload, in order
    // One per correction: a correction that cannot be made (an unknown reading) gets its
    // error here without failing the batch.
    std::vector<Result<api::CorrectionReceipt>> corrections;
    std::vector<api::CalibrationReceipt> calibrations;  // one per calibration, in order
    // One per account change: a change the store refuses gets why, without failing the batch.
    std::vector<Status> account_changes;
    // One per conformity change: the version stored, or why it was refused (a stale
    // version, an unknown record) without failing the batch.
    std::vector<Result<ConformityRecord>> conformity;
    // The versions the corrections stored, for on_readings_committed.
    std::vector<Reading> corrected_versions;
  };
  // A correction's "amend" event, once the audit events have their sequence numbers.
  struct CorrectionEvent {
    size_t correction;  // index into the batch's corrections
    size_t event;       // index into the commit's audit events
  };

  RecordStore(DataDirLock lock, std::string path, StoreOptions options, StoreTestHooks hooks, SigningKey key,
              Database db)
      : lock_(std::move(lock)),
        path_(std::move(path)),
        options_(std::move(options)),
        hooks_(std::move(hooks)),
        key_(std::move(key)),
        db_(std::move(db)),
        readers_(path_, hooks_.vfs) {}

  // writer_loop.cpp
  void WriterLoop();
  // Waits out the commit window, then moves what is pending into `batch` (with mutex_
  // held through `lock`); says whether to sign a checkpoint and whether to stop after.
  size_t TakeBatch(std::unique_lock<std::mutex>& lock, Batch& batch, bool& checkpoint, bool& stop_after);
  // Commits `batch`; after an I/O error, reopens and finds out whether it landed anyway.
  Status CommitOrRecover(Batch& batch, bool checkpoint, Outcome& outcome);
  // Tells everyone who waits on `batch` how it went.
  void Answer(Batch& batch, const Status& committed, Outcome& outcome, size_t leaves, bool checkpoint);
  // Hands the readings of a committed batch to on_readings_committed.
  void PublishCommitted(Batch& batch, const Outcome& outcome);
  // Commits one batch and fills `outcome` on success.
  Status CommitBatch(Batch& batch, const std::string& batch_uuid, bool checkpoint, Outcome& outcome);
  // After an I/O error, a batch that did land: its receipts are read back by key.
  Status RecoverReceipts(const Batch& batch, Outcome& outcome);
  Status Reopen();
  Result<bool> BatchLanded(const std::string& batch_uuid);

  // uploads.cpp: stores the batch's uploads (a replayed key gets its first receipt) and
  // adds an audit event for each new one.
  Status CommitUploads(Batch& batch, ReadingWriter& readings, int64_t batch_id, std::vector<AuditEvent>& audit,
                       Outcome& outcome);
  // corrections.cpp: stores each correction as a new version and its "amend" event.
  Status CommitCorrections(Batch& batch, ReadingWriter& readings, std::vector<AuditEvent>& audit, Outcome& outcome,
                           std::vector<CorrectionEvent>& events);
  // calibration_rows.cpp: stores the batch's calibration records (a replayed key gets its
  // first receipt), appends their leaves to the log and their batch row.
  Status CommitCalibrations(Batch& batch, LedgerWriter& ledger, CompactTree& tree, std::vector<AuditEvent>& audit,
                            Outcome& outcome);

  // conformity_rows.cpp: stores the batch's conformity changes, appends their leaves to the
  // log and their batch row, and adds their audit events.
  Status CommitConformity(Batch& batch, LedgerWriter& ledger, CompactTree& tree, std::vector<AuditEvent>& audit,
                          Outcome& outcome);
  // After an I/O error, a batch that did land: each change read back by its key.
  Status RecoverConformity(const Batch& batch, Outcome& outcome);

  // accounts.cpp: stores the batch's account changes and adds each one's audit events.
  Status CommitAccountChanges(Batch& batch, std::vector<AuditEvent>& audit, Outcome& outcome);
  // After an I/O error, a batch that did land: whether each change is in the store.
  Status RecoverAccountChanges(const Batch& batch, Outcome& outcome);
  void HandIn(PendingAccountChange change);

  void DropOverflow();  // with mutex_ held

  DataDirLock lock_;  // first in, last out: held until the connections are closed
  std::string path_;
  StoreOptions options_;
  StoreTestHooks hooks_;
  SigningKey key_;
  Database db_;            // the writer's; touched only on the writer thread after Open()
  ReaderPool readers_;     // for queries, from any thread
  LedgerState ledger_;     // writer thread only
  ChannelDirectory channels_;  // writer thread only
  std::chrono::steady_clock::time_point last_checkpoint_{};

  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable flushed_;
  std::condition_variable room_;
  bool failing_ = false;  // the last commit failed: drop rather than wait
  PolledReadings pending_readings_;
  std::deque<PendingUpload> pending_uploads_;
  std::deque<PendingCorrection> pending_corrections_;
  std::deque<PendingCalibration> pending_calibrations_;
  std::deque<PendingAccountChange> pending_account_changes_;
  std::deque<PendingConformity> pending_conformity_;
  std::deque<AuditEvent> pending_audit_;
  uint64_t handed_in_ = 0, done_ = 0;
  int flushes_waiting_ = 0;    // in Flush()
  int producers_waiting_ = 0;  // in Append(), for room in the queue
  uint64_t dropped_readings_ = 0;
  bool checkpoint_requested_ = false;
  bool stopping_ = false;
  std::function<void(size_t, uint64_t)> on_commit_;
  std::thread writer_;
};

}  // namespace labtrace::store
