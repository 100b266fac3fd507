#include "store/record_cursor.h"

#include <fmt/format.h>

#include "labtrace/calibration.pb.h"
#include "store/audit_row.h"
#include "store/conformity_keys.h"
#include "store/reading_row.h"
#include "store/utc_time.h"

namespace labtrace::store {

namespace {

constexpr const char* kSelectReadings = "SELECT " LABTRACE_READING_ROW_COLUMNS " FROM readings r ORDER BY r.sequence";
constexpr const char* kSelectReadingsBeforeSchema7 =
    "SELECT " LABTRACE_READING_ROW_COLUMNS_BEFORE_SCHEMA_7 " FROM readings r ORDER BY r.sequence";
constexpr const char* kSelectChannels = "SELECT channel_id, instrument, channel FROM channels ORDER BY channel_id";
constexpr const char* kSelectProvenances = "SELECT provenance_id, record FROM provenances ORDER BY provenance_id";
constexpr const char* kHasProvenances = "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'provenances'";
constexpr const char* kSelectAuditEvents = "SELECT " LABTRACE_AUDIT_COLUMNS " FROM audit_events ORDER BY event_id";
constexpr const char* kSelectCalibrations =
    "SELECT record_id, record, certificate_number, unit_under_test, performed_at_ns FROM calibration_records "
    "ORDER BY record_id";
constexpr const char* kSelectConformity =
    "SELECT record_id, record, kind, key, version, parent, state FROM conformity_records ORDER BY record_id";
constexpr const char* kHasConformity =
    "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'conformity_records'";
// A store from before schema 9 has no conformity records: a query that gives no rows.
constexpr const char* kSelectNoConformity =
    "SELECT 0, x'', '', '', 0, '', '' WHERE 0";

}  // namespace

Result<RecordCursor> RecordCursor::Open(Database& db, RecordKind kind, std::optional<Database> runs_db) {
  bool has_provenances = false;
  if (kind == RecordKind::kReading) {
    auto has = db.Prepare(kHasProvenances);
    if (!has) return Error(has.error());
    if (auto row = has->Step(); !row) return Error(row.error());
    has_provenances = has->ColumnInt64(0) != 0;
  }
  bool has_conformity = false;
  if (kind == RecordKind::kConformity) {
    auto has = db.Prepare(kHasConformity);
    if (!has) return Error(has.error());
    if (auto row = has->Step(); !row) return Error(row.error());
    has_conformity = has->ColumnInt64(0) != 0;
  }
  const char* sql = kind == RecordKind::kReading      ? (has_provenances ? kSelectReadings : kSelectReadingsBeforeSchema7)
                    : kind == RecordKind::kAuditEvent ? kSelectAuditEvents
                    : kind == RecordKind::kConformity ? (has_conformity ? kSelectConformity : kSelectNoConformity)
                                                      : kSelectCalibrations;
  auto statement = db.Prepare(sql);
  if (!statement) return Error(statement.error());
  RecordCursor cursor(kind, std::move(*statement));
  if (kind == RecordKind::kReading) {
    if (Status s = cursor.LoadChannels(db); !s.ok()) return Error(s);
    if (has_provenances) {
      if (Status s = cursor.LoadProvenances(db); !s.ok()) return Error(s);
    }
    // A store from before schema 4 (an archived copy: verify never migrates) has no runs.
    if (!runs_db) return Error(Internal("the readings' runs need a connection of their own"));
    auto runs = ReadingRunsCheck::Open(db, std::move(*runs_db));
    if (!runs) return Error(runs.error());
    if (*runs) cursor.runs_.emplace(std::move(**runs));
  }
  if (Status s = cursor.Next(); !s.ok()) return Error(s);
  return cursor;
}

Status RecordCursor::LoadChannels(Database& db) {
  auto select = db.Prepare(kSelectChannels);
  if (!select) return select.error();
  for (;;) {
    auto row = select->Step();
    if (!row) return row.error();
    if (!*row) return OkStatus();
    channels_[select->ColumnInt64(0)] = {select->ColumnText(1), select->ColumnText(2)};
  }
}

Status RecordCursor::LoadProvenances(Database& db) {
  auto select = db.Prepare(kSelectProvenances);
  if (!select) return select.error();
  for (;;) {
    auto row = select->Step();
    if (!row) return row.error();
    if (!*row) return OkStatus();
    // A record that does not parse is kept as far as it does: the leaf will not match. Kept
    // as a Reading's serialisation writes it (parsed, then serialised), once for the many
    // readings that share it.
    const std::string_view bytes = select->ColumnBlobView(1);
    Provenance provenance;
    (void)provenance.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()));
    provenances_[select->ColumnInt64(0)] = provenance.SerializeAsString();
  }
}

const char* RecordCursor::noun() const {
  switch (kind_) {
    case RecordKind::kReading: return "reading";
    case RecordKind::kAuditEvent: return "audit event";
    case RecordKind::kCalibration: return "calibration record";
    case RecordKind::kConformity: return "conformity record";
  }
  return "record";
}

Status RecordCursor::Next() {
  auto row = statement_.Step();
  if (!row) return row.error();
  has_row_ = *row;
  id_ = has_row_ ? statement_.ColumnInt64(0) : 0;
  if (!has_row_ || kind_ != RecordKind::kReading) return OkStatus();
  // A channel id stored as text or a fraction reads here as a number yet joins no channel
  // in a query, so its channel counts as missing. (Asked before the column is read as a
  // number, which may convert it.)
  const bool whole_channel_id = statement_.ColumnIsInteger(kReadingRowChannelIdColumn);
  const int64_t channel_id = statement_.ColumnInt64(kReadingRowChannelIdColumn);
  const auto channel = channels_.find(channel_id);
  channel_ = channel == channels_.end() || !whole_channel_id ? nullptr : &channel->second;
  provenance_missing_ = false;
  provenance_ = nullptr;
  if (!statement_.ColumnIsNull(kReadingRowProvenanceIdColumn)) {
    const auto provenance = provenances_.find(statement_.ColumnInt64(kReadingRowProvenanceIdColumn));
    provenance_missing_ = provenance == provenances_.end();
    if (!provenance_missing_) provenance_ = &provenance->second;
  }
  if (!runs_) return OkStatus();
  return runs_->Advance(id(), channel_ ? std::string_view(channel_->instrument) : std::string_view(), channel_id);
}

const std::string& RecordCursor::Bytes() {
  if (kind_ == RecordKind::kReading) {
    // Problem() has been asked first: the channel is known.
    StoredReadingRecordBytes(
        StoredReadingFromReadingsRow(statement_, channel_->instrument, channel_->channel, provenance_), bytes_);
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
    const std::string channel = channel_ ? fmt::format("{}/{}", channel_->instrument, channel_->channel)
                                         : fmt::format("channel {}", statement_.ColumnInt64(kReadingRowChannelIdColumn));
    return fmt::format("{}, requested {}", channel, FormatUtcTime(statement_.ColumnInt64(5)));
  }
  if (kind_ == RecordKind::kAuditEvent) {
    const AuditEvent event = AuditEventFromRow(statement_);
    return fmt::format("{} {} by {}", event.action(), event.entity(), event.actor());
  }
  if (kind_ == RecordKind::kConformity) {
    return fmt::format("{} {} version {}", statement_.ColumnText(2), statement_.ColumnText(3),
                       statement_.ColumnInt64(4));
  }
  return fmt::format("{}, unit under test {}", statement_.ColumnText(2), statement_.ColumnText(3));
}

std::string RecordCursor::Problem() const {
  if (kind_ == RecordKind::kReading) {
    if (channel_ == nullptr) return "names a channel that is missing: deleted";
    if (provenance_missing_) {
      return fmt::format("({}) names provenance {} that is missing: deleted", Description(),
                         statement_.ColumnInt64(kReadingRowProvenanceIdColumn));
    }
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
  if (kind_ == RecordKind::kConformity) {
    ConformityRecord parsed;
    if (!parsed.ParseFromString(statement_.ColumnBlob(1)) || KindOf(parsed) != statement_.ColumnText(2) ||
        KeyOf(parsed) != statement_.ColumnText(3) ||
        static_cast<int64_t>(VersionOf(parsed)) != statement_.ColumnInt64(4) ||
        ParentOf(parsed) != statement_.ColumnText(5) || StateOf(parsed) != statement_.ColumnText(6)) {
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
