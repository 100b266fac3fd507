#include "sim/sim_common.h"

#include <fcntl.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace {
volatile std::sig_atomic_t stop_requested = 0;
void OnStopSignal(int) { stop_requested = 1; }
}  // namespace

void InstallStopHandlers() {
  struct sigaction action {};
  action.sa_handler = OnStopSignal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
}

bool StopRequested() { return stop_requested != 0; }

PseudoTerminal OpenPseudoTerminal(const std::string& link) {
  PseudoTerminal pty;
  const int master = posix_openpt(O_RDWR | O_NOCTTY);
  if (master < 0 || grantpt(master) != 0 || unlockpt(master) != 0) {
    std::fprintf(stderr, "labtrace-sim: cannot create a pseudo-terminal: %s\n", std::strerror(errno));
    return pty;
  }
  const std::string slave_path = ptsname(master);
  // Hold the terminal's other end open: without it the master reads EIO whenever the
  // daemon closes the port, and its settings would revert to cooked mode (with echo).
  const int held_slave = open(slave_path.c_str(), O_RDWR | O_NOCTTY);
  termios raw{};
  if (held_slave < 0 || tcgetattr(held_slave, &raw) != 0) {
    std::fprintf(stderr, "labtrace-sim: cannot configure %s: %s\n", slave_path.c_str(), std::strerror(errno));
    return pty;
  }
  cfmakeraw(&raw);
  tcsetattr(held_slave, TCSANOW, &raw);
  if (!link.empty()) {
    unlink(link.c_str());
    if (symlink(slave_path.c_str(), link.c_str()) != 0) {
      std::fprintf(stderr, "labtrace-sim: cannot link %s: %s\n", link.c_str(), std::strerror(errno));
      return pty;
    }
  }
  pty.master = master;
  pty.held_slave = held_slave;
  pty.slave_path = slave_path;
  return pty;
}

void ClosePseudoTerminal(const PseudoTerminal& pty, const std::string& link) {
  if (!link.empty()) unlink(link.c_str());
  close(pty.held_slave);
  close(pty.master);
}

bool WriteAll(int fd, const void* data, size_t size) {
  const char* bytes = static_cast<const char*>(data);
  size_t done = 0;
  while (done < size) {
    const ssize_t n = write(fd, bytes + done, size - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

int OperatorInput::fd() const { return present_ ? STDIN_FILENO : -1; }

void OperatorInput::Read(const std::function<void(const std::string&)>& operate) {
  char chunk[256];
  const ssize_t got = read(STDIN_FILENO, chunk, sizeof chunk);
  if (got <= 0) {
    present_ = false;
    return;
  }
  typed_.append(chunk, static_cast<size_t>(got));
  for (size_t end; (end = typed_.find('\n')) != std::string::npos; typed_.erase(0, end + 1)) {
    operate(typed_.substr(0, end));
  }
}
