// labtrace-bench modbus-tcp: the whole daemon's CPU per Modbus TCP transaction, storage
// included, beside a bare libmodbus loop and a python3-pymodbus poller on the same devices.
#pragma once

#include <string>

struct ModbusTcpBenchOptions {
  int devices = 200;
  int registers = 10;
  double seconds = 10;
  // The daemon's poll period for every device. At 10 ms (20 000 transactions/s asked for)
  // the store on this machine falls behind and its queue only grows; the default asks for
  // what it can keep up with, so that the CPU measured is the CPU of steady work.
  int period_ms = 20;
  // The three pollers run in turn, this many times; medians are reported. The VM's cost of
  // a context switch varies by a factor of two from minute to minute, and the bare loop,
  // which sleeps once per transaction, varies with it.
  int rounds = 3;
  // Where the simulator and the pollers run. "apart" (default): the simulator on the last
  // CPU, every poller on the others, as when the instruments are other machines and each
  // reply wakes a poller that was idle. "together": all on CPU 0, where a reply hands the
  // CPU straight to the poller. "any": wherever the kernel puts them. Measured here, the
  // bare loop costs 0.2 CPU-s per 10 000 together, 0.5 apart, and anything between, from
  // one run to the next, when left to the kernel: the pollers must share one placement.
  std::string placement = "apart";
  std::string dir;
  bool json = false;
};

int ModbusTcpBench(const ModbusTcpBenchOptions& options);
