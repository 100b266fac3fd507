#pragma once
#include "sim/text_sim.h"

// Serves a simulated SCPI digital multimeter (sim/text_sim.h says where and how).
int RunScpiSimulator(const TextSimOptions& options);
