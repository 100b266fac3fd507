// `labtrace verify` and `labtrace checkpoint export`: offline, on the store file itself.
#pragma once

#include <optional>
#include <string>

namespace labtrace::cli {

struct VerifyCommandOptions {
  std::string db_path;
  std::string checkpoint_path;   // a checkpoint saved outside the lab, or ""
  std::string trusted_key_path;  // a file holding the lab's public key, or ""
  std::string config_path;       // a lab-config whose trusted_checkpoint_key is the lab's key, or ""
  // Whether a store with no checkpoint is refused; unset: refused when a key is pinned.
  std::optional<bool> require_checkpoint;
  bool json = false;
  bool progress = false;
};

// Exit code 0 when intact, 1 when something does not match (named on stderr), 2 when the
// input cannot be used.
int VerifyCommand(const VerifyCommandOptions& options);
int CheckpointExportCommand(const std::string& db_path, bool json);
// Prints the public key of the lab's signing key (`key_path`, or the key file beside the
// store), in the form lab-config's trusted_checkpoint_key and `verify --trusted-key` take.
int CheckpointKeyCommand(const std::string& db_path, const std::string& key_path);
// Exit 0 when the proof verifies, 1 when it does not, 2 on bad input.
int InclusionProofCommand(const std::string& db_path, uint64_t sequence, bool json);
int ConsistencyProofCommand(const std::string& db_path, uint64_t from, uint64_t to, bool json);

}  // namespace labtrace::cli
