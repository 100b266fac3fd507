// The writer thread: it gathers what was handed in into batches, commits each in one
// transaction, and tells whoever waits how it went. Owns the write connection.
#include <sodium.h>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "store/record_store.h"
#include "store/schema.h"
#include "store/store_rows.h"

namespace labtrace::store {

namespace {
constexpr const char* kSelectBatchByUuid = "SELECT batch_id FROM batches WHERE batch_uuid = ?";
}  // namespace

void RecordStore::WriterLoop() {
  std::unique_lock lock(mutex_);
  for (;;) {
    if (hooks_.before_batch) {
      lock.unlock();
      hooks_.before_batch();
      lock.lock();
    }
    Batch batch;
    bool checkpoint = false, stop_after = false;
    const size_t leaves = TakeBatch(lock, batch, checkpoint, stop_after);
    lock.unlock();

    Outcome outcome;
    const Status committed = batch.empty() && !checkpoint ? OkStatus() : CommitOrRecover(batch, checkpoint, outcome);
    Answer(batch, committed, outcome, leaves, checkpoint);

    lock.lock();
    failing_ = !committed.ok();
    if (committed.ok()) {
      done_ += batch.items();
    } else {
      done_ += batch.awaited();
      // Audit events wait, like polled readings, for the disk to come back.
      for (auto it = batch.audit_events.rbegin(); it != batch.audit_events.rend(); ++it) {
        pending_audit_.push_front(std::move(*it));
      }
      // Polled readings wait for the disk to come back; the newest are kept when the
      // queue overflows, and the loss is counted.
      pending_readings_.PutBack(std::move(batch.readings));
      DropOverflow();
      if (checkpoint) checkpoint_requested_ = true;
    }
    flushed_.notify_all();
    room_.notify_all();
    if (stop_after && (committed.ok() || pending_uploads_.empty())) {
      if (!committed.ok() || !pending_readings_.empty()) {
        spdlog::error("store: {} polled reading(s) could not be committed before shutdown", pending_readings_.size());
      }
      break;
    }
    if (!committed.ok()) {
      wake_.wait_for(lock, std::chrono::seconds(1), [&] { return stopping_; });
      if (stopping_) {
        spdlog::error("store: stopping with {} polled reading(s) not committed", pending_readings_.size());
        break;
      }
    }
  }
  if (dropped_readings_ > 0) {
    spdlog::error("store: {} polled reading(s) were dropped while the disk refused writes", dropped_readings_);
  }
  flushed_.notify_all();
  room_.notify_all();
}

size_t RecordStore::TakeBatch(std::unique_lock<std::mutex>& lock, Batch& batch, bool& checkpoint, bool& stop_after) {
  wake_.wait(lock, [&] {
    return stopping_ || checkpoint_requested_ || !pending_readings_.empty() || !pending_uploads_.empty() ||
           !pending_corrections_.empty() || !pending_calibrations_.empty() || !pending_account_changes_.empty() ||
           !pending_conformity_.empty() || !pending_audit_.empty();
  });
  // Group commit. Polled readings and audit events, which nobody waits for, gather for
  // the poll window; what somebody waits for (an upload, a correction, a calibration, a
  // Flush, a producer held for room) closes the batch within the commit window.
  const auto opened = std::chrono::steady_clock::now();
  const auto poll_window_ends = opened + std::max(options_.poll_window, options_.commit_window);
  auto full = [&] { return stopping_ || pending_readings_.size() >= kMaxBatch; };
  auto awaited = [&] {
    return !pending_uploads_.empty() || !pending_corrections_.empty() || !pending_calibrations_.empty() ||
           !pending_account_changes_.empty() || !pending_conformity_.empty() || flushes_waiting_ > 0 || producers_waiting_ > 0 || checkpoint_requested_;
  };
  wake_.wait_until(lock, poll_window_ends, [&] { return full() || awaited(); });
  if (!full() && awaited()) {
    wake_.wait_until(lock, std::min(poll_window_ends, std::chrono::steady_clock::now() + options_.commit_window),
                     full);
  }
  size_t leaves = 0;
  while (!pending_uploads_.empty() && leaves < kMaxBatch) {
    leaves += pending_uploads_.front().request.readings_size();
    batch.uploads.push_back(std::move(pending_uploads_.front()));
    pending_uploads_.pop_front();
  }
  while (!pending_readings_.empty() && leaves < kMaxBatch) {
    std::vector<Reading> poll = pending_readings_.PopFront();
    leaves += poll.size();
    batch.readings.PushBack(std::move(poll));
  }
  for (; !pending_corrections_.empty(); pending_corrections_.pop_front(), leaves += 2) {
    batch.corrections.push_back(std::move(pending_corrections_.front()));
  }
  for (; !pending_calibrations_.empty(); pending_calibrations_.pop_front(), leaves += 2) {
    batch.calibrations.push_back(std::move(pending_calibrations_.front()));
  }
  for (; !pending_account_changes_.empty(); pending_account_changes_.pop_front()) {
    leaves += pending_account_changes_.front().events.size();
    batch.account_changes.push_back(std::move(pending_account_changes_.front()));
  }
  for (; !pending_conformity_.empty(); pending_conformity_.pop_front()) {
    leaves += 1 + pending_conformity_.front().change.events.size();
    batch.conformity.push_back(std::move(pending_conformity_.front()));
  }
  for (; !pending_audit_.empty(); pending_audit_.pop_front(), ++leaves) {
    batch.audit_events.push_back(std::move(pending_audit_.front()));
  }
  const bool more_pending = !pending_readings_.empty() || !pending_uploads_.empty();
  const bool checkpoint_due = std::chrono::steady_clock::now() - last_checkpoint_ >= options_.checkpoint_interval;
  // The final checkpoint waits for the last batch.
  checkpoint = (checkpoint_requested_ || checkpoint_due) && !more_pending;
  if (checkpoint) checkpoint_requested_ = false;
  stop_after = stopping_ && !more_pending;
  return leaves;
}

Status RecordStore::CommitOrRecover(Batch& batch, bool checkpoint, Outcome& outcome) {
  std::string uuid(16, '\0');
  randombytes_buf(uuid.data(), uuid.size());
  // A connection lost to an earlier I/O error is opened again first.
  Status committed = db_.handle() == nullptr ? Reopen() : OkStatus();
  if (committed.ok()) committed = CommitBatch(batch, uuid, checkpoint, outcome);
  if (committed.ok()) return committed;
  channels_.Forget();
  if (committed.code() == StatusCode::kUnavailable && db_.handle() != nullptr) {
    // An I/O error (fsync among them): the pages may or may not be on disk. Never
    // retry blindly: reopen and ask the database whether this batch landed.
    spdlog::error("store: {}; reopening the database", committed.message());
    if (Status reopened = Reopen(); !reopened.ok()) {
      spdlog::error("store: cannot reopen: {}", reopened.message());
    } else if (auto landed = BatchLanded(uuid); landed && *landed) {
      spdlog::warn("store: the failed commit had landed; nothing is written twice");
      committed = RecoverReceipts(batch, outcome);
    }
  }
  return committed;
}

void RecordStore::Answer(Batch& batch, const Status& committed, Outcome& outcome, size_t leaves, bool checkpoint) {
  if (committed.ok()) {
    for (size_t i = 0; i < batch.uploads.size(); ++i) batch.uploads[i].done(outcome.receipts[i]);
    for (size_t i = 0; i < batch.corrections.size(); ++i) batch.corrections[i].done(outcome.corrections[i]);
    for (size_t i = 0; i < batch.calibrations.size(); ++i) batch.calibrations[i].done(outcome.calibrations[i]);
    for (size_t i = 0; i < batch.account_changes.size(); ++i) batch.account_changes[i].done(outcome.account_changes[i]);
    for (size_t i = 0; i < batch.conformity.size(); ++i) batch.conformity[i].done(std::move(outcome.conformity[i]));
    if (on_commit_ && !batch.empty()) on_commit_(leaves, ledger_.tree.size());
    if (options_.on_readings_committed) PublishCommitted(batch, outcome);
    if (checkpoint) last_checkpoint_ = std::chrono::steady_clock::now();
    if (options_.give_back) {
      for (std::vector<Reading>& poll : batch.readings.polls()) options_.give_back->GiveBack(std::move(poll));
    }
    return;
  }
  spdlog::error("store: cannot commit {} record(s): {}", leaves, committed.message());
  const StatusCode code =
      committed.code() == StatusCode::kResourceExhausted ? StatusCode::kResourceExhausted : StatusCode::kUnavailable;
  const Status refusal(
      code, fmt::format("not stored: {}; send the upload again with the same idempotency key", committed.message()));
  for (PendingUpload& upload : batch.uploads) upload.done(Error(refusal));
  for (PendingCorrection& correction : batch.corrections) {
    correction.done(Error(Status(code, fmt::format("not stored: {}; send the correction again", committed.message()))));
  }
  for (PendingCalibration& calibration : batch.calibrations) calibration.done(Error(refusal));
  for (PendingAccountChange& change : batch.account_changes) {
    change.done(Status(code, fmt::format("not stored: {}; nothing was changed, try again", committed.message())));
  }
  for (PendingConformity& change : batch.conformity) {
    change.done(Error(Status(code, fmt::format("not stored: {}; nothing was changed, try again", committed.message()))));
  }
}

void RecordStore::PublishCommitted(Batch& batch, const Outcome& outcome) {
  std::vector<const Reading*> committed;
  committed.reserve(batch.readings.size());
  for (const std::vector<Reading>& poll : batch.readings.polls()) {
    for (const Reading& reading : poll) committed.push_back(&reading);
  }
  for (size_t i = 0; i < batch.uploads.size(); ++i) {
    if (outcome.receipts[i].replayed()) continue;  // stored before, and published then
    for (const Reading& reading : batch.uploads[i].request.readings()) committed.push_back(&reading);
  }
  for (const Reading& version : outcome.corrected_versions) committed.push_back(&version);
  if (!committed.empty()) options_.on_readings_committed(committed);
}

Status RecordStore::CommitBatch(Batch& batch, const std::string& batch_uuid, bool checkpoint, Outcome& outcome) {
  Transaction transaction(db_);
  if (Status s = transaction.Begin(); !s.ok()) return s;
  channels_.Begin(db_);
  LedgerState next = ledger_;
  auto ledger = LedgerWriter::Start(db_, next, batch_uuid);
  if (!ledger) return ledger.error();
  auto readings = ReadingWriter::Start(db_, channels_, next.tree);
  if (!readings) return readings.error();

  for (std::vector<Reading>& poll : batch.readings.polls()) {
    for (Reading& reading : poll) {
      if (Status s = readings->Add(reading); !s.ok()) return s;
    }
  }
  // Copied, not moved: if the commit fails, the batch's events are queued again.
  std::vector<AuditEvent> audit = batch.audit_events;
  // Uploads name the batch row their readings go in, the first of this commit.
  if (Status s = CommitUploads(batch, *readings, ledger->next_batch_id(), audit, outcome); !s.ok()) return s;
  std::vector<CorrectionEvent> correction_events;
  if (Status s = CommitCorrections(batch, *readings, audit, outcome, correction_events); !s.ok()) return s;

  // One batch row per kind of record: readings, calibrations, then audit events.
  if (Status s = readings->Finish(); !s.ok()) return s;
  if (!readings->leaves().empty()) {
    if (Status s = ledger->AddBatch(RecordKind::kReading, readings->first_sequence(), readings->leaves()); !s.ok()) {
      return s;
    }
  }
  if (Status s = CommitCalibrations(batch, *ledger, next.tree, audit, outcome); !s.ok()) return s;
  if (Status s = CommitAccountChanges(batch, audit, outcome); !s.ok()) return s;
  if (Status s = CommitConformity(batch, *ledger, next.tree, audit, outcome); !s.ok()) return s;
  if (Status s = ledger->AddAuditEvents(audit); !s.ok()) return s;
  for (const CorrectionEvent& made : correction_events) {
    outcome.corrections[made.correction]->set_audit_sequence(audit[made.event].sequence());
  }
  if (checkpoint) {
    if (Status s = ledger->SignCheckpoint(key_); !s.ok()) return s;
  }

  if (Status s = transaction.Commit(); !s.ok()) return s;
  ledger_ = std::move(next);
  channels_.Committed();
  return OkStatus();
}

Status RecordStore::RecoverReceipts(const Batch& batch, Outcome& outcome) {
  outcome.receipts.clear();
  for (const PendingUpload& upload : batch.uploads) {
    auto found = FindUpload(db_, upload.request.idempotency_key());
    if (!found) return found.error();
    if (!*found) return DataLoss("a landed batch lacks one of its uploads");
    outcome.receipts.push_back(**found);
  }
  outcome.calibrations.clear();
  for (const PendingCalibration& calibration : batch.calibrations) {
    auto stored = store::FindCalibrationByKey(db_, calibration.record.idempotency_key());
    if (!stored) return stored.error();
    if (!*stored) return DataLoss("a landed batch lacks one of its calibration records");
    outcome.calibrations.push_back(ReceiptOf(**stored, false));
  }
  if (Status s = RecoverAccountChanges(batch, outcome); !s.ok()) return s;
  if (Status s = RecoverConformity(batch, outcome); !s.ok()) return s;
  // A correction has no key to look up: say it landed, without its sequence.
  outcome.corrections.assign(batch.corrections.size(),
                             Error(Status(StatusCode::kUnavailable,
                                          "the correction was stored, but its receipt was lost to an I/O "
                                          "error; see GET /v1/audit before correcting again")));
  return OkStatus();
}

Status RecordStore::Reopen() {
  channels_.Clear();  // its statements go before the connection
  db_.Close();        // its cached pages may not be what is on disk
  auto db = Database::Open(path_, Database::Mode::kReadWrite, hooks_.vfs);
  if (!db) return db.error();
  if (Status s = ConfigureWriter(*db, hooks_.exclusive_locking, hooks_.synchronous_off); !s.ok()) return s;
  db_ = std::move(*db);
  auto ledger = LoadLedgerState(db_);
  if (!ledger) return ledger.error();
  ledger_ = std::move(*ledger);
  return OkStatus();
}

Result<bool> RecordStore::BatchLanded(const std::string& batch_uuid) {
  auto find = db_.Cached(kSelectBatchByUuid);
  if (!find) return Error(find.error());
  (*find)->BindBlob(1, {reinterpret_cast<const uint8_t*>(batch_uuid.data()), batch_uuid.size()});
  return (*find)->Step();
}

}  // namespace labtrace::store
