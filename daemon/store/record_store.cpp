#include "store/record_store.h"

#include <sodium.h>

#include <algorithm>
#include <charconv>
#include <ctime>
#include <filesystem>
#include <map>
#include <set>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "labtrace/clock.h"
#include "store/audit_row.h"
#include "store/reading_row.h"
#include "store/reading_writer.h"
#include "store/record_bytes.h"
#include "store/schema.h"

namespace labtrace::store {

namespace {

constexpr const char* kSelectReadingBySequence =
    "SELECT " LABTRACE_READING_COLUMNS " FROM readings r JOIN channels c ON c.channel_id = r.channel_id "
    "WHERE r.sequence = ?";
constexpr const char* kInsertAuditEvent =
    "INSERT INTO audit_events (time_ns, actor, action, entity, old_value, new_value, reason) "
    "VALUES (?, ?, ?, ?, ?, ?, ?)";
constexpr const char* kSelectAudit =
    "SELECT " LABTRACE_AUDIT_COLUMNS " FROM audit_events "
    "WHERE (?1 = '' OR entity = ?1) AND time_ns >= ?2 ORDER BY event_id LIMIT ?3";
constexpr const char* kSelectLastConfiguration =
    "SELECT new_value FROM audit_events WHERE action IN ('configure', 'start') AND entity = 'lab-config' "
    "ORDER BY event_id DESC LIMIT 1";
constexpr const char* kInsertBatch =
    "INSERT INTO batches (batch_id, batch_uuid, first_leaf, leaf_count, record_kind, first_record_id, "
    "leaf_hashes, batch_root, tree_root, chain_hash, frontier, committed_at_ns) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
constexpr const char* kSelectLastBatch =
    "SELECT batch_id, first_leaf, leaf_count, chain_hash, frontier FROM batches "
    "ORDER BY batch_id DESC LIMIT 1";
constexpr const char* kSelectBatchByUuid = "SELECT batch_id FROM batches WHERE batch_uuid = ?";
constexpr const char* kSelectUpload =
    "SELECT first_sequence, last_sequence, count FROM uploads WHERE idempotency_key = ?";
constexpr const char* kInsertUpload =
    "INSERT INTO uploads (idempotency_key, first_sequence, last_sequence, count, batch_id, received_at_ns) "
    "VALUES (?, ?, ?, ?, ?, ?)";
constexpr const char* kInsertCalibration =
    "INSERT INTO calibration_records (record_id, certificate_number, idempotency_key, unit_under_test, "
    "performed_at_ns, record) VALUES (?, ?, ?, ?, ?, ?)";
constexpr const char* kSelectCalibrationByKey = "SELECT record FROM calibration_records WHERE idempotency_key = ?";
constexpr const char* kSelectCalibrationByNumber =
    "SELECT record FROM calibration_records WHERE certificate_number = ?";
constexpr const char* kSelectCalibrationsSince =
    "SELECT record FROM calibration_records WHERE performed_at_ns >= ? ORDER BY record_id";
constexpr const char* kSelectReadingGroups =
    "SELECT c.instrument, c.channel, r.calibration_certificate, MIN(r.sequence), MAX(r.sequence), COUNT(*), "
    "MIN(r.requested_at_ns), MAX(r.requested_at_ns) FROM readings r JOIN channels c ON c.channel_id = r.channel_id "
    "WHERE r.requested_at_ns >= ? AND r.calibration_certificate <> '' "
    "GROUP BY c.instrument, c.channel, r.calibration_certificate ORDER BY c.instrument, c.channel, 4";
constexpr const char* kInsertCheckpoint =
    "INSERT INTO checkpoints (tree_size, root_hash, time_ns, public_key, signature) VALUES (?, ?, ?, ?, ?)";
constexpr const char* kSelectChannels =
    "SELECT channel_id, instrument, channel FROM channels "
    "WHERE (?1 = '' OR instrument = ?1) AND (?2 = '' OR channel = ?2) "
    "ORDER BY instrument, channel";
// The channel sets that hold a channel: a search visits their runs only.
constexpr const char* kSelectSetsOfChannel = "SELECT set_id FROM channel_set_members WHERE channel_id = ?";
// A channel's readings in the runs of one of its sets: the runs in order, and in each run
// the rows of the channel. Runs do not overlap, so the order of (run, sequence) is the
// order of sequence, and SQLite needs no sort to stop at the limit.
#define LABTRACE_CHANNEL_READINGS                                                                          \
  "SELECT " LABTRACE_READING_COLUMNS " FROM reading_runs u "                                              \
  "JOIN readings r ON r.sequence >= u.first_sequence AND r.sequence < u.first_sequence + u.count "        \
  "JOIN channels c ON c.channel_id = r.channel_id "                                                       \
  "WHERE u.channel_set = ?1 AND r.channel_id = ?2 AND r.requested_at_ns >= ?3 "
constexpr const char* kSelectOldestFirst =
    LABTRACE_CHANNEL_READINGS "ORDER BY u.first_sequence, r.sequence LIMIT ?4";
constexpr const char* kSelectNewestFirst =
    LABTRACE_CHANNEL_READINGS "ORDER BY u.first_sequence DESC, r.sequence DESC LIMIT ?4";

std::span<const uint8_t> Bytes(const std::string& s) { return {reinterpret_cast<const uint8_t*>(s.data()), s.size()}; }
std::span<const uint8_t> Bytes(const Hash& h) { return {h.data(), h.size()}; }


Status ValidateUpload(const api::UploadRequest& request) {
  if (request.idempotency_key().empty() || request.idempotency_key().size() > 200) {
    return InvalidArgument("idempotency_key must be 1..200 characters; send the same key again to retry");
  }
  if (request.readings().empty()) return InvalidArgument("an upload needs at least one reading");
  if (request.readings_size() > 100000) return InvalidArgument("at most 100000 readings per upload; split it");
  for (int i = 0; i < request.readings_size(); ++i) {
    const Reading& r = request.readings(i);
    auto bad = [&](std::string_view what) {
      return InvalidArgument(fmt::format("readings[{}]: {}", i, what));
    };
    if (r.instrument().empty()) return bad("instrument is empty");
    if (r.channel().empty()) return bad("channel is empty");
    if (r.unit().empty()) return bad("unit is empty");
    if (r.quality() == QUALITY_UNSPECIFIED) return bad("quality is not given");
    if (r.requested_at_ns() <= 0) return bad("requested_at_ns is not given");
    if (QualityHasValue(r.quality()) && !std::isfinite(r.value())) return bad("value is not a finite number");
  }
  return OkStatus();
}

Result<CalibrationRecord> ParseCalibration(const std::string& blob) {
  CalibrationRecord record;
  if (!record.ParseFromString(blob)) return Error(DataLoss("a stored calibration record does not parse"));
  return record;
}

api::CalibrationReceipt ReceiptOf(const CalibrationRecord& record, bool replayed) {
  api::CalibrationReceipt receipt;
  receipt.set_record_id(record.record_id());
  receipt.set_certificate_number(record.certificate_number());
  receipt.set_verdict(record.verdict());
  receipt.set_replayed(replayed);
  return receipt;
}

// "KD-2026-00007": kiểm định (verification) or hiệu chuẩn (calibration), the year it was
// performed in the lab's calendar (its performed_on date, which the workflow sets), and
// the record id, which no other record has. A record from before performed_on existed
// takes the UTC year, as it was numbered then.
std::string CertificateNumber(const CalibrationRecord& record) {
  std::string year = record.performed_on().substr(0, 4);
  if (year.size() != 4) {
    const std::time_t t = static_cast<std::time_t>(record.performed_at_ns() / 1'000'000'000);
    std::tm tm{};
    gmtime_r(&t, &tm);
    year = fmt::format("{:04}", tm.tm_year + 1900);
  }
  return fmt::format("{}-{}-{:05}", record.kind() == config::VERIFICATION ? "KD" : "HC", year, record.record_id());
}

}  // namespace

Result<std::unique_ptr<RecordStore>> RecordStore::Open(const std::string& data_dir, StoreOptions options) {
  std::error_code ec;
  std::filesystem::create_directories(data_dir, ec);
  if (ec) return Error(Unavailable(fmt::format("cannot create data directory {}: {}", data_dir, ec.message())));
  const std::string path = (std::filesystem::path(data_dir) / kFileName).string();
  const std::string key_path = options.signing_key_path.empty()
                                   ? (std::filesystem::path(data_dir) / "lab-signing.key").string()
                                   : options.signing_key_path;
  auto key = SigningKey::LoadOrCreate(key_path);
  if (!key) return Error(key.error());
  auto db = Database::Open(path, Database::Mode::kReadWrite, options.vfs);
  if (!db) return Error(db.error());
  if (Status s = ConfigureWriter(*db, options.exclusive_locking, options.synchronous_off); !s.ok()) {
    return Error(s.Annotate(path));
  }
  if (Status s = Migrate(*db); !s.ok()) return Error(s.Annotate(path));
  std::unique_ptr<RecordStore> store(new RecordStore(path, std::move(options), std::move(*key), std::move(*db)));
  if (Status s = store->LoadLedgerState(); !s.ok()) return Error(s.Annotate(path));
  store->last_checkpoint_ = std::chrono::steady_clock::now();
  store->writer_ = std::thread([s = store.get()] { s->WriterLoop(); });
  return store;
}

Status RecordStore::LoadLedgerState() {
  auto last = db_.Prepare(kSelectLastBatch);
  if (!last) return last.error();
  auto row = last->Step();
  if (!row) return row.error();
  ledger_ = {};
  if (!*row) return OkStatus();
  const uint64_t size = static_cast<uint64_t>(last->ColumnInt64(1) + last->ColumnInt64(2));
  const std::string chain = last->ColumnBlob(3), frontier = last->ColumnBlob(4);
  if (chain.size() != 32 || frontier.size() % 32 != 0) return DataLoss("the last batch's chain or frontier is malformed");
  std::vector<Hash> subtrees(frontier.size() / 32);
  for (size_t i = 0; i < subtrees.size(); ++i) std::copy_n(frontier.begin() + 32 * i, 32, subtrees[i].begin());
  auto tree = CompactTree::FromSubtrees(size, std::move(subtrees));
  if (!tree) return tree.error();
  ledger_.tree = std::move(*tree);
  std::copy(chain.begin(), chain.end(), ledger_.chain.begin());
  return OkStatus();
}

RecordStore::~RecordStore() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    checkpoint_requested_ = true;  // a final checkpoint of what the store holds at shutdown
  }
  wake_.notify_all();
  room_.notify_all();
  if (writer_.joinable()) writer_.join();
}

void RecordStore::Append(std::vector<Reading> readings) {
  if (readings.empty()) return;
  {
    std::unique_lock lock(mutex_);
    auto room = [&] {
      return failing_ || stopping_ || pending_readings_.size() + readings.size() <= options_.max_queued_readings ||
             pending_readings_.empty();
    };
    if (!room()) {
      ++producers_waiting_;  // the writer commits without waiting out the poll window
      wake_.notify_one();
      room_.wait(lock, room);
      --producers_waiting_;
    }
    const bool was_empty = pending_readings_.empty();
    handed_in_ += readings.size();
    pending_readings_.PushBack(std::move(readings));
    DropOverflow();
    // The writer needs waking only to start a commit window or to end one early on a full
    // batch; waking it for every poll of 200 devices cost a context switch each.
    if (!was_empty && pending_readings_.size() < kMaxBatch) return;
  }
  wake_.notify_one();
}

void RecordStore::DropOverflow() {
  // Only reached with room to spare unless the disk is refusing writes.
  if (!failing_) return;
  const size_t dropped = pending_readings_.DropOldest(options_.max_queued_readings);
  dropped_readings_ += dropped;
  done_ += dropped;
}

void RecordStore::Upload(api::UploadRequest request, UploadDone done) {
  if (Status valid = ValidateUpload(request); !valid.ok()) {
    done(Error(valid));
    return;
  }
  {
    std::lock_guard lock(mutex_);
    pending_uploads_.push_back({std::move(request), std::move(done)});
    ++handed_in_;
  }
  wake_.notify_one();
}

void RecordStore::Correct(uint64_t sequence, api::CorrectionRequest request, CorrectionDone done) {
  if (request.actor().empty()) return done(Error(InvalidArgument("a correction needs an actor: who corrects")));
  if (request.reason().empty()) return done(Error(InvalidArgument("a correction needs a reason")));
  const Reading& corrected = request.corrected();
  if (corrected.quality() == QUALITY_UNSPECIFIED || corrected.unit().empty()) {
    return done(Error(InvalidArgument("the corrected reading needs a quality and a unit")));
  }
  if (QualityHasValue(corrected.quality()) && !std::isfinite(corrected.value())) {
    return done(Error(InvalidArgument("the corrected value is not a finite number")));
  }
  {
    std::lock_guard lock(mutex_);
    pending_corrections_.push_back({sequence, std::move(request), std::move(done)});
    ++handed_in_;
  }
  wake_.notify_one();
}

void RecordStore::RecordCalibration(CalibrationRecord record, CalibrationDone done) {
  if (record.idempotency_key().empty() || record.idempotency_key().size() > 200) {
    return done(Error(InvalidArgument("idempotency_key must be 1..200 characters; send the same key again to retry")));
  }
  {
    std::lock_guard lock(mutex_);
    pending_calibrations_.push_back({std::move(record), std::move(done)});
    ++handed_in_;
  }
  wake_.notify_one();
}

void RecordStore::RecordAudit(AuditEvent event) {
  if (event.time_ns() == 0) event.set_time_ns(NowNs());
  {
    std::lock_guard lock(mutex_);
    pending_audit_.push_back(std::move(event));
    ++handed_in_;
  }
  wake_.notify_one();
}

Status RecordStore::RecordConfiguration(const std::string& config_path, const std::string& config_digest) {
  auto db = Database::Open(path_, Database::Mode::kReadOnly, options_.vfs);
  if (!db) return db.error();
  auto last = db->Prepare(kSelectLastConfiguration);
  if (!last) return last.error();
  auto row = last->Step();
  if (!row) return row.error();
  const std::string previous = *row ? last->ColumnText(0) : "";
  AuditEvent event;
  event.set_actor("labtraced");
  event.set_entity("lab-config");
  event.set_old_value(previous);
  event.set_new_value(config_digest);
  const bool changed = previous != config_digest;
  event.set_action(changed ? "configure" : "start");
  event.set_reason(changed ? fmt::format("started with {} (SHA-256 {})", config_path, config_digest)
                           : fmt::format("started with {}, unchanged", config_path));
  RecordAudit(std::move(event));
  return OkStatus();
}

void RecordStore::RequestCheckpoint() {
  {
    std::lock_guard lock(mutex_);
    checkpoint_requested_ = true;
  }
  wake_.notify_one();
}

void RecordStore::Flush() {
  std::unique_lock lock(mutex_);
  const uint64_t target = handed_in_;
  ++flushes_waiting_;
  wake_.notify_one();
  flushed_.wait(lock, [&] { return done_ >= target || stopping_; });
  --flushes_waiting_;
}

Result<bool> RecordStore::BatchLanded(const std::string& batch_uuid) {
  auto find = db_.Prepare(kSelectBatchByUuid);
  if (!find) return Error(find.error());
  find->BindBlob(1, Bytes(batch_uuid));
  return find->Step();
}

Status RecordStore::Reopen() {
  channels_.Clear();  // its statements go before the connection
  db_.Close();  // its cached pages may not be what is on disk
  auto db = Database::Open(path_, Database::Mode::kReadWrite, options_.vfs);
  if (!db) return db.error();
  if (Status s = ConfigureWriter(*db, options_.exclusive_locking, options_.synchronous_off); !s.ok()) return s;
  db_ = std::move(*db);
  return LoadLedgerState();
}

void RecordStore::WriterLoop() {
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait(lock, [&] {
      return stopping_ || checkpoint_requested_ || !pending_readings_.empty() || !pending_uploads_.empty() ||
             !pending_corrections_.empty() || !pending_calibrations_.empty() || !pending_audit_.empty();
    });
    // Group commit. Polled readings and audit events, which nobody waits for, gather for
    // the poll window; what somebody waits for (an upload, a correction, a calibration, a
    // Flush, a producer held for room) closes the batch within the commit window.
    const auto opened = std::chrono::steady_clock::now();
    const auto poll_window_ends = opened + std::max(options_.poll_window, options_.commit_window);
    auto full = [&] { return stopping_ || pending_readings_.size() >= kMaxBatch; };
    auto awaited = [&] {
      return !pending_uploads_.empty() || !pending_corrections_.empty() || !pending_calibrations_.empty() ||
             flushes_waiting_ > 0 || producers_waiting_ > 0 || checkpoint_requested_;
    };
    wake_.wait_until(lock, poll_window_ends, [&] { return full() || awaited(); });
    if (!full() && awaited()) {
      wake_.wait_until(lock, std::min(poll_window_ends, std::chrono::steady_clock::now() + options_.commit_window),
                       full);
    }
    Batch batch;
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
    for (; !pending_audit_.empty(); pending_audit_.pop_front(), ++leaves) {
      batch.audit_events.push_back(std::move(pending_audit_.front()));
    }
    const bool more_pending = !pending_readings_.empty() || !pending_uploads_.empty();
    const bool checkpoint_due =
        std::chrono::steady_clock::now() - last_checkpoint_ >= options_.checkpoint_interval;
    // The final checkpoint waits for the last batch.
    const bool checkpoint = (checkpoint_requested_ || checkpoint_due) && !more_pending;
    if (checkpoint) checkpoint_requested_ = false;
    const bool stop_after = stopping_ && !more_pending;
    lock.unlock();

    Outcome outcome;
    Status committed = OkStatus();
    if (!batch.empty() || checkpoint) {
      std::string uuid(16, '\0');
      randombytes_buf(uuid.data(), uuid.size());
      // A connection lost to an earlier I/O error is opened again first.
      committed = db_.handle() == nullptr ? Reopen() : OkStatus();
      if (committed.ok()) committed = CommitBatch(batch, uuid, checkpoint, outcome);
      if (!committed.ok()) channels_.Forget();
      if (!committed.ok() && committed.code() == StatusCode::kUnavailable && db_.handle() != nullptr) {
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
    }

    if (committed.ok()) {
      for (size_t i = 0; i < batch.uploads.size(); ++i) batch.uploads[i].done(outcome.receipts[i]);
      for (size_t i = 0; i < batch.corrections.size(); ++i) batch.corrections[i].done(outcome.corrections[i]);
      for (size_t i = 0; i < batch.calibrations.size(); ++i) batch.calibrations[i].done(outcome.calibrations[i]);
      if (on_commit_ && !batch.empty()) on_commit_(leaves, ledger_.tree.size());
      if (checkpoint) last_checkpoint_ = std::chrono::steady_clock::now();
      if (options_.give_back) {
        for (std::vector<Reading>& poll : batch.readings.polls()) options_.give_back->GiveBack(std::move(poll));
      }
    } else {
      spdlog::error("store: cannot commit {} record(s): {}", leaves, committed.message());
      const Status refusal = Status(committed.code() == StatusCode::kResourceExhausted ? StatusCode::kResourceExhausted
                                                                                         : StatusCode::kUnavailable,
                                    fmt::format("not stored: {}; send the upload again with the same idempotency key",
                                                committed.message()));
      for (PendingUpload& upload : batch.uploads) upload.done(Error(refusal));
      for (PendingCorrection& correction : batch.corrections) {
        correction.done(Error(Status(refusal.code(), fmt::format("not stored: {}; send the correction again",
                                                                 committed.message()))));
      }
      for (PendingCalibration& calibration : batch.calibrations) calibration.done(Error(refusal));
    }

    lock.lock();
    failing_ = !committed.ok();
    if (committed.ok()) {
      done_ += batch.items();
    } else {
      done_ += batch.uploads.size() + batch.corrections.size() + batch.calibrations.size();
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

Status RecordStore::CommitBatch(Batch& batch, const std::string& batch_uuid, bool checkpoint, Outcome& outcome) {
  auto& receipts = outcome.receipts;
  auto& correction_results = outcome.corrections;
  Transaction transaction(db_);
  if (Status s = transaction.Begin(); !s.ok()) return s;
  if (Status s = channels_.Begin(db_); !s.ok()) return s;
  auto select_upload = db_.Prepare(kSelectUpload);
  auto insert_upload = db_.Prepare(kInsertUpload);
  for (auto* s : {&select_upload, &insert_upload}) {
    if (!*s) return s->error();
  }

  LedgerState next = ledger_;
  int64_t batch_id = 1;
  {
    auto last = db_.Prepare("SELECT COALESCE(MAX(batch_id), 0) + 1 FROM batches");
    if (!last) return last.error();
    if (auto row = last->Step(); !row) return row.error();
    batch_id = last->ColumnInt64(0);
  }
  auto readings = ReadingWriter::Start(db_, channels_, next.tree);
  if (!readings) return readings.error();

  for (std::vector<Reading>& poll : batch.readings.polls()) {
    for (Reading& reading : poll) {
      if (Status s = readings->Add(reading); !s.ok()) return s;
    }
  }
  // Uploads look up earlier ones.
  if (Status s = readings->Flush(); !s.ok()) return s;
  std::map<std::string, api::UploadReceipt> receipts_in_batch;
  for (PendingUpload& upload : batch.uploads) {
    const std::string& key = upload.request.idempotency_key();
    api::UploadReceipt receipt;
    receipt.set_idempotency_key(key);
    if (auto seen = receipts_in_batch.find(key); seen != receipts_in_batch.end()) {
      receipt = seen->second;
      receipt.set_replayed(true);
      receipts.push_back(receipt);
      continue;
    }
    select_upload->BindText(1, key);
    auto row = select_upload->Step();
    if (!row) return row.error();
    if (*row) {  // committed before: the first answer again, nothing stored twice
      receipt.set_first_sequence(static_cast<uint64_t>(select_upload->ColumnInt64(0)));
      receipt.set_last_sequence(static_cast<uint64_t>(select_upload->ColumnInt64(1)));
      receipt.set_count(static_cast<uint32_t>(select_upload->ColumnInt64(2)));
      receipt.set_replayed(true);
      select_upload->Reset();
      receipts.push_back(receipt);
      continue;
    }
    select_upload->Reset();
    for (Reading& reading : *upload.request.mutable_readings()) {
      if (Status s = readings->Add(reading); !s.ok()) return s;
    }
    receipt.set_first_sequence(upload.request.readings(0).sequence());
    receipt.set_last_sequence(upload.request.readings(upload.request.readings_size() - 1).sequence());
    receipt.set_count(static_cast<uint32_t>(upload.request.readings_size()));
    insert_upload->BindText(1, key);
    insert_upload->BindInt64(2, static_cast<int64_t>(receipt.first_sequence()));
    insert_upload->BindInt64(3, static_cast<int64_t>(receipt.last_sequence()));
    insert_upload->BindInt64(4, receipt.count());
    insert_upload->BindInt64(5, batch_id);
    insert_upload->BindInt64(6, NowNs());
    if (Status s = insert_upload->Run(); !s.ok()) return s;
    receipts_in_batch[key] = receipt;
    receipts.push_back(receipt);
  }
  // Corrections look up the readings they correct, which may be this batch's.
  if (Status s = readings->Flush(); !s.ok()) return s;

  // Corrections: a new version of the reading, which names the one it supersedes, and an
  // "amend" event with both values. The superseded version is not touched.
  // Copied, not moved: if the commit fails, the batch's events are queued again.
  std::vector<AuditEvent> audit = batch.audit_events;
  std::vector<std::optional<size_t>> correction_audit(batch.corrections.size());
  auto select_old = db_.Prepare(kSelectReadingBySequence);
  if (!select_old) return select_old.error();
  auto describe = [](const Reading& r) {
    return QualityHasValue(r.quality())
               ? fmt::format("{} {} ({})", r.value(), r.unit(), Quality_Name(r.quality()))
               : fmt::format("no value ({}: {})", Quality_Name(r.quality()), r.detail());
  };
  for (size_t i = 0; i < batch.corrections.size(); ++i) {
    PendingCorrection& correction = batch.corrections[i];
    select_old->BindInt64(1, static_cast<int64_t>(correction.sequence));
    auto row = select_old->Step();
    if (!row) return row.error();
    if (!*row) {
      select_old->Reset();
      correction_results.push_back(Error(NotFound(fmt::format("no reading has sequence {}", correction.sequence))));
      continue;
    }
    const Reading old = ReadingFromRow(*select_old);
    select_old->Reset();

    Reading version = correction.request.corrected();
    version.set_instrument(old.instrument());
    version.set_channel(old.channel());
    version.set_requested_at_ns(old.requested_at_ns());
    version.set_supersedes_sequence(correction.sequence);
    version.set_calibration_certificate(old.calibration_certificate());
    version.set_calibration_due_date(old.calibration_due_date());
    if (Status s = readings->Add(version); !s.ok()) return s;
    if (Status s = readings->Flush(); !s.ok()) return s;  // `version` goes out of scope
    AuditEvent event;
    event.set_time_ns(NowNs());
    event.set_actor(correction.request.actor());
    event.set_action("amend");
    event.set_entity(fmt::format("reading:{}", correction.sequence));
    event.set_old_value(describe(old));
    event.set_new_value(fmt::format("{} (reading {})", describe(version), version.sequence()));
    event.set_reason(correction.request.reason());
    correction_audit[i] = audit.size();
    audit.push_back(std::move(event));
    api::CorrectionReceipt receipt;
    receipt.set_sequence(version.sequence());
    receipt.set_supersedes_sequence(correction.sequence);
    correction_results.push_back(receipt);
  }
  for (const api::UploadReceipt& receipt : receipts) {
    if (receipt.replayed()) continue;
    AuditEvent event;
    event.set_time_ns(NowNs());
    event.set_actor("upload");  // until the API authenticates senders
    event.set_action("create");
    event.set_entity(fmt::format("upload:{}", receipt.idempotency_key()));
    event.set_new_value(fmt::format("readings {}..{}", receipt.first_sequence(), receipt.last_sequence()));
    audit.push_back(std::move(event));
  }

  // One batch row per kind of record: readings first, then audit events.
  auto insert_batch_row = [&](int64_t id, RecordKind kind, int64_t first_record_id,
                              const std::vector<Hash>& leaves) -> Status {
    const Hash batch_root = RootOf(leaves);
    std::string leaf_hashes;
    leaf_hashes.reserve(32 * leaves.size());
    for (const Hash& h : leaves) leaf_hashes.append(reinterpret_cast<const char*>(h.data()), h.size());
    next.chain = ChainHash(next.chain, batch_root, next.tree.size());
    std::string frontier;
    for (const Hash& h : next.tree.subtrees()) frontier.append(reinterpret_cast<const char*>(h.data()), h.size());
    auto insert_batch = db_.Prepare(kInsertBatch);
    if (!insert_batch) return insert_batch.error();
    insert_batch->BindInt64(1, id);
    insert_batch->BindBlob(2, Bytes(batch_uuid));
    insert_batch->BindInt64(3, static_cast<int64_t>(next.tree.size() - leaves.size()));
    insert_batch->BindInt64(4, static_cast<int64_t>(leaves.size()));
    insert_batch->BindInt64(5, static_cast<int>(kind));
    insert_batch->BindInt64(6, first_record_id);
    insert_batch->BindBlob(7, Bytes(leaf_hashes));
    insert_batch->BindBlob(8, Bytes(batch_root));
    insert_batch->BindBlob(9, Bytes(next.tree.Root()));
    insert_batch->BindBlob(10, Bytes(next.chain));
    insert_batch->BindBlob(11, Bytes(frontier));
    insert_batch->BindInt64(12, NowNs());
    return insert_batch->Run();
  };
  if (Status s = readings->Finish(); !s.ok()) return s;
  if (!readings->leaves().empty()) {
    if (Status s = insert_batch_row(batch_id++, RecordKind::kReading, readings->first_sequence(), readings->leaves());
        !s.ok()) {
      return s;
    }
  }
  if (!batch.calibrations.empty()) {
    std::vector<Hash> calibration_leaves;
    int64_t first_calibration_id = 0;
    if (Status s = CommitCalibrations(batch, next, audit, outcome, calibration_leaves, first_calibration_id);
        !s.ok()) {
      return s;
    }
    if (!calibration_leaves.empty()) {
      if (Status s = insert_batch_row(batch_id++, RecordKind::kCalibration, first_calibration_id, calibration_leaves);
          !s.ok()) {
        return s;
      }
    }
  }
  if (!audit.empty()) {
    auto insert_event = db_.Prepare(kInsertAuditEvent);
    if (!insert_event) return insert_event.error();
    std::vector<Hash> audit_leaves;
    int64_t first_event_id = 0;
    for (AuditEvent& event : audit) {
      insert_event->BindInt64(1, event.time_ns());
      insert_event->BindText(2, event.actor());
      insert_event->BindText(3, event.action());
      insert_event->BindText(4, event.entity());
      insert_event->BindText(5, event.old_value());
      insert_event->BindText(6, event.new_value());
      insert_event->BindText(7, event.reason());
      if (Status s = insert_event->Run(); !s.ok()) return s;
      event.set_sequence(static_cast<uint64_t>(db_.LastInsertRowId()));
      if (audit_leaves.empty()) first_event_id = static_cast<int64_t>(event.sequence());
      const Hash leaf = LeafHash(Bytes(AuditEventRecordBytes(event)));
      next.tree.Append(leaf);
      audit_leaves.push_back(leaf);
    }
    if (Status s = insert_batch_row(batch_id++, RecordKind::kAuditEvent, first_event_id, audit_leaves); !s.ok()) {
      return s;
    }
    // correction_results has one entry per correction, in order.
    for (size_t i = 0; i < batch.corrections.size(); ++i) {
      if (correction_audit[i]) correction_results[i]->set_audit_sequence(audit[*correction_audit[i]].sequence());
    }
  }


  if (checkpoint && next.tree.size() > 0) {
    Checkpoint signed_checkpoint;
    const Hash root = next.tree.Root();
    signed_checkpoint.set_tree_size(next.tree.size());
    signed_checkpoint.set_root_hash(root.data(), root.size());
    signed_checkpoint.set_time_ns(NowNs());
    signed_checkpoint.set_public_key(key_.public_key().data(), key_.public_key().size());
    signed_checkpoint.set_signature(key_.Sign(CheckpointText(signed_checkpoint)));
    auto insert_checkpoint = db_.Prepare(kInsertCheckpoint);
    if (!insert_checkpoint) return insert_checkpoint.error();
    insert_checkpoint->BindInt64(1, static_cast<int64_t>(signed_checkpoint.tree_size()));
    insert_checkpoint->BindBlob(2, Bytes(signed_checkpoint.root_hash()));
    insert_checkpoint->BindInt64(3, signed_checkpoint.time_ns());
    insert_checkpoint->BindBlob(4, Bytes(signed_checkpoint.public_key()));
    insert_checkpoint->BindBlob(5, Bytes(signed_checkpoint.signature()));
    if (Status s = insert_checkpoint->Run(); !s.ok()) return s;
  }

  if (Status s = transaction.Commit(); !s.ok()) return s;
  ledger_ = std::move(next);
  channels_.Committed();
  return OkStatus();
}

Status RecordStore::CommitCalibrations(Batch& batch, LedgerState& next, std::vector<AuditEvent>& audit,
                                       Outcome& outcome, std::vector<Hash>& leaves, int64_t& first_record_id) {
  auto select_key = db_.Prepare(kSelectCalibrationByKey);
  auto insert = db_.Prepare(kInsertCalibration);
  auto last = db_.Prepare("SELECT COALESCE(MAX(record_id), 0) + 1 FROM calibration_records");
  for (auto* s : {&select_key, &insert, &last}) {
    if (!*s) return s->error();
  }
  if (auto row = last->Step(); !row) return row.error();
  int64_t record_id = last->ColumnInt64(0);
  first_record_id = record_id;
  std::map<std::string, api::CalibrationReceipt> in_batch;
  for (const PendingCalibration& pending : batch.calibrations) {
    const std::string& key = pending.record.idempotency_key();
    if (auto seen = in_batch.find(key); seen != in_batch.end()) {
      api::CalibrationReceipt receipt = seen->second;
      receipt.set_replayed(true);
      outcome.calibrations.push_back(receipt);
      continue;
    }
    select_key->BindText(1, key);
    auto row = select_key->Step();
    if (!row) return row.error();
    if (*row) {  // committed before: the first answer again
      auto stored = ParseCalibration(select_key->ColumnBlob(0));
      select_key->Reset();
      if (!stored) return stored.error();
      outcome.calibrations.push_back(ReceiptOf(*stored, true));
      continue;
    }
    select_key->Reset();
    // Copied: if the commit fails, the caller is told and nothing half-numbered survives.
    CalibrationRecord record = pending.record;
    record.set_record_id(static_cast<uint64_t>(record_id++));
    record.set_certificate_number(CertificateNumber(record));
    const std::string bytes = CalibrationRecordBytes(record);
    insert->BindInt64(1, static_cast<int64_t>(record.record_id()));
    insert->BindText(2, record.certificate_number());
    insert->BindText(3, key);
    insert->BindText(4, record.unit_under_test().id());
    insert->BindInt64(5, record.performed_at_ns());
    insert->BindBlob(6, Bytes(bytes));
    if (Status s = insert->Run(); !s.ok()) return s;
    const Hash leaf = LeafHash(Bytes(bytes));
    next.tree.Append(leaf);
    leaves.push_back(leaf);

    const std::string entity = "calibration:" + record.certificate_number();
    AuditEvent created;
    created.set_time_ns(NowNs());
    created.set_actor(record.performed_by());
    created.set_action("create");
    created.set_entity(entity);
    created.set_new_value(fmt::format("{} of {} by {}: {}{}", config::CalibrationKind_Name(record.kind()),
                                      record.unit_under_test().id(), record.procedure(),
                                      metrology::Statement_Name(record.verdict()),
                                      record.stamp_number().empty() ? "" : ", stamp " + record.stamp_number()));
    audit.push_back(std::move(created));
    for (const StandardUsed& standard : record.standards()) {
      if (standard.override_approved_by().empty()) continue;
      AuditEvent event;
      event.set_time_ns(NowNs());
      event.set_actor(standard.override_approved_by());
      event.set_action("override");
      event.set_entity("standard:" + standard.id());
      event.set_old_value(fmt::format("calibration {} valid until {}", standard.certificate(), standard.valid_until()));
      event.set_new_value("used by " + record.certificate_number());
      event.set_reason(standard.override_reason());
      audit.push_back(std::move(event));
    }
    in_batch[key] = ReceiptOf(record, false);
    outcome.calibrations.push_back(in_batch[key]);
  }
  return OkStatus();
}

Status RecordStore::RecoverReceipts(const Batch& batch, Outcome& outcome) {
  outcome.receipts.clear();
  for (const PendingUpload& upload : batch.uploads) {
    auto find = db_.Prepare(kSelectUpload);
    if (!find) return find.error();
    find->BindText(1, upload.request.idempotency_key());
    auto row = find->Step();
    if (!row) return row.error();
    if (!*row) return DataLoss("a landed batch lacks one of its uploads");
    api::UploadReceipt receipt;
    receipt.set_idempotency_key(upload.request.idempotency_key());
    receipt.set_first_sequence(static_cast<uint64_t>(find->ColumnInt64(0)));
    receipt.set_last_sequence(static_cast<uint64_t>(find->ColumnInt64(1)));
    receipt.set_count(static_cast<uint32_t>(find->ColumnInt64(2)));
    outcome.receipts.push_back(receipt);
  }
  outcome.calibrations.clear();
  for (const PendingCalibration& calibration : batch.calibrations) {
    auto find = db_.Prepare(kSelectCalibrationByKey);
    if (!find) return find.error();
    find->BindText(1, calibration.record.idempotency_key());
    auto row = find->Step();
    if (!row) return row.error();
    if (!*row) return DataLoss("a landed batch lacks one of its calibration records");
    auto stored = ParseCalibration(find->ColumnBlob(0));
    if (!stored) return stored.error();
    outcome.calibrations.push_back(ReceiptOf(*stored, false));
  }
  // A correction has no key to look up: say it landed, without its sequence.
  outcome.corrections.assign(batch.corrections.size(),
                             Error(Status(StatusCode::kUnavailable,
                                          "the correction was stored, but its receipt was lost to an I/O "
                                          "error; see GET /v1/audit before correcting again")));
  return OkStatus();
}

Result<std::optional<CalibrationRecord>> RecordStore::FindCalibrationWhere(const char* sql,
                                                                        const std::string& value) const {
  auto db = Database::Open(path_, Database::Mode::kReadOnly, options_.vfs);
  if (!db) return Error(db.error());
  auto select = db->Prepare(sql);
  if (!select) return Error(select.error());
  select->BindText(1, value);
  auto row = select->Step();
  if (!row) return Error(row.error());
  if (!*row) return std::optional<CalibrationRecord>();
  auto record = ParseCalibration(select->ColumnBlob(0));
  if (!record) return Error(record.error());
  return std::optional<CalibrationRecord>(std::move(*record));
}

Result<CalibrationRecord> RecordStore::FindCalibration(const std::string& certificate_number) const {
  auto found = FindCalibrationWhere(kSelectCalibrationByNumber, certificate_number);
  if (!found) return Error(found.error());
  if (!*found) {
    return Error(NotFound(fmt::format("no calibration or verification record is numbered {}", certificate_number)));
  }
  return std::move(**found);
}

Result<std::optional<CalibrationRecord>> RecordStore::FindCalibrationByKey(const std::string& idempotency_key) const {
  return FindCalibrationWhere(kSelectCalibrationByKey, idempotency_key);
}

Result<std::vector<CalibrationRecord>> RecordStore::CalibrationsSince(int64_t since_ns) const {
  auto db = Database::Open(path_, Database::Mode::kReadOnly, options_.vfs);
  if (!db) return Error(db.error());
  auto select = db->Prepare(kSelectCalibrationsSince);
  if (!select) return Error(select.error());
  select->BindInt64(1, since_ns);
  std::vector<CalibrationRecord> records;
  for (;;) {
    auto row = select->Step();
    if (!row) return Error(row.error());
    if (!*row) break;
    auto record = ParseCalibration(select->ColumnBlob(0));
    if (!record) return Error(record.error());
    records.push_back(std::move(*record));
  }
  return records;
}

Result<std::vector<api::AffectedReadings>> RecordStore::ReadingGroupsSince(int64_t since_ns) const {
  auto db = Database::Open(path_, Database::Mode::kReadOnly, options_.vfs);
  if (!db) return Error(db.error());
  auto select = db->Prepare(kSelectReadingGroups);
  if (!select) return Error(select.error());
  select->BindInt64(1, since_ns);
  std::vector<api::AffectedReadings> groups;
  for (;;) {
    auto row = select->Step();
    if (!row) return Error(row.error());
    if (!*row) break;
    api::AffectedReadings& group = groups.emplace_back();
    group.set_instrument(select->ColumnText(0));
    group.set_channel(select->ColumnText(1));
    group.set_certificate(select->ColumnText(2));
    group.set_first_sequence(static_cast<uint64_t>(select->ColumnInt64(3)));
    group.set_last_sequence(static_cast<uint64_t>(select->ColumnInt64(4)));
    group.set_count(static_cast<uint64_t>(select->ColumnInt64(5)));
    group.set_first_at_ns(select->ColumnInt64(6));
    group.set_last_at_ns(select->ColumnInt64(7));
  }
  return groups;
}

Result<std::map<uint64_t, Reading>> RecordStore::ReadingsBySequence(const std::vector<uint64_t>& sequences) const {
  auto db = Database::Open(path_, Database::Mode::kReadOnly, options_.vfs);
  if (!db) return Error(db.error());
  auto select = db->Prepare(kSelectReadingBySequence);
  if (!select) return Error(select.error());
  std::map<uint64_t, Reading> found;
  for (uint64_t sequence : sequences) {
    select->BindInt64(1, static_cast<int64_t>(sequence));
    auto row = select->Step();
    if (!row) return Error(row.error());
    if (*row) found[sequence] = ReadingFromRow(*select);
    select->Reset();
  }
  return found;
}

Result<api::ReadingsResponse> RecordStore::Query(const api::ReadingsQuery& query) const {
  auto db = Database::Open(path_, Database::Mode::kReadOnly);
  if (!db) return Error(db.error());
  auto channels = db->Prepare(kSelectChannels);
  if (!channels) return Error(channels.error());
  channels->BindText(1, query.instrument());
  channels->BindText(2, query.channel());
  struct Channel {
    int64_t id;
    std::string instrument, channel;
  };
  std::vector<Channel> matching;
  for (;;) {
    auto row = channels->Step();
    if (!row) return Error(row.error());
    if (!*row) break;
    matching.push_back({channels->ColumnInt64(0), channels->ColumnText(1), channels->ColumnText(2)});
  }

  api::ReadingsResponse response;
  const bool newest = query.last() > 0;
  const char* const select_sql = newest ? kSelectNewestFirst : kSelectOldestFirst;
  auto select_sets = db->Prepare(kSelectSetsOfChannel);
  if (!select_sets) return Error(select_sets.error());
  // One cursor per channel set that holds the channel, each giving the channel's readings
  // in the answer's order; merged by sequence, so no more rows are read than answered.
  struct SetCursor {
    Statement statement;
    bool has_row;
  };
  std::vector<SetCursor> cursors;
  std::vector<Reading> found;
  for (const Channel& channel : matching) {
    const size_t room = kMaxQueryRows - static_cast<size_t>(response.readings_size());
    const size_t want = newest ? std::min<size_t>(query.last(), room) : room;
    cursors.clear();
    select_sets->BindInt64(1, channel.id);
    for (;;) {
      auto row = select_sets->Step();
      if (!row) return Error(row.error());
      if (!*row) break;
      auto select = db->Prepare(select_sql);
      if (!select) return Error(select.error());
      select->BindInt64(1, select_sets->ColumnInt64(0));
      select->BindInt64(2, channel.id);
      select->BindInt64(3, query.since_ns());
      select->BindInt64(4, static_cast<int64_t>(want) + 1);  // one more tells us it was cut
      auto first = select->Step();
      if (!first) return Error(first.error());
      cursors.push_back({std::move(*select), *first});
    }
    select_sets->Reset();
    found.clear();
    for (;;) {
      SetCursor* next = nullptr;  // the cursor whose row comes first in the answer's order
      for (SetCursor& cursor : cursors) {
        if (!cursor.has_row) continue;
        const int64_t sequence = cursor.statement.ColumnInt64(0);
        if (next == nullptr || (newest ? sequence > next->statement.ColumnInt64(0)
                                       : sequence < next->statement.ColumnInt64(0))) {
          next = &cursor;
        }
      }
      if (next == nullptr) break;
      if (found.size() == want) {
        if (!newest || want < query.last()) response.set_truncated(true);
        break;
      }
      found.push_back(ReadingFromRow(next->statement));
      auto row = next->statement.Step();
      if (!row) return Error(row.error());
      next->has_row = *row;
    }
    // Newest first was only the way to find the last ones: the answer is oldest first.
    if (newest) std::reverse(found.begin(), found.end());
    for (Reading& reading : found) *response.add_readings() = std::move(reading);
    if (static_cast<size_t>(response.readings_size()) >= kMaxQueryRows) {
      if (&channel != &matching.back()) response.set_truncated(true);
      break;
    }
  }
  return response;
}

}  // namespace labtrace::store

namespace labtrace::store {

Result<api::AuditResponse> RecordStore::QueryAudit(const std::string& entity, int64_t since_ns) const {
  auto db = Database::Open(path_, Database::Mode::kReadOnly, options_.vfs);
  if (!db) return Error(db.error());
  auto select = db->Prepare(kSelectAudit);
  if (!select) return Error(select.error());
  select->BindText(1, entity);
  select->BindInt64(2, since_ns);
  select->BindInt64(3, static_cast<int64_t>(kMaxQueryRows) + 1);
  api::AuditResponse response;
  for (;;) {
    auto row = select->Step();
    if (!row) return Error(row.error());
    if (!*row) break;
    if (static_cast<size_t>(response.events_size()) == kMaxQueryRows) {
      response.set_truncated(true);
      break;
    }
    *response.add_events() = AuditEventFromRow(*select);
  }
  return response;
}

}  // namespace labtrace::store
