// Loading and validating a lab-config file (protobuf text format).
//
// A file is either accepted whole or refused with one message that says where and what:
//   lab-config/demo-lab.textproto:14:5: register_maps[0].registers[2].address: 16 overlaps
//   "temperature" (16..17)
// The daemon refuses to start on a refused file, before it opens any port.
#pragma once

#include <string>
#include <string_view>

#include "labtrace/config.pb.h"
#include "labtrace/status.h"

namespace labtrace::config {

inline constexpr std::string_view kDefaultListen = "127.0.0.1:8470";
inline constexpr uint32_t kDefaultPeriodMs = 1000;
inline constexpr uint32_t kDefaultTimeoutMs = 500;
inline constexpr uint32_t kDefaultBaud = 9600;

// Reads and validates `path`. Defaults are filled in on the returned Lab, so users of it
// never see an unset period, timeout, baud rate or listen address.
Result<Lab> LoadLab(const std::string& path);

// The same for text already in memory; `file_name` is used in messages only.
Result<Lab> ParseLab(std::string_view text, std::string_view file_name);

// Splits "host:port". Port 0 is allowed (the kernel picks one).
Result<std::pair<std::string, uint16_t>> ParseListen(std::string_view listen);

const RegisterMap* FindRegisterMap(const Lab& lab, std::string_view name);

// SHA-256 of a file's bytes, in hex, for the audit trail ("" when it cannot be read).
std::string FileDigest(const std::string& path);
const Bus* FindBus(const Lab& lab, std::string_view name);
const Instrument* FindInstrumentConfig(const Lab& lab, std::string_view name);

// The instrument's driver: as written, or "upload" when it has result files and names
// none (upload_config.cpp). A loaded Lab has it filled in.
std::string DriverOf(const Instrument& instrument);
// Whether the daemon does not read `instrument` itself, so that its readings may be
// uploaded or imported from result files (driver "upload").
bool IsUploading(const Instrument& instrument);

}  // namespace labtrace::config
