// Fuzzes register decoding against a reference written here from protocols.md, not from
// the codec: the value's bytes (most significant first) are laid on the wire in the
// order the word order's name spells, and decoding the wire words must give back the
// value those bytes mean. A wrong word order, width or sign in the codec breaks it.
//
// Input: byte 0 low nibble the type (% 11), high nibble the word order (% 5); the rest are
// the value's bytes, most significant first (a STRING takes all of them as its text).
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "modbus/value_codec.h"

namespace {

using labtrace::config::ValueType;
using labtrace::config::WordOrder;

// Which byte of the value (A = most significant) each wire byte carries, by width in bytes.
// The 32-bit rows are the orders' names; 64-bit values extend them a word at a time
// (CDAB: the last word first), 16-bit values keep only what fits in one register.
std::string_view WireLayout(WordOrder order, size_t width) {
  switch (order) {
    case labtrace::config::DCBA: return width == 2 ? "BA" : width == 4 ? "DCBA" : "HGFEDCBA";
    case labtrace::config::BADC: return width == 2 ? "BA" : width == 4 ? "BADC" : "BADCFEHG";
    case labtrace::config::CDAB: return width == 2 ? "AB" : width == 4 ? "CDAB" : "GHEFCDAB";
    default: return width == 2 ? "AB" : width == 4 ? "ABCD" : "ABCDEFGH";
  }
}

std::vector<uint16_t> EncodeWire(const uint8_t* value_bytes, size_t width, WordOrder order) {
  const std::string_view layout = WireLayout(order, width);
  std::vector<uint16_t> words(width / 2);
  for (size_t i = 0; i < width; ++i) {
    const uint8_t byte = value_bytes[layout[i] - 'A'];
    words[i / 2] = static_cast<uint16_t>(i % 2 == 0 ? (words[i / 2] | byte << 8) : (words[i / 2] | byte));
  }
  return words;
}

// What the bytes mean as `type`, computed by arithmetic rather than by reinterpreting.
double Expected(const uint8_t* bytes, size_t width, ValueType type) {
  uint64_t bits = 0;
  for (size_t i = 0; i < width; ++i) bits = bits * 256 + bytes[i];
  const bool negative = (bytes[0] & 0x80) != 0;
  switch (type) {
    case labtrace::config::INT16:
    case labtrace::config::INT32:
      return negative ? static_cast<double>(bits) - std::ldexp(1.0, 8 * static_cast<int>(width))
                      : static_cast<double>(bits);
    case labtrace::config::INT64:  // two's complement: -(2^64 - bits), computed in integers
      return negative ? -static_cast<double>(~bits + 1) : static_cast<double>(bits);
    case labtrace::config::FLOAT32: {
      float f;
      const auto narrow = static_cast<uint32_t>(bits);
      std::memcpy(&f, &narrow, sizeof f);
      return f;
    }
    case labtrace::config::FLOAT64: {
      double d;
      std::memcpy(&d, &bits, sizeof d);
      return d;
    }
    default: return static_cast<double>(bits);  // the unsigned types
  }
}

bool Same(double a, double b) { return (std::isnan(a) && std::isnan(b)) || a == b; }

// A STRING: two characters per register in the order's byte order, NUL-padded. Whatever
// decodes is printable, has no trailing space and is the text up to its first NUL.
void CheckText(std::string_view text, WordOrder order) {
  std::vector<uint16_t> words((text.size() + 1) / 2);
  for (size_t i = 0; i < text.size(); ++i) {
    const bool high = (i % 2 == 0) != (order == labtrace::config::BADC);
    words[i / 2] |= static_cast<uint16_t>(static_cast<uint8_t>(text[i]) << (high ? 8 : 0));
  }
  auto decoded = labtrace::modbus::DecodeText(words, order);
  std::string_view expected = text.substr(0, text.find('\0'));
  while (!expected.empty() && expected.back() == ' ') expected.remove_suffix(1);
  bool printable = true;
  for (const unsigned char c : expected) printable = printable && c >= 0x20 && c <= 0x7E;
  if (decoded.has_value() != printable) __builtin_trap();
  if (decoded && *decoded != expected) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const auto type = static_cast<ValueType>((data[0] & 0x0F) % 11);
  const auto order = static_cast<WordOrder>((data[0] >> 4) % 5);
  const uint8_t* bytes = data + 1;
  const size_t available = size - 1;
  if (type == labtrace::config::STRING) {
    CheckText({reinterpret_cast<const char*>(bytes), available}, order);
    return 0;
  }
  const size_t width = 2 * static_cast<size_t>(labtrace::modbus::RegisterCount(type));
  // Types without a fixed width, and BIT (decoded with its bit number), are refused.
  if (width == 0 || type == labtrace::config::BIT) {
    if (labtrace::modbus::DecodeValue(std::vector<uint16_t>(width / 2), type, order)) __builtin_trap();
    return 0;
  }
  if (available < width) {
    // Too few registers for the type is an error, never a value made of fewer bytes.
    if (labtrace::modbus::DecodeValue(std::vector<uint16_t>(available / 2), type, order)) __builtin_trap();
    return 0;
  }
  auto decoded = labtrace::modbus::DecodeValue(EncodeWire(bytes, width, order), type, order);
  if (!decoded || !Same(*decoded, Expected(bytes, width, type))) __builtin_trap();
  return 0;
}
