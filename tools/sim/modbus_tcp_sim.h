#pragma once
#include <string>
// Serves a simulated climate controller over Modbus TCP until SIGINT/SIGTERM.
int RunModbusTcpSimulator(const std::string& host, int port);
