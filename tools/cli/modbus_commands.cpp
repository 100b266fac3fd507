#include "cli/modbus_commands.h"

#include <charconv>
#include <cmath>
#include <cstdio>

#include "cli/http_client.h"
#include "cli/readings_commands.h"
#include "cli/record_pages.h"
#include "labtrace/api.pb.h"

namespace labtrace::cli {

CLI::App* AddModbusWriteCommand(CLI::App& modbus, ModbusWriteOptions& options) {
  options.server = DefaultServer();
  auto* command = modbus.add_subcommand(
      "write", "write a register the register map marks writable (a set point), by name, in its unit");
  command->add_option("INSTRUMENT", options.target, "the instrument; with --broadcast, the serial bus")->required();
  command->add_option("REGISTER", options.register_name, "the register's name in the register map")->required();
  command->add_option("VALUE", options.value, "the value in the register's unit (25.0 for 25.0 °C)")->required();
  command->add_option("--unit", options.unit, "the value's unit, checked against the register's");
  command->add_flag("--broadcast", options.broadcast,
                    "write the register of every device on the serial bus INSTRUMENT names (Modbus unit 0)");
  command->add_option("--actor", options.actor, "who writes; default and only allowed value: the logged-in user");
  command->add_option("--reason", options.reason, "why (audit trail)")->required();
  command->add_option("--timeout-ms", options.timeout_ms, "reply timeout; for a broadcast the turnaround delay");
  command->add_option("--server", options.server, "daemon API URL (env LABTRACE_SERVER)")->capture_default_str();
  command->add_flag("--json", options.json, "print the API's JSON answer (ModbusWriteReceipt)");
  return command;
}

int ModbusWriteCommand(const ModbusWriteOptions& options) {
  api::ModbusWriteRequest write;
  (options.broadcast ? write.mutable_bus() : write.mutable_instrument())->assign(options.target);
  write.set_register_name(options.register_name);
  double value = 0;
  const char* end = options.value.data() + options.value.size();
  auto [stop, ec] = std::from_chars(options.value.data(), end, value);
  if (ec != std::errc() || stop != end || !std::isfinite(value)) {
    std::fprintf(stderr, "labtrace: VALUE %s is not a number\n", options.value.c_str());
    return 2;
  }
  write.set_value(value);
  write.set_unit(options.unit);
  write.set_actor(options.actor);
  write.set_reason(options.reason);
  write.set_timeout_ms(options.timeout_ms);
  const std::string body = ToJson(write);
  api::ModbusWriteReceipt receipt;
  std::string json;
  if (int code = CallApi(options.server, "/v1/modbus/writes", &body, receipt, &json); code != 0) return code;
  if (options.json) {
    std::fputs(json.c_str(), stdout);
    return 0;
  }
  std::printf("%s: %s\n", receipt.outcome().c_str(), receipt.written().c_str());
  return 0;
}

}  // namespace labtrace::cli
