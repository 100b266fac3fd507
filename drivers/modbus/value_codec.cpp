#include "modbus/value_codec.h"

#include <array>
#include <bit>
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include <fmt/format.h>

namespace labtrace::modbus {

int RegisterCount(config::ValueType type) {
  switch (type) {
    case config::INT16:
    case config::UINT16:
    case config::BIT: return 1;
    case config::INT32:
    case config::UINT32:
    case config::FLOAT32: return 2;
    case config::INT64:
    case config::UINT64:
    case config::FLOAT64: return 4;
    default: return 0;
  }
}

int RegisterCount(const config::Register& reg) {
  return reg.type() == config::STRING ? static_cast<int>(reg.length()) : RegisterCount(reg.type());
}

Result<std::string> DecodeText(std::span<const uint16_t> words, config::WordOrder order) {
  std::string text;
  for (const uint16_t word : words) {
    const char high = static_cast<char>(word >> 8), low = static_cast<char>(word & 0xFF);
    text += order == config::BADC ? low : high;
    text += order == config::BADC ? high : low;
  }
  if (const size_t nul = text.find('\0'); nul != std::string::npos) text.resize(nul);
  while (!text.empty() && text.back() == ' ') text.pop_back();
  for (const unsigned char c : text) {
    if (c < 0x20 || c > 0x7E) {
      return Error(InvalidArgument(fmt::format("byte 0x{:02X} in a string field is not printable ASCII", c)));
    }
  }
  return text;
}

namespace {

// Puts the wire bytes of `words` into most-significant-first order (A B C D …).
// Wire byte i is byte i%2 of word i/2 (high byte first, Modbus is big-endian per word).
//   ABCD: wire is already A B C D.
//   DCBA: wire is the value fully reversed.
//   BADC: each word's two bytes are swapped.
//   CDAB: words are in reverse order, bytes within a word in order.
// The wire byte that holds byte i (most significant first) of a value of `bytes` bytes.
size_t WireIndex(size_t i, size_t bytes, config::WordOrder order) {
  switch (order) {
    case config::DCBA: return bytes - 1 - i;
    case config::BADC: return i ^ 1;
    case config::CDAB: return 2 * (bytes / 2 - 1 - i / 2) + i % 2;
    default: return i;  // ABCD and unspecified
  }
}

uint64_t AssembleBigEndian(std::span<const uint16_t> words, config::WordOrder order) {
  const size_t n = words.size();
  std::array<uint8_t, 8> wire{};
  for (size_t i = 0; i < n; ++i) {
    wire[2 * i] = static_cast<uint8_t>(words[i] >> 8);
    wire[2 * i + 1] = static_cast<uint8_t>(words[i] & 0xFF);
  }
  const size_t bytes = 2 * n;
  uint64_t value = 0;
  for (size_t i = 0; i < bytes; ++i) value = (value << 8) | wire[WireIndex(i, bytes, order)];
  return value;
}

// The inverse: `value`'s low 2·n bytes as n register words in `order`.
std::vector<uint16_t> SplitBigEndian(uint64_t value, size_t n, config::WordOrder order) {
  const size_t bytes = 2 * n;
  std::array<uint8_t, 8> wire{};
  for (size_t i = 0; i < bytes; ++i) wire[WireIndex(i, bytes, order)] = static_cast<uint8_t>(value >> (8 * (bytes - 1 - i)));
  std::vector<uint16_t> words(n);
  for (size_t i = 0; i < n; ++i) words[i] = static_cast<uint16_t>(wire[2 * i] << 8 | wire[2 * i + 1]);
  return words;
}

}  // namespace

Result<double> DecodeValue(std::span<const uint16_t> words, config::ValueType type,
                           config::WordOrder order) {
  const int needed = RegisterCount(type);
  if (needed == 0) {
    return Error(InvalidArgument(fmt::format("value type {} is not decodable", static_cast<int>(type))));
  }
  if (words.size() != static_cast<size_t>(needed)) {
    return Error(InvalidArgument(
        fmt::format("{} needs {} registers, got {}", config::ValueType_Name(type), needed, words.size())));
  }
  if (type == config::BIT) return Error(InvalidArgument("a BIT is decoded with its bit number (DecodeRead)"));
  const uint64_t bits = AssembleBigEndian(words, order);
  switch (type) {
    case config::INT16: return static_cast<double>(static_cast<int16_t>(bits));
    case config::UINT16: return static_cast<double>(static_cast<uint16_t>(bits));
    case config::INT32: return static_cast<double>(static_cast<int32_t>(bits));
    case config::UINT32: return static_cast<double>(static_cast<uint32_t>(bits));
    case config::INT64: return static_cast<double>(static_cast<int64_t>(bits));
    case config::UINT64: return static_cast<double>(bits);
    case config::FLOAT32: return static_cast<double>(std::bit_cast<float>(static_cast<uint32_t>(bits)));
    case config::FLOAT64: return std::bit_cast<double>(bits);
    default: break;
  }
  return Error(Internal("unreachable value type"));
}

Result<std::vector<uint16_t>> EncodeValue(double value, config::ValueType type, config::WordOrder order) {
  const size_t n = static_cast<size_t>(RegisterCount(type));
  if (n == 0 || type == config::BIT) {
    return Error(InvalidArgument(fmt::format("a {} register cannot be written as a number", config::ValueType_Name(type))));
  }
  if (!std::isfinite(value)) return Error(InvalidArgument("the value is not a finite number"));
  if (type == config::FLOAT32) {
    if (std::fabs(value) > std::numeric_limits<float>::max()) {
      return Error(InvalidArgument(fmt::format("{} is beyond the range of a FLOAT32", value)));
    }
    return SplitBigEndian(std::bit_cast<uint32_t>(static_cast<float>(value)), n, order);
  }
  if (type == config::FLOAT64) return SplitBigEndian(std::bit_cast<uint64_t>(value), n, order);
  const double whole = std::round(value);
  if (std::fabs(value - whole) > 1e-9 * std::max(1.0, std::fabs(value))) {
    return Error(InvalidArgument(fmt::format("{} is not a whole number of counts, which a {} holds", value,
                                             config::ValueType_Name(type))));
  }
  const bool is_signed = type == config::INT16 || type == config::INT32 || type == config::INT64;
  const int bits = static_cast<int>(16 * n);
  const double lowest = is_signed ? -std::ldexp(1.0, bits - 1) : 0.0;
  const double past_highest = is_signed ? std::ldexp(1.0, bits - 1) : std::ldexp(1.0, bits);
  if (whole < lowest || whole >= past_highest) {
    return Error(InvalidArgument(fmt::format("{} counts do not fit a {} ({} .. {})", whole, config::ValueType_Name(type),
                                             lowest, past_highest - 1)));
  }
  const uint64_t word_bits = is_signed ? static_cast<uint64_t>(static_cast<int64_t>(whole)) : static_cast<uint64_t>(whole);
  return SplitBigEndian(word_bits, n, order);
}

}  // namespace labtrace::modbus
