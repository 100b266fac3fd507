// Validation of the lab's metrology configuration: reference standards and their
// traceability links, procedures, MPE tables and environment sensors.
#include <cmath>
#include <map>
#include <set>

#include "config/lab_calendar.h"
#include "config/lab_config.h"
#include "config/locator.h"
#include "labtrace/metrology.pb.h"

namespace labtrace::config {

namespace {

bool IsDate(std::string_view text) { return ParseDate(text).has_value(); }

Status ValidateStandards(const Lab& lab, const Locator& at) {
  std::map<std::string, int> seen;
  for (int i = 0; i < lab.reference_standards_size(); ++i) {
    const ReferenceStandard& standard = lab.reference_standards(i);
    auto here = [&](std::initializer_list<Step> rest) {
      std::vector<Step> steps{{"reference_standards", i}};
      steps.insert(steps.end(), rest);
      return at.At(steps);
    };
    if (standard.id().empty()) return Invalid(here({}), "reference standard has no id");
    if (auto [it, fresh] = seen.emplace(standard.id(), i); !fresh) {
      return Invalid(here({{"id"}}), fmt::format("\"{}\" is already the id of reference_standards[{}]",
                                                 standard.id(), it->second));
    }
    if (standard.level() == STANDARD_LEVEL_UNSPECIFIED) {
      return Invalid(here({{"level"}}), "level is missing: WORKING, REFERENCE, NATIONAL or INTERNATIONAL");
    }
    const bool top = standard.level() == NATIONAL || standard.level() == INTERNATIONAL;
    if (!standard.has_calibration()) {
      if (top) continue;
      return Invalid(here({}), fmt::format("standard {} has no calibration {{ certificate … }}; only a national or "
                                           "international standard may do without",
                                           standard.id()));
    }
    const StandardCalibration& calibration = standard.calibration();
    if (calibration.certificate().empty()) {
      return Invalid(here({{"calibration"}, {"certificate"}}), "the certificate's number is missing");
    }
    if (calibration.issuer().empty()) return Invalid(here({{"calibration"}, {"issuer"}}), "the issuer is missing");
    if (!IsDate(calibration.calibrated_on())) {
      return Invalid(here({{"calibration"}, {"calibrated_on"}}),
                     fmt::format("\"{}\" is not a date like 2026-03-31", calibration.calibrated_on()));
    }
    if (!IsDate(calibration.valid_until())) {
      return Invalid(here({{"calibration"}, {"valid_until"}}),
                     fmt::format("\"{}\" is not a date like 2031-03-31", calibration.valid_until()));
    }
    if (calibration.valid_until() < calibration.calibrated_on()) {
      return Invalid(here({{"calibration"}, {"valid_until"}}), "is before calibrated_on");
    }
    for (int v = 0; v < calibration.values_size(); ++v) {
      const CertifiedValue& value = calibration.values(v);
      if (value.unit().empty()) {
        return Invalid(here({{"calibration"}, {"values", v}, {"unit"}}), "unit is missing");
      }
      if (!(value.expanded_uncertainty() > 0) || !std::isfinite(value.expanded_uncertainty())) {
        return Invalid(here({{"calibration"}, {"values", v}, {"expanded_uncertainty"}}),
                       "must be > 0: the U of the certificate");
      }
      if (value.coverage_factor() < 0) {
        return Invalid(here({{"calibration"}, {"values", v}, {"coverage_factor"}}), "must be > 0 (2 when absent)");
      }
    }
  }
  // traced_to links name standards of this lab (checked once all ids are known).
  auto check_link = [&](const std::string& traced_to, const std::string& where) -> Status {
    if (!traced_to.empty() && seen.count(traced_to) == 0) {
      return Invalid(where, fmt::format("\"{}\" is not the id of a reference standard of this lab", traced_to));
    }
    return OkStatus();
  };
  for (int i = 0; i < lab.reference_standards_size(); ++i) {
    if (Status s = check_link(lab.reference_standards(i).calibration().traced_to(),
                              at.At({{"reference_standards", i}, {"calibration"}, {"traced_to"}}));
        !s.ok()) {
      return s;
    }
  }
  for (int i = 0; i < lab.instruments_size(); ++i) {
    const std::string& calibrated_on = lab.instruments(i).calibration().calibrated_on();
    if (!calibrated_on.empty() && !IsDate(calibrated_on)) {
      return Invalid(at.At({{"instruments", i}, {"calibration"}, {"calibrated_on"}}),
                     fmt::format("\"{}\" is not a date like 2026-03-31", calibrated_on));
    }
    if (Status s = check_link(lab.instruments(i).calibration().traced_to(),
                              at.At({{"instruments", i}, {"calibration"}, {"traced_to"}}));
        !s.ok()) {
      return s;
    }
  }
  return OkStatus();
}

Status ValidateProcedures(const Lab& lab, const Locator& at) {
  std::set<std::string> tables;
  for (const auto& table : lab.mpe_tables()) tables.insert(table.name());
  std::map<std::string, int> seen;
  for (int i = 0; i < lab.procedures_size(); ++i) {
    const CalibrationProcedure& procedure = lab.procedures(i);
    auto here = [&](std::string_view field) { return at.At({{"procedures", i}, {field}}); };
    if (procedure.id().empty()) return Invalid(at.At({{"procedures", i}}), "procedure has no id");
    if (auto [it, fresh] = seen.emplace(procedure.id(), i); !fresh) {
      return Invalid(here("id"), fmt::format("\"{}\" is already the id of procedures[{}]", procedure.id(), it->second));
    }
    if (procedure.kind() == CALIBRATION_KIND_UNSPECIFIED) {
      return Invalid(here("kind"), "kind is missing: CALIBRATION or VERIFICATION");
    }
    if (!procedure.mpe_table().empty() && tables.count(procedure.mpe_table()) == 0) {
      return Invalid(here("mpe_table"), fmt::format("no MPE table is named \"{}\" (add its file to mpe_table_files)",
                                                    procedure.mpe_table()));
    }
    if (procedure.kind() == VERIFICATION) {
      if (procedure.mpe_table().empty()) return Invalid(here("mpe_table"), "a verification needs an MPE table");
      if (procedure.interval_months() == 0) {
        return Invalid(here("interval_months"), "a verification needs the interval to the next one (12 for balances)");
      }
    }
    if (!procedure.mpe_table().empty() &&
        procedure.decision_rule().kind() == metrology::DECISION_RULE_UNSPECIFIED) {
      return Invalid(here("decision_rule"),
                     "a procedure with an MPE table needs a decision rule { kind: SIMPLE_ACCEPTANCE … }");
    }
    const double p = procedure.coverage_probability();
    if (p != 0 && !(p > 0.5 && p < 1)) {
      return Invalid(here("coverage_probability"), "must be between 0.5 and 1 (0.9545 by convention)");
    }
  }
  return OkStatus();
}

Status ValidateEnvironment(const Lab& lab, const Locator& at) {
  for (int i = 0; i < lab.environment_sensors_size(); ++i) {
    const EnvironmentSensor& sensor = lab.environment_sensors(i);
    auto here = [&](std::string_view field) { return at.At({{"environment_sensors", i}, {field}}); };
    if (sensor.quantity().empty()) return Invalid(here("quantity"), "quantity is missing (\"temperature\")");
    if (FindInstrumentConfig(lab, sensor.instrument()) == nullptr) {
      return Invalid(here("instrument"), fmt::format("no instrument is named \"{}\"", sensor.instrument()));
    }
    if (sensor.channel().empty()) return Invalid(here("channel"), "channel is missing (\"temperature\")");
  }
  return OkStatus();
}

}  // namespace

const Instrument* FindInstrumentConfig(const Lab& lab, std::string_view name) {
  for (const auto& instrument : lab.instruments()) {
    if (instrument.name() == name) return &instrument;
  }
  return nullptr;
}

Status ValidateMetrology(const Lab& lab, const Locator& at) {
  for (Status status : {ValidateStandards(lab, at), ValidateProcedures(lab, at), ValidateEnvironment(lab, at)}) {
    if (!status.ok()) return status;
  }
  return OkStatus();
}

}  // namespace labtrace::config
