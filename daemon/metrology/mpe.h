// Maximum permissible errors from tables held as data (lab-config/procedures/). Pure.
#pragma once

#include <string_view>

#include "labtrace/metrology.pb.h"
#include "labtrace/status.h"

namespace labtrace::metrology {

enum class VerificationStage { kVerification, kInService };

// MPE (a positive number, in the unit of `load` and `e`) of a weighing instrument at
// `load`, from a table of bands in verification intervals e (OIML R76-1 §3.5.1, table 6):
// the first band whose upper bound (inclusive) holds the load. In service, the table's
// in_service_factor times that (R76-1 §3.5.2).
Result<double> BandMpe(const MpeTable& table, double load, double e, VerificationStage stage);

// MPE of a meter: percent_of_reading·|reading|/100 + digits·resolution.
Result<double> MeterMpe(const MpeTable& table, double reading, double resolution);

const MpeTable* FindMpeTable(const MpeTables& tables, std::string_view name);

}  // namespace labtrace::metrology
