// Fuzzes register decoding: every type and word order over arbitrary register words.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "modbus/value_codec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const auto type = static_cast<labtrace::config::ValueType>(data[0] % 10);
  const auto order = static_cast<labtrace::config::WordOrder>((data[0] >> 4) % 6);
  std::vector<uint16_t> words;
  for (size_t i = 1; i + 1 < size && words.size() < 8; i += 2) words.push_back(static_cast<uint16_t>(data[i] << 8 | data[i + 1]));
  (void)labtrace::modbus::DecodeValue(words, type, order);
  return 0;
}
