// The conformity-testing commands, clients of the daemon's API (docs/CLI.md, "A
// conformity test from start to finish"):
//   labtrace enterprise add | list      labtrace product add | list
//   labtrace sample receive | dispose | show | list
//   labtrace run start | capture | submit | review | amend | show | list
#pragma once

#include <functional>
#include <optional>

#include <CLI/CLI.hpp>

namespace labtrace::cli {

// Adds the commands to `app`. After parsing, the returned function runs the one chosen
// and gives its exit code, or nullopt when none of them was chosen.
std::function<std::optional<int>()> AddConformityCommands(CLI::App& app);

}  // namespace labtrace::cli
