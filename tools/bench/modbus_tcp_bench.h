// labtrace-bench modbus-tcp: the whole daemon's CPU per Modbus TCP transaction, storage
// included, beside a bare libmodbus loop and a python3-pymodbus poller on the same devices.
#pragma once

#include <string>

struct ModbusTcpBenchOptions {
  int devices = 200;
  int registers = 10;
  double seconds = 10;
  std::string dir;
  bool json = false;
};

int ModbusTcpBench(const ModbusTcpBenchOptions& options);
