#pragma once
#include "sim/text_sim.h"

// Serves a simulated thermometer that only prints lines (sim/text_sim.h says where and how).
int RunPrinterSimulator(const TextSimOptions& options);
