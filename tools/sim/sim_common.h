// What every simulator shares: stopping cleanly on SIGINT/SIGTERM.
#pragma once

void InstallStopHandlers();
bool StopRequested();
