#include "workflow/trace.h"

#include <algorithm>
#include <map>
#include <set>
#include <utility>

#include <fmt/format.h>

#include "config/lab_config.h"

#include "workflow/calibration.h"

namespace labtrace::workflow {

namespace {

bool TopOfTheChain(config::StandardLevel level) {
  return level == config::NATIONAL || level == config::INTERNATIONAL;
}

// Appends the links from standard `id` upwards. `certificate`, when not empty, is the
// calibration the first link was used under.
void ClimbFrom(const config::Lab& lab, std::string id, api::TraceChain& chain, std::string_view certificate = "") {
  std::set<std::string> seen;
  while (true) {
    const config::ReferenceStandard* standard = FindStandard(lab, id);
    if (standard == nullptr) {
      chain.set_problem(fmt::format("\"{}\" is not a reference standard of this lab-config", id));
      return;
    }
    if (!seen.insert(id).second) {
      chain.set_problem(fmt::format("the chain returns to {}: the lab-config's traced_to links form a loop", id));
      return;
    }
    const auto& calibration = standard->calibration();
    api::ChainLink* link = chain.add_links();
    link->set_id(standard->id());
    link->set_description(standard->description());
    link->set_level(standard->level());
    link->set_certificate(calibration.certificate());
    link->set_issuer(calibration.issuer());
    link->set_valid_until(calibration.valid_until());
    if (!certificate.empty() && certificate != calibration.certificate()) {
      link->set_certificate(std::string(certificate));
      link->clear_issuer();
      link->clear_valid_until();
      chain.set_problem(fmt::format("{} was used under certificate {}; the lab-config now describes {}, so the "
                                    "chain above {} is that of its current calibration, not the one used",
                                    standard->id(), certificate, calibration.certificate(), standard->id()));
      return;
    }
    certificate = "";
    if (TopOfTheChain(standard->level())) {
      chain.set_complete(true);
      return;
    }
    if (calibration.traced_to().empty()) {
      chain.set_problem(fmt::format("the chain ends at {} ({}): its calibration {} names no standard it was "
                                    "traced to",
                                    standard->id(), config::StandardLevel_Name(standard->level()),
                                    calibration.certificate()));
      return;
    }
    id = calibration.traced_to();
  }
}

}  // namespace

api::TraceChain ChainOfStandard(const config::Lab& lab, std::string_view id) {
  api::TraceChain chain;
  chain.set_subject(fmt::format("standard {}", id));
  ClimbFrom(lab, std::string(id), chain);
  return chain;
}

namespace {

api::TraceChain ChainOfInstrumentUnder(const config::Lab& lab, std::string_view name, std::string subject,
                                       std::string_view certificate) {
  api::TraceChain chain;
  chain.set_subject(std::move(subject));
  const config::Instrument* instrument = config::FindInstrumentConfig(lab, name);
  if (instrument == nullptr) {
    chain.set_problem(fmt::format("\"{}\" is not an instrument of this lab-config", name));
    return chain;
  }
  const auto& calibration = instrument->calibration();
  if (certificate.empty() && calibration.certificate().empty()) {
    chain.set_problem(fmt::format("instrument {} has no calibration in the lab-config", name));
    return chain;
  }
  api::ChainLink* link = chain.add_links();
  link->set_id(instrument->name());
  std::string description = instrument->manufacturer() + " " + instrument->model();
  if (!instrument->serial_number().empty()) description += ", serial " + instrument->serial_number();
  link->set_description(description);
  link->set_certificate(certificate.empty() ? calibration.certificate() : std::string(certificate));
  if (!certificate.empty() && certificate != calibration.certificate()) {
    chain.set_problem(fmt::format("taken under certificate {}; the lab-config now describes {}, whose chain is "
                                  "not the one that applied",
                                  certificate, calibration.certificate()));
    return chain;
  }
  link->set_issuer(calibration.issuer());
  link->set_valid_until(calibration.due_date());
  if (calibration.traced_to().empty()) {
    chain.set_problem(fmt::format("the calibration {} of {} names no standard it was traced to (traced_to)",
                                  calibration.certificate(), name));
    return chain;
  }
  ClimbFrom(lab, calibration.traced_to(), chain);
  return chain;
}

}  // namespace

api::TraceChain ChainOfInstrument(const config::Lab& lab, std::string_view name) {
  return ChainOfInstrumentUnder(lab, name, fmt::format("instrument {}", name), "");
}

api::TraceChain ChainOfReading(const config::Lab& lab, const Reading& reading) {
  const std::string subject =
      fmt::format("reading {} of {}/{}", reading.sequence(), reading.instrument(), reading.channel());
  if (reading.calibration_certificate().empty()) {
    api::TraceChain chain;
    chain.set_subject(subject);
    chain.set_problem(fmt::format("the reading carries no calibration: {} had none in the lab-config when it was "
                                  "taken",
                                  reading.instrument()));
    return chain;
  }
  return ChainOfInstrumentUnder(lab, reading.instrument(), subject, reading.calibration_certificate());
}

std::vector<api::TraceChain> ChainsOfRecord(const config::Lab& lab, const CalibrationRecord& record) {
  std::vector<api::TraceChain> chains;
  for (const StandardUsed& used : record.standards()) {
    api::TraceChain chain;
    chain.set_subject(fmt::format("standard {} as used by {}", used.id(), record.certificate_number()));
    ClimbFrom(lab, used.id(), chain, used.certificate());
    chains.push_back(std::move(chain));
  }
  return chains;
}

std::string CurrentCertificate(const config::Lab& lab, std::string_view id) {
  if (const config::ReferenceStandard* standard = FindStandard(lab, id)) return standard->calibration().certificate();
  if (const config::Instrument* instrument = config::FindInstrumentConfig(lab, id)) return instrument->calibration().certificate();
  return "";
}

api::ReverseTrace ReverseTraceOf(const config::Lab& lab, std::string_view id, std::string_view certificate,
                                 std::string_view since, const std::vector<CalibrationRecord>& records,
                                 const std::vector<api::AffectedReadings>& reading_groups) {
  api::ReverseTrace trace;
  trace.set_standard(std::string(id));
  trace.set_certificate(std::string(certificate));
  trace.set_since(std::string(since));
  // (standard or instrument, certificate) → how it came to be affected.
  std::map<std::pair<std::string, std::string>, std::string> affected;
  affected[{std::string(id), std::string(certificate)}] = fmt::format("{} ({})", id, certificate);

  std::vector<const CalibrationRecord*> ordered;
  for (const CalibrationRecord& record : records) ordered.push_back(&record);
  std::sort(ordered.begin(), ordered.end(), [](const CalibrationRecord* a, const CalibrationRecord* b) {
    return std::pair(a->performed_at_ns(), a->record_id()) < std::pair(b->performed_at_ns(), b->record_id());
  });
  std::set<uint64_t> taken;
  // Calibrations known only from the lab-config: (standard or instrument, its certificate,
  // when it was calibrated, the standard it was traced to).
  struct ConfigLink {
    std::string id, certificate, calibrated_on, traced_to;
  };
  std::vector<ConfigLink> links;
  for (const auto& standard : lab.reference_standards()) {
    const auto& c = standard.calibration();
    if (!c.traced_to().empty()) links.push_back({standard.id(), c.certificate(), c.calibrated_on(), c.traced_to()});
  }
  for (const auto& instrument : lab.instruments()) {
    const auto& c = instrument.calibration();
    if (!c.traced_to().empty()) links.push_back({instrument.name(), c.certificate(), c.calibrated_on(), c.traced_to()});
  }
  auto add_equipment = [&](const std::string& unit, const std::string& unit_certificate, const std::string& via) {
    // The lab's own: its standards, and its instruments that carry a calibration (an
    // instrument without one is a customer's on the bench, not the lab's to withdraw).
    const config::Instrument* instrument = config::FindInstrumentConfig(lab, unit);
    const bool lab_equipment =
        FindStandard(lab, unit) != nullptr || (instrument != nullptr && instrument->has_calibration());
    const bool fresh = affected.emplace(std::pair(unit, unit_certificate), fmt::format("{} ({})", via, unit_certificate)).second;
    if (fresh && lab_equipment) {
      api::AffectedEquipment* equipment = trace.add_equipment();
      equipment->set_id(unit);
      equipment->set_certificate(unit_certificate);
      equipment->set_via(via);
    }
    return fresh;
  };
  // A record calibrated with an affected standard makes the unit it calibrated affected,
  // under the certificate it issued; repeat until nothing new is found.
  for (bool grew = true; grew;) {
    grew = false;
    for (const CalibrationRecord* record : ordered) {
      if (taken.count(record->record_id()) != 0) continue;
      for (const StandardUsed& used : record->standards()) {
        const auto source = affected.find({used.id(), used.certificate()});
        if (source == affected.end()) continue;
        taken.insert(record->record_id());
        grew = true;
        const std::string via = fmt::format("{} → {}", source->second, record->unit_under_test().id());
        api::AffectedRecord* entry = trace.add_records();
        entry->set_record_id(record->record_id());
        entry->set_certificate_number(record->certificate_number());
        entry->set_unit_under_test(record->unit_under_test().id());
        entry->set_performed_at_ns(record->performed_at_ns());
        entry->set_verdict(record->verdict());
        entry->set_via(via);
        add_equipment(record->unit_under_test().id(), record->certificate_number(), via);
        break;
      }
    }
    for (const ConfigLink& link : links) {
      const config::ReferenceStandard* above = FindStandard(lab, link.traced_to);
      if (above == nullptr) continue;
      const auto source = affected.find({above->id(), above->calibration().certificate()});
      // Calibrated before the affected calibration of the standard above (so not under it),
      // or before the last good check: not affected. An undated calibration is taken as
      // affected: the safe side.
      if (source == affected.end() ||
          (!link.calibrated_on.empty() && (link.calibrated_on < above->calibration().calibrated_on() ||
                                           link.calibrated_on < since))) {
        continue;
      }
      grew |= add_equipment(link.id, link.certificate, fmt::format("{} → {}", source->second, link.id));
    }
  }
  std::sort(trace.mutable_records()->begin(), trace.mutable_records()->end(),
            [](const api::AffectedRecord& a, const api::AffectedRecord& b) { return a.record_id() < b.record_id(); });
  for (const api::AffectedReadings& group : reading_groups) {
    if (affected.count({group.instrument(), group.certificate()}) != 0) *trace.add_readings() = group;
  }
  return trace;
}

}  // namespace labtrace::workflow
