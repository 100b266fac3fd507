#include "modbus/value_codec.h"

#include <array>
#include <bit>
#include <cstring>

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
uint64_t AssembleBigEndian(std::span<const uint16_t> words, config::WordOrder order) {
  const size_t n = words.size();
  std::array<uint8_t, 8> wire{};
  for (size_t i = 0; i < n; ++i) {
    wire[2 * i] = static_cast<uint8_t>(words[i] >> 8);
    wire[2 * i + 1] = static_cast<uint8_t>(words[i] & 0xFF);
  }
  std::array<uint8_t, 8> msb_first{};
  const size_t bytes = 2 * n;
  for (size_t i = 0; i < bytes; ++i) {
    switch (order) {
      case config::DCBA: msb_first[i] = wire[bytes - 1 - i]; break;
      case config::BADC: msb_first[i] = wire[i ^ 1]; break;
      case config::CDAB: {
        const size_t word = i / 2, byte = i % 2;
        msb_first[i] = wire[2 * (n - 1 - word) + byte];
        break;
      }
      default: msb_first[i] = wire[i]; break;  // ABCD and unspecified
    }
  }
  uint64_t value = 0;
  for (size_t i = 0; i < bytes; ++i) value = (value << 8) | msb_first[i];
  return value;
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

}  // namespace labtrace::modbus
