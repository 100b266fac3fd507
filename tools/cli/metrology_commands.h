// `labtrace uncertainty`, `labtrace decide`, `labtrace mpe`: the metrology engine on the
// command line. They need no daemon.
#pragma once

#include <optional>
#include <string>

namespace labtrace::cli {

int UncertaintyCommand(const std::string& budget_path, bool json);

struct DecideOptions {
  double value = 0;
  double u = 0;
  double k = 2;
  std::optional<double> lower, upper;
  std::string rule = "simple";
  bool exclusive = false;
  bool json = false;
};
int DecideCommand(const DecideOptions& options);

struct MpeOptions {
  std::string tables_path;
  std::string table;
  double load = 0;
  double e = 0;            // for band tables
  double resolution = 0;   // for meter tables
  bool in_service = false;
  bool json = false;
};
int MpeCommand(const MpeOptions& options);

}  // namespace labtrace::cli
