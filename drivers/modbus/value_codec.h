// Decoding of Modbus register contents into numbers: every width and word order.
//
// Pure functions over register words; no I/O. Written here rather than taken from
// libmodbus because Debian 12's libmodbus 3.1.6 float setters swap bytes (protocols.md),
// and because one codec for all widths and orders is simpler to test.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "labtrace/config.pb.h"
#include "labtrace/status.h"

namespace labtrace::modbus {

// Number of 16-bit registers a value of this type occupies (0 for UNSPECIFIED and for
// STRING, whose length is the register's own).
int RegisterCount(config::ValueType type);
// Number of registers `reg` occupies: its type's, or a STRING's `length`.
int RegisterCount(const config::Register& reg);

// Decodes `words` (as read from the wire, each already in host order) into a number.
// `words.size()` must equal RegisterCount(type). 64-bit integers beyond 2^53 lose
// precision in the double; no lab quantity comes near that.
Result<double> DecodeValue(std::span<const uint16_t> words, config::ValueType type,
                           config::WordOrder order);

// The inverse of DecodeValue, for a write: `value` (counts, before any scale) as the
// register words of `type` in `order`. Refuses a value that is not finite, not a whole
// number for an integer type, or out of the type's range, saying which.
Result<std::vector<uint16_t>> EncodeValue(double value, config::ValueType type, config::WordOrder order);

// Decodes the registers of a STRING: two ASCII characters per register, high byte first
// (ABCD, the default) or low byte first (BADC). The text ends at the first NUL; trailing
// spaces (padding) are dropped. A byte that is not printable ASCII is an error: the
// field is not text, or the map is wrong.
Result<std::string> DecodeText(std::span<const uint16_t> words, config::WordOrder order);

}  // namespace labtrace::modbus
