// The drivers labtrace has, in one explicit table. Config validation checks an
// instrument's `driver` against it; acquisition picks the poller from it. No static
// registration: it silently vanishes when linked from a static library.
#pragma once

#include <array>
#include <string_view>

namespace labtrace::drivers {

// The kinds of bus a driver runs on.
enum LinkKind : unsigned { kModbusTcp = 1, kSerial = 2 };

struct DriverInfo {
  std::string_view name;       // as written in lab-config: driver: "mt-sics"
  std::string_view what;       // for error messages and `labtrace` help
  unsigned links;              // the kinds of bus it runs on (LinkKind bits)
};

inline constexpr std::array<DriverInfo, 2> kDrivers{{
    {"modbus", "Modbus register map, TCP or RTU (drivers/modbus)", kModbusTcp | kSerial},
    {"mt-sics", "Mettler Toledo MT-SICS balance (drivers/mtsics)", kSerial},
}};

inline const DriverInfo* FindDriver(std::string_view name) {
  for (const DriverInfo& info : kDrivers) {
    if (info.name == name) return &info;
  }
  return nullptr;
}

}  // namespace labtrace::drivers
