#pragma once
#include "sim/text_sim.h"

// Serves a simulated Sartorius SBI balance (sim/text_sim.h says where and how).
int RunSbiSimulator(const TextSimOptions& options, bool anonymous);
