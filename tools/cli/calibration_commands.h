// `labtrace calibration …` and `labtrace trace …`: calibration and verification records
// and traceability, through the daemon's API.
#pragma once

#include <cstdint>
#include <string>

namespace labtrace::cli {

// Sends a CalibrationRequest file (protobuf text, or JSON when it ends in .json). With
// `preview`, shows the record the daemon would make, without storing it.
int CalibrationSubmitCommand(const std::string& server, const std::string& request_path, bool preview, bool json);
// Prints a record as its certificate states it: points, errors, MPE, U, verdicts, chain.
int CalibrationReportCommand(const std::string& server, const std::string& number, bool json);

struct ChainOptions {
  uint64_t reading = 0;
  std::string instrument, standard;
  bool json = false;
};
int TraceChainCommand(const std::string& server, const ChainOptions& options);
int TraceReverseCommand(const std::string& server, const std::string& id, const std::string& certificate,
                        const std::string& since, bool json);

}  // namespace labtrace::cli
