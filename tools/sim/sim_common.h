// What every simulator shares: stopping cleanly on SIGINT/SIGTERM.
#pragma once

void InstallStopHandlers();
bool StopRequested();

#include <string>

// A pseudo-terminal standing in for a serial port: the simulator holds the master; the
// daemon opens the slave, by its path or by the symlink `link` (when not empty).
struct PseudoTerminal {
  int master = -1;
  int held_slave = -1;  // kept open so the terminal stays raw and the master never reads EIO
  std::string slave_path;
};
// Creates it in raw mode; on failure says why on stderr and returns master = -1.
PseudoTerminal OpenPseudoTerminal(const std::string& link);
void ClosePseudoTerminal(const PseudoTerminal& pty, const std::string& link);

// Writes all of `size` bytes, retrying after interruptions; false when the peer is gone.
bool WriteAll(int fd, const void* data, size_t size);

#include <functional>

// The operator's standard input: lines typed there ("load 20 kg", "fault 3 bad-crc").
// When it is closed (a demo run in the background), it is simply no longer watched.
class OperatorInput {
 public:
  // The descriptor to poll for input, or -1 once closed.
  int fd() const;
  // Reads what is there and hands each complete line to `operate`.
  void Read(const std::function<void(const std::string&)>& operate);

 private:
  bool present_ = true;
  std::string typed_;
};
