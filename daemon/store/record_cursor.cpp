#include "store/record_cursor.h"

#include <fmt/format.h>

#include "labtrace/calibration.pb.h"
#include "store/audit_row.h"
#include "store/reading_row.h"
#include "store/utc_time.h"

namespace labtrace::store {

namespace {

// The reading's columns, then whether its channel row is missing, then its channel id.
constexpr const char* kSelectReadings =
    "SELECT " LABTRACE_READING_COLUMNS ", c.channel_id IS NULL, r.channel_id "
    "FROM readings r LEFT JOIN channels c ON c.channel_id = r.channel_id ORDER BY r.sequence";
constexpr int kChannelMissingColumn = kReadingColumnCount;
constexpr int kChannelIdColumn = kReadingColumnCount + 1;
constexpr const char* kSelectAuditEvents = "SELECT " LABTRACE_AUDIT_COLUMNS " FROM audit_events ORDER BY event_id";
constexpr const char* kSelectCalibrations =
    "SELECT record_id, record, certificate_number, unit_under_test, performed_at_ns FROM calibration_records "
    "ORDER BY record_id";

}  // namespace

Result<RecordCursor> RecordCursor::Open(Database& db, RecordKind kind) {
  const char* sql = kind == RecordKind::kReading      ? kSelectReadings
                    : kind == RecordKind::kAuditEvent ? kSelectAuditEvents
                                                      : kSelectCalibrations;
  auto statement = db.Prepare(sql);
  if (!statement) return Error(statement.error());
  RecordCursor cursor(kind, std::move(*statement));
  if (kind == RecordKind::kReading) {
    // A store from before schema 4 (an archived copy: verify never migrates) has no runs.
    auto runs = ReadingRunsCheck::Open(db);
    if (!runs) return Error(runs.error());
    if (*runs) cursor.runs_.emplace(std::move(**runs));
  }
  if (Status s = cursor.Next(); !s.ok()) return Error(s);
  return cursor;
}

const char* RecordCursor::noun() const {
  return kind_ == RecordKind::kReading ? "reading" : kind_ == RecordKind::kAuditEvent ? "audit event"
                                                                                      : "calibration record";
}

Status RecordCursor::Next() {
  auto row = statement_.Step();
  if (!row) return row.error();
  has_row_ = *row;
  if (!has_row_ || !runs_) return OkStatus();
  return runs_->Advance(id(), statement_.ColumnText(1), statement_.ColumnInt64(kChannelIdColumn));
}

const std::string& RecordCursor::Bytes() {
  if (kind_ == RecordKind::kReading) {
    reading_ = ReadingFromRow(statement_);
    Canonicalize(reading_);
    ReadingRecordBytes(reading_, bytes_);
  } else if (kind_ == RecordKind::kAuditEvent) {
    bytes_ = AuditEventRecordBytes(AuditEventFromRow(statement_));
  } else {
    // The leaf covers the stored protobuf itself.
    bytes_ = statement_.ColumnBlob(1);
  }
  return bytes_;
}

std::string RecordCursor::Description() const {
  if (kind_ == RecordKind::kReading) {
    return fmt::format("{}/{}, requested {}", statement_.ColumnText(1), statement_.ColumnText(2),
                       FormatUtcTime(statement_.ColumnInt64(6)));
  }
  if (kind_ == RecordKind::kAuditEvent) {
    const AuditEvent event = AuditEventFromRow(statement_);
    return fmt::format("{} {} by {}", event.action(), event.entity(), event.actor());
  }
  return fmt::format("{}, unit under test {}", statement_.ColumnText(2), statement_.ColumnText(3));
}

std::string RecordCursor::Problem() const {
  if (kind_ == RecordKind::kReading) {
    if (statement_.ColumnInt64(kChannelMissingColumn) != 0) return "names a channel that is missing: deleted";
    if (runs_ && !runs_->finds_current()) return runs_->Problem(Description());
    return "";
  }
  if (kind_ == RecordKind::kCalibration) {
    // The lookup columns beside the stored record must agree with it.
    CalibrationRecord parsed;
    if (!parsed.ParseFromString(statement_.ColumnBlob(1)) || static_cast<int64_t>(parsed.record_id()) != id() ||
        parsed.certificate_number() != statement_.ColumnText(2) ||
        parsed.unit_under_test().id() != statement_.ColumnText(3) ||
        parsed.performed_at_ns() != statement_.ColumnInt64(4)) {
      return fmt::format("({}) has lookup columns that do not match the record: altered", Description());
    }
  }
  return "";
}

Result<std::string> RecordCursor::RunsBeyondTheRecords() {
  if (!runs_) return std::string();
  return runs_->BeyondTheReadings();
}

}  // namespace labtrace::store
