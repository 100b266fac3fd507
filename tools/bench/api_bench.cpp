// labtrace-bench api: the real labtraced on simulated Modbus TCP devices (labtrace-sim
// modbus-tcp), an admin's session token made in its store before it starts, then two
// windows of the same length: idle (polling only), and loaded (`clients` coroutines on one
// thread of this process, each keeping a connection and asking GET /v1/health with its
// Bearer token every `interval_ms`). Reported: answers by status, transport errors (the
// goal: none; refusals must be explicit 503s), latency percentiles, and the devices' poll
// rate loaded against idle, counted from the store.
#include "bench/api_bench.h"

#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <future>
#include <thread>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <fmt/format.h>

#include "auth/access_token.h"
#include "auth/user_account.h"
#include "bench/bench_process.h"
#include "labtrace/clock.h"
#include "store/record_store.h"

namespace fs = std::filesystem;
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using Clock = std::chrono::steady_clock;

namespace {

constexpr int kRegisters = 10;

struct Tally {
  long ok = 0, unavailable = 0, other_status = 0, transport_errors = 0;
  std::vector<double> latency_ms;      // every answer
  std::vector<double> ok_latency_ms;   // 200s only
};

// An admin and a session token for them, made in the store before the daemon opens it.
std::string MakeToken(const fs::path& data) {
  using namespace labtrace;
  auto store = store::RecordStore::Open(data.string());
  if (!store) return "";
  auto account = auth::Enrol({"bench.admin", "Bench Admin", ROLE_ADMIN, "bench-password-2026"}, NowNs(),
                             auth::kTestOnlyCost);
  auto token = auth::IssueSessionToken("bench.admin", ROLE_ADMIN, NowNs());
  if (!account || !token) return "";
  std::promise<Status> saved_account, saved_token;
  (*store)->SaveAccount(*account, {}, [&](Status s) { saved_account.set_value(s); });
  (*store)->SaveToken(token->record, {}, [&](Status s) { saved_token.set_value(s); });
  if (!saved_account.get_future().get().ok() || !saved_token.get_future().get().ok()) return "";
  return token->text;
}

asio::awaitable<void> Client(Tally& tally, asio::ip::tcp::endpoint server, std::string host, std::string bearer,
                             Clock::time_point until, std::chrono::milliseconds interval) {
  auto executor = co_await asio::this_coro::executor;
  asio::steady_timer timer(executor);
  beast::tcp_stream stream(executor);
  beast::flat_buffer buffer;
  bool connected = false;
  while (Clock::now() < until) {
    const auto start = Clock::now();
    bool failed = false;
    if (!connected) {
      auto [error] = co_await stream.async_connect(server, asio::as_tuple(asio::use_awaitable));
      failed = static_cast<bool>(error);
      connected = !failed;
    }
    if (connected) {
      http::request<http::empty_body> request(http::verb::get, "/v1/health", 11);
      request.set(http::field::host, host);
      request.set(http::field::authorization, bearer);
      request.keep_alive(true);
      stream.expires_after(std::chrono::seconds(10));
      auto [write_error, written] = co_await http::async_write(stream, request, asio::as_tuple(asio::use_awaitable));
      http::response<http::string_body> response;
      beast::error_code read_error = write_error;
      if (!write_error) {
        std::tie(read_error, std::ignore) =
            co_await http::async_read(stream, buffer, response, asio::as_tuple(asio::use_awaitable));
      }
      if (read_error) {
        failed = true;
      } else {
        const double ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
        tally.latency_ms.push_back(ms);
        if (response.result() == http::status::ok) {
          ++tally.ok;
          tally.ok_latency_ms.push_back(ms);
        } else if (response.result() == http::status::service_unavailable) {
          ++tally.unavailable;
        } else {
          ++tally.other_status;
        }
      }
      if (failed || !response.keep_alive()) {
        beast::error_code ignored;
        stream.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
        stream.close();
        buffer.clear();
        connected = false;
      }
    }
    if (failed) ++tally.transport_errors;
    timer.expires_at(start + interval);
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  }
  if (connected) stream.close();
}

double Percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  return values[std::min(values.size() - 1, static_cast<size_t>(p * static_cast<double>(values.size())))];
}

}  // namespace

int ApiBench(const ApiBenchOptions& o) {
  const fs::path self = fs::read_symlink("/proc/self/exe").parent_path();  // build/tools
  const fs::path build = self.parent_path();
  const fs::path dir =
      o.dir.empty() ? fs::temp_directory_path() / fmt::format("labtrace-bench-api-{}", getpid()) : fs::path(o.dir);
  fs::remove_all(dir);
  fs::create_directories(dir);
  rlimit files{};
  getrlimit(RLIMIT_NOFILE, &files);
  files.rlim_cur = files.rlim_max;
  setrlimit(RLIMIT_NOFILE, &files);
  if (files.rlim_cur < static_cast<rlim_t>(o.clients) + 64) {
    std::fprintf(stderr, "labtrace-bench: %d clients need %d descriptors; this process may have %llu\n", o.clients,
                 o.clients + 64, static_cast<unsigned long long>(files.rlim_cur));
    return 2;
  }

  const pid_t sim = Spawn({(self / "labtrace-sim").string(), "modbus-tcp", "--port", "0"}, dir / "sim.log");
  const std::string port = WaitFor(dir / "sim.log", std::regex(R"(listening on 127\.0\.0\.1:(\d+))"));
  const std::string config = SimulatedModbusLab(o.devices, kRegisters, port, o.period_ms);
  std::ofstream(dir / "bench-lab.textproto") << config;
  const std::string token = MakeToken(dir / "data");
  const pid_t daemon = Spawn({(build / "daemon" / "labtraced").string(), "--config", (dir / "bench-lab.textproto").string(),
                              "--data", (dir / "data").string(), "--listen", "127.0.0.1:0"},
                             dir / "labtraced.log");
  const std::string api_port = WaitFor(dir / "labtraced.log", std::regex(R"(api: listening on http://127\.0\.0\.1:(\d+))"));
  auto stop = [&] {
    kill(daemon, SIGTERM);
    waitpid(daemon, nullptr, 0);
    kill(sim, SIGTERM);
    waitpid(sim, nullptr, 0);
  };
  if (port.empty() || api_port.empty() || token.empty()) {
    std::fprintf(stderr, "labtrace-bench: the simulator or labtraced did not start; see %s\n", dir.c_str());
    stop();
    return 1;
  }
  const fs::path db = dir / "data" / "labtrace.db";
  std::this_thread::sleep_for(std::chrono::seconds(3));  // every device connected, polling steady

  // Idle: polling only.
  const auto window = std::chrono::duration<double>(o.seconds);
  long long from = LastSequence(db);
  std::this_thread::sleep_for(window);
  const long long idle_good = GoodReadingsAfter(db, from).first;

  // Loaded: the same window with every client asking.
  Tally tally;
  asio::io_context io;
  const asio::ip::tcp::endpoint server(asio::ip::make_address("127.0.0.1"), static_cast<uint16_t>(std::stoi(api_port)));
  const std::string host = "127.0.0.1:" + api_port;
  from = LastSequence(db);
  const double daemon_cpu_start = ProcessCpuSeconds(daemon);
  const auto until = Clock::now() + std::chrono::duration_cast<Clock::duration>(window);
  for (int c = 0; c < o.clients; ++c) {
    asio::co_spawn(io, Client(tally, server, host, "Bearer " + token, until, std::chrono::milliseconds(o.interval_ms)),
                   asio::detached);
  }
  io.run();
  const double daemon_cpu = ProcessCpuSeconds(daemon) - daemon_cpu_start;
  const long long loaded_good = GoodReadingsAfter(db, from).first;
  stop();

  const double idle_polls = static_cast<double>(idle_good) / kRegisters / o.seconds;
  const double loaded_polls = static_cast<double>(loaded_good) / kRegisters / o.seconds;
  const double ratio = idle_polls > 0 ? loaded_polls / idle_polls : 0;
  const double p50 = Percentile(tally.latency_ms, 0.50), p99 = Percentile(tally.latency_ms, 0.99);
  const double ok_p99 = Percentile(tally.ok_latency_ms, 0.99);
  if (o.json) {
    std::printf("{\"clients\":%d,\"interval_ms\":%d,\"seconds\":%.1f,\"ok\":%ld,\"unavailable_503\":%ld,"
                "\"other_status\":%ld,\"transport_errors\":%ld,\"p50_ms\":%.2f,\"p99_ms\":%.2f,\"ok_p99_ms\":%.2f,"
                "\"polls_per_s_idle\":%.1f,\"polls_per_s_loaded\":%.1f,\"poll_ratio\":%.3f,\"daemon_cpu_s\":%.2f}\n",
                o.clients, o.interval_ms, o.seconds, tally.ok, tally.unavailable, tally.other_status,
                tally.transport_errors, p50, p99, ok_p99, idle_polls, loaded_polls, ratio, daemon_cpu);
  } else {
    std::printf("%d clients on loopback, each GET /v1/health with its token every %d ms, for %.0f s,\n"
                "while the daemon polls %d Modbus TCP devices every %d ms:\n",
                o.clients, o.interval_ms, o.seconds, o.devices, o.period_ms);
    std::printf("  answers: %ld 200, %ld explicit 503 (over api.max_connections), %ld other; transport errors %ld\n",
                tally.ok, tally.unavailable, tally.other_status, tally.transport_errors);
    std::printf("  latency: p50 %.2f ms, p99 %.2f ms (200s only: p99 %.2f ms); goal p99 < 100 ms\n", p50, p99, ok_p99);
    std::printf("  polls: %.1f/s idle, %.1f/s loaded, ratio %.3f (goal >= 0.95); daemon CPU %.2f s loaded\n",
                idle_polls, loaded_polls, ratio, daemon_cpu);
  }
  fs::remove_all(dir);
  return tally.transport_errors == 0 && tally.other_status == 0 ? 0 : 1;
}
