// Eight (or N) simulated transmitters on one paced RTU line (labtrace-sim modbus-rtu on a
// pseudo-terminal), each read with one request of R holding registers, polled as fast as
// the line allows by the daemon's own bus worker, link and device code (ModbusBus,
// ModbusRtuLink, ModbusDevice). Reports transactions per second against the theoretical
// maximum of protocols.md: 1 / ((13 + 2R)·bits/baud + 2·gap), with 11-bit characters
// (8E1) and the 3.5-character gap (1.75 ms above 19 200 baud).
#include "bench/rtu_bench.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "acquisition/modbus_bus.h"
#include "modbus/device.h"
#include "modbus/link.h"

using namespace labtrace;
namespace fs = std::filesystem;

namespace {

// Starts labtrace-sim (beside this binary) and waits for its "linked at" line.
pid_t StartSimulator(const std::vector<std::string>& args) {
  int out[2];
  if (pipe(out) != 0) return -1;
  const pid_t pid = fork();
  if (pid == 0) {
    dup2(out[1], STDOUT_FILENO);
    close(out[0]);
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(out[1]);
  std::string line;
  char c;
  while (read(out[0], &c, 1) == 1 && c != '\n') line += c;
  close(out[0]);
  if (line.find("linked at") == std::string::npos) {
    std::fprintf(stderr, "labtrace-bench: the simulator did not start: %s\n", line.c_str());
    kill(pid, SIGKILL);
    return -1;
  }
  return pid;
}

}  // namespace

int RtuBench(const RtuBenchOptions& options) {
  spdlog::set_level(spdlog::level::warn);
  const fs::path self = fs::read_symlink("/proc/self/exe").parent_path();
  const std::string link = (fs::temp_directory_path() / fmt::format("labtrace-bench-rtu-{}", getpid())).string();
  const pid_t sim = StartSimulator({(self / "labtrace-sim").string(), "modbus-rtu", "--link", link, "--baud",
                                    std::to_string(options.baud), "--parity", "E", "--units",
                                    fmt::format("1-{}", options.devices)});
  if (sim < 0) return 1;

  config::RegisterMap map;
  map.set_name("bench");
  for (int i = 0; i < options.registers; ++i) {
    config::Register* reg = map.add_registers();
    reg->set_name(fmt::format("r{}", i));
    reg->set_table(config::HOLDING);
    reg->set_address(static_cast<uint32_t>(100 + i));
    reg->set_type(config::UINT16);
    reg->set_unit("1");
  }
  std::vector<acquisition::ModbusBus::Member> members;
  for (int unit = 1; unit <= options.devices; ++unit) {
    auto device = modbus::ModbusDevice::Create(fmt::format("transmitter-{}", unit), static_cast<uint8_t>(unit), map,
                                               0, std::chrono::milliseconds(500), 1);
    members.push_back({std::move(*device), std::chrono::milliseconds(0)});  // as fast as the line allows
  }
  std::atomic<uint64_t> good{0}, bad{0};
  std::atomic<bool> counting{false};
  // Rate = transactions between the first and the last completion counted, over the time
  // between them: a window's edges would otherwise count a transaction that started
  // before it.
  std::chrono::steady_clock::time_point first{}, last{};
  auto link_ptr = std::make_unique<modbus::ModbusRtuLink>(modbus::SerialSettings{link, options.baud, 'E', 1});
  std::vector<std::unique_ptr<acquisition::ModbusBus>> line;
  line.push_back(std::make_unique<acquisition::ModbusBus>(
      "bench-rs485", std::move(link_ptr), std::move(members), [&](std::vector<Reading> readings) {
        if (!counting || readings.empty()) return;
        const auto now = std::chrono::steady_clock::now();
        if (good + bad == 0) first = now;
        last = now;
        (readings.front().quality() == GOOD ? good : bad)++;
      }));
  acquisition::ModbusWorker bus(std::move(line));
  bus.Start();
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // port opened, line settled
  const auto start = std::chrono::steady_clock::now();
  counting = true;
  std::this_thread::sleep_for(std::chrono::duration<double>(options.seconds));
  counting = false;
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  bus.Stop();
  kill(sim, SIGTERM);
  waitpid(sim, nullptr, 0);

  const double bits = 11, char_s = bits / options.baud;
  const double gap_s = options.baud > 19200 ? 0.00175 : 3.5 * char_s;
  const double theoretical = 1 / ((13 + 2.0 * options.registers) * char_s + 2 * gap_s);
  const uint64_t completed = good + bad;
  const double span = std::chrono::duration<double>(last - first).count();
  // completed − 1 intervals between the first and last completion; good ones only.
  const double per_s = completed > 1 && span > 0 ? (static_cast<double>(completed) - 1) / span *
                                                       static_cast<double>(good) / static_cast<double>(completed)
                                                 : 0;
  if (options.json) {
    std::printf(
        "{\"baud\":%u,\"devices\":%d,\"registers\":%d,\"seconds\":%.2f,\"transactions\":%llu,\"failed\":%llu,"
        "\"transactions_per_s\":%.2f,\"theoretical_per_s\":%.2f,\"utilisation\":%.3f}\n",
        options.baud, options.devices, options.registers, elapsed, static_cast<unsigned long long>(good.load()),
        static_cast<unsigned long long>(bad.load()), per_s, theoretical, per_s / theoretical);
  } else {
    std::printf("Modbus RTU line use: %d devices, %d registers per request, %u baud 8E1, %.1f s\n", options.devices,
                options.registers, options.baud, elapsed);
    std::printf("  %-34s %10.2f /s  (%llu, %llu failed)\n", "transactions", per_s,
                static_cast<unsigned long long>(good.load()), static_cast<unsigned long long>(bad.load()));
    std::printf("  %-34s %10.2f /s\n", "theoretical maximum (protocols.md)", theoretical);
    std::printf("  %-34s %10.3f\n", "utilisation", per_s / theoretical);
  }
  return 0;
}
