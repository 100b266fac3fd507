// Fuzzes the Modbus read-response parser (drivers/modbus/pdu), the client path that
// CVE-2023-26793 was found in for libmodbus. First byte: function 03/04 and count.
#include <cstddef>
#include <cstdint>

#include "modbus/pdu.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const uint8_t function = (data[0] & 1) ? labtrace::modbus::kReadInputRegisters : labtrace::modbus::kReadHoldingRegisters;
  const uint16_t count = static_cast<uint16_t>(1 + data[1] % labtrace::modbus::kMaxRegistersPerRead);
  auto response = labtrace::modbus::ParseReadResponse({data + 2, size - 2}, function, count);
  if (response && !response->exception && response->words.size() != count) __builtin_trap();
  return 0;
}
