#include "workflow/calibration.h"

#include <algorithm>
#include <cmath>
#include <chrono>

#include <fmt/format.h>

#include "config/lab_calendar.h"
#include "config/lab_config.h"

#include "metrology/decision.h"
#include "metrology/mpe.h"
#include "metrology/uncertainty.h"
#include "metrology/units.h"

namespace labtrace::workflow {

namespace {

using metrology::Statement;

constexpr int64_t kNsPerS = 1'000'000'000;

Status Bad(std::string_view where, std::string_view what) {
  return InvalidArgument(fmt::format("{}: {}", where, what));
}

const config::CalibrationProcedure* FindProcedure(const config::Lab& lab, std::string_view id) {
  for (const auto& procedure : lab.procedures()) {
    if (procedure.id() == id) return &procedure;
  }
  return nullptr;
}

const metrology::MpeTable* FindTable(const config::Lab& lab, std::string_view name) {
  for (const auto& table : lab.mpe_tables()) {
    if (table.name() == name) return &table;
  }
  return nullptr;
}

std::string Known(const config::Lab& lab) {
  std::string names;
  for (const auto& procedure : lab.procedures()) names += (names.empty() ? "" : ", ") + procedure.id();
  return names.empty() ? "none is configured" : "known: " + names;
}

// Whether two quantities are the same nominal: 20 kg and 20000 g are.
bool SameNominal(double a, std::string_view a_unit, double b, std::string_view b_unit) {
  auto b_in_a = metrology::ConvertValue(b, b_unit, a_unit);
  return b_in_a && std::fabs(*b_in_a - a) <= 1e-9 * std::max(1.0, std::fabs(a));
}

// The standard as the record freezes it, checking that it may be used on `today` (the
// lab's date): a certificate valid until 2027-06-14 may be used through that whole day.
Result<StandardUsed> UseStandard(const config::ReferenceStandard& standard, const api::CalibrationRequest& request,
                                 const std::string& today) {
  StandardUsed used;
  used.set_id(standard.id());
  used.set_description(standard.description());
  const auto& calibration = standard.calibration();
  used.set_certificate(calibration.certificate());
  used.set_issuer(calibration.issuer());
  used.set_calibrated_on(calibration.calibrated_on());
  used.set_valid_until(calibration.valid_until());
  if (calibration.valid_until() < today) {  // both "YYYY-MM-DD": text order is date order
    if (request.override_expired().approved_by().empty() || request.override_expired().reason().empty()) {
      return Error(FailedPrecondition(fmt::format(
          "standard {}: calibration {} was valid until {}; recalibrate it, use another standard, or send "
          "override_expired {{approved_by, reason}}, which goes on the audit trail (ISO/IEC 17025 §6.4.9)",
          standard.id(), calibration.certificate(), calibration.valid_until())));
    }
    used.set_override_approved_by(request.override_expired().approved_by());
    used.set_override_reason(request.override_expired().reason());
  }
  return used;
}

// The record's unit under test: as sent, completed from the lab-config when it is one of
// the lab's instruments. Weighing points need e (for the MPE) and d (for the resolution).
Result<UnitUnderTest> CompleteUnitUnderTest(const config::Lab& lab, const UnitUnderTest& sent) {
  if (sent.id().empty()) return Error(Bad("unit_under_test.id", "is missing: name the instrument under test"));
  UnitUnderTest uut = sent;
  if (const config::Instrument* instrument = config::FindInstrumentConfig(lab, uut.id())) {
    if (uut.manufacturer().empty()) uut.set_manufacturer(instrument->manufacturer());
    if (uut.model().empty()) uut.set_model(instrument->model());
    if (uut.serial_number().empty()) uut.set_serial_number(instrument->serial_number());
  }
  if (uut.unit().empty()) return Error(Bad("unit_under_test.unit", "is missing (\"kg\", \"g\", \"°C\" …)"));
  if (auto unit = metrology::FindUnit(uut.unit()); !unit) return Error(unit.error().Annotate("unit_under_test.unit"));
  if (uut.indication_interval_d() == 0) uut.set_indication_interval_d(uut.verification_interval_e());
  if (!(uut.indication_interval_d() > 0)) {
    return Error(Bad("unit_under_test.indication_interval_d", "must be > 0: the resolution of the indications"));
  }
  return uut;
}

std::string SourceWords(Provenance::Source source) {
  switch (source) {
    case Provenance::POLLED: return "polled by the daemon";
    case Provenance::PUSHED: return "printed by the instrument to the daemon";
    case Provenance::UPLOADED: return "uploaded";
    case Provenance::IMPORTED: return "imported from a result file";
    case Provenance::TYPED: return "typed in";
    default: return "of unknown provenance (stored before labtrace recorded it)";
  }
}

// A point's reading must have come the way its instrument gives readings, so that
// nobody can type a number off a display and have it pass as read.
Status CheckProvenance(const config::Lab& lab, const Reading& reading, std::string_view where,
                       std::string_view source) {
  const config::Instrument* instrument = config::FindInstrumentConfig(lab, reading.instrument());
  const auto accepted = AcceptedProvenance(instrument);
  const Provenance::Source came = reading.provenance().source();
  if (std::find(accepted.begin(), accepted.end(), came) != accepted.end()) return OkStatus();
  if (instrument == nullptr) {
    return FailedPrecondition(fmt::format("{}: {} is of an instrument that is not in the lab-config; its readings "
                                          "cannot be evidence",
                                          where, source));
  }
  std::string allowed;
  for (Provenance::Source each : accepted) allowed += (allowed.empty() ? "" : " or ") + SourceWords(each);
  return FailedPrecondition(fmt::format(
      "{}: {} was {}, but {} (driver \"{}\") gives readings {}; a point takes only those. Read the point from "
      "the instrument again",
      where, source, SourceWords(came), instrument->name(), instrument->driver(), allowed));
}

Result<double> Indication(const config::Lab& lab, const api::PointRequest& point, const UnitUnderTest& uut,
                          const CalibrationEvidence& evidence, std::string_view where) {
  if (point.indication_source_case() == api::PointRequest::kIndication) return point.indication();
  if (point.indication_source_case() != api::PointRequest::kReadingSequence) {
    return Error(Bad(where, "has no indication: give reading_sequence (a stored reading) or indication"));
  }
  const auto found = evidence.readings.find(point.reading_sequence());
  if (found == evidence.readings.end()) {
    return Error(NotFound(fmt::format("{}: no reading has sequence {}", where, point.reading_sequence())));
  }
  const Reading& reading = found->second;
  const std::string source = fmt::format("reading {} ({}/{})", reading.sequence(), reading.instrument(), reading.channel());
  if (reading.instrument() != uut.id()) {
    return Error(Bad(where, fmt::format("{} is not of the unit under test {}", source, uut.id())));
  }
  if (Status came = CheckProvenance(lab, reading, where, source); !came.ok()) return Error(came);
  if (reading.quality() == UNSTABLE) {
    return Error(Bad(where, fmt::format("{} is a dynamic weighing, not a stable one; take the reading again "
                                        "once the balance shows it stable", source)));
  }
  if (reading.quality() != GOOD) {
    return Error(Bad(where, fmt::format("{} has no valid value ({}: {})", source, Quality_Name(reading.quality()),
                                        reading.detail())));
  }
  auto value = metrology::ConvertValue(reading.value(), reading.unit(), point.unit());
  if (!value) return Error(value.error().Annotate(fmt::format("{}: {}", where, source)));
  return *value;
}

// a − b without the binary noise of the subtraction: 20.0102 − 20.0002 is 0.01, exactly
// on a ±10 g limit, not 0.010000000000001563 beyond it. Rounded to the tenth significant
// digit of the larger operand, far below any instrument's resolution.
double CleanDifference(double a, double b) {
  const double magnitude = std::max(std::fabs(a), std::fabs(b));
  if (magnitude == 0) return 0;
  const double step = std::pow(10.0, std::floor(std::log10(magnitude)) - 9);
  return std::round((a - b) / step) * step;
}

// The points' uncertainty: the error E = I − m_ref, with u(m_ref) from the standard's
// certificate, and the rounding of the indication at load and at zero, each a
// rectangular distribution of half-width d/2 (EURAMET cg-18 §7.1).
metrology::UncertaintyBudget PointBudget(const CalibrationPoint& point, const config::CertifiedValue* certified,
                                         double d_in_point_unit, double coverage_probability) {
  metrology::UncertaintyBudget budget;
  budget.set_measurand(fmt::format("error of indication at {} {}", point.nominal(), point.unit()));
  budget.set_unit(point.unit());
  budget.set_coverage_probability(coverage_probability);
  auto* indication = budget.add_components();
  indication->set_symbol("I");
  indication->set_description("indication at load, rounded to d");
  indication->set_estimate(point.indication());
  indication->mutable_rectangular()->set_half_width(d_in_point_unit / 2);
  auto* zero = budget.add_components();
  zero->set_symbol("δI0");
  zero->set_description("indication at zero, rounded to d");
  zero->set_estimate(0);
  zero->mutable_rectangular()->set_half_width(d_in_point_unit / 2);
  auto* reference = budget.add_components();
  reference->set_symbol("m_ref");
  reference->set_description(point.standard().empty() ? "no load" : "standard " + point.standard());
  reference->set_estimate(point.reference_value());
  reference->set_sensitivity(-1);
  if (certified != nullptr) {
    auto* normal = reference->mutable_normal();
    normal->set_expanded_uncertainty(certified->expanded_uncertainty());
    normal->set_coverage_factor(certified->coverage_factor() == 0 ? 2 : certified->coverage_factor());
    reference->set_uncertainty_unit(certified->unit());
  } else {
    reference->set_standard_uncertainty(0);
  }
  return budget;
}

}  // namespace

std::vector<Provenance::Source> AcceptedProvenance(const config::Instrument* instrument) {
  if (instrument == nullptr) return {};
  if (config::IsUploading(*instrument)) return {Provenance::UPLOADED, Provenance::IMPORTED};
  return {Provenance::POLLED, Provenance::PUSHED};
}

const config::ReferenceStandard* FindStandard(const config::Lab& lab, std::string_view id) {
  for (const auto& standard : lab.reference_standards()) {
    if (standard.id() == id) return &standard;
  }
  return nullptr;
}

Result<std::string> LastDayOfValidity(std::string_view performed_on, uint32_t months) {
  auto performed = config::ParseDate(performed_on);
  if (!performed) return Error(performed.error());
  using namespace std::chrono;
  year_month_day same_day = year{performed->year} / month{performed->month} / day{performed->day} + std::chrono::months{months};
  if (!same_day.ok()) same_day = same_day.year() / same_day.month() / last;  // 31 Jan + 1 month: 28 or 29 Feb
  const year_month_day due{sys_days{same_day} - days{1}};
  return fmt::format("{:04}-{:02}-{:02}", static_cast<int>(due.year()), static_cast<unsigned>(due.month()),
                     static_cast<unsigned>(due.day()));
}

std::vector<uint64_t> ReadingsNamed(const api::CalibrationRequest& request) {
  std::vector<uint64_t> sequences;
  for (const api::PointRequest& point : request.points()) {
    if (point.indication_source_case() == api::PointRequest::kReadingSequence) sequences.push_back(point.reading_sequence());
  }
  return sequences;
}

Result<CalibrationRecord> BuildCalibrationRecord(const config::Lab& lab, const api::CalibrationRequest& request,
                                                 const CalibrationEvidence& evidence, int64_t now_ns,
                                                 bool preview) {
  const config::CalibrationProcedure* procedure = FindProcedure(lab, request.procedure());
  if (procedure == nullptr) {
    return Error(Bad("procedure", fmt::format("\"{}\" is not a procedure of this lab ({})", request.procedure(),
                                              Known(lab))));
  }
  const bool verification = procedure->kind() == config::VERIFICATION;
  if (verification && request.mode() == VERIFICATION_MODE_UNSPECIFIED) {
    return Error(Bad("mode", fmt::format("procedure {} is a legal verification: say INITIAL, PERIODIC or UNSCHEDULED",
                                         procedure->id())));
  }
  if (!verification && request.mode() != VERIFICATION_MODE_UNSPECIFIED) {
    return Error(Bad("mode", fmt::format("procedure {} is a calibration, not a verification; leave mode out",
                                         procedure->id())));
  }
  if (request.performed_by().empty()) return Error(Bad("performed_by", "is missing: who made the measurements"));
  if (request.points().empty()) return Error(Bad("points", "none given"));
  auto uut = CompleteUnitUnderTest(lab, request.unit_under_test());
  if (!uut) return Error(uut.error());

  CalibrationRecord record;
  record.set_kind(procedure->kind());
  record.set_mode(request.mode());
  *record.mutable_unit_under_test() = *uut;
  record.set_procedure(procedure->id());
  record.set_procedure_title(procedure->title());
  record.set_performed_by(request.performed_by());
  record.set_performed_at_ns(now_ns);
  const std::string today = config::LabCalendar::Of(lab).DateOf(now_ns);
  record.set_performed_on(today);
  record.set_mpe_table(procedure->mpe_table());
  record.set_in_service(procedure->in_service());
  *record.mutable_decision_rule() = procedure->decision_rule();
  record.set_comment(request.comment());
  record.set_idempotency_key(request.idempotency_key());

  // Environmental conditions: each configured sensor's newest reading, if recent and good;
  // otherwise the technician must have entered that quantity by hand.
  for (int i = 0; i < request.environment_size(); ++i) {
    const EnvironmentCondition& entered = request.environment(i);
    if (entered.quantity().empty() || entered.unit().empty() || entered.source().empty()) {
      return Error(Bad(fmt::format("environment[{}]", i),
                       "needs quantity, value, unit and source (\"entered by <name> from <thermometer>\")"));
    }
  }
  for (const config::EnvironmentSensor& sensor : lab.environment_sensors()) {
    const auto entered = std::find_if(request.environment().begin(), request.environment().end(),
                                      [&](const EnvironmentCondition& c) { return c.quantity() == sensor.quantity(); });
    if (entered != request.environment().end()) continue;
    const std::string channel = sensor.instrument() + "/" + sensor.channel();
    const auto reading = std::find_if(evidence.environment.begin(), evidence.environment.end(), [&](const Reading& r) {
      return r.instrument() == sensor.instrument() && r.channel() == sensor.channel();
    });
    const uint32_t max_age_s = sensor.max_age_s() == 0 ? kDefaultSensorMaxAgeS : sensor.max_age_s();
    std::string problem;
    if (reading == evidence.environment.end()) {
      problem = "has no reading";
    } else if (reading->quality() != GOOD) {
      problem = fmt::format("last read {} ({})", Quality_Name(reading->quality()), reading->detail());
    } else if (now_ns - reading->requested_at_ns() > int64_t{max_age_s} * kNsPerS) {
      problem = fmt::format("was last read {} s ago (at most {} s allowed)",
                            (now_ns - reading->requested_at_ns()) / kNsPerS, max_age_s);
    }
    if (!problem.empty()) {
      return Error(FailedPrecondition(fmt::format(
          "environment: {} sensor {} {}; check the sensor, or enter the {} by hand in environment {{…}}",
          sensor.quantity(), channel, problem, sensor.quantity())));
    }
    EnvironmentCondition* condition = record.add_environment();
    condition->set_quantity(sensor.quantity());
    condition->set_value(reading->value());
    condition->set_unit(reading->unit());
    condition->set_source(channel);
    condition->set_reading_sequence(reading->sequence());
  }
  for (const EnvironmentCondition& entered : request.environment()) *record.add_environment() = entered;

  const metrology::MpeTable* table = nullptr;
  if (!procedure->mpe_table().empty()) {
    table = FindTable(lab, procedure->mpe_table());
    if (table == nullptr) return Error(Internal(fmt::format("MPE table {} vanished", procedure->mpe_table())));
    if (!table->bands().empty() && !(uut->verification_interval_e() > 0)) {
      return Error(Bad("unit_under_test.verification_interval_e",
                       fmt::format("must be > 0: table {} gives the MPE in e", table->name())));
    }
  }

  bool any_as_left = false;
  for (const api::PointRequest& point : request.points()) any_as_left |= point.phase() == AS_LEFT;
  Statement verdict = metrology::STATEMENT_UNSPECIFIED;
  for (int i = 0; i < request.points_size(); ++i) {
    const api::PointRequest& sent = request.points(i);
    const std::string where = fmt::format("points[{}]", i);
    if (sent.unit().empty()) return Error(Bad(where, "unit is missing"));
    auto d = metrology::ConvertDifference(uut->indication_interval_d(), uut->unit(), sent.unit());
    if (!d) return Error(d.error().Annotate(where));
    CalibrationPoint* point = record.add_points();
    point->set_phase(sent.phase());
    point->set_nominal(sent.nominal());
    point->set_unit(sent.unit());
    point->set_standard(sent.standard());

    const config::CertifiedValue* certified = nullptr;
    if (sent.standard().empty()) {
      if (sent.nominal() != 0) return Error(Bad(where, "names no standard; only a zero-load point may do without"));
      point->set_reference_value(0);
    } else {
      const config::ReferenceStandard* standard = FindStandard(lab, sent.standard());
      if (standard == nullptr) {
        return Error(Bad(where, fmt::format("\"{}\" is not a reference standard of this lab", sent.standard())));
      }
      for (const auto& value : standard->calibration().values()) {
        if (SameNominal(sent.nominal(), sent.unit(), value.nominal(), value.unit())) certified = &value;
      }
      if (certified == nullptr) {
        return Error(Bad(where, fmt::format("standard {} has no certified value at {} {} (certificate {})",
                                            standard->id(), sent.nominal(), sent.unit(),
                                            standard->calibration().certificate())));
      }
      auto reference = metrology::ConvertValue(certified->nominal() + certified->correction(), certified->unit(),
                                               sent.unit());
      if (!reference) return Error(reference.error().Annotate(where));
      point->set_reference_value(*reference);
      auto listed = std::find_if(record.mutable_standards()->begin(), record.mutable_standards()->end(),
                                 [&](const StandardUsed& s) { return s.id() == standard->id(); });
      StandardUsed* used = listed != record.mutable_standards()->end() ? &*listed : nullptr;
      if (used == nullptr) {
        auto frozen = UseStandard(*standard, request, today);
        if (!frozen) return Error(frozen.error());
        used = record.add_standards();
        *used = *frozen;
      }
      const bool value_listed = std::any_of(used->values().begin(), used->values().end(), [&](const auto& v) {
        return v.nominal() == certified->nominal() && v.unit() == certified->unit();
      });
      if (!value_listed) *used->add_values() = *certified;
    }

    auto indication = Indication(lab, sent, *uut, evidence, where);
    if (!indication) return Error(indication.error());
    point->set_indication(*indication);
    if (sent.indication_source_case() == api::PointRequest::kReadingSequence) {
      point->set_reading_sequence(sent.reading_sequence());
      *point->mutable_indication_provenance() = evidence.readings.at(sent.reading_sequence()).provenance();
    }
    point->set_error(CleanDifference(point->indication(), point->reference_value()));

    auto budget = metrology::EvaluateBudget(PointBudget(*point, certified, *d, procedure->coverage_probability()));
    if (!budget) return Error(budget.error().Annotate(where));
    *point->mutable_budget() = *budget;

    if (table == nullptr) continue;
    Result<double> mpe = 0.0;
    if (!table->bands().empty()) {
      auto load = metrology::ConvertValue(point->nominal(), point->unit(), uut->unit());
      if (!load) return Error(load.error().Annotate(where));
      mpe = metrology::BandMpe(*table, *load, uut->verification_interval_e(),
                               procedure->in_service() ? metrology::VerificationStage::kInService
                                                       : metrology::VerificationStage::kVerification);
      if (mpe) mpe = metrology::ConvertDifference(*mpe, uut->unit(), point->unit());
    } else {
      mpe = metrology::MeterMpe(*table, point->reference_value(), *d);
    }
    if (!mpe) return Error(mpe.error().Annotate(where));
    point->set_mpe(*mpe);
    auto decision = metrology::Decide(point->error(), budget->combined_standard_uncertainty(),
                                      budget->expanded_uncertainty_rounded(), {-*mpe, *mpe},
                                      procedure->decision_rule());
    if (!decision) return Error(decision.error().Annotate(where));
    *point->mutable_decision() = *decision;
    // The certified state is the as-left one when the instrument was adjusted.
    if (point->phase() == (any_as_left ? AS_LEFT : AS_FOUND)) verdict = std::max(verdict, decision->statement());
  }
  record.set_verdict(verdict);

  if (verification) {
    const bool passed = verdict == metrology::PASS;
    if (passed && request.stamp_number().empty() && !preview) {
      return Error(Bad("stamp_number", "the verification passes: seal the instrument and send the stamp number"));
    }
    if (!passed && !request.stamp_number().empty() && !preview) {
      return Error(Bad("stamp_number", fmt::format("the verification does not pass ({}); no stamp may be applied, "
                                                   "so leave stamp_number out and issue the rejection notice",
                                                   metrology::StatementWords(verdict))));
    }
    if (passed) {
      record.set_stamp_number(request.stamp_number());
      auto due = LastDayOfValidity(today, procedure->interval_months());
      if (!due) return Error(due.error());
      record.set_next_due_date(*due);
    }
  }
  return record;
}

}  // namespace labtrace::workflow
