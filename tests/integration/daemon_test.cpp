// The real labtraced against the real simulators: an ephemeral API port, a Modbus TCP
// simulator on port 0 and an MT-SICS balance on a pseudo-terminal. Every wait is for an
// event (a log line, a committed batch), never a sleep.
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <regex>
#include <sstream>

#include <fmt/format.h>
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>

#include "cli/http_client.h"
#include "labtrace/api.pb.h"
#include "support/child_process.h"

namespace labtrace {
namespace {

namespace fs = std::filesystem;
using testing::ChildProcess;
using namespace std::chrono_literals;

constexpr auto kEventDeadline = 15s;

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

class DaemonWithSimulators : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           fmt::format("labtrace-it-{}-{}", getpid(),
                       ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    balance_link_ = (dir_ / "balance").string();

    StartModbusSimulator(0);
    StartBalanceSimulator();
    WriteConfig();
    daemon_ = std::make_unique<ChildProcess>(std::vector<std::string>{
        LABTRACED_PATH, "--config", config_path_, "--data", (dir_ / "data").string(), "--listen",
        "127.0.0.1:0", "--log-level", "debug"});
    auto listening = daemon_->WaitForLine(std::regex(R"(api: listening on (http://127\.0\.0\.1:\d+))"), kEventDeadline);
    ASSERT_TRUE(listening) << daemon_->output();
    server_ = (*listening)[1];
  }

  void TearDown() override {
    daemon_.reset();
    modbus_sim_.reset();
    balance_sim_.reset();
    fs::remove_all(dir_);
  }

  void StartModbusSimulator(int port) {
    modbus_sim_ = std::make_unique<ChildProcess>(
        std::vector<std::string>{LABTRACE_SIM_PATH, "modbus-tcp", "--port", std::to_string(port)});
    auto line = modbus_sim_->WaitForLine(std::regex(R"(listening on 127\.0\.0\.1:(\d+))"), kEventDeadline);
    ASSERT_TRUE(line) << modbus_sim_->output();
    modbus_port_ = std::stoi((*line)[1]);
  }

  void StartBalanceSimulator() {
    balance_sim_ = std::make_unique<ChildProcess>(
        std::vector<std::string>{LABTRACE_SIM_PATH, "mt-sics", "--link", balance_link_});
    ASSERT_TRUE(balance_sim_->WaitForLine(std::regex("linked at"), kEventDeadline)) << balance_sim_->output();
  }

  void WriteConfig() {
    config_path_ = (dir_ / "lab.textproto").string();
    std::ofstream(config_path_) << fmt::format(R"pb(
name: "integration test lab"
buses {{ name: "eth" modbus_tcp {{ host: "127.0.0.1" port: {} }} }}
buses {{ name: "rs232" serial {{ device: "{}" }} }}
register_maps {{
  name: "climate-th"
  registers {{ name: "temperature" table: INPUT address: 0 type: FLOAT32 word_order: CDAB unit: "°C" }}
  registers {{ name: "humidity" table: INPUT address: 2 type: FLOAT32 word_order: CDAB unit: "%RH" }}
  registers {{ name: "temperature_setpoint" table: HOLDING address: 0 type: INT16 scale: 0.1 unit: "°C" }}
}}
instruments {{
  name: "climate-1" driver: "modbus" bus: "eth" period_ms: 200 timeout_ms: 300
  modbus {{ unit_id: 1 register_map: "climate-th" }}
}}
instruments {{ name: "balance" driver: "mt-sics" bus: "rs232" period_ms: 200 timeout_ms: 300 }}
)pb", modbus_port_, balance_link_);
  }

  api::ReadingsResponse Query(const std::string& query) {
    auto reply = cli::HttpGet(server_, "/v1/readings?" + query);
    EXPECT_TRUE(reply.has_value()) << reply.error().message();
    api::ReadingsResponse response;
    if (reply) {
      EXPECT_EQ(reply->status, 200) << reply->body;
      EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(reply->body, &response).ok()) << reply->body;
    }
    return response;
  }

  // Waits, batch by committed batch, until `instrument` has `count` good readings on
  // `channel` requested at or after `since_ns`.
  bool WaitForGoodReadings(const std::string& instrument, const std::string& channel, int64_t since_ns,
                           int count) {
    const std::regex committed("store: committed");
    for (size_t mark = daemon_->Mark();;) {
      const auto answer = Query(fmt::format("instrument={}&channel={}&since_ns={}", instrument, channel, since_ns));
      int good = 0;
      for (const auto& reading : answer.readings()) good += reading.quality() == GOOD;
      if (good >= count) return true;
      if (!daemon_->WaitForLine(committed, kEventDeadline, mark)) return false;
      mark = daemon_->Mark();
    }
  }

  fs::path dir_;
  std::string balance_link_, config_path_, server_;
  int modbus_port_ = 0;
  std::unique_ptr<ChildProcess> modbus_sim_, balance_sim_, daemon_;
};

TEST_F(DaemonWithSimulators, ReadsBothInstrumentsWithUnitsAndGoodQuality) {
  ASSERT_TRUE(daemon_->WaitForLine(std::regex("instrument climate-1 is now GOOD"), kEventDeadline)) << daemon_->output();
  ASSERT_TRUE(daemon_->WaitForLine(std::regex("instrument balance is now GOOD"), kEventDeadline)) << daemon_->output();
  ASSERT_TRUE(WaitForGoodReadings("balance", "mass", 0, 2));
  ASSERT_TRUE(WaitForGoodReadings("climate-1", "humidity", 0, 2));

  const auto answer = Query("last=2");
  std::map<std::string, std::string> units;
  for (const auto& reading : answer.readings()) {
    EXPECT_EQ(reading.quality(), GOOD) << reading.ShortDebugString();
    EXPECT_FALSE(reading.raw_frame().empty());
    EXPECT_GT(reading.requested_at_ns(), 0);
    units[reading.instrument() + "/" + reading.channel()] = reading.unit();
  }
  EXPECT_EQ(units["balance/mass"], "g");
  EXPECT_EQ(units["climate-1/temperature"], "°C");
  EXPECT_EQ(units["climate-1/humidity"], "%RH");
  EXPECT_EQ(units["climate-1/temperature_setpoint"], "°C");
  // The simulator's set point is 250 counts at 0.1 °C per count.
  const auto setpoint = Query("instrument=climate-1&channel=temperature_setpoint&last=1");
  ASSERT_EQ(setpoint.readings_size(), 1);
  EXPECT_DOUBLE_EQ(setpoint.readings(0).value(), 25.0);
  // The simulated balance carries a 100 g weight; its noise is hundredths of a milligram.
  const auto mass = Query("instrument=balance&last=1");
  ASSERT_EQ(mass.readings_size(), 1);
  EXPECT_NEAR(mass.readings(0).value(), 100.0, 0.001);
  EXPECT_EQ(mass.readings(0).decimals(), 5);

  // The README's command, as a technician types it.
  ChildProcess cli({LABTRACE_CLI_PATH, "readings", "--last", "5", "--server", server_});
  EXPECT_EQ(cli.WaitForExit(kEventDeadline), 0) << cli.output();
  EXPECT_NE(cli.output().find("balance"), std::string::npos) << cli.output();
  EXPECT_NE(cli.output().find("climate-1"), std::string::npos) << cli.output();
  EXPECT_NE(cli.output().find(" g "), std::string::npos) << cli.output();
  EXPECT_NE(cli.output().find("good"), std::string::npos) << cli.output();

  EXPECT_EQ(daemon_->Stop(SIGTERM), 0) << daemon_->output();
  EXPECT_NE(daemon_->output().find("stopped; every reading received was committed"), std::string::npos);
}

TEST_F(DaemonWithSimulators, StoppedBalanceIsFlaggedWhileTheControllerKeepsGoing) {
  ASSERT_TRUE(daemon_->WaitForLine(std::regex("instrument balance is now GOOD"), kEventDeadline)) << daemon_->output();
  const size_t before_stop = daemon_->Mark();
  balance_sim_->Stop(SIGTERM);
  ASSERT_TRUE(daemon_->WaitForLine(std::regex("instrument balance is now NOT GOOD"), kEventDeadline, before_stop))
      << daemon_->output();
  const int64_t down_since = NowNs();

  // The controller on the other bus goes on giving good readings.
  ASSERT_TRUE(WaitForGoodReadings("climate-1", "temperature", down_since, 3)) << daemon_->output();
  // Wait for one more balance attempt to be committed after `down_since`, then look at it.
  for (size_t mark = daemon_->Mark();; mark = daemon_->Mark()) {
    if (Query(fmt::format("instrument=balance&since_ns={}", down_since)).readings_size() > 0) break;
    ASSERT_TRUE(daemon_->WaitForLine(std::regex("store: committed"), kEventDeadline, mark));
  }
  const auto while_down = Query(fmt::format("instrument=balance&since_ns={}", down_since));
  for (const auto& reading : while_down.readings()) {
    EXPECT_NE(reading.quality(), GOOD) << reading.ShortDebugString();
    EXPECT_EQ(reading.value(), 0) << "a reading without a good reply must carry no value";
    EXPECT_FALSE(reading.detail().empty());
  }

  // The balance comes back; so do its good readings.
  const size_t before_restart = daemon_->Mark();
  StartBalanceSimulator();
  ASSERT_TRUE(daemon_->WaitForLine(std::regex("instrument balance is now GOOD"), kEventDeadline, before_restart))
      << daemon_->output();
  EXPECT_TRUE(WaitForGoodReadings("balance", "mass", NowNs() - 1'000'000'000, 1));
  EXPECT_EQ(daemon_->Stop(SIGTERM), 0) << daemon_->output();
}

TEST_F(DaemonWithSimulators, StoppedControllerIsFlaggedWhileTheBalanceKeepsGoing) {
  ASSERT_TRUE(daemon_->WaitForLine(std::regex("instrument climate-1 is now GOOD"), kEventDeadline)) << daemon_->output();
  const size_t before_stop = daemon_->Mark();
  modbus_sim_->Stop(SIGTERM);
  ASSERT_TRUE(daemon_->WaitForLine(std::regex("instrument climate-1 is now NOT GOOD"), kEventDeadline, before_stop))
      << daemon_->output();
  const int64_t down_since = NowNs();
  ASSERT_TRUE(WaitForGoodReadings("balance", "mass", down_since, 3)) << daemon_->output();

  const size_t before_restart = daemon_->Mark();
  StartModbusSimulator(modbus_port_);
  ASSERT_TRUE(daemon_->WaitForLine(std::regex("instrument climate-1 is now GOOD"), kEventDeadline, before_restart))
      << daemon_->output();
  const auto since_down = Query(fmt::format("instrument=climate-1&since_ns={}", down_since));
  EXPECT_GT(since_down.readings_size(), 0);
  for (const auto& reading : since_down.readings()) {
    if (reading.quality() != GOOD) EXPECT_EQ(reading.value(), 0);
  }
  EXPECT_EQ(daemon_->Stop(SIGTERM), 0) << daemon_->output();
}

// Each config error case, handed to the real daemon: one message naming file:line:column,
// exit code 2, and nothing started (the data directory is not even created).
TEST(DaemonConfig, RefusesEveryBadConfigWithExitCode2BeforeOpeningAnything) {
  int cases = 0;
  for (const auto& entry : fs::directory_iterator(LABTRACE_CONFIG_CASES)) {
    SCOPED_TRACE(entry.path().filename().string());
    const std::string config = (entry.path() / "lab.textproto").string();
    std::ifstream expected_file(entry.path() / "expected_error");
    std::string expected;
    std::getline(expected_file, expected);
    // The daemon names the file by the path it was given.
    expected.replace(0, std::string("lab.textproto").size(), config);
    const fs::path data = fs::temp_directory_path() / fmt::format("labtrace-refused-{}", getpid());
    fs::remove_all(data);
    ChildProcess daemon({LABTRACED_PATH, "--config", config, "--data", data.string()});
    EXPECT_EQ(daemon.WaitForExit(kEventDeadline), 2) << daemon.output();
    EXPECT_EQ(daemon.output().substr(0, daemon.output().find('\n')), expected);
    EXPECT_FALSE(fs::exists(data));
    ++cases;
  }
  EXPECT_GE(cases, 13);
}

}  // namespace
}  // namespace labtrace
