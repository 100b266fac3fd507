#pragma once
#include <string>
#include <vector>
// Serves a simulated climate controller over Modbus TCP until SIGINT/SIGTERM; with
// `units`, a gateway with a controller behind it per unit id.
int RunModbusTcpSimulator(const std::string& host, int port, const std::vector<int>& units);
