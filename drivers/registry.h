// The drivers labtrace has, in one explicit table. Config validation checks an
// instrument's `driver` against it; acquisition picks the poller from it. No static
// registration: it silently vanishes when linked from a static library.
#pragma once

#include <array>
#include <string_view>

namespace labtrace::drivers {

// The kinds of bus a driver runs on.
// kTcp: a raw socket carrying lines of text (SCPI port 5025, serial-to-Ethernet converters).
enum LinkKind : unsigned { kModbusTcp = 1, kSerial = 2, kTcp = 4 };

struct DriverInfo {
  std::string_view name;       // as written in lab-config: driver: "mt-sics"
  std::string_view what;       // for error messages and `labtrace` help
  unsigned links;              // the kinds of bus it runs on (LinkKind bits)
};

inline constexpr std::array<DriverInfo, 5> kDrivers{{
    {"modbus", "Modbus register map, TCP or RTU (drivers/modbus)", kModbusTcp | kSerial},
    {"mt-sics", "Mettler Toledo MT-SICS balance (drivers/mtsics)", kSerial | kTcp},
    {"sbi", "Sartorius SBI balance (drivers/sbi)", kSerial | kTcp},
    {"scpi", "SCPI meter or calibrator (drivers/scpi)", kSerial | kTcp},
    {"line", "instrument that prints lines, read with a pattern (drivers/line)", kSerial | kTcp},
}};

// Drivers whose instrument has its line to itself: text protocols carry no address.
inline bool OwnsItsBus(std::string_view driver) { return driver != "modbus"; }

inline const DriverInfo* FindDriver(std::string_view name) {
  for (const DriverInfo& info : kDrivers) {
    if (info.name == name) return &info;
  }
  return nullptr;
}

}  // namespace labtrace::drivers
