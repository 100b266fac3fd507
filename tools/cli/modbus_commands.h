// `labtrace modbus write`: a register the register map marks writable, by name and in its
// unit, written through the daemon, which owns the bus.
#pragma once

#include <string>

#include <CLI/CLI.hpp>

namespace labtrace::cli {

struct ModbusWriteOptions {
  std::string server, target, register_name, value, unit, actor, reason;
  bool broadcast = false, json = false;
  unsigned timeout_ms = 0;
};
// Added under `labtrace modbus`.
CLI::App* AddModbusWriteCommand(CLI::App& modbus, ModbusWriteOptions& options);
int ModbusWriteCommand(const ModbusWriteOptions& options);

}  // namespace labtrace::cli
