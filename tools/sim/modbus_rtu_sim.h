#pragma once

#include <string>
#include <vector>

struct ModbusRtuSimOptions {
  std::string link;                // symlink to the pseudo-terminal
  unsigned baud = 9600;
  char parity = 'E';
  int stop_bits = 1;
  std::vector<int> units{1};       // unit ids that answer
  std::vector<int> dead;           // unit ids that never answer
  double turnaround_ms = 0;        // the device's think time before replying
};

// Serves Modbus RTU devices on a pseudo-terminal, pacing its bytes at the line's baud
// rate, until SIGINT/SIGTERM. Faults are injected by typing on standard input.
int RunModbusRtuSimulator(const ModbusRtuSimOptions& options);
