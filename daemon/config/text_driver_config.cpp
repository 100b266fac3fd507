// The settings blocks of the drivers that talk in lines of text. A mistake here is found
// when the lab-config is loaded, not when the instrument first answers.
#include <set>

#include "config/locator.h"
#include "line/pattern.h"

namespace labtrace::config {

namespace {

Status ValidateScpi(const ScpiInstrument& scpi, const PlaceInInstrument& here) {
  if (scpi.measurements().empty()) {
    return Invalid(here({{"scpi"}}), "no measurements: add measurements { channel: \"…\" query: \"MEAS:…?\" unit: \"…\" }");
  }
  std::set<std::string> channels;
  for (int m = 0; m < scpi.measurements_size(); ++m) {
    const ScpiMeasurement& measurement = scpi.measurements(m);
    if (measurement.channel().empty()) return Invalid(here({{"scpi"}, {"measurements", m}}), "the channel has no name");
    if (!channels.insert(measurement.channel()).second) {
      return Invalid(here({{"scpi"}, {"measurements", m}, {"channel"}}),
                     fmt::format("channel \"{}\" is measured twice", measurement.channel()));
    }
    if (measurement.query().empty() || measurement.query().back() != '?') {
      return Invalid(here({{"scpi"}, {"measurements", m}, {"query"}}),
                     fmt::format("\"{}\" is not a query; a query ends in '?', like MEAS:VOLT:DC?", measurement.query()));
    }
    if (measurement.unit().empty()) {
      return Invalid(here({{"scpi"}, {"measurements", m}, {"unit"}}), "the unit of the reply's value is missing");
    }
  }
  for (int s = 0; s < scpi.setup_size(); ++s) {
    if (!scpi.setup(s).empty() && scpi.setup(s).back() == '?') {
      return Invalid(here({{"scpi"}, {"setup", s}}),
                     fmt::format("\"{}\" is a query; setup commands get no reply (put queries in measurements)",
                                 scpi.setup(s)));
    }
  }
  return OkStatus();
}

Status ValidateLine(const LineInstrument& line, const PlaceInInstrument& here) {
  auto pattern = line::LinePattern::Compile(line.pattern());
  if (!pattern) return Invalid(here({{"line"}, {"pattern"}}), pattern.error().message());
  if (!line.skip_pattern().empty()) {
    if (auto skip = line::LinePattern::CompileFilter(line.skip_pattern()); !skip) {
      return Invalid(here({{"line"}, {"skip_pattern"}}), skip.error().message());
    }
  }
  if (!pattern->has_unit() && line.unit().empty()) {
    return Invalid(here({{"line"}, {"unit"}}), "the unit is missing; state it, or add a (?<unit>…) group to the pattern");
  }
  return OkStatus();
}

}  // namespace

Status ValidateTextDriver(const Instrument& instrument, const PlaceInInstrument& here) {
  const std::string& driver = instrument.driver();
  if (driver == "mt-sics") {
    const std::string& command = instrument.mt_sics().command();
    if (!command.empty() && command != "S" && command != "SI") {
      return Invalid(here({{"mt_sics"}, {"command"}}),
                     fmt::format("\"{}\" is not a weighing command; use \"S\" or \"SI\"", command));
    }
  }
  if (driver == "scpi") {
    if (!instrument.has_scpi()) return Invalid(here({}), "driver \"scpi\" needs a scpi { … } block");
    return ValidateScpi(instrument.scpi(), here);
  }
  if (driver == "line") {
    if (!instrument.has_line()) return Invalid(here({}), "driver \"line\" needs a line { pattern: \"…\" } block");
    return ValidateLine(instrument.line(), here);
  }
  return OkStatus();
}

void FillTextDriverDefaults(Instrument& instrument) {
  if (instrument.driver() == "mt-sics") {
    auto* sics = instrument.mutable_mt_sics();
    if (sics->command().empty()) sics->set_command("SI");
    if (sics->channel().empty()) sics->set_channel("mass");
  }
  if (instrument.driver() == "sbi") {
    auto* sbi = instrument.mutable_sbi();
    if (sbi->channel().empty()) sbi->set_channel("mass");
    if (sbi->unit().empty()) sbi->set_unit("g");
  }
  if (instrument.driver() == "line" && instrument.line().channel().empty()) {
    instrument.mutable_line()->set_channel("value");
  }
}

}  // namespace labtrace::config
