// labtrace-bench rtu: how much of a Modbus RTU line the daemon's bus worker uses.
#pragma once

struct RtuBenchOptions {
  unsigned baud = 9600;
  int devices = 8;
  int registers = 10;
  double seconds = 10;
  bool json = false;
};

int RtuBench(const RtuBenchOptions& options);
