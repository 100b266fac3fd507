// The drivers labtrace has, in one explicit table. Config validation checks an
// instrument's `driver` against it; acquisition picks the poller from it. No static
// registration: it silently vanishes when linked from a static library.
#pragma once

#include <array>
#include <string_view>

namespace labtrace::drivers {

enum class LinkKind { kModbusTcp, kSerial };

struct DriverInfo {
  std::string_view name;       // as written in lab-config: driver: "mt-sics"
  std::string_view what;       // for error messages and `labtrace` help
  LinkKind link;               // the kind of bus it runs on
};

inline constexpr std::array<DriverInfo, 2> kDrivers{{
    {"modbus", "Modbus TCP register map (drivers/modbus)", LinkKind::kModbusTcp},
    {"mt-sics", "Mettler Toledo MT-SICS balance (drivers/mtsics)", LinkKind::kSerial},
}};

inline const DriverInfo* FindDriver(std::string_view name) {
  for (const DriverInfo& info : kDrivers) {
    if (info.name == name) return &info;
  }
  return nullptr;
}

}  // namespace labtrace::drivers
