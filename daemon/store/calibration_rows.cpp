// Calibration and verification records in the store: numbered, stored whole as their
// deterministic bytes (each a leaf of the log), and found again by certificate number or
// idempotency key.
#include <ctime>
#include <limits>
#include <map>

#include <fmt/format.h>

#include "labtrace/clock.h"
#include "store/record_bytes.h"
#include "store/record_store.h"
#include "store/store_rows.h"

namespace labtrace::store {

namespace {

constexpr const char* kInsertCalibration =
    "INSERT INTO calibration_records (record_id, certificate_number, idempotency_key, unit_under_test, "
    "performed_at_ns, record) VALUES (?, ?, ?, ?, ?, ?)";
constexpr const char* kSelectNextCalibrationId = "SELECT COALESCE(MAX(record_id), 0) + 1 FROM calibration_records";
constexpr const char* kSelectCalibrationByKey = "SELECT record FROM calibration_records WHERE idempotency_key = ?";
constexpr const char* kSelectCalibrationByNumber =
    "SELECT record FROM calibration_records WHERE certificate_number = ?";
constexpr const char* kSelectCalibrationsSince =
    "SELECT record FROM calibration_records WHERE performed_at_ns >= ? ORDER BY record_id";
constexpr const char* kSelectCalibrationPage =
    "SELECT record FROM calibration_records WHERE record_id > ?1 AND performed_at_ns >= ?2 AND performed_at_ns < ?3 "
    "AND (?4 = '' OR unit_under_test = ?4) ORDER BY record_id LIMIT ?5";

Result<CalibrationRecord> ParseCalibration(const std::string& blob) {
  CalibrationRecord record;
  if (!record.ParseFromString(blob)) return Error(DataLoss("a stored calibration record does not parse"));
  return record;
}

Result<std::optional<CalibrationRecord>> FindCalibrationWhere(Database& db, const char* sql, const std::string& value) {
  auto select = db.Cached(sql);
  if (!select) return Error(select.error());
  (*select)->BindText(1, value);
  auto row = (*select)->Step();
  if (!row) return Error(row.error());
  if (!*row) return std::optional<CalibrationRecord>();
  auto record = ParseCalibration((*select)->ColumnBlob(0));
  if (!record) return Error(record.error());
  return std::optional<CalibrationRecord>(std::move(*record));
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

// The "create" event of a record, and an "override" event for each expired standard used
// with an approval.
void AddCalibrationEvents(const CalibrationRecord& record, std::vector<AuditEvent>& audit) {
  AuditEvent created;
  created.set_time_ns(NowNs());
  created.set_actor(record.performed_by());
  created.set_action("create");
  created.set_entity("calibration:" + record.certificate_number());
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
}

}  // namespace

api::CalibrationReceipt ReceiptOf(const CalibrationRecord& record, bool replayed) {
  api::CalibrationReceipt receipt;
  receipt.set_record_id(record.record_id());
  receipt.set_certificate_number(record.certificate_number());
  receipt.set_verdict(record.verdict());
  receipt.set_replayed(replayed);
  return receipt;
}

Result<std::optional<CalibrationRecord>> FindCalibrationByKey(Database& db, const std::string& idempotency_key) {
  return FindCalibrationWhere(db, kSelectCalibrationByKey, idempotency_key);
}

Result<std::optional<CalibrationRecord>> FindCalibrationByNumber(Database& db, const std::string& number) {
  return FindCalibrationWhere(db, kSelectCalibrationByNumber, number);
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

Status RecordStore::CommitCalibrations(Batch& batch, LedgerWriter& ledger, CompactTree& tree,
                                       std::vector<AuditEvent>& audit, Outcome& outcome) {
  if (batch.calibrations.empty()) return OkStatus();
  int64_t first_record_id = 0;
  {
    auto next_id = db_.Cached(kSelectNextCalibrationId);
    if (!next_id) return next_id.error();
    if (auto row = (*next_id)->Step(); !row) return row.error();
    first_record_id = (*next_id)->ColumnInt64(0);
  }
  int64_t record_id = first_record_id;
  auto insert = db_.Cached(kInsertCalibration);
  if (!insert) return insert.error();
  std::vector<Hash> leaves;
  std::map<std::string, api::CalibrationReceipt> in_batch;
  for (const PendingCalibration& pending : batch.calibrations) {
    const std::string& key = pending.record.idempotency_key();
    if (auto seen = in_batch.find(key); seen != in_batch.end()) {
      outcome.calibrations.push_back(seen->second);
      outcome.calibrations.back().set_replayed(true);
      continue;
    }
    auto stored = store::FindCalibrationByKey(db_, key);
    if (!stored) return stored.error();
    if (*stored) {  // committed before: the first answer again
      outcome.calibrations.push_back(ReceiptOf(**stored, true));
      continue;
    }
    // Copied: if the commit fails, the caller is told and nothing half-numbered survives.
    CalibrationRecord record = pending.record;
    record.set_record_id(static_cast<uint64_t>(record_id++));
    record.set_certificate_number(CertificateNumber(record));
    const std::string bytes = CalibrationRecordBytes(record);
    Statement& row = **insert;
    row.BindInt64(1, static_cast<int64_t>(record.record_id()));
    row.BindText(2, record.certificate_number());
    row.BindText(3, key);
    row.BindText(4, record.unit_under_test().id());
    row.BindInt64(5, record.performed_at_ns());
    row.BindBlob(6, {reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()});
    if (Status s = row.Run(); !s.ok()) return s;
    const Hash leaf = LeafHash({reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()});
    tree.Append(leaf);
    leaves.push_back(leaf);
    AddCalibrationEvents(record, audit);
    in_batch[key] = ReceiptOf(record, false);
    outcome.calibrations.push_back(in_batch[key]);
  }
  return leaves.empty() ? OkStatus() : ledger.AddBatch(RecordKind::kCalibration, first_record_id, leaves);
}

Result<CalibrationRecord> RecordStore::FindCalibration(const std::string& certificate_number) const {
  auto db = readers_.Acquire();
  if (!db) return Error(db.error());
  auto found = FindCalibrationByNumber(**db, certificate_number);
  if (!found) return Error(found.error());
  if (!*found) {
    return Error(NotFound(fmt::format("no calibration or verification record is numbered {}", certificate_number)));
  }
  return std::move(**found);
}

Result<std::optional<CalibrationRecord>> RecordStore::FindCalibrationByKey(const std::string& idempotency_key) const {
  auto db = readers_.Acquire();
  if (!db) return Error(db.error());
  return store::FindCalibrationByKey(**db, idempotency_key);
}

Result<std::vector<CalibrationRecord>> RecordStore::CalibrationsSince(int64_t since_ns) const {
  auto db = readers_.Acquire();
  if (!db) return Error(db.error());
  auto select = (*db)->Cached(kSelectCalibrationsSince);
  if (!select) return Error(select.error());
  (*select)->BindInt64(1, since_ns);
  return CollectRows<CalibrationRecord>(**select,
                                        [](const Statement& row) { return ParseCalibration(row.ColumnBlob(0)); });
}

Result<api::CalibrationList> RecordStore::ListCalibrations(const api::CalibrationsQuery& query) const {
  auto db = readers_.Acquire();
  if (!db) return Error(db.error());
  auto select = (*db)->Cached(kSelectCalibrationPage);
  if (!select) return Error(select.error());
  Statement& s = **select;
  s.BindInt64(1, static_cast<int64_t>(query.after_record_id()));
  s.BindInt64(2, query.since_ns());
  s.BindInt64(3, query.until_ns() != 0 ? query.until_ns() : std::numeric_limits<int64_t>::max());
  s.BindText(4, query.unit_under_test());
  s.BindInt64(5, static_cast<int64_t>(kMaxQueryRows) + 1);
  auto records = CollectRows<CalibrationRecord>(s, [](const Statement& row) { return ParseCalibration(row.ColumnBlob(0)); });
  if (!records) return Error(records.error());
  api::CalibrationList list;
  for (const CalibrationRecord& record : *records) {
    if (static_cast<size_t>(list.records_size()) == kMaxQueryRows) {
      list.set_truncated(true);
      break;
    }
    api::CalibrationSummary& summary = *list.add_records();
    summary.set_record_id(record.record_id());
    summary.set_certificate_number(record.certificate_number());
    summary.set_kind(record.kind());
    summary.set_procedure(record.procedure());
    summary.set_unit_under_test(record.unit_under_test().id());
    summary.set_performed_at_ns(record.performed_at_ns());
    summary.set_performed_on(record.performed_on());
    summary.set_performed_by(record.performed_by());
    summary.set_verdict(record.verdict());
    summary.set_stamp_number(record.stamp_number());
    summary.set_next_due_date(record.next_due_date());
  }
  return list;
}

}  // namespace labtrace::store
