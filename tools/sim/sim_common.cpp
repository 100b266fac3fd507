#include "sim/sim_common.h"

#include <csignal>

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
