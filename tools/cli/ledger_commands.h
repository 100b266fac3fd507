// `labtrace verify` and `labtrace checkpoint export`: offline, on the store file itself.
#pragma once

#include <string>

namespace labtrace::cli {

// Exit code 0 when intact, 1 when something does not match (named on stderr), 2 when the
// input cannot be used.
int VerifyCommand(const std::string& db_path, const std::string& checkpoint_path, bool json, bool progress);
int CheckpointExportCommand(const std::string& db_path);

}  // namespace labtrace::cli
