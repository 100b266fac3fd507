// `labtrace verify` and `labtrace checkpoint export`: offline, on the store file itself.
#pragma once

#include <string>

namespace labtrace::cli {

// Exit code 0 when intact, 1 when something does not match (named on stderr), 2 when the
// input cannot be used.
int VerifyCommand(const std::string& db_path, const std::string& checkpoint_path, bool json, bool progress);
int CheckpointExportCommand(const std::string& db_path, bool json);
// Exit 0 when the proof verifies, 1 when it does not, 2 on bad input.
int InclusionProofCommand(const std::string& db_path, uint64_t sequence, bool json);
int ConsistencyProofCommand(const std::string& db_path, uint64_t from, uint64_t to, bool json);

}  // namespace labtrace::cli
