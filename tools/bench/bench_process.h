// What the benches that run the real daemon share: starting a process with its output to
// a log, waiting for a log line, a process's CPU time, and counting what the store holds.
#pragma once

#include <sched.h>
#include <sys/types.h>

#include <filesystem>
#include <regex>
#include <string>
#include <utility>
#include <vector>

// Starts `args` with stdout and stderr to `log`, on `cpus` if given; returns its pid.
pid_t Spawn(const std::vector<std::string>& args, const std::filesystem::path& log,
            const cpu_set_t* cpus = nullptr);

// Waits (up to 20 s) for a line of `log` to match; returns the first group (or the line).
std::string WaitFor(const std::filesystem::path& log, const std::regex& pattern);

// User + system CPU seconds of a running process.
double ProcessCpuSeconds(pid_t pid);

// Good readings stored after `after` (a sequence), and the newest sequence.
std::pair<long long, long long> GoodReadingsAfter(const std::filesystem::path& db_path, long long after);

long long LastSequence(const std::filesystem::path& db_path);

// A lab-config of `devices` simulated Modbus TCP devices at 127.0.0.1:`port`, each its own
// bus, each read as `registers` UINT16 holding registers every `period_ms`.
std::string SimulatedModbusLab(int devices, int registers, const std::string& port, int period_ms);
