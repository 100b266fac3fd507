// Fuzzes the Modbus read-response parser (drivers/modbus/pdu), the client path that
// CVE-2023-26793 was found in for libmodbus (in its bit reading). First byte: the function
// (01, 02, 03 or 04); second: the count.
#include <cstddef>
#include <cstdint>

#include "modbus/pdu.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const uint8_t function = static_cast<uint8_t>(1 + (data[0] & 3));
  const uint16_t count = static_cast<uint16_t>(
      1 + (labtrace::modbus::IsBitFunction(function) ? (data[1] * 8u) % labtrace::modbus::kMaxBitsPerRead
                                                     : data[1] % labtrace::modbus::kMaxRegistersPerRead));
  auto response = labtrace::modbus::ParseReadResponse({data + 2, size - 2}, function, count);
  if (response && !response->exception && response->words.size() != count) __builtin_trap();
  return 0;
}
