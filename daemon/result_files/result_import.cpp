#include "result_files/result_import.h"

#include <openssl/evp.h>

#include <fmt/format.h>

#include "config/lab_calendar.h"

namespace labtrace::result_files {

std::string Sha256Hex(std::string_view bytes) {
  unsigned char digest[32];
  unsigned int length = 0;
  EVP_Digest(bytes.data(), bytes.size(), digest, &length, EVP_sha256(), nullptr);
  std::string hex;
  hex.reserve(64);
  for (unsigned char b : digest) hex += fmt::format("{:02x}", b);
  return hex;
}

result_file::Layout LayoutOf(const config::ResultFileProfile& profile) {
  result_file::Layout layout;
  layout.delimiter = profile.delimiter().empty() ? ',' : profile.delimiter()[0];
  layout.decimal_comma = profile.decimal_comma();
  layout.timestamp_column = profile.timestamp_column();
  if (!profile.timestamp_format().empty()) layout.timestamp_format = profile.timestamp_format();
  layout.sample_id_column = profile.sample_id_column();
  layout.instrument_column = profile.instrument_column();
  for (const config::ResultColumn& value : profile.values()) {
    layout.values.push_back({value.column(), value.channel(), value.unit()});
  }
  return layout;
}

Result<api::UploadRequest> UploadOfResultFile(const config::Instrument& instrument, std::string_view bytes,
                                              std::string_view sha256) {
  const config::ResultFileProfile& profile = instrument.result_files();
  if (bytes.size() > kMaxResultFileBytes) {
    return Error(InvalidArgument(fmt::format("the file has {} bytes, over the {} a result file may have; split it",
                                             bytes.size(), kMaxResultFileBytes)));
  }
  auto zone = config::LabCalendar::InZone(profile.time_zone().empty() ? config::kDefaultTimeZone : profile.time_zone());
  if (!zone) return Error(zone.error());
  auto rows = result_file::ParseResultFile(bytes, LayoutOf(profile));
  if (!rows) return Error(rows.error());
  api::UploadRequest upload;
  upload.set_idempotency_key(fmt::format("{}{}", kResultFileKeyPrefix, sha256));
  for (const result_file::ResultRow& row : *rows) {
    if (!profile.instrument_column().empty() && row.instrument != instrument.name()) {
      return Error(InvalidArgument(fmt::format(
          "line {}, column {} (\"{}\"): names instrument \"{}\", but this folder is {}'s; put the file in the folder "
          "of the instrument that made it",
          row.line, row.instrument_column, profile.instrument_column(), row.instrument, instrument.name())));
    }
    const result_file::CivilTime& t = row.time;
    auto at = zone->InstantOf({t.year, t.month, t.day}, t.hour, t.minute, t.second, t.nanosecond);
    if (!at) {
      return Error(InvalidArgument(fmt::format("line {}, column {} (\"{}\"): {}", row.line, row.time_column,
                                               profile.timestamp_column(), at.error().message())));
    }
    for (int v = 0; v < profile.values_size(); ++v) {
      Reading& reading = *upload.add_readings();
      reading.set_instrument(instrument.name());
      reading.set_channel(profile.values(v).channel());
      reading.set_unit(profile.values(v).unit());
      reading.set_value(row.values[static_cast<size_t>(v)].value);
      reading.set_decimals(row.values[static_cast<size_t>(v)].decimals);
      reading.set_quality(GOOD);
      reading.set_requested_at_ns(*at);
      reading.set_raw_frame(row.text);  // the row, as the evidence; the file by its hash
      reading.set_sample_id(row.sample_id);
    }
  }
  return upload;
}

Provenance ImportedFrom(std::string_view file_name, std::string_view sha256) {
  Provenance provenance;
  provenance.set_source(Provenance::IMPORTED);
  provenance.set_file_name(std::string(file_name));
  provenance.set_file_sha256(std::string(sha256));
  return provenance;
}

}  // namespace labtrace::result_files
