// The same simulated devices (labtrace-sim modbus-tcp: one connection per device, each
// read with one FC03 request of R registers) are polled three ways, one after the other,
// in as many rounds as asked (medians reported):
//   labtraced    the real daemon, each device its own bus (one worker polls them all),
//                period --period-ms, every reading stored durably and hashed into the
//                ledger; CPU from /proc/<pid>/stat, transactions as committed to the store
//                within the window;
//   bare loop    libmodbus's modbus_read_registers round-robin over the devices in one
//                thread, nothing done with the values: the floor for this design;
//   pymodbus     tools/bench/pymodbus_poller.py on python3-pymodbus, what a lab would
//                otherwise script.
// All three run on the same CPUs, apart from the simulator's by default (see --placement):
// a poller that waits for each reply pays for its wake-up, and that cost depends more on
// where the kernel put the poller than on the poller.
#include "bench/modbus_tcp_bench.h"
#include "bench/bench_process.h"

#include <sched.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <modbus.h>
#include <sqlite3.h>

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

struct Measured {
  double transactions = 0, cpu_s = 0, wall_s = 0;
  double backlog = 0;  // labtraced: readings committed only after the window (at the stop)
  double per_s() const { return wall_s > 0 ? transactions / wall_s : 0; }
  double cpu_per_10k() const { return transactions > 0 ? cpu_s / transactions * 10000 : 0; }
};

// The median (the upper middle of an even count).
double Median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values.empty() ? 0 : values[values.size() / 2];
}

// The run with the median CPU per transaction.
Measured Median(std::vector<Measured> runs) {
  std::sort(runs.begin(), runs.end(), [](const Measured& a, const Measured& b) { return a.cpu_per_10k() < b.cpu_per_10k(); });
  return runs.empty() ? Measured{} : runs[runs.size() / 2];
}

// The CPUs the simulator and the pollers are kept on.
struct Placement {
  bool pinned = false;
  cpu_set_t simulator{}, pollers{};
};

Placement PlacementFor(const std::string& name) {
  Placement p;
  cpu_set_t allowed;
  CPU_ZERO(&allowed);
  sched_getaffinity(0, sizeof allowed, &allowed);
  std::vector<int> cpus;
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
    if (CPU_ISSET(cpu, &allowed)) cpus.push_back(cpu);
  }
  if (name == "any" || cpus.empty()) return p;
  if (name == "apart" && cpus.size() < 2) {
    std::fprintf(stderr, "labtrace-bench: one CPU only: simulator and pollers share it\n");
  }
  p.pinned = true;
  CPU_ZERO(&p.simulator);
  CPU_ZERO(&p.pollers);
  if (name == "together" || cpus.size() < 2) {
    CPU_SET(cpus.front(), &p.simulator);
    CPU_SET(cpus.front(), &p.pollers);
  } else {
    CPU_SET(cpus.back(), &p.simulator);
    for (size_t i = 0; i + 1 < cpus.size(); ++i) CPU_SET(cpus[i], &p.pollers);
  }
  return p;
}

Measured Daemon(const fs::path& build, const ModbusTcpBenchOptions& o, int port, const fs::path& dir) {
  const std::string config = SimulatedModbusLab(o.devices, o.registers, std::to_string(port), o.period_ms);
  const fs::path config_path = dir / "bench-lab.textproto";
  std::ofstream(config_path) << config;
  const fs::path log = dir / "labtraced.log";
  const pid_t daemon = Spawn({(build / "daemon" / "labtraced").string(), "--config", config_path.string(),
                              "--data", (dir / "data").string(), "--listen", "127.0.0.1:0"},
                             log);
  Measured m;
  if (WaitFor(log, std::regex("api: listening")).empty()) {
    std::fprintf(stderr, "labtrace-bench: labtraced did not start; see %s\n", log.c_str());
    kill(daemon, SIGKILL);
    waitpid(daemon, nullptr, 0);
    return m;
  }
  const fs::path db = dir / "data" / "labtrace.db";
  std::this_thread::sleep_for(std::chrono::seconds(3));  // every bus connected, steady
  // Counted as committed, at the window's two ends: readings polled but still queued
  // for the store would otherwise count as done while the CPU to store them falls after
  // the window (the first version of this benchmark did that, and flattered labtraced).
  const long long from = LastSequence(db);
  const double cpu_start = ProcessCpuSeconds(daemon);
  const auto start = Clock::now();
  std::this_thread::sleep_for(std::chrono::duration<double>(o.seconds));
  const double cpu_end = ProcessCpuSeconds(daemon);
  m.wall_s = std::chrono::duration<double>(Clock::now() - start).count();
  const auto [good, to] = GoodReadingsAfter(db, from);
  kill(daemon, SIGTERM);
  waitpid(daemon, nullptr, 0);
  m.backlog = static_cast<double>(GoodReadingsAfter(db, to).first);  // committed only at the stop
  m.transactions = static_cast<double>(good) / o.registers;
  m.cpu_s = cpu_end - cpu_start;
  return m;
}

Measured BareLoop(const ModbusTcpBenchOptions& o, int port) {
  std::vector<modbus_t*> contexts;
  for (int d = 0; d < o.devices; ++d) {
    modbus_t* ctx = modbus_new_tcp("127.0.0.1", port);
    modbus_set_slave(ctx, 1);
    if (modbus_connect(ctx) != 0) {
      modbus_free(ctx);
      continue;
    }
    contexts.push_back(ctx);
  }
  std::vector<uint16_t> words(static_cast<size_t>(o.registers));
  Measured m;
  rusage before{}, after{};
  getrusage(RUSAGE_THREAD, &before);
  const auto start = Clock::now();
  while (std::chrono::duration<double>(Clock::now() - start).count() < o.seconds) {
    for (modbus_t* ctx : contexts) {
      if (modbus_read_registers(ctx, 0, o.registers, words.data()) == o.registers) ++m.transactions;
    }
  }
  m.wall_s = std::chrono::duration<double>(Clock::now() - start).count();
  getrusage(RUSAGE_THREAD, &after);
  auto seconds = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec * 1e-6; };
  m.cpu_s = seconds(after.ru_utime) - seconds(before.ru_utime) + seconds(after.ru_stime) - seconds(before.ru_stime);
  for (modbus_t* ctx : contexts) {
    modbus_close(ctx);
    modbus_free(ctx);
  }
  return m;
}

Measured Pymodbus(const fs::path& source_dir, const ModbusTcpBenchOptions& o, int port) {
  const std::string command =
      fmt::format("/usr/bin/python3 {} --port {} --devices {} --registers {} --seconds {}",
                  (source_dir / "pymodbus_poller.py").string(), port, o.devices, o.registers, o.seconds);
  Measured m;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return m;
  char line[512] = {};
  const bool got = std::fgets(line, sizeof line, pipe) != nullptr;
  pclose(pipe);
  if (got) std::sscanf(line, "{\"transactions\": %lf, \"failed\": %*d, \"cpu_s\": %lf, \"wall_s\": %lf", &m.transactions, &m.cpu_s, &m.wall_s);
  return m;
}

}  // namespace

int ModbusTcpBench(const ModbusTcpBenchOptions& o) {
  const fs::path self = fs::read_symlink("/proc/self/exe").parent_path();  // build/tools
  const fs::path dir = o.dir.empty() ? fs::temp_directory_path() / fmt::format("labtrace-bench-tcp-{}", getpid())
                                     : fs::path(o.dir);
  fs::remove_all(dir);
  fs::create_directories(dir);
  rlimit files{};
  getrlimit(RLIMIT_NOFILE, &files);
  files.rlim_cur = files.rlim_max;
  setrlimit(RLIMIT_NOFILE, &files);

  const Placement placement = PlacementFor(o.placement);
  const fs::path sim_log = dir / "sim.log";
  const pid_t sim = Spawn({(self / "labtrace-sim").string(), "modbus-tcp", "--port", "0"}, sim_log,
                          placement.pinned ? &placement.simulator : nullptr);
  // This thread runs the bare loop; labtraced and the pymodbus poller inherit its CPUs.
  if (placement.pinned) sched_setaffinity(0, sizeof placement.pollers, &placement.pollers);
  const std::string port_text = WaitFor(sim_log, std::regex(R"(listening on 127\.0\.0\.1:(\d+))"));
  if (port_text.empty()) {
    std::fprintf(stderr, "labtrace-bench: the simulator did not start\n");
    return 1;
  }
  const int port = std::stoi(port_text);
  std::vector<Measured> daemons, bares, pythons;
  std::vector<double> ratios, python_ratios;  // of each round's own runs
  for (int round = 0; round < o.rounds; ++round) {
    fs::remove_all(dir / "data");
    daemons.push_back(Daemon(self.parent_path(), o, port, dir));
    bares.push_back(BareLoop(o, port));
    pythons.push_back(Pymodbus(LABTRACE_BENCH_SOURCE_DIR, o, port));
    if (daemons.back().transactions == 0 || bares.back().transactions == 0 || pythons.back().transactions == 0) {
      // A poller that did nothing would count as the cheapest: the round is not used.
      std::fprintf(stderr, "labtrace-bench: round %d: a poller completed no transaction; round left out\n", round + 1);
      daemons.pop_back();
      bares.pop_back();
      pythons.pop_back();
      continue;
    }
    ratios.push_back(daemons.back().cpu_per_10k() / bares.back().cpu_per_10k());
    python_ratios.push_back(pythons.back().cpu_per_10k() / daemons.back().cpu_per_10k());
    if (!o.json) {
      std::printf("  round %d: labtraced %.3f, bare %.3f, pymodbus %.3f CPU-s per 10 000 (labtraced / bare %.2f)\n",
                  round + 1, daemons.back().cpu_per_10k(), bares.back().cpu_per_10k(), pythons.back().cpu_per_10k(),
                  ratios.back());
    }
  }
  kill(sim, SIGTERM);
  waitpid(sim, nullptr, 0);
  fs::remove_all(dir);

  if (ratios.empty()) {
    std::fprintf(stderr, "labtrace-bench: no round completed\n");
    return 1;
  }
  const Measured daemon = Median(daemons), bare = Median(bares), python = Median(pythons);
  // The headline ratios pair each round's runs: the machine's speed drifts over minutes.
  const double ratio = Median(ratios), python_ratio = Median(python_ratios);
  std::string ratio_list;
  for (double r : ratios) ratio_list += fmt::format("{}{:.2f}", ratio_list.empty() ? "" : ",", r);
  if (o.json) {
    std::printf(
        "{\"devices\":%d,\"registers\":%d,\"seconds\":%.1f,\"rounds\":%d,\"transactions_per_s\":%.1f,"
        "\"readings_per_s\":%.1f,\"cpu_s_per_10k\":%.3f,\"bare_transactions_per_s\":%.1f,\"bare_cpu_s_per_10k\":%.3f,"
        "\"pymodbus_transactions_per_s\":%.1f,\"pymodbus_cpu_s_per_10k\":%.3f,\"ratio_to_bare\":%.2f,"
        "\"pymodbus_ratio\":%.2f,\"ratio_to_bare_by_round\":[%s],\"period_ms\":%d,\"backlog_readings\":%.0f,\"placement\":\"%s\"}\n",
        o.devices, o.registers, o.seconds, o.rounds, daemon.per_s(), daemon.per_s() * o.registers,
        daemon.cpu_per_10k(), bare.per_s(), bare.cpu_per_10k(), python.per_s(), python.cpu_per_10k(),
        ratio, python_ratio, ratio_list.c_str(), o.period_ms, daemon.backlog, o.placement.c_str());
  } else {
    std::printf("Modbus TCP: %d devices, %d registers per read, %.0f s each, median of %d rounds, placement %s\n",
                o.devices, o.registers, o.seconds, o.rounds, o.placement.c_str());
    std::printf("  labtraced polls each device every %d ms; %.0f readings were committed only after its "
                "window\n",
                o.period_ms, daemon.backlog);
    std::printf("  %-36s %12s %18s\n", "", "transactions/s", "CPU-s per 10 000");
    std::printf("  %-36s %12.0f %18.3f\n", "labtraced (stored, hashed, durable)", daemon.per_s(), daemon.cpu_per_10k());
    std::printf("  %-36s %12.0f %18.3f\n", "bare libmodbus loop", bare.per_s(), bare.cpu_per_10k());
    std::printf("  %-36s %12.0f %18.3f\n", "pymodbus poller", python.per_s(), python.cpu_per_10k());
    std::printf("  labtraced / bare = %.2f (goal ≤ 1.3); pymodbus / labtraced = %.2f (goal ≥ 1.5); medians of the "
                "rounds' own ratios\n",
                ratio, python_ratio);
  }
  return 0;
}
