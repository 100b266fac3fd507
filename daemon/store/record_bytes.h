// The exact bytes of a record that its leaf hash covers. Used when a record is
// committed and when the verifier recomputes it from the stored row, so both sides build
// the same canonical message the same way.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "labtrace/auth.pb.h"
#include "labtrace/calibration.pb.h"
#include "labtrace/conformity.pb.h"
#include "labtrace/ledger.pb.h"
#include "labtrace/reading.pb.h"

namespace labtrace::store {

// Record kinds in the ledger.
enum class RecordKind : int { kReading = 1, kAuditEvent = 2, kCalibration = 3, kConformity = 4 };

// A reading as the store keeps it: no value unless the quality carries one, and +0.0
// for zero (SQLite stores -0.0 as 0).
void Canonicalize(Reading& reading);
Reading CanonicalReading(Reading reading);

// Deterministic protobuf serialisation of a canonical reading, sequence included.
std::string ReadingRecordBytes(const Reading& canonical);
// The same into `bytes`, whose capacity is reused: the writer serialises every reading.
void ReadingRecordBytes(const Reading& canonical, std::string& bytes);

bool QualityHasValue(Quality quality);

// A stored reading as its row holds it, the channel's names resolved, its strings viewed
// in place: what the verifier has of each of the millions of readings it rehashes.
struct StoredReading {
  int64_t sequence = 0;
  std::string_view instrument, channel;
  bool has_value = false;  // the value column is not NULL
  double value = 0;
  std::string_view unit;
  int64_t quality = 0;
  int64_t requested_at_ns = 0;
  std::string_view raw_frame, detail;
  int64_t decimals = 0;
  int64_t supersedes = 0;  // 0 when the column is NULL (an original reading)
  std::string_view calibration_certificate, calibration_due_date, text;
  // The reading's Provenance as protobuf serialises it, or nullptr when it has none
  // (stored before schema 7). Present though empty is still a field on the wire.
  const std::string* provenance = nullptr;
  std::string_view sample_id;
};

// Into `bytes` (its capacity reused): exactly ReadingRecordBytes of the canonical Reading
// that the row decodes to, written field by field with no Reading built. Building and
// serialising a protobuf per row was most of the verifier's own time at millions of
// readings; a unit test holds the two equal over varied readings.
void StoredReadingRecordBytes(const StoredReading& row, std::string& bytes);

// Protobuf serialisation of an audit event, sequence included.
std::string AuditEventRecordBytes(const AuditEvent& event);

// Protobuf serialisation of a calibration record, its id and number included. These bytes
// are what the store keeps: the verifier hashes the stored blob itself.
std::string CalibrationRecordBytes(const CalibrationRecord& record);

// Protobuf serialisation of a conformity record version, as the store keeps it and its
// leaf covers.
std::string ConformityRecordBytes(const ConformityRecord& record);

// Protobuf serialisation of a user account or an access token, as the store keeps them.
std::string AccountRecordBytes(const UserAccount& account);
std::string TokenRecordBytes(const AccessToken& token);

}  // namespace labtrace::store
