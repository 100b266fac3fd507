// The test report commands, clients of the daemon's API (docs/CLI.md, "A conformity test
// from start to finish"):
//   labtrace report draft --sample M-… --run TN-… [--run …]
//   labtrace report sign NUMBER                      the password asked again
//   labtrace report show NUMBER [--html FILE | --pdf FILE]
//   labtrace report amend NUMBER --reason "…" [--run …]
//   labtrace report verify CODE                      needs no login
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <optional>

namespace labtrace::cli {

// Adds the commands to `app`. After parsing, the returned function runs the one chosen
// and gives its exit code, or nullopt when none of them was chosen.
std::function<std::optional<int>()> AddReportCommands(CLI::App& app);

}  // namespace labtrace::cli
