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
// Reading: Query() opens its own read-only connection, so queries never block the writer.
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
#include <vector>

#include "labtrace/api.pb.h"
#include "labtrace/calibration.pb.h"
#include "labtrace/ledger.pb.h"
#include "labtrace/reading.pb.h"
#include "labtrace/reading_buffers.h"
#include "labtrace/status.h"
#include "store/channel_directory.h"
#include "store/merkle.h"
#include "store/polled_readings.h"
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
  // Test seams: a fault-injecting SQLite VFS (which needs exclusive locking, having no
  // shared memory), and synchronous=OFF for the power-loss test's negative control.
  std::string vfs;
  bool exclusive_locking = false;
  bool synchronous_off = false;
};

using UploadDone = std::function<void(Result<api::UploadReceipt>)>;
using CorrectionDone = std::function<void(Result<api::CorrectionReceipt>)>;
using CalibrationDone = std::function<void(Result<api::CalibrationReceipt>)>;

class RecordStore {
 public:
  static constexpr const char* kFileName = "labtrace.db";

  static Result<std::unique_ptr<RecordStore>> Open(const std::string& data_dir, StoreOptions options = {});
  ~RecordStore();  // commits what is pending, signs a final checkpoint, stops the writer

  // Thread-safe. Polled readings; committed within the commit window. Waits while the
  // queue is full and the store healthy (see kMaxQueuedReadings).
  void Append(std::vector<Reading> readings);
  // Thread-safe. `done` runs on the writer thread once the upload is durable, or failed.
  void Upload(api::UploadRequest request, UploadDone done);
  // Thread-safe. Stores a new version of reading `sequence`, which stays as it was, and
  // an "amend" audit event with who, when, why, and the old and new values. `done` runs
  // on the writer thread once durable.
  void Correct(uint64_t sequence, api::CorrectionRequest request, CorrectionDone done);
  // Thread-safe. Stores a calibration or verification record, giving it its id and
  // certificate number ("KD-2026-00007"), with a "create" audit event by its performer
  // and an "override" event for each expired standard used with approval. `done` runs
  // on the writer thread once durable; a repeated idempotency key gets the first receipt.
  void RecordCalibration(CalibrationRecord record, CalibrationDone done);
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

  // Safe from any thread.
  Result<api::ReadingsResponse> Query(const api::ReadingsQuery& query) const;
  // The audit trail of one entity ("reading:17"), or all of it, oldest first.
  Result<api::AuditResponse> QueryAudit(const std::string& entity, int64_t since_ns) const;

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

  const std::string& path() const { return path_; }
  const std::array<uint8_t, 32>& public_key() const { return key_.public_key(); }

 private:
  struct PendingUpload {
    api::UploadRequest request;
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
  struct Batch {
    PolledReadings readings;
    std::vector<PendingUpload> uploads;
    std::vector<PendingCorrection> corrections;
    std::vector<PendingCalibration> calibrations;
    std::vector<AuditEvent> audit_events;
    size_t items() const {
      return readings.size() + uploads.size() + corrections.size() + calibrations.size() + audit_events.size();
    }
    bool empty() const { return items() == 0; }
  };
  struct LedgerState {
    CompactTree tree;
    Hash chain{};
  };

  RecordStore(std::string path, StoreOptions options, SigningKey key, Database db)
      : path_(std::move(path)), options_(std::move(options)), key_(std::move(key)), db_(std::move(db)) {}
  Status LoadLedgerState();
  void WriterLoop();
  // Commits one batch; fills the receipts of its uploads (in order) on success.
  // Corrections that cannot be made (an unknown reading) get their error in
  // `correction_results` without failing the batch.
  struct Outcome {
    std::vector<api::UploadReceipt> receipts;  // one per upload, in order
    // One per correction: a correction that cannot be made (an unknown reading) gets its
    // error here without failing the batch.
    std::vector<Result<api::CorrectionReceipt>> corrections;
    std::vector<api::CalibrationReceipt> calibrations;  // one per calibration, in order
  };
  // Commits one batch and fills `outcome` on success.
  Status CommitBatch(Batch& batch, const std::string& batch_uuid, bool checkpoint, Outcome& outcome);
  // Stores the batch's calibration records (a replayed key gets its first receipt) and
  // appends their leaves to `next` and `leaves`; their audit events go to `audit`.
  Status CommitCalibrations(Batch& batch, LedgerState& next, std::vector<AuditEvent>& audit, Outcome& outcome,
                            std::vector<Hash>& leaves, int64_t& first_record_id);
  // After an I/O error, a batch that did land: its receipts are read back by key.
  Status RecoverReceipts(const Batch& batch, Outcome& outcome);
  Status Reopen();
  void DropOverflow();  // with mutex_ held
  Result<bool> BatchLanded(const std::string& batch_uuid);
  Result<std::optional<CalibrationRecord>> FindCalibrationWhere(const char* sql, const std::string& value) const;

  std::string path_;
  StoreOptions options_;
  SigningKey key_;
  Database db_;            // the writer's; touched only on the writer thread after Open()
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
