#include "mtsics/codec.h"

#include <vector>

#include <fmt/format.h>

#include "text_link/printed_number.h"

namespace labtrace::mtsics {

namespace {

std::vector<std::string_view> SplitFields(std::string_view line) {
  std::vector<std::string_view> fields;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && line[i] == ' ') ++i;
    if (i == line.size()) break;
    size_t j = i;
    if (line[i] == '"') {  // a quoted field may hold spaces
      j = line.find('"', i + 1);
      j = (j == std::string_view::npos) ? line.size() : j + 1;
    } else {
      while (j < line.size() && line[j] != ' ') ++j;
    }
    fields.push_back(line.substr(i, j - i));
    i = j;
  }
  return fields;
}


}  // namespace

Result<SicsReply> ParseSicsLine(std::string_view line) {
  if (!text::IsPrintableAscii(line)) {
    return Error(InvalidArgument("reply holds control or non-ASCII bytes (noise or wrong baud rate?)"));
  }
  const auto fields = SplitFields(line);
  if (fields.empty()) return Error(InvalidArgument("empty reply"));
  SicsReply reply;
  reply.command = std::string(fields[0]);
  const std::string_view command = fields[0];
  auto As = [&reply](SicsReply::Kind kind) -> Result<SicsReply> {
    reply.kind = kind;
    return reply;
  };

  if (fields.size() == 1) {
    if (command == "ES") return As(SicsReply::Kind::kSyntaxError);
    if (command == "ET") return As(SicsReply::Kind::kTransmissionError);
    if (command == "EL") return As(SicsReply::Kind::kLogicalError);
    return Error(InvalidArgument(fmt::format("reply \"{}\" has no status field", line)));
  }
  const std::string_view status = fields[1];
  if (fields.size() == 2 && status == "L") return As(SicsReply::Kind::kLogicalError);

  if (command == "S") {
    if (fields.size() == 2) {
      if (status == "I") return As(SicsReply::Kind::kNotExecutable);
      if (status == "+") return As(SicsReply::Kind::kOverload);
      if (status == "-") return As(SicsReply::Kind::kUnderload);
      return Error(InvalidArgument(fmt::format("weighing reply \"{}\" has unknown status", line)));
    }
    if (status != "S" && status != "D") {
      return Error(InvalidArgument(fmt::format("weighing reply \"{}\" has status \"{}\", expected S or D", line, status)));
    }
    if (fields.size() != 4) {
      return Error(InvalidArgument(fmt::format("weighing reply \"{}\" needs a value and a unit", line)));
    }
    auto value = text::ParsePrintedNumber(fields[2]);
    if (!value) return Error(value.error().Annotate("weight"));
    // §3 "S": the unit is a bare word (g, mg, ct …). A quoted field there, which may hold
    // spaces, is a piece of another reply (an identification) run into this line.
    if (fields[3].find('"') != std::string_view::npos) {
      return Error(InvalidArgument(fmt::format("weighing reply \"{}\" has a quoted unit", line)));
    }
    reply.kind = SicsReply::Kind::kWeight;
    reply.stable = status == "S";
    reply.value = value->value;
    reply.decimals = value->decimals;
    reply.unit = std::string(fields[3]);
    return reply;
  }
  if (command == "I2" || command == "I3" || command == "I4") {
    if (status != "A" || fields.size() != 3 || fields[2].size() < 2 || fields[2].front() != '"' ||
        fields[2].back() != '"') {
      return Error(InvalidArgument(fmt::format("identification reply \"{}\" is not `{} A \"…\"`", line, command)));
    }
    reply.kind = SicsReply::Kind::kIdentification;
    reply.text = std::string(fields[2].substr(1, fields[2].size() - 2));
    return reply;
  }
  return Error(InvalidArgument(fmt::format("unknown reply \"{}\"", line)));
}

Reading ToReading(const SicsReply& reply) {
  Reading reading;
  reading.set_decimals(-1);
  switch (reply.kind) {
    case SicsReply::Kind::kWeight:
      reading.set_quality(reply.stable ? GOOD : UNSTABLE);
      reading.set_value(reply.value);
      reading.set_unit(reply.unit);
      reading.set_decimals(reply.decimals);
      if (!reply.stable) reading.set_detail("dynamic weight (balance not stable)");
      break;
    case SicsReply::Kind::kNotExecutable:
      reading.set_quality(DEVICE_ERROR);
      reading.set_detail("balance busy or not stable within its timeout (S I)");
      break;
    case SicsReply::Kind::kOverload:
      reading.set_quality(OVERLOAD);
      reading.set_detail("balance overload (S +)");
      break;
    case SicsReply::Kind::kUnderload:
      reading.set_quality(UNDERLOAD);
      reading.set_detail("balance underload (S -)");
      break;
    case SicsReply::Kind::kSyntaxError:
      reading.set_quality(DEVICE_ERROR);
      reading.set_detail("balance did not recognise the command (ES)");
      break;
    case SicsReply::Kind::kTransmissionError:
      reading.set_quality(DEVICE_ERROR);
      reading.set_detail("balance reports a transmission error (ET); check baud rate and parity");
      break;
    case SicsReply::Kind::kLogicalError:
      reading.set_quality(DEVICE_ERROR);
      reading.set_detail(fmt::format("balance cannot execute {} now (logical error)", reply.command));
      break;
    case SicsReply::Kind::kIdentification:
      reading.set_quality(BAD_FRAME);
      reading.set_detail("identification reply where a weight was expected");
      break;
  }
  return reading;
}

}  // namespace labtrace::mtsics
