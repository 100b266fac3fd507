// `labtrace-sim lab`: the demo or training lab as of today.
//
// A real lab-config holds real dates: certificates issued on a day, due on another. A
// demo lab written that way expires a year later, and so would every test that starts the
// daemon on it. Its file therefore says which day its dates are as of ("Dates as of
// 2026-12-02" in a comment), and this writes a copy with every date moved by the days
// since, so the copy reads as the file did on that day. The gaps between dates (when a
// weight was calibrated, how long it is valid) are kept exactly.
#pragma once

#include <string>

// Writes `config_path`'s lab with its dates moved to `today` ("YYYY-MM-DD"; empty: today,
// UTC) to `out_path`, and its relative file names (mpe_table_files) made absolute so the
// copy may live anywhere. Returns the process exit code; says why on stderr.
int RunLabAsOf(const std::string& config_path, const std::string& out_path, const std::string& today);
