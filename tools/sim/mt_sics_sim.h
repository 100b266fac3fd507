#pragma once
#include <string>
// Serves a simulated MT-SICS balance on a new pseudo-terminal until SIGINT/SIGTERM.
// With a non-empty `link`, a symlink at that path points at the terminal, so a lab-config
// can name a stable device path while the simulator restarts.
int RunMtSicsSimulator(const std::string& link);
