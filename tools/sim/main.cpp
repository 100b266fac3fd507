// labtrace-sim: instrument simulators that speak the real protocols, for the demo lab,
// the test suite, and technicians learning the system.
//
//   labtrace-sim modbus-tcp [--host 127.0.0.1] [--port 0]
//   labtrace-sim mt-sics [--link PATH] [--balance xs205|ind570-30kg] [--span-error-ppm N]
//     (type "load 20 kg" on its standard input to put weights on the pan)
//
// Each prints one line saying where it can be reached, then serves until SIGINT/SIGTERM.
#include <string>

#include <CLI/CLI.hpp>

#include "sim/modbus_tcp_sim.h"
#include "sim/mt_sics_sim.h"

int main(int argc, char** argv) {
  CLI::App app{"labtrace-sim: simulated instruments speaking their real protocols"};
  app.require_subcommand(1);

  std::string host = "127.0.0.1";
  int port = 0;
  auto* modbus_tcp = app.add_subcommand("modbus-tcp", "climate controller on Modbus TCP");
  modbus_tcp->add_option("--host", host, "address to listen on")->capture_default_str();
  modbus_tcp->add_option("--port", port, "port to listen on; 0 picks a free one")->capture_default_str();

  std::string link;
  auto* mt_sics = app.add_subcommand("mt-sics", "Mettler Toledo MT-SICS balance on a pseudo-terminal");
  mt_sics->add_option("--link", link, "make this path a symlink to the terminal");
  std::string balance = "xs205";
  double span_error_ppm = 0;
  mt_sics->add_option("--balance", balance, "xs205 (analytical, 100 g on the pan) or ind570-30kg (class III platform)")
      ->check(CLI::IsMember({"xs205", "ind570-30kg"}))
      ->capture_default_str();
  mt_sics->add_option("--span-error-ppm", span_error_ppm, "the balance's span error, for training verifications");

  CLI11_PARSE(app, argc, argv);
  if (modbus_tcp->parsed()) return RunModbusTcpSimulator(host, port);
  return RunMtSicsSimulator(link, balance, span_error_ppm);
}
