#include "metrology/mpe.h"

#include <cmath>

#include <fmt/format.h>

namespace labtrace::metrology {

Result<double> BandMpe(const MpeTable& table, double load, double e, VerificationStage stage) {
  if (table.bands().empty()) return Error(InvalidArgument(fmt::format("MPE table {} has no bands", table.name())));
  if (!(e > 0)) return Error(InvalidArgument("verification interval e must be > 0"));
  if (!(load >= 0)) return Error(InvalidArgument("load must be ≥ 0"));
  // Loads are compared in e; a relative tolerance keeps 5000 g / 10 g exactly at 500 e.
  const double load_e = load / e;
  for (const MpeBand& band : table.bands()) {
    if (load_e <= band.up_to_e() * (1 + 1e-12)) {
      const double factor = stage == VerificationStage::kInService
                                ? (table.in_service_factor() > 0 ? table.in_service_factor() : 1.0)
                                : 1.0;
      return band.mpe_e() * e * factor;
    }
  }
  return Error(InvalidArgument(fmt::format("load {} ({} e) is beyond the last band of {} ({} e)", load,
                                           load_e, table.name(), table.bands().rbegin()->up_to_e())));
}

Result<double> MeterMpe(const MpeTable& table, double reading, double resolution) {
  if (!(resolution >= 0)) return Error(InvalidArgument("resolution must be ≥ 0"));
  return table.percent_of_reading() * std::fabs(reading) / 100 + table.digits() * resolution;
}

const MpeTable* FindMpeTable(const MpeTables& tables, std::string_view name) {
  for (const MpeTable& table : tables.tables()) {
    if (table.name() == name) return &table;
  }
  return nullptr;
}

}  // namespace labtrace::metrology
