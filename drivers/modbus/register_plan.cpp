#include "modbus/register_plan.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "modbus/pdu.h"
#include "modbus/value_codec.h"

namespace labtrace::modbus {

Result<uint16_t> WireAddress(const config::RegisterMap& map, const config::Register& reg) {
  uint64_t address = reg.address();
  if (map.numbering() == config::ONE_BASED) {
    if (address == 0) {
      return Error(InvalidArgument("address 0 in a ONE_BASED map; the first register is 1"));
    }
    address -= 1;
  }
  const int width = RegisterCount(reg);
  if (address + static_cast<uint64_t>(std::max(width, 1)) > 65536) {
    return Error(InvalidArgument(fmt::format("address {} is beyond the 65536 registers of a table", reg.address())));
  }
  return static_cast<uint16_t>(address);
}

Result<std::vector<PlannedRead>> PlanReads(const config::RegisterMap& map, uint32_t max_gap) {
  struct Slot {
    config::RegisterTable table;
    uint32_t first;
    uint32_t end;  // one past the last register
    int index;
  };
  std::vector<Slot> slots;
  for (int i = 0; i < map.registers_size(); ++i) {
    const auto& reg = map.registers(i);
    auto address = WireAddress(map, reg);
    if (!address) return Error(address.error().Annotate(fmt::format("register \"{}\"", reg.name())));
    const int width = RegisterCount(reg);
    if (width == 0) return Error(InvalidArgument(fmt::format("register \"{}\" has no type", reg.name())));
    slots.push_back({reg.table(), *address, *address + static_cast<uint32_t>(width), i});
  }
  std::sort(slots.begin(), slots.end(), [](const Slot& a, const Slot& b) {
    return std::tie(a.table, a.first) < std::tie(b.table, b.first);
  });

  std::vector<PlannedRead> reads;
  for (const Slot& slot : slots) {
    if (!reads.empty()) {
      PlannedRead& last = reads.back();
      const uint32_t last_end = last.address + last.count;
      const bool same_table = last.table == slot.table;
      const bool close = slot.first <= last_end + max_gap;
      const bool bit_table = slot.table == config::COIL || slot.table == config::DISCRETE_INPUT;
      const bool fits = slot.end - last.address <= (bit_table ? kMaxBitsPerRead : kMaxRegistersPerRead);
      if (same_table && close && fits) {
        last.count = static_cast<uint16_t>(std::max(last_end, slot.end) - last.address);
        last.registers.push_back(slot.index);
        continue;
      }
    }
    reads.push_back({slot.table, static_cast<uint16_t>(slot.first),
                     static_cast<uint16_t>(slot.end - slot.first), {slot.index}});
  }
  return reads;
}

std::vector<DecodedRegister> DecodeRead(const config::RegisterMap& map, const PlannedRead& read,
                                        std::span<const uint16_t> words) {
  std::vector<DecodedRegister> decoded;
  decoded.reserve(read.registers.size());
  for (int index : read.registers) {
    const auto& reg = map.registers(index);
    const uint16_t address = WireAddress(map, reg).value_or(0);
    const size_t offset = address - read.address;
    const size_t width = static_cast<size_t>(RegisterCount(reg));
    if (offset + width > words.size()) {
      decoded.push_back({index, Error(InvalidArgument("reply shorter than the planned read")), {}});
      continue;
    }
    if (reg.type() == config::BIT) {
      // A coil or discrete input arrives as one word 0/1; a register bit is picked out.
      const bool bit_table = reg.table() == config::COIL || reg.table() == config::DISCRETE_INPUT;
      const uint16_t word = words[offset];
      decoded.push_back({index, static_cast<double>(bit_table ? (word & 1) : ((word >> reg.bit()) & 1)), {}});
      continue;
    }
    if (reg.type() == config::STRING) {
      auto text = DecodeText(words.subspan(offset, width), reg.word_order());
      if (!text) {
        decoded.push_back({index, Error(text.error().Annotate(fmt::format("register \"{}\"", reg.name()))), {}});
      } else {
        decoded.push_back({index, 0.0, std::move(*text)});
      }
      continue;
    }
    auto raw = DecodeValue(words.subspan(offset, width), reg.type(), reg.word_order());
    if (raw) {
      const double scale = reg.scale() == 0 ? 1.0 : reg.scale();
      *raw = *raw * scale + reg.offset();
      // A float register holding NaN or infinity (a sensor fault, or the wrong word order)
      // is not a measurement; stored as one it would also not survive SQLite, which
      // keeps NaN as NULL.
      if (!std::isfinite(*raw)) {
        raw = Error(InvalidArgument(fmt::format("register \"{}\" holds {} (sensor fault or wrong word order?)",
                                                reg.name(), std::isnan(*raw) ? "NaN" : "infinity")));
      }
    }
    decoded.push_back({index, std::move(raw), {}});
  }
  return decoded;
}

uint8_t ReadFunction(config::RegisterTable table) {
  switch (table) {
    case config::COIL: return kReadCoils;
    case config::DISCRETE_INPUT: return kReadDiscreteInputs;
    case config::INPUT: return kReadInputRegisters;
    default: return kReadHoldingRegisters;
  }
}

int RegisterDecimals(const config::Register& reg) {
  if (reg.type() == config::BIT) return 0;
  if (reg.type() == config::STRING) return -1;
  if (reg.type() == config::FLOAT32 || reg.type() == config::FLOAT64) return -1;
  const double scale = reg.scale() == 0 ? 1.0 : std::abs(reg.scale());
  if (scale >= 1) return 0;
  return static_cast<int>(std::lround(-std::log10(scale)));
}

}  // namespace labtrace::modbus
