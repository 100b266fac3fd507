// labtrace-bench api: many authenticated clients on loopback against the real daemon
// while it polls Modbus devices; the API's latency, its explicit 503s beyond
// api.max_connections, and the poll rate beside an idle window of the same run.
#pragma once

#include <string>

struct ApiBenchOptions {
  int clients = 1000;
  // Each client asks GET /v1/health (with its token) this often, like a console open on
  // a bench PC refreshing its status.
  int interval_ms = 1000;
  double seconds = 15;
  int devices = 20;     // simulated Modbus TCP devices the daemon polls meanwhile
  int period_ms = 100;  // their poll period
  std::string dir;
  bool json = false;
};

int ApiBench(const ApiBenchOptions& options);
