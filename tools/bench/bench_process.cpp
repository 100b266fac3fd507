#include "bench/bench_process.h"

#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <thread>

#include <fmt/format.h>
#include <sqlite3.h>

namespace fs = std::filesystem;

// Starts `args` with stdout and stderr to `log`, on `cpus` if given; returns its pid.
pid_t Spawn(const std::vector<std::string>& args, const fs::path& log, const cpu_set_t* cpus) {
  const pid_t pid = fork();
  if (pid == 0) {
    if (cpus != nullptr) sched_setaffinity(0, sizeof *cpus, cpus);
    FILE* out = std::fopen(log.c_str(), "w");
    if (out != nullptr) {
      dup2(fileno(out), STDOUT_FILENO);
      dup2(fileno(out), STDERR_FILENO);
    }
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  return pid;
}

// Waits (up to 20 s) for a line of `log` to match; returns the first group.
std::string WaitFor(const fs::path& log, const std::regex& pattern) {
  for (int i = 0; i < 200; ++i) {
    std::ifstream file(log);
    std::string line;
    std::smatch match;
    while (std::getline(file, line)) {
      if (std::regex_search(line, match, pattern)) return match.size() > 1 ? match[1].str() : line;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return "";
}

double ProcessCpuSeconds(pid_t pid) {
  std::ifstream stat(fmt::format("/proc/{}/stat", pid));
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  const size_t close = text.rfind(')');  // the command name may hold spaces
  std::istringstream fields(text.substr(close + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && fields >> field; ++i) {
    if (i == 14) utime = std::stoull(field);
    if (i == 15) stime = std::stoull(field);
  }
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// Good readings stored after `after` (a sequence), and the newest sequence.
std::pair<long long, long long> GoodReadingsAfter(const fs::path& db_path, long long after) {
  sqlite3* db = nullptr;
  std::pair<long long, long long> result{0, after};
  if (sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_stmt* statement = nullptr;
    sqlite3_prepare_v2(db, "SELECT COUNT(*), COALESCE(MAX(sequence), ?1) FROM readings WHERE sequence > ?1 AND quality = 1",
                       -1, &statement, nullptr);
    sqlite3_bind_int64(statement, 1, after);
    if (sqlite3_step(statement) == SQLITE_ROW) result = {sqlite3_column_int64(statement, 0), sqlite3_column_int64(statement, 1)};
    sqlite3_finalize(statement);
  }
  sqlite3_close(db);
  return result;
}

long long LastSequence(const fs::path& db_path) {
  sqlite3* db = nullptr;
  long long last = 0;
  if (sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_stmt* statement = nullptr;
    sqlite3_prepare_v2(db, "SELECT COALESCE(MAX(sequence), 0) FROM readings", -1, &statement, nullptr);
    if (sqlite3_step(statement) == SQLITE_ROW) last = sqlite3_column_int64(statement, 0);
    sqlite3_finalize(statement);
  }
  sqlite3_close(db);
  return last;
}


std::string SimulatedModbusLab(int devices, int registers, const std::string& port, int period_ms) {
  std::string config = "register_maps { name: \"bench\" numbering: ZERO_BASED\n";
  for (int r = 0; r < registers; ++r) {
    config += fmt::format("  registers {{ name: \"r{}\" table: HOLDING address: {} type: UINT16 unit: \"1\" }}\n", r, r);
  }
  config += "}\n";
  for (int d = 0; d < devices; ++d) {
    config += fmt::format(
        "buses {{ name: \"b{0}\" modbus_tcp {{ host: \"127.0.0.1\" port: {1} }} }}\n"
        "instruments {{ name: \"device-{0}\" driver: \"modbus\" bus: \"b{0}\" period_ms: {2} timeout_ms: 1000 "
        "modbus {{ unit_id: 1 register_map: \"bench\" }} }}\n",
        d, port, period_ms);
  }
  return config;
}
