// A Mettler Toledo analytical balance speaking MT-SICS level 0/1 on a pseudo-terminal.
//
// Answers (MT-SICS Reference Manual, §3): S and SI with a stable weight "S S <value> g",
// I2/I3/I4 with identification, Z (zero) and T (tare) with acknowledgements, and ES for
// anything it does not know. Replies are formatted here, not by the driver's codec: the
// weight is right-aligned in a 10-character field, as the balance pads it.
#include "sim/mt_sics_sim.h"

#include <fcntl.h>
#include <poll.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>

#include "sim/sim_common.h"

namespace {

// A 100 g reference weight on the pan of a 0.01 mg balance: the indication wanders by a
// few hundredths of a milligram, as it does on a real bench.
struct BalanceModel {
  double tare_g = 0.0;
  double load_g = 100.0;
  std::mt19937 random{std::random_device{}()};
  double Indication() {
    std::normal_distribution<double> noise(0.0, 0.00002);
    return load_g - tare_g + noise(random);
  }
};

std::string WeightReply(const char* status, double grams) {
  char reply[64];
  std::snprintf(reply, sizeof reply, "S %s %10.5f g\r\n", status, grams);
  return reply;
}

std::string Answer(const std::string& command, BalanceModel& balance) {
  if (command == "S" || command == "SI") return WeightReply("S", balance.Indication());
  if (command == "I2") return "I2 A \"XS205DU 220 g\"\r\n";
  if (command == "I3") return "I3 A \"3.2.11\"\r\n";
  if (command == "I4") return "I4 A \"B312345678\"\r\n";
  if (command == "Z") {
    balance.tare_g = balance.load_g;
    return "Z A\r\n";
  }
  if (command == "T") {
    balance.tare_g = balance.load_g;
    char reply[64];
    std::snprintf(reply, sizeof reply, "T S %10.5f g\r\n", balance.load_g);
    return reply;
  }
  return "ES\r\n";
}

bool WriteAll(int fd, const std::string& bytes) {
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

int RunMtSicsSimulator(const std::string& link) {
  InstallStopHandlers();
  const int master = posix_openpt(O_RDWR | O_NOCTTY);
  if (master < 0 || grantpt(master) != 0 || unlockpt(master) != 0) {
    std::fprintf(stderr, "labtrace-sim: cannot create a pseudo-terminal: %s\n", std::strerror(errno));
    return 1;
  }
  const std::string slave_path = ptsname(master);
  // Hold the terminal's other end open: without it the master reads EIO whenever the
  // daemon closes the port, and its settings would revert to cooked mode (with echo).
  const int held_slave = open(slave_path.c_str(), O_RDWR | O_NOCTTY);
  termios raw{};
  if (held_slave < 0 || tcgetattr(held_slave, &raw) != 0) {
    std::fprintf(stderr, "labtrace-sim: cannot configure %s: %s\n", slave_path.c_str(), std::strerror(errno));
    return 1;
  }
  cfmakeraw(&raw);
  tcsetattr(held_slave, TCSANOW, &raw);
  if (!link.empty()) {
    unlink(link.c_str());
    if (symlink(slave_path.c_str(), link.c_str()) != 0) {
      std::fprintf(stderr, "labtrace-sim: cannot link %s: %s\n", link.c_str(), std::strerror(errno));
      return 1;
    }
  }
  std::printf("mt-sics on %s%s%s\n", slave_path.c_str(), link.empty() ? "" : " linked at ", link.c_str());
  std::fflush(stdout);

  BalanceModel balance;
  std::string pending;
  while (!StopRequested()) {
    pollfd ready{master, POLLIN, 0};
    const int n = poll(&ready, 1, 100);
    if (n < 0 && errno != EINTR) break;
    if (n <= 0) continue;
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
      if (!WriteAll(master, Answer(command, balance))) break;
    }
  }
  if (!link.empty()) unlink(link.c_str());
  close(held_slave);
  close(master);
  return 0;
}
