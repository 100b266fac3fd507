// Decoding of Modbus register contents into numbers: every width and word order.
//
// Pure functions over register words; no I/O. Written here rather than taken from
// libmodbus because Debian 12's libmodbus 3.1.6 float setters swap bytes (protocols.md),
// and because one codec for all widths and orders is simpler to test.
#pragma once

#include <cstdint>
#include <span>

#include "labtrace/config.pb.h"
#include "labtrace/status.h"

namespace labtrace::modbus {

// Number of 16-bit registers a value of this type occupies (0 for UNSPECIFIED).
int RegisterCount(config::ValueType type);

// Decodes `words` (as read from the wire, each already in host order) into a number.
// `words.size()` must equal RegisterCount(type). 64-bit integers beyond 2^53 lose
// precision in the double; no lab quantity comes near that.
Result<double> DecodeValue(std::span<const uint16_t> words, config::ValueType type,
                           config::WordOrder order);

}  // namespace labtrace::modbus
