// Fuzzes the lab-config loader: any text is either accepted whole or refused with a message.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "config/lab_config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto lab = labtrace::config::ParseLab(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz.textproto");
  if (!lab && lab.error().message().empty()) __builtin_trap();
  return 0;
}
