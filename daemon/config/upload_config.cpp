// Instruments the daemon does not read (driver "upload"): their software uploads, or
// leaves result files in a folder the daemon watches. A profile that cannot read a file
// is refused when the lab-config is loaded, not when the first file arrives.
#include <filesystem>
#include <set>

#include "config/lab_calendar.h"
#include "config/lab_config.h"
#include "config/locator.h"
#include "result_file/csv_results.h"

namespace labtrace::config {

namespace {

constexpr std::string_view kUploadDriver = "upload";

Status ValidateProfile(const Lab& lab, const Instrument& instrument, const PlaceInInstrument& here) {
  const ResultFileProfile& profile = instrument.result_files();
  if (profile.folder().empty()) {
    return Invalid(here({{"result_files"}, {"folder"}}),
                   "the watched folder is missing: an absolute path, or one relative to the data directory");
  }
  const std::string& delimiter = profile.delimiter();
  if (!delimiter.empty() && delimiter != "," && delimiter != ";" && delimiter != "\t") {
    return Invalid(here({{"result_files"}, {"delimiter"}}),
                   fmt::format("\"{}\" is not a delimiter; use \",\", \";\" or \"\\t\"", delimiter));
  }
  if (profile.decimal_comma() && (delimiter.empty() || delimiter == ",")) {
    return Invalid(here({{"result_files"}, {"decimal_comma"}}),
                   "numbers with a decimal comma need another delimiter: set delimiter: \";\" (as the files have it)");
  }
  if (profile.timestamp_column().empty()) {
    return Invalid(here({{"result_files"}, {"timestamp_column"}}), "name the header of the column holding each row's time");
  }
  if (!profile.timestamp_format().empty()) {
    if (Status format = result_file::CheckTimestampFormat(profile.timestamp_format()); !format.ok()) {
      return Invalid(here({{"result_files"}, {"timestamp_format"}}), format.message());
    }
  }
  if (!profile.time_zone().empty()) {
    if (auto zone = LabCalendar::InZone(profile.time_zone()); !zone) {
      return Invalid(here({{"result_files"}, {"time_zone"}}), zone.error().message());
    }
  }
  if (profile.values().empty()) {
    return Invalid(here({{"result_files"}}),
                   "no result columns: add values { column: \"…\" channel: \"…\" unit: \"…\" }");
  }
  // A column read twice, or as two things, is a mistake in the profile.
  std::set<std::string> columns{profile.timestamp_column()}, channels;
  for (const std::string& named : {profile.sample_id_column(), profile.instrument_column()}) {
    if (!named.empty() && !columns.insert(named).second) {
      return Invalid(here({{"result_files"}}), fmt::format("column \"{}\" is named for two purposes", named));
    }
  }
  for (int v = 0; v < profile.values_size(); ++v) {
    const ResultColumn& value = profile.values(v);
    auto at = [&](std::string_view field) { return here({{"result_files"}, {"values", v}, {field}}); };
    if (value.column().empty()) return Invalid(at("column"), "the header's name of the column is missing");
    if (value.channel().empty()) return Invalid(at("channel"), "the channel its readings go under is missing");
    if (value.unit().empty()) return Invalid(at("unit"), "the unit is missing (write \"1\" for a dimensionless value)");
    if (!columns.insert(value.column()).second) {
      return Invalid(at("column"), fmt::format("column \"{}\" is named for two purposes", value.column()));
    }
    if (!channels.insert(value.channel()).second) {
      return Invalid(at("channel"), fmt::format("channel \"{}\" is filled from two columns", value.channel()));
    }
  }
  // Two instruments watching one folder would each take the other's files.
  const auto folder = std::filesystem::path(profile.folder()).lexically_normal();
  for (const Instrument& other : lab.instruments()) {
    if (&other == &instrument) break;
    if (other.has_result_files() && std::filesystem::path(other.result_files().folder()).lexically_normal() == folder) {
      return Invalid(here({{"result_files"}, {"folder"}}),
                     fmt::format("{} already watches \"{}\"; give each instrument a folder of its own", other.name(),
                                 profile.folder()));
    }
  }
  return OkStatus();
}

}  // namespace

std::string DriverOf(const Instrument& instrument) {
  return instrument.driver().empty() && instrument.has_result_files() ? std::string(kUploadDriver)
                                                                      : instrument.driver();
}

bool IsUploading(const Instrument& instrument) { return DriverOf(instrument) == kUploadDriver; }

Status ValidateUploadInstrument(const Lab& lab, const Instrument& instrument, const PlaceInInstrument& here) {
  if (!instrument.bus().empty()) {
    return Invalid(here({{"bus"}}), fmt::format("an \"upload\" instrument is not on a bus the daemon reads; remove "
                                                "bus \"{}\", or give the driver that reads it",
                                                instrument.bus()));
  }
  if (instrument.has_modbus() || instrument.has_mt_sics() || instrument.has_sbi() || instrument.has_scpi() ||
      instrument.has_line()) {
    return Invalid(here({}), "an \"upload\" instrument has no driver settings; remove the driver's block");
  }
  if (instrument.has_result_files()) return ValidateProfile(lab, instrument, here);
  return OkStatus();
}

void FillResultFileDefaults(const Lab& lab, Instrument& instrument) {
  if (!instrument.has_result_files()) return;
  ResultFileProfile& profile = *instrument.mutable_result_files();
  if (profile.delimiter().empty()) profile.set_delimiter(",");
  if (profile.timestamp_format().empty()) profile.set_timestamp_format(std::string(result_file::kDefaultTimestampFormat));
  if (profile.time_zone().empty()) {
    profile.set_time_zone(lab.time_zone().empty() ? std::string(kDefaultTimeZone) : lab.time_zone());
  }
}

}  // namespace labtrace::config
