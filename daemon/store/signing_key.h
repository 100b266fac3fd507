// The lab's Ed25519 key, which signs ledger checkpoints (libsodium; the verifier uses
// the same library). Kept in the data directory, readable by the daemon's user only.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "labtrace/ledger.pb.h"
#include "labtrace/status.h"

namespace labtrace::store {

class SigningKey {
 public:
  // Reads the key file (hex seed), or creates one with a fresh key when absent. A file
  // that anyone but its owner may read or write is refused (FailedPrecondition): whoever
  // can read it can sign checkpoints as the lab.
  static Result<SigningKey> LoadOrCreate(const std::string& path);
  // Reads an existing key file, with the same check; NotFound when there is none.
  static Result<SigningKey> Load(const std::string& path);
  static SigningKey FromSeed(const std::array<uint8_t, 32>& seed);

  std::string Sign(std::string_view message) const;  // 64-byte detached signature
  const std::array<uint8_t, 32>& public_key() const { return public_key_; }

 private:
  std::array<uint8_t, 64> secret_key_{};
  std::array<uint8_t, 32> public_key_{};
};

// The key file the daemon keeps beside its store: <data_dir>/lab-signing.key.
std::string KeyPathIn(const std::string& data_dir);
std::string KeyPathBeside(const std::string& db_path);

// A public key as the lab pins it (lab-config `trusted_checkpoint_key`, `labtrace verify
// --trusted-key FILE`) and `labtrace checkpoint key` prints it: 64 hex digits.
std::string PublicKeyText(std::string_view public_key);
std::string PublicKeyText(const std::array<uint8_t, 32>& public_key);
// The 32 bytes of a public key from that text (surrounding whitespace ignored).
Result<std::string> ParsePublicKey(std::string_view text);

// The text a checkpoint's signature covers:
//   "labtrace checkpoint v1\n<tree_size>\n<root hex>\n<time_ns>\n"
std::string CheckpointText(const Checkpoint& checkpoint);
bool VerifyCheckpointSignature(const Checkpoint& checkpoint);

// Checkpoint files, as an auditor saves them (`labtrace checkpoint export`): the text
// above followed by "public_key <hex>" and "signature <hex>" lines.
std::string FormatCheckpointFile(const Checkpoint& checkpoint);
Result<Checkpoint> ParseCheckpointFile(std::string_view text);

}  // namespace labtrace::store
