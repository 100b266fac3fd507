// Fuzzes the checkpoint-file parser and signature check an auditor runs on files they
// receive. A file that parses is written again by FormatCheckpointFile and must parse to
// the same checkpoint, with the same verdict on its signature: what an auditor exports
// and re-imports is what was signed.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "store/signing_key.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto checkpoint = labtrace::store::ParseCheckpointFile(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!checkpoint) return 0;
  if (checkpoint->root_hash().size() != 32 || checkpoint->public_key().size() != 32 ||
      checkpoint->signature().size() != 64) {
    __builtin_trap();
  }
  auto again = labtrace::store::ParseCheckpointFile(labtrace::store::FormatCheckpointFile(*checkpoint));
  if (!again || again->SerializeAsString() != checkpoint->SerializeAsString()) __builtin_trap();
  if (labtrace::store::VerifyCheckpointSignature(*again) != labtrace::store::VerifyCheckpointSignature(*checkpoint)) {
    __builtin_trap();
  }
  return 0;
}
