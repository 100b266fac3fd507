#pragma once
#include <string>

#include "sim/text_sim.h"

// Serves a simulated MT-SICS balance (sim/text_sim.h says where and how).
// `balance` is "xs205" (an analytical balance with 100 g on the pan) or "ind570-30kg" (a
// class III platform, empty until a load is typed on standard input).
int RunMtSicsSimulator(const TextSimOptions& options, const std::string& balance, double span_error_ppm);
