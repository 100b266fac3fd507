// `labtrace audit`, `labtrace uploads` and `labtrace calibration list`: what the lab
// holds, as a technician or an auditor looks through it, every page of it.
#pragma once

#include <string>

#include <CLI/CLI.hpp>

namespace labtrace::cli {

struct ListOptions {
  std::string server, since, until;
  std::string actor, action, entity;  // audit
  std::string instrument;             // uploads; calibration list: the unit under test
  bool json = false;
};

CLI::App* AddAuditCommand(CLI::App& app, ListOptions& options);
int AuditCommand(const ListOptions& options);
CLI::App* AddUploadsCommand(CLI::App& app, ListOptions& options);
int UploadsCommand(const ListOptions& options);
// Added under `labtrace calibration`.
CLI::App* AddCalibrationListCommand(CLI::App& calibration, ListOptions& options);
int CalibrationListCommand(const ListOptions& options);

}  // namespace labtrace::cli
