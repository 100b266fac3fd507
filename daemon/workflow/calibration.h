// Calibration and verification records, built from what the technician submits and what
// the instruments recorded. Pure: the caller fetches the readings and the lab-config;
// nothing here touches the store or the clock.
//
// For each point: the reference value from the standard's certificate, the indication
// from the stored reading of the unit under test, the error, its uncertainty (a GUM
// budget: the standard's certificate, and the resolution of the indication at load and
// at zero), the MPE at that load from the procedure's table, and the statement under the
// procedure's decision rule. The record's verdict is the worst statement of the as-left
// points, or of the as-found points when none was adjusted.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "labtrace/api.pb.h"
#include "labtrace/calibration.pb.h"
#include "labtrace/config.pb.h"
#include "labtrace/reading.pb.h"
#include "labtrace/status.h"

namespace labtrace::workflow {

inline constexpr uint32_t kDefaultSensorMaxAgeS = 300;

struct CalibrationEvidence {
  // The readings the points name, by sequence (missing ones are reported).
  std::map<uint64_t, Reading> readings;
  // The newest reading of each configured environment sensor's channel, when there is one.
  std::vector<Reading> environment;
};

// The reading sequences a request's points name.
std::vector<uint64_t> ReadingsNamed(const api::CalibrationRequest& request);

// Builds the record (without record_id and certificate_number, which the store assigns),
// or says which field of the request is wrong and what to do. `now_ns` is when it is made.
// A preview (the technician's look at the verdict before sealing) does not check the
// stamp number: a passing verification needs one, a failing one must not have one.
Result<CalibrationRecord> BuildCalibrationRecord(const config::Lab& lab, const api::CalibrationRequest& request,
                                                 const CalibrationEvidence& evidence, int64_t now_ns,
                                                 bool preview = false);

// The last day of validity of a verification made on `performed_on` ("YYYY-MM-DD"),
// valid for `months`: the same day `months` later (clamped to the month's end), less one
// day. 2026-11-26 + 12 months → 2027-11-25.
Result<std::string> LastDayOfValidity(std::string_view performed_on, uint32_t months);

// The provenances a point's stored reading may have, by its instrument (`instrument`;
// nullptr when the lab-config has none of that name, which accepts none): readings the
// daemon took (POLLED, PUSHED) for an instrument it reads, UPLOADED or IMPORTED for an
// "upload" instrument. Never a reading of unknown provenance (stored before schema 7),
// nor an upload of a polled instrument's name. A typed indication is the request's
// `indication`, which the record marks as typed (reading_sequence 0).
std::vector<Provenance::Source> AcceptedProvenance(const config::Instrument* instrument);

const config::ReferenceStandard* FindStandard(const config::Lab& lab, std::string_view id);

}  // namespace labtrace::workflow
