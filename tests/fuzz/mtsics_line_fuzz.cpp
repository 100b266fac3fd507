// Fuzzes the MT-SICS reply parser against protocols.md ("Mettler Toledo MT-SICS"): a
// value is only ever taken from a line that parses whole, "S S|D <value> <unit>", and it
// is the number of the third field (read here by strtod), with the fourth as its unit.
// Error replies and identifications never carry a value. Each reply written again in
// MT-SICS form parses back to the same reply.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "mtsics/codec.h"
#include "text_oracle.h"

namespace {

using labtrace::mtsics::SicsReply;

std::vector<std::string_view> Words(std::string_view line) {
  std::vector<std::string_view> words;
  for (size_t start = 0; start < line.size();) {
    const size_t end = std::min(line.find(' ', start), line.size());
    if (end > start) words.push_back(line.substr(start, end - start));
    start = end + 1;
  }
  return words;
}

void CheckWeight(std::string_view line, const SicsReply& reply) {
  const auto words = Words(line);
  if (words.size() != 4 || words[0] != "S" || words[1] != (reply.stable ? "S" : "D")) __builtin_trap();
  if (!labtrace::fuzz::Means(words[2], reply.value, reply.decimals) || reply.unit != words[3]) __builtin_trap();
  const labtrace::Reading reading = labtrace::mtsics::ToReading(reply);
  if (reading.quality() != (reply.stable ? labtrace::GOOD : labtrace::UNSTABLE)) __builtin_trap();
  if (!std::isfinite(reading.value()) || reading.unit() != reply.unit) __builtin_trap();
}

// The reply as a balance would print it (single spaces; any padding parses the same).
std::string Printed(const SicsReply& reply) {
  switch (reply.kind) {
    case SicsReply::Kind::kWeight:
      return fmt::format("S {} {} {}", reply.stable ? 'S' : 'D', labtrace::fuzz::Printed(reply.value, reply.decimals), reply.unit);
    case SicsReply::Kind::kNotExecutable: return "S I";
    case SicsReply::Kind::kOverload: return "S +";
    case SicsReply::Kind::kUnderload: return "S -";
    case SicsReply::Kind::kSyntaxError: return "ES";
    case SicsReply::Kind::kTransmissionError: return "ET";
    case SicsReply::Kind::kLogicalError: return reply.command == "EL" ? "EL" : reply.command + " L";
    case SicsReply::Kind::kIdentification: return fmt::format("{} A \"{}\"", reply.command, reply.text);
  }
  __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view line(reinterpret_cast<const char*>(data), size);
  auto reply = labtrace::mtsics::ParseSicsLine(line);
  if (!reply) return 0;
  if (reply->kind == SicsReply::Kind::kWeight) {
    CheckWeight(line, *reply);
  } else {
    const labtrace::Reading reading = labtrace::mtsics::ToReading(*reply);
    if (reading.value() != 0 || reading.decimals() != -1 || reading.quality() == labtrace::GOOD) __builtin_trap();
  }
  if (reply->kind == SicsReply::Kind::kIdentification && reply->text.find('"') != std::string::npos) __builtin_trap();
  auto again = labtrace::mtsics::ParseSicsLine(Printed(*reply));
  if (!again || again->kind != reply->kind || again->command != reply->command || again->stable != reply->stable ||
      again->unit != reply->unit || again->text != reply->text || again->decimals != reply->decimals ||
      (reply->kind == SicsReply::Kind::kWeight &&
       labtrace::fuzz::Printed(again->value, again->decimals) != labtrace::fuzz::Printed(reply->value, reply->decimals))) {
    __builtin_trap();
  }
  return 0;
}
