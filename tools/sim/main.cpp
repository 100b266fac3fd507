// labtrace-sim: instrument simulators that speak the real protocols, for the demo lab,
// the test suite, and technicians learning the system.
//
//   labtrace-sim modbus-tcp [--host 127.0.0.1] [--port 0] [--units 1-3 (a gateway)]
//     (type "fault disconnect" to drop every connection)
//   labtrace-sim modbus-rtu --link PATH [--baud 9600] [--parity E] [--stop-bits 1]
//                           [--units 1-8] [--dead 3] [--turnaround-ms 0]
//     (type "fault 3 bad-crc" on its standard input to inject a fault)
//   labtrace-sim mt-sics [--balance xs205|ind570-30kg] [--span-error-ppm N] WHERE
//     (type "load 20 kg" on its standard input to put weights on the pan)
//   labtrace-sim sbi WHERE            Sartorius balance, SBI
//   labtrace-sim scpi WHERE           digital multimeter, SCPI
//   labtrace-sim printer WHERE        thermometer that prints lines, for the line driver
//     WHERE: --link PATH (a pseudo-terminal) or --tcp [--port N]; --print-interval-ms N
//     prints by itself; type "fault garbage 2", "print", … (sim/text_sim.h)
//   labtrace-sim lab --config FILE --out FILE [--today YYYY-MM-DD]
//     the demo or training lab with its dates moved to today (sim/lab_dates.h)
//
// Each prints one line saying where it can be reached, then serves until SIGINT/SIGTERM.
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "sim/lab_dates.h"
#include "sim/modbus_rtu_sim.h"
#include "sim/modbus_tcp_sim.h"
#include "sim/mt_sics_sim.h"
#include "sim/printer_sim.h"
#include "sim/sbi_sim.h"
#include "sim/scpi_sim.h"

namespace {

// "1-8" or "1,2,5" (or both: "1-3,7"); empty is an empty list.
std::optional<std::vector<int>> ParseUnitList(const std::string& text) {
  std::vector<int> ids;
  size_t start = 0;
  while (start < text.size()) {
    const size_t comma = text.find(',', start);
    const std::string part = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    int first = 0, last = 0;
    char dash = 0;
    const int fields = std::sscanf(part.c_str(), "%d%c%d", &first, &dash, &last);
    if (fields == 1) last = first;
    if ((fields != 1 && !(fields == 3 && dash == '-')) || first < 1 || last > 247 || first > last) return std::nullopt;
    for (int id = first; id <= last; ++id) ids.push_back(id);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return ids;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"labtrace-sim: simulated instruments speaking their real protocols"};
  app.require_subcommand(1);

  std::string host = "127.0.0.1";
  int port = 0;
  auto* modbus_tcp = app.add_subcommand("modbus-tcp", "climate controller on Modbus TCP");
  modbus_tcp->add_option("--host", host, "address to listen on")->capture_default_str();
  modbus_tcp->add_option("--port", port, "port to listen on; 0 picks a free one")->capture_default_str();
  std::string gateway_units;
  modbus_tcp->add_option("--units", gateway_units, "play a gateway with these unit ids behind it: 1-3 or 1,2,5");

  // The text instruments: where they are served, and whether they print by themselves.
  TextSimOptions text;
  auto add_text_options = [&text](CLI::App* command) {
    command->add_option("--link", text.link, "serve on a pseudo-terminal and make this path a symlink to it");
    command->add_flag("--tcp", text.tcp, "serve on a TCP port instead (see --port)");
    command->add_option("--port", text.port, "TCP port; 0 picks a free one")->capture_default_str();
    command->add_option("--print-interval-ms", text.print_interval_ms, "print by itself at this interval (auto print)");
  };
  auto* mt_sics = app.add_subcommand("mt-sics", "Mettler Toledo MT-SICS balance");
  add_text_options(mt_sics);
  std::string balance = "xs205";
  double span_error_ppm = 0;
  mt_sics->add_option("--balance", balance, "xs205 (analytical, 100 g on the pan) or ind570-30kg (class III platform)")
      ->check(CLI::IsMember({"xs205", "ind570-30kg"}))
      ->capture_default_str();
  mt_sics->add_option("--span-error-ppm", span_error_ppm, "the balance's span error, for training verifications");

  auto* sbi = app.add_subcommand("sbi", "Sartorius SBI balance");
  add_text_options(sbi);
  bool anonymous = false;
  sbi->add_flag("--anonymous", anonymous, "an older model that does not answer ESC x1_/x2_/x3_");
  auto* scpi = app.add_subcommand("scpi", "SCPI digital multimeter");
  add_text_options(scpi);
  auto* printer = app.add_subcommand("printer", "thermometer that prints lines (generic line driver)");
  add_text_options(printer);

  ModbusRtuSimOptions rtu;
  std::string units_text = "1", dead_text, parity = "E";
  auto* modbus_rtu = app.add_subcommand("modbus-rtu", "Modbus RTU transmitters on one line (a pseudo-terminal)");
  modbus_rtu->add_option("--link", rtu.link, "make this path a symlink to the terminal")->required();
  modbus_rtu->add_option("--baud", rtu.baud, "the line's rate; bytes are paced at it")->capture_default_str();
  modbus_rtu->add_option("--parity", parity, "N, E or O")->check(CLI::IsMember({"N", "E", "O"}))->capture_default_str();
  modbus_rtu->add_option("--stop-bits", rtu.stop_bits, "1 or 2")->check(CLI::Range(1, 2))->capture_default_str();
  modbus_rtu->add_option("--units", units_text, "unit ids that answer: 1-8 or 1,2,5")->capture_default_str();
  modbus_rtu->add_option("--dead", dead_text, "unit ids that never answer");
  modbus_rtu->add_option("--turnaround-ms", rtu.turnaround_ms, "the devices' think time")->capture_default_str();

  std::string lab_config, lab_out, lab_today;
  auto* lab = app.add_subcommand("lab", "write the demo lab with its dates moved to today, so it never expires");
  lab->add_option("--config", lab_config, "a lab-config that says \"Dates as of YYYY-MM-DD\"")->required();
  lab->add_option("--out", lab_out, "where to write the copy")->required();
  lab->add_option("--today", lab_today, "the day to move the dates to (default: today, UTC)");

  CLI11_PARSE(app, argc, argv);
  if (lab->parsed()) return RunLabAsOf(lab_config, lab_out, lab_today);
  if (modbus_tcp->parsed()) {
    auto units = ParseUnitList(gateway_units);
    if (!units) {
      std::fprintf(stderr, "labtrace-sim: --units takes ids 1..247 like 1-3 or 1,2,5\n");
      return 2;
    }
    return RunModbusTcpSimulator(host, port, *units);
  }
  if (modbus_rtu->parsed()) {
    rtu.parity = parity[0];
    auto ids = ParseUnitList(units_text), dead = ParseUnitList(dead_text);
    if (!ids || !dead) {
      std::fprintf(stderr, "labtrace-sim: --units and --dead take ids 1..247 like 1-8 or 1,2,5\n");
      return 2;
    }
    rtu.units = *ids;
    rtu.dead = *dead;
    return RunModbusRtuSimulator(rtu);
  }
  if (!text.tcp && text.link.empty()) {
    std::fprintf(stderr, "labtrace-sim: say where to serve: --link PATH (a pseudo-terminal) or --tcp\n");
    return 2;
  }
  if (sbi->parsed()) return RunSbiSimulator(text.Named("sbi"), anonymous);
  if (scpi->parsed()) return RunScpiSimulator(text.Named("scpi"));
  if (printer->parsed()) return RunPrinterSimulator(text.Named("printer"));
  return RunMtSicsSimulator(text.Named("mt-sics"), balance, span_error_ppm);
}
