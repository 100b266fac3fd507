#pragma once
#include <string>
// Serves a simulated MT-SICS balance on a new pseudo-terminal until SIGINT/SIGTERM.
// With a non-empty `link`, a symlink at that path points at the terminal, so a lab-config
// can name a stable device path while the simulator restarts.
// `balance` is "xs205" (an analytical balance with 100 g on the pan) or "ind570-30kg" (a
// class III platform, empty until a load is typed on standard input).
int RunMtSicsSimulator(const std::string& link, const std::string& balance, double span_error_ppm);
