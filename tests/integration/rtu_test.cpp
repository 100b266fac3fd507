// The real labtraced on a simulated RS-485 line: labtrace-sim modbus-rtu on a
// pseudo-terminal, paced at the line's baud rate, three transmitters on it. Faults are
// injected through the simulator's standard input; every wait is for an event (a log
// line, stored readings), never a sleep.
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <regex>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <google/protobuf/text_format.h>

#include "cli/http_client.h"
#include "labtrace/api.pb.h"
#include "modbus/device.h"
#include "modbus/link.h"
#include "support/child_process.h"
#include "support/daemon_process.h"
#include "support/labtrace_cli.h"
#include "support/readings.h"

namespace labtrace {
namespace {

namespace fs = std::filesystem;
using testing::ChildProcess;
using testing::ParseJson;
using namespace std::chrono_literals;

constexpr auto kEventDeadline = 20s;
constexpr int kPeriodMs = 100;

class RtuLine : public ::testing::Test {
 protected:
  // `dead`: the units of the line that never answer. `control_line`: a second line, with a
  // simulator and a worker of its own, carrying the same three transmitters, all
  // answering ("control-1" … "control-3"): the neighbours of a dead unit are compared
  // with it, in the same daemon at the same time, so a loaded machine slows both alike.
  void Start(const std::string& dead, bool control_line = false) {
    dir_ = fs::temp_directory_path() /
           fmt::format("labtrace-rtu-{}-{}", getpid(), ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    std::string config = R"pb(
      register_maps {
        name: "transmitter"
        registers { name: "temperature" table: INPUT address: 0 type: FLOAT32 word_order: CDAB unit: "°C" }
        registers { name: "counter" table: HOLDING address: 100 type: UINT16 unit: "1" }
      }
    )pb";
    sim_ = StartLine("rs485-1", "transmitter", dead, config);
    ASSERT_TRUE(sim_);
    if (control_line) {
      control_sim_ = StartLine("rs485-control", "control", "", config);
      ASSERT_TRUE(control_sim_);
    }
    const std::string config_path = (dir_ / "lab.textproto").string();
    std::ofstream(config_path) << config;
    auto daemon = testing::StartDaemon(config_path, (dir_ / "data").string(), kEventDeadline);
    daemon_ = std::move(daemon.process);
    server_ = daemon.server;
    ASSERT_FALSE(server_.empty());
  }

  // Starts a simulated line of units 1-3 and adds it to `config`, as bus `bus` with the
  // instruments `prefix`-1 … `prefix`-3; nothing when the simulator does not start.
  std::unique_ptr<ChildProcess> StartLine(const std::string& bus, const std::string& prefix, const std::string& dead,
                                          std::string& config) {
    const std::string link = (dir_ / bus).string();
    std::vector<std::string> args{LABTRACE_SIM_PATH, "modbus-rtu", "--link", link, "--baud", "38400", "--units", "1-3"};
    if (!dead.empty()) args.insert(args.end(), {"--dead", dead});
    auto sim = std::make_unique<ChildProcess>(args);
    if (!sim->WaitForLine(std::regex("linked at"), kEventDeadline)) {
      ADD_FAILURE() << sim->output();
      return nullptr;
    }
    config += fmt::format(R"pb(buses {{ name: "{}" serial {{ device: "{}" baud: 38400 }} }})pb", bus, link);
    for (int unit = 1; unit <= 3; ++unit) {
      config += fmt::format(R"pb(
        instruments {{
          name: "{0}-{1}" driver: "modbus" bus: "{2}" period_ms: {3} timeout_ms: 100
          modbus {{ unit_id: {1} register_map: "transmitter" }}
        }}
      )pb", prefix, unit, bus, kPeriodMs);
    }
    return sim;
  }

  void TearDown() override {
    daemon_.reset();
    sim_.reset();
    control_sim_.reset();
    fs::remove_all(dir_);
  }

  std::vector<Reading> Readings(const std::string& instrument, const std::string& channel) {
    return testing::StoredReadings(server_, instrument, channel);
  }
  template <typename Done>
  std::vector<Reading> WaitForReadings(const std::string& instrument, const std::string& channel,
                                       uint64_t after_sequence, Done done) {
    return testing::WaitForReadings(*daemon_, server_, instrument, channel, after_sequence, done, kEventDeadline);
  }
  uint64_t LastSequence(const std::string& instrument, const std::string& channel) {
    return testing::LastSequence(server_, instrument, channel);
  }

  fs::path dir_;
  std::string server_;
  std::unique_ptr<ChildProcess> sim_, control_sim_, daemon_;
};

// Unit n's holding register 100 holds n·1000 + 100 (tools/sim/modbus_rtu_sim.cpp).
bool Correct(const Reading& r, int unit) { return r.quality() != GOOD || r.value() == unit * 1000 + 100; }

TEST_F(RtuLine, ADeadDeviceDoesNotSlowItsNeighbours) {
  Start("2", /*control_line=*/true);
  ASSERT_TRUE(daemon_->WaitForLine(std::regex("transmitter-2 does not answer; backing it off"), kEventDeadline))
      << daemon_->output();
  // 40 polls of each neighbour, and of its twin on the control line, after the back-off
  // started.
  const auto enough = [](const std::vector<Reading>& r) { return r.size() >= 40; };
  for (int unit : {1, 3}) {
    const std::string name = fmt::format("transmitter-{}", unit), twin = fmt::format("control-{}", unit);
    const uint64_t from = LastSequence(name, "counter"), twin_from = LastSequence(twin, "counter");
    const auto readings = WaitForReadings(name, "counter", from, enough);
    ASSERT_GE(readings.size(), 40u);
    for (const Reading& r : readings) {
      EXPECT_EQ(r.quality(), GOOD) << r.detail();
      EXPECT_TRUE(Correct(r, unit));
    }
    // Polls, from the daemon's own request times, against the twin's over the same
    // window: each poll the dead unit is asked holds the line for its timeout (one
    // period), so without the back-off a neighbour gets about 100 of every 128 ms
    // (ratio near 0.8); with it, near 1.
    const auto twins = WaitForReadings(twin, "counter", twin_from, [&](const std::vector<Reading>& r) {
      return !r.empty() && r.back().requested_at_ns() >= readings.back().requested_at_ns();
    });
    const testing::PollCounts counts = testing::CountPollsInOneWindow(readings, twins);
    RecordProperty(name + "_poll_ratio", fmt::format("{:.3f}", counts.ratio()));
    EXPECT_GE(counts.control, 30u) << name << ": " << counts;
    EXPECT_GE(counts.ratio(), 0.9) << name << ": " << counts;
  }
  // The dead unit is recorded at its period, flagged, without a value, and mostly not asked.
  const auto dead = Readings("transmitter-2", "counter");
  ASSERT_FALSE(dead.empty());
  size_t not_asked = 0;
  for (const Reading& r : dead) {
    EXPECT_EQ(r.quality(), NO_REPLY);
    EXPECT_EQ(r.value(), 0);
    not_asked += r.detail().rfind("not asked", 0) == 0;
  }
  EXPECT_GT(not_asked * 2, dead.size()) << "the dead unit was asked on most polls";

  // Per-device health, as `labtrace health` shows it.
  const auto health = ParseJson<api::HealthResponse>(
      testing::Labtrace({"health", "--json", "--server", server_}));
  std::map<std::string, api::InstrumentStatus> by_name;
  for (const auto& status : health.instruments()) by_name[status.instrument()] = status;
  ASSERT_EQ(by_name.size(), 6u);  // three transmitters on each line
  EXPECT_TRUE(by_name["transmitter-1"].good());
  EXPECT_GT(by_name["transmitter-1"].last_good_at_ns(), 0);
  EXPECT_GT(by_name["transmitter-1"].io_ms_mean(), 0.0);
  EXPECT_EQ(by_name["transmitter-1"].flagged_polls_size(), 0);
  EXPECT_FALSE(by_name["transmitter-2"].good());
  EXPECT_EQ(by_name["transmitter-2"].last_good_at_ns(), 0);
  EXPECT_EQ(by_name["transmitter-2"].good_polls(), 0u);
  EXPECT_EQ(by_name["transmitter-2"].flagged_polls().at("NO_REPLY"), by_name["transmitter-2"].polls());
}

TEST_F(RtuLine, EachFaultClassIsFlaggedAndNeverStoredAsAGoodValue) {
  Start("");
  ASSERT_TRUE(daemon_->WaitForLine(std::regex("instrument transmitter-3 is now GOOD"), kEventDeadline))
      << daemon_->output();
  struct Case {
    std::string fault;
    std::vector<Quality> expected;  // the quality the next readings must show (any of)
  };
  const std::vector<Case> cases = {
      {"bad-crc", {BAD_FRAME}},
      {"garbage", {BAD_FRAME, NO_REPLY}},
      {"wrong-unit", {BAD_FRAME, NO_REPLY}},
      {"exception 2", {DEVICE_ERROR}},
      {"exception 4", {DEVICE_ERROR}},
      {"exception 6 2", {DEVICE_ERROR}},  // busy twice: the retry is busy too
      {"no-reply", {NO_REPLY}},
      // Last: a reply later than the timeout lands in a neighbour's transaction, as it would
      // collide on a real line; flagged there, never taken for the neighbour's answer.
      {"delay 300", {NO_REPLY}},
  };
  uint64_t neighbours_checked_to = 0;
  for (const Case& c : cases) {
    SCOPED_TRACE(c.fault);
    const uint64_t before = LastSequence("transmitter-3", "counter");
    if (c.fault == "delay 300") neighbours_checked_to = std::max(LastSequence("transmitter-1", "counter"),
                                                                 LastSequence("transmitter-2", "counter"));
    const size_t mark = sim_->Mark();
    sim_->Send(fmt::format("fault 3 {}\n", c.fault));
    ASSERT_TRUE(sim_->WaitForLine(std::regex("^fault 3 "), kEventDeadline, mark));
    // A poll of transmitter-3 is two requests (input registers, then holding): a fault
    // that spoils the next request or two lands on whichever is sent next, so the flag
    // is looked for on every channel of the transmitter. (Waiting on `counter` alone
    // failed whenever the fault caught the temperature's request: a commit window that
    // moved by 80 ms was enough to move the race.)
    const auto flagged = WaitForReadings("transmitter-3", "", before, [&](const std::vector<Reading>& r) {
      return std::any_of(r.begin(), r.end(), [&](const Reading& x) {
        return std::find(c.expected.begin(), c.expected.end(), x.quality()) != c.expected.end();
      });
    });
    for (const Reading& r : flagged) {
      if (r.channel() == "counter") EXPECT_TRUE(Correct(r, 3)) << "a bad frame was stored as " << r.value();
      if (r.quality() != GOOD) {
        EXPECT_EQ(r.value(), 0);
        EXPECT_FALSE(r.detail().empty());
      }
    }
    // Healed: good values again, and the neighbours never noticed.
    const uint64_t healed_from = LastSequence("transmitter-3", "counter");
    sim_->Send("fault 3 none\n");
    const auto healed = WaitForReadings("transmitter-3", "counter", healed_from, [](const std::vector<Reading>& r) {
      return !r.empty() && r.back().quality() == GOOD;
    });
    ASSERT_FALSE(healed.empty());
    EXPECT_TRUE(Correct(healed.back(), 3));
  }
  for (int unit : {1, 2}) {
    for (const Reading& r : Readings(fmt::format("transmitter-{}", unit), "counter")) {
      EXPECT_TRUE(Correct(r, unit)) << "transmitter-" << unit << " stored " << r.value();
      if (r.sequence() <= neighbours_checked_to) {
        EXPECT_EQ(r.quality(), GOOD) << "transmitter-" << unit << ": " << r.detail();
      }
    }
  }
}

TEST_F(RtuLine, BusyOnceIsRetriedAndSplitOrSlowRepliesAreRead) {
  Start("");
  ASSERT_TRUE(daemon_->WaitForLine(std::regex("instrument transmitter-3 is now GOOD"), kEventDeadline))
      << daemon_->output();
  for (const std::string fault : {"exception 6 1", "split", "delay 40"}) {
    SCOPED_TRACE(fault);
    const uint64_t before = LastSequence("transmitter-3", "counter");
    const size_t mark = sim_->Mark();
    sim_->Send(fmt::format("fault 3 {}\n", fault));
    ASSERT_TRUE(sim_->WaitForLine(std::regex("^fault 3 "), kEventDeadline, mark));
    const auto readings = WaitForReadings("transmitter-3", "counter", before,
                                          [](const std::vector<Reading>& r) { return r.size() >= 5; });
    for (const Reading& r : readings) {
      EXPECT_EQ(r.quality(), GOOD) << r.detail();
      EXPECT_TRUE(Correct(r, 3));
    }
    sim_->Send("fault 3 none\n");
  }
  const auto temperatures = Readings("transmitter-3", "temperature");
  ASSERT_FALSE(temperatures.empty());
  EXPECT_NEAR(temperatures.back().value(), 23.3, 1e-5);  // float32 CDAB, 23.0 + 0.1·unit
}

// The USB-RS485 adapter pulled and plugged in again: the port is gone (the simulator
// closes its pseudo-terminal and links a new one at the same path). What was due meanwhile
// is flagged DISCONNECTED, never given a value; the port is reopened and every device is
// read again.
TEST_F(RtuLine, APulledAdapterIsFlaggedThenReopened) {
  Start("");
  ASSERT_TRUE(daemon_->WaitForLine(std::regex("instrument transmitter-3 is now GOOD"), kEventDeadline))
      << daemon_->output();
  std::map<int, uint64_t> before;
  for (int unit = 1; unit <= 3; ++unit) before[unit] = LastSequence(fmt::format("transmitter-{}", unit), "counter");
  const size_t mark = sim_->Mark(), daemon_mark = daemon_->Mark();
  sim_->Send("fault disconnect\n");
  ASSERT_TRUE(sim_->WaitForLine(std::regex("^fault disconnect: modbus-rtu on .* linked at"), kEventDeadline, mark))
      << sim_->output();
  ASSERT_TRUE(daemon_->WaitForLine(std::regex("bus rs485-1: connected to"), kEventDeadline, daemon_mark))
      << daemon_->output();
  // Each device good again after the reopening, and on the way a flagged reading of some
  // device (whichever was due when the port went), without a value.
  for (int unit = 1; unit <= 3; ++unit) {
    const std::string name = fmt::format("transmitter-{}", unit);
    const auto after = WaitForReadings(name, "counter", before[unit], [](const std::vector<Reading>& r) {
      return !r.empty() && r.back().quality() == GOOD;
    });
    ASSERT_FALSE(after.empty());
    for (const Reading& r : after) {
      EXPECT_TRUE(Correct(r, unit)) << name << " stored " << r.value();
      if (r.quality() != GOOD) {
        EXPECT_EQ(r.quality(), DISCONNECTED) << r.detail();
        EXPECT_EQ(r.value(), 0);
      }
    }
  }
  size_t flagged = 0;
  for (int unit = 1; unit <= 3; ++unit) {
    for (const Reading& r : Readings(fmt::format("transmitter-{}", unit), "counter")) {
      flagged += r.sequence() > before[unit] && r.quality() == DISCONNECTED;
    }
  }
  EXPECT_GT(flagged, 0u) << "no reading recorded that the port was gone";
}

// Coils, discrete inputs and register bits, read from the RTU simulator by the daemon's
// device code: coil n is 1 when n is a multiple of 3, discrete input n when n + unit is
// odd, holding register n holds unit·1000 + n.
TEST(RtuDevice, ReadsCoilsDiscreteInputsAndRegisterBits) {
  const std::string link = ::testing::TempDir() + "labtrace-rtu-bits";
  ChildProcess sim({LABTRACE_SIM_PATH, "modbus-rtu", "--link", link, "--baud", "115200", "--units", "5"});
  ASSERT_TRUE(sim.WaitForLine(std::regex("linked at"), kEventDeadline)) << sim.output();
  config::RegisterMap map;
  ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(R"pb(
    name: "bits"
    registers { name: "coil_3" table: COIL address: 3 type: BIT unit: "1" }
    registers { name: "coil_4" table: COIL address: 4 type: BIT unit: "1" }
    registers { name: "input_0" table: DISCRETE_INPUT address: 0 type: BIT unit: "1" }
    registers { name: "input_1" table: DISCRETE_INPUT address: 1 type: BIT unit: "1" }
    registers { name: "bit_2" table: HOLDING address: 100 type: BIT bit: 2 unit: "1" }
    registers { name: "bit_4" table: HOLDING address: 100 type: BIT bit: 4 unit: "1" }
  )pb", &map));
  auto device = modbus::ModbusDevice::Create("bits", 5, map, 0, 500ms);
  ASSERT_TRUE(device);
  modbus::ModbusRtuLink line({link, 115200, 'E', 1});
  ASSERT_TRUE(line.Connect().ok());
  std::map<std::string, double> values;
  for (const Reading& r : device->Poll(line)) {
    EXPECT_EQ(r.quality(), GOOD) << r.channel() << ": " << r.detail();
    values[r.channel()] = r.value();
  }
  // Holding 100 of unit 5 is 5100 = 0b1_0011_1110_1100: bit 2 set, bit 4 clear.
  EXPECT_EQ(values, (std::map<std::string, double>{{"coil_3", 1}, {"coil_4", 0}, {"input_0", 1}, {"input_1", 0},
                                                   {"bit_2", 1}, {"bit_4", 0}}));
}

// Writes go through the daemon, which owns the line: a broadcast reaches every unit, a
// write to one unit only that one, each is on the audit trail, and a refused or
// unanswered write says so.
TEST_F(RtuLine, WritesAndBroadcastWritesReachTheDevices) {
  Start("");
  ASSERT_TRUE(daemon_->WaitForLine(std::regex("instrument transmitter-3 is now GOOD"), kEventDeadline))
      << daemon_->output();
  const auto write = [this](std::vector<std::string> args, int expected_exit = 0) {
    args.insert(args.begin(), {"modbus", "write", "--bus", "rs485-1", "--reason",
                               "set the counters for the drill", "--server", server_});
    return testing::Labtrace(args, expected_exit);
  };
  const auto counter_becomes = [this](int unit, double value) {
    const auto name = fmt::format("transmitter-{}", unit);
    const auto readings = WaitForReadings(name, "counter", 0, [value](const std::vector<Reading>& r) {
      return !r.empty() && r.back().quality() == GOOD && r.back().value() == value;
    });
    EXPECT_FALSE(readings.empty()) << name << " never read " << value;
  };

  EXPECT_NE(write({"--unit", "0", "--address", "100", "--value", "4321"}).find("sent to every unit"), std::string::npos);
  for (int unit = 1; unit <= 3; ++unit) counter_becomes(unit, 4321);

  EXPECT_NE(write({"--unit", "2", "--address", "100", "--value", "777"}).find("written"), std::string::npos);
  counter_becomes(2, 777);
  EXPECT_EQ(Readings("transmitter-1", "counter").back().value(), 4321) << "a write to unit 2 reached unit 1";
  // Several registers: function 16.
  write({"--unit", "1", "--address", "100", "--value", "11", "--value", "12"});
  counter_becomes(1, 11);

  // Refused by the device (beyond its registers), and not answered (no unit 9 on the line).
  EXPECT_NE(write({"--unit", "3", "--address", "5000", "--value", "1"}, 2).find("exception 2"), std::string::npos);
  EXPECT_NE(write({"--unit", "9", "--address", "100", "--value", "1"}, 1).find("no reply from unit 9"),
            std::string::npos);

  // Who wrote what, and why.
  auto trail = cli::HttpGet(server_, "/v1/audit?entity=modbus:rs485-1/unit:0/register:100");
  ASSERT_TRUE(trail && trail->status == 200);
  const auto audit = ParseJson<api::AuditResponse>(trail->body);
  ASSERT_EQ(audit.events_size(), 1);
  EXPECT_EQ(audit.events(0).action(), "write");
  EXPECT_EQ(audit.events(0).actor(), testing::TestCallers::UserOf(ROLE_REVIEWER));
  EXPECT_EQ(audit.events(0).new_value(), "4321 (sent to every unit (broadcast: no reply))");
  EXPECT_EQ(audit.events(0).reason(), "set the counters for the drill");
  // A failed attempt is on the trail too: it may have changed something.
  auto failed = cli::HttpGet(server_, "/v1/audit?entity=modbus:rs485-1/unit:9/register:100");
  ASSERT_TRUE(failed && failed->status == 200);
  const auto failed_audit = ParseJson<api::AuditResponse>(failed->body);
  ASSERT_EQ(failed_audit.events_size(), 1);
  EXPECT_NE(failed_audit.events(0).new_value().find("failed: no reply from unit 9"), std::string::npos)
      << failed_audit.events(0).new_value();
}

}  // namespace
}  // namespace labtrace
