// Fuzzes the checkpoint-file parser and signature check an auditor runs on files they receive.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "store/signing_key.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto checkpoint = labtrace::store::ParseCheckpointFile(std::string_view(reinterpret_cast<const char*>(data), size));
  if (checkpoint) (void)labtrace::store::VerifyCheckpointSignature(*checkpoint);
  return 0;
}
