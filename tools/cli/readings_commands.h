// `labtrace readings` (stored readings, page after page, or live with --follow) and
// `labtrace correct` (a new version of a reading, with its reason), through the API.
#pragma once

#include <cstdint>
#include <string>

#include <CLI/CLI.hpp>

namespace labtrace::cli {

struct ReadingsOptions {
  std::string server, instrument, channel, since, until, format = "table";
  uint32_t last = 0;
  uint64_t after = 0;
  bool all_versions = false, follow = false, json = false;
};
CLI::App* AddReadingsCommand(CLI::App& app, ReadingsOptions& options);
int ReadingsCommand(const ReadingsOptions& options);

struct CorrectOptions {
  std::string server, value, unit, quality = "GOOD", detail, actor, reason;
  uint64_t sequence = 0;
  bool json = false;
};
CLI::App* AddCorrectCommand(CLI::App& app, CorrectOptions& options);
int CorrectCommand(const CorrectOptions& options);

// The daemon's address: $LABTRACE_SERVER, or the default loopback port.
std::string DefaultServer();

}  // namespace labtrace::cli
