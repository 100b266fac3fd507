// Traceability, both ways. Pure: over the lab-config and records the caller fetched.
//
// Up: the chain of calibrations from a reading, instrument or standard to a national or
// international standard (ISO/IEC 17025 §6.5), link by link from the lab-config.
// Down (§7.10): when a standard or instrument is found out of tolerance, every record
// that used it under the calibration in question, and, through each standard or
// instrument calibrated with it, every record that used that one, and so on.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "labtrace/api.pb.h"
#include "labtrace/calibration.pb.h"
#include "labtrace/config.pb.h"
#include "labtrace/reading.pb.h"

namespace labtrace::workflow {

api::TraceChain ChainOfStandard(const config::Lab& lab, std::string_view id);
api::TraceChain ChainOfInstrument(const config::Lab& lab, std::string_view name);
// Under the calibration frozen in the reading; the lab-config only knows the chain of the
// current one, so a reading taken under an earlier certificate gets an incomplete chain
// that says so.
api::TraceChain ChainOfReading(const config::Lab& lab, const Reading& reading);
// One chain for each standard the record used, under the certificate it used.
std::vector<api::TraceChain> ChainsOfRecord(const config::Lab& lab, const CalibrationRecord& record);

// The current certificate of a standard or instrument, or "" when it has none.
std::string CurrentCertificate(const config::Lab& lab, std::string_view id);

// What used `id` under `certificate`. `records` are the calibration records made since the
// date of interest, `reading_groups` the readings since then, grouped by instrument,
// channel and certificate. A standard or instrument whose lab-config calibration is
// traced_to an affected one, made while that one's current calibration was in force (and
// not before `since`, "YYYY-MM-DD" or empty), is affected too, though its calibration
// record is not in the store.
api::ReverseTrace ReverseTraceOf(const config::Lab& lab, std::string_view id, std::string_view certificate,
                                 std::string_view since, const std::vector<CalibrationRecord>& records,
                                 const std::vector<api::AffectedReadings>& reading_groups);

}  // namespace labtrace::workflow
