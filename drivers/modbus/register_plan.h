// Compiles a device's register map into the fewest read requests, and decodes the
// replies back into one value per register. Pure; no I/O.
//
// The biggest lever on a serial bus is reading adjacent registers in one request
// (protocols.md: at 115 200 baud one register alone costs 4.9 ms, inside a 125-register
// read 0.23 ms), so registers of one table are merged when the gap between them is at
// most `max_gap` registers and the merged read stays within 125 registers (2 000 coils
// or discrete inputs). BIT fields of one register share its read.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "labtrace/config.pb.h"
#include "labtrace/status.h"

namespace labtrace::modbus {

// The address a register is read at on the wire (0-based), from the map's numbering.
// Fails for address 0 in a one-based map, and for addresses beyond 65535.
Result<uint16_t> WireAddress(const config::RegisterMap& map, const config::Register& reg);

struct PlannedRead {
  config::RegisterTable table = config::REGISTER_TABLE_UNSPECIFIED;
  uint16_t address = 0;  // wire address of the first register read
  uint16_t count = 0;
  // Indices into the map's `registers`, in address order.
  std::vector<int> registers;
};

// Assumes a map that config validation accepted (types known, no overlaps).
Result<std::vector<PlannedRead>> PlanReads(const config::RegisterMap& map, uint32_t max_gap);

struct DecodedRegister {
  int register_index = 0;
  // raw * scale + offset, or why it could not be decoded.
  Result<double> value;
  std::string text;  // a STRING's text (value is then 0)
};

// Splits the words of one planned read into the values of its registers.
std::vector<DecodedRegister> DecodeRead(const config::RegisterMap& map, const PlannedRead& read,
                                        std::span<const uint16_t> words);

// The read function of a table: 01 coils, 02 discrete inputs, 03 holding, 04 input.
uint8_t ReadFunction(config::RegisterTable table);

// Decimal places a scaled integer register shows (scale 0.1 → 1), or -1 for floats.
int RegisterDecimals(const config::Register& reg);

}  // namespace labtrace::modbus
