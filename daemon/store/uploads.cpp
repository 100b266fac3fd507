// Uploads: readings sent by an instrument's software or a lab PC, each upload under an
// idempotency key. A key stored before gets its first receipt again and nothing is stored
// twice, so a sender that lost the answer simply sends again.
#include <cmath>
#include <map>

#include <fmt/format.h>

#include "labtrace/clock.h"
#include "store/record_store.h"
#include "store/store_rows.h"

namespace labtrace::store {

namespace {
constexpr const char* kSelectUpload =
    "SELECT first_sequence, last_sequence, count FROM uploads WHERE idempotency_key = ?";
constexpr const char* kInsertUpload =
    "INSERT INTO uploads (idempotency_key, first_sequence, last_sequence, count, batch_id, received_at_ns) "
    "VALUES (?, ?, ?, ?, ?, ?)";
// A day of a logger at one reading a second is nine uploads: senders split, and no one
// upload holds the writer for long.
constexpr size_t kMaxReadingsPerUpload = 10000;
// Names are the lab-config's; units are short. Anything longer is a sender's bug, and
// would be kept in the ledger for good.
constexpr size_t kMaxNameBytes = 128;
constexpr size_t kMaxUnitBytes = 32;
// Free text a sender may add: a frame as received, a detail, a printed line, a sample id.
constexpr size_t kMaxTextBytes = 4096;
}  // namespace

Status ValidateUpload(const api::UploadRequest& request) {
  if (request.idempotency_key().empty() || request.idempotency_key().size() > 200) {
    return InvalidArgument("idempotency_key must be 1..200 characters; send the same key again to retry");
  }
  if (request.readings().empty()) return InvalidArgument("an upload needs at least one reading");
  if (static_cast<size_t>(request.readings_size()) > kMaxReadingsPerUpload) {
    return InvalidArgument(fmt::format("at most {} readings per upload; split it", kMaxReadingsPerUpload));
  }
  for (int i = 0; i < request.readings_size(); ++i) {
    const Reading& r = request.readings(i);
    auto bad = [&](std::string_view what) { return InvalidArgument(fmt::format("readings[{}]: {}", i, what)); };
    const auto too_long = [&](std::string_view field, size_t size, size_t most) {
      return bad(fmt::format("{} is {} bytes, more than the {} a reading may carry", field, size, most));
    };
    if (r.instrument().size() > kMaxNameBytes) return too_long("instrument", r.instrument().size(), kMaxNameBytes);
    if (r.channel().size() > kMaxNameBytes) return too_long("channel", r.channel().size(), kMaxNameBytes);
    if (r.unit().size() > kMaxUnitBytes) return too_long("unit", r.unit().size(), kMaxUnitBytes);
    if (r.raw_frame().size() > kMaxTextBytes) return too_long("raw_frame", r.raw_frame().size(), kMaxTextBytes);
    if (r.detail().size() > kMaxTextBytes) return too_long("detail", r.detail().size(), kMaxTextBytes);
    if (r.text().size() > kMaxTextBytes) return too_long("text", r.text().size(), kMaxTextBytes);
    if (r.sample_id().size() > kMaxNameBytes) return too_long("sample_id", r.sample_id().size(), kMaxNameBytes);
    if (r.instrument().empty()) return bad("instrument is empty");
    if (r.channel().empty()) return bad("channel is empty");
    if (r.unit().empty()) return bad("unit is empty");
    if (r.quality() == QUALITY_UNSPECIFIED) return bad("quality is not given");
    if (r.requested_at_ns() <= 0) return bad("requested_at_ns is not given");
    if (QualityHasValue(r.quality()) && !std::isfinite(r.value())) return bad("value is not a finite number");
    if (r.has_provenance()) {
      return bad("provenance is set by the daemon from who sent the upload, not by the sender; leave it out");
    }
  }
  return OkStatus();
}

Result<std::optional<api::UploadReceipt>> FindUpload(Database& db, const std::string& idempotency_key) {
  auto select = db.Cached(kSelectUpload);
  if (!select) return Error(select.error());
  (*select)->BindText(1, idempotency_key);
  auto row = (*select)->Step();
  if (!row) return Error(row.error());
  if (!*row) return std::optional<api::UploadReceipt>();
  api::UploadReceipt receipt;
  receipt.set_idempotency_key(idempotency_key);
  receipt.set_first_sequence(static_cast<uint64_t>((*select)->ColumnInt64(0)));
  receipt.set_last_sequence(static_cast<uint64_t>((*select)->ColumnInt64(1)));
  receipt.set_count(static_cast<uint32_t>((*select)->ColumnInt64(2)));
  return std::optional<api::UploadReceipt>(std::move(receipt));
}

void RecordStore::Upload(api::UploadRequest request, Provenance provenance, UploadDone done) {
  if (Status valid = ValidateUpload(request); !valid.ok()) {
    done(Error(valid));
    return;
  }
  {
    std::lock_guard lock(mutex_);
    pending_uploads_.push_back({std::move(request), std::move(provenance), std::move(done)});
    ++handed_in_;
  }
  wake_.notify_one();
}

Status RecordStore::CommitUploads(Batch& batch, ReadingWriter& readings, int64_t batch_id,
                                  std::vector<AuditEvent>& audit, Outcome& outcome) {
  if (batch.uploads.empty()) return OkStatus();
  // Uploads look up earlier ones, which may be rows still queued in the writer.
  if (Status s = readings.Flush(); !s.ok()) return s;
  auto insert = db_.Cached(kInsertUpload);
  if (!insert) return insert.error();
  std::map<std::string, api::UploadReceipt> receipts_in_batch;
  for (PendingUpload& upload : batch.uploads) {
    const std::string& key = upload.request.idempotency_key();
    if (auto seen = receipts_in_batch.find(key); seen != receipts_in_batch.end()) {
      api::UploadReceipt& receipt = outcome.receipts.emplace_back(seen->second);
      receipt.set_replayed(true);
      continue;
    }
    auto earlier = FindUpload(db_, key);
    if (!earlier) return earlier.error();
    if (*earlier) {  // committed before: the first answer again, nothing stored twice
      api::UploadReceipt& receipt = outcome.receipts.emplace_back(std::move(**earlier));
      receipt.set_replayed(true);
      continue;
    }
    for (Reading& reading : *upload.request.mutable_readings()) {
      *reading.mutable_provenance() = upload.provenance;
      if (Status s = readings.Add(reading); !s.ok()) return s;
    }
    api::UploadReceipt receipt;
    receipt.set_idempotency_key(key);
    receipt.set_first_sequence(upload.request.readings(0).sequence());
    receipt.set_last_sequence(upload.request.readings(upload.request.readings_size() - 1).sequence());
    receipt.set_count(static_cast<uint32_t>(upload.request.readings_size()));
    Statement& row = **insert;
    row.BindText(1, key);
    row.BindInt64(2, static_cast<int64_t>(receipt.first_sequence()));
    row.BindInt64(3, static_cast<int64_t>(receipt.last_sequence()));
    row.BindInt64(4, receipt.count());
    row.BindInt64(5, batch_id);
    row.BindInt64(6, NowNs());
    if (Status s = row.Run(); !s.ok()) return s;

    AuditEvent event;
    event.set_time_ns(NowNs());
    const Provenance& from = upload.provenance;
    // An upload's actor is its token's user ("anonymous" until the API authenticates);
    // a result file is imported by the daemon itself.
    event.set_actor(from.source() == Provenance::IMPORTED ? "labtraced" : from.user().empty() ? "upload" : from.user());
    event.set_action("create");
    event.set_entity(fmt::format("upload:{}", key));
    event.set_new_value(
        from.source() == Provenance::IMPORTED
            ? fmt::format("readings {}..{} from file {} (SHA-256 {})", receipt.first_sequence(),
                          receipt.last_sequence(), from.file_name(), from.file_sha256())
            : fmt::format("readings {}..{}{}", receipt.first_sequence(), receipt.last_sequence(),
                          from.token_id().empty() ? "" : fmt::format(" with token {}", from.token_id())));
    audit.push_back(std::move(event));
    receipts_in_batch[key] = receipt;
    outcome.receipts.push_back(std::move(receipt));
  }
  return OkStatus();
}

}  // namespace labtrace::store
