// The exact bytes of a record that its leaf hash covers. Used when a record is
// committed and when the verifier recomputes it from the stored row, so both sides build
// the same canonical message the same way.
#pragma once

#include <string>

#include "labtrace/auth.pb.h"
#include "labtrace/calibration.pb.h"
#include "labtrace/ledger.pb.h"
#include "labtrace/reading.pb.h"

namespace labtrace::store {

// Record kinds in the ledger.
enum class RecordKind : int { kReading = 1, kAuditEvent = 2, kCalibration = 3 };

// A reading as the store keeps it: no value unless the quality carries one, and +0.0
// for zero (SQLite stores -0.0 as 0).
void Canonicalize(Reading& reading);
Reading CanonicalReading(Reading reading);

// Deterministic protobuf serialisation of a canonical reading, sequence included.
std::string ReadingRecordBytes(const Reading& canonical);
// The same into `bytes`, whose capacity is reused: the writer serialises every reading.
void ReadingRecordBytes(const Reading& canonical, std::string& bytes);

bool QualityHasValue(Quality quality);

// Protobuf serialisation of an audit event, sequence included.
std::string AuditEventRecordBytes(const AuditEvent& event);

// Protobuf serialisation of a calibration record, its id and number included. These bytes
// are what the store keeps: the verifier hashes the stored blob itself.
std::string CalibrationRecordBytes(const CalibrationRecord& record);

// Protobuf serialisation of a user account or an access token, as the store keeps them.
std::string AccountRecordBytes(const UserAccount& account);
std::string TokenRecordBytes(const AccessToken& token);

}  // namespace labtrace::store
