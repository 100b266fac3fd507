// A Mettler Toledo balance speaking MT-SICS level 0/1 on a pseudo-terminal: an XS205DU
// analytical balance, or an IND570 terminal on a 30 kg class III platform (the one the
// lab verifies in training).
//
// Answers (MT-SICS Reference Manual, §3): S and SI with a stable weight "S S <value> g",
// I2/I3/I4 with identification, Z (zero) and T (tare) with acknowledgements, and ES for
// anything it does not know. Replies are formatted here, not by the driver's codec: the
// weight is right-aligned in a 10-character field, as the balance pads it.
//
// The load on the pan is set by typing on the simulator's standard input, as a
// technician puts weights on a real one:  load 20.0002 kg
#include "sim/mt_sics_sim.h"

#include <fcntl.h>
#include <poll.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>

#include "sim/sim_common.h"

namespace {

// What lies on the pan and how the balance shows it. The indication is the load with
// the balance's span error, plus noise, rounded to the displayed interval.
struct BalanceModel {
  std::string model, firmware, serial, unit;
  int decimals = 5;
  double load = 0;           // in `unit`
  double tare = 0;
  double noise = 0;          // standard deviation, in `unit`
  double span_error_ppm = 0;
  std::mt19937 random{std::random_device{}()};
  double Indication() {
    std::normal_distribution<double> wander(0.0, noise);
    const double shown = (load - tare) * (1 + span_error_ppm * 1e-6) + (noise > 0 ? wander(random) : 0.0);
    const double step = std::pow(10.0, -decimals);
    return std::round(shown / step) * step;
  }
};

// A 100 g reference weight on the pan of a 0.01 mg balance: the indication wanders by a
// few hundredths of a milligram, as it does on a real bench.
BalanceModel Xs205() { return {"XS205DU 220 g", "3.2.11", "B312345678", "g", 5, 100.0, 0, 0.00002, 0}; }
// An IND570 terminal on a 30 kg platform, class III, e = 10 g, shown in its expanded
// (service) mode with d = 1 g, as a verification reads it (OIML R76-2 A.4.4.3). Empty pan.
BalanceModel Ind570Platform() { return {"IND570 30 kg", "2.4.0", "C271834560", "kg", 3, 0, 0, 0, 0}; }

std::string WeightReply(const char* status, double value, const BalanceModel& balance) {
  char reply[64];
  std::snprintf(reply, sizeof reply, "S %s %10.*f %s\r\n", status, balance.decimals, value, balance.unit.c_str());
  return reply;
}

std::string Answer(const std::string& command, BalanceModel& balance) {
  if (command == "S" || command == "SI") return WeightReply("S", balance.Indication(), balance);
  if (command == "I2") return "I2 A \"" + balance.model + "\"\r\n";
  if (command == "I3") return "I3 A \"" + balance.firmware + "\"\r\n";
  if (command == "I4") return "I4 A \"" + balance.serial + "\"\r\n";
  if (command == "Z") {
    balance.tare = balance.load;
    return "Z A\r\n";
  }
  if (command == "T") {
    balance.tare = balance.load;
    char reply[64];
    std::snprintf(reply, sizeof reply, "T S %10.*f %s\r\n", balance.decimals, balance.load, balance.unit.c_str());
    return reply;
  }
  return "ES\r\n";
}


}  // namespace

// A line typed on standard input: "load 20.0002 kg" puts that mass on the pan;
// "span-error 300" sets the span error in ppm. Answers on standard output.
void Operate(const std::string& line, BalanceModel& balance) {
  char word[32] = {}, unit[16] = {};
  double value = 0;
  const int fields = std::sscanf(line.c_str(), "%31s %lf %15s", word, &value, unit);
  if (fields >= 2 && std::strcmp(word, "load") == 0) {
    if (fields == 3 && balance.unit == "kg" && std::strcmp(unit, "g") == 0) value /= 1000;
    if (fields == 3 && balance.unit == "g" && std::strcmp(unit, "kg") == 0) value *= 1000;
    balance.load = value;
    std::printf("load %.6f %s on the pan\n", balance.load, balance.unit.c_str());
  } else if (fields >= 2 && std::strcmp(word, "span-error") == 0) {
    balance.span_error_ppm = value;
    std::printf("span error %g ppm\n", value);
  } else {
    std::printf("commands: load <mass> [g|kg], span-error <ppm>\n");
  }
  std::fflush(stdout);
}

int RunMtSicsSimulator(const std::string& link, const std::string& balance_kind, double span_error_ppm) {
  InstallStopHandlers();
  const PseudoTerminal pty = OpenPseudoTerminal(link);
  if (pty.master < 0) return 1;
  const int master = pty.master;
  const std::string& slave_path = pty.slave_path;
  std::printf("mt-sics on %s%s%s\n", slave_path.c_str(), link.empty() ? "" : " linked at ", link.c_str());
  std::fflush(stdout);

  BalanceModel balance = balance_kind == "ind570-30kg" ? Ind570Platform() : Xs205();
  balance.span_error_ppm = span_error_ppm;
  std::string pending;
  OperatorInput operator_input;
  while (!StopRequested()) {
    pollfd ready[2] = {{master, POLLIN, 0}, {operator_input.fd(), POLLIN, 0}};
    const int n = poll(ready, 2, 100);
    if (n < 0 && errno != EINTR) break;
    if (n <= 0) continue;
    if (ready[1].revents != 0) operator_input.Read([&](const std::string& line) { Operate(line, balance); });
    if ((ready[0].revents & POLLIN) == 0) continue;
    char chunk[256];
    const ssize_t got = read(master, chunk, sizeof chunk);
    if (got <= 0) continue;
    pending.append(chunk, static_cast<size_t>(got));
    // Commands end with CR LF; a bare LF is accepted too, as real balances do.
    for (size_t end; (end = pending.find('\n')) != std::string::npos;) {
      std::string command = pending.substr(0, end);
      pending.erase(0, end + 1);
      if (!command.empty() && command.back() == '\r') command.pop_back();
      if (command.empty()) continue;
      const std::string answer = Answer(command, balance);
      if (!WriteAll(master, answer.data(), answer.size())) break;
    }
  }
  ClosePseudoTerminal(pty, link);
  return 0;
}
