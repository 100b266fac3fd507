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

#include "cli/event_stream.h"
#include "cli/http_client.h"
#include "labtrace/api.pb.h"
#include "labtrace/clock.h"
#include "support/child_process.h"
#include "support/test_callers.h"

namespace labtrace {
namespace {

namespace fs = std::filesystem;
using testing::ChildProcess;
using namespace std::chrono_literals;

constexpr auto kEventDeadline = 15s;

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
    testing::EnrolTestCallers((dir_ / "data").string(), config_path_);
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

// Live readings: a console opens GET /v1/readings/stream and gets each reading once the
// store has committed it, as stored; `labtrace readings --follow` prints them.
TEST_F(DaemonWithSimulators, StreamsCommittedReadingsAsTheyAreStored) {
  auto stream = cli::EventStream::Open(server_, "/v1/readings/stream?instrument=climate-1&channel=temperature");
  ASSERT_TRUE(stream) << stream.error().message();
  std::vector<Reading> received;
  while (received.size() < 3) {
    auto event = stream->Next();
    ASSERT_TRUE(event) << event.error().message() << daemon_->output();
    ASSERT_EQ(event->event, "reading") << event->data;
    Reading reading;
    ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(event->data, &reading).ok()) << event->data;
    EXPECT_EQ(event->id, std::to_string(reading.sequence()));
    EXPECT_EQ(reading.instrument(), "climate-1");
    EXPECT_EQ(reading.channel(), "temperature") << "the stream's filter lets other channels through";
    if (!received.empty()) EXPECT_GT(reading.sequence(), received.back().sequence());
    received.push_back(std::move(reading));
  }
  // Sent after the commit: each is in the store already, exactly as streamed.
  const auto stored = Query(fmt::format("instrument=climate-1&channel=temperature&after_sequence={}",
                                        received.front().sequence() - 1));
  ASSERT_GE(stored.readings_size(), 3);
  for (size_t i = 0; i < received.size(); ++i) {
    EXPECT_EQ(stored.readings(static_cast<int>(i)).SerializeAsString(), received[i].SerializeAsString()) << i;
  }
  // Unknown parameters are refused before anything streams.
  auto typo = cli::EventStream::Open(server_, "/v1/readings/stream?instrumnet=climate-1");
  ASSERT_FALSE(typo);
  EXPECT_NE(typo.error().message().find("unknown query parameter"), std::string::npos) << typo.error().message();

  ChildProcess follow({LABTRACE_CLI_PATH, "readings", "--follow", "--instrument", "balance", "--server", server_});
  EXPECT_TRUE(follow.WaitForLine(std::regex(R"(balance\s+mass\s+\d+\.\d{5}\s+g\s+good\s+polled\s+\d+)"), kEventDeadline))
      << follow.output();
  EXPECT_EQ(follow.output().find("climate-1"), std::string::npos) << follow.output();
  EXPECT_EQ(follow.Stop(SIGTERM), 128 + SIGTERM);
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

namespace labtrace {
namespace {

// Corrections and the audit trail through the API: a correction is a new version naming
// the one it supersedes; the old one stays; the audit trail says who, when, what and why;
// configuration changes are on the trail too; and the store still verifies.
TEST(DaemonRecords, CorrectionsAndConfigurationChangesAreOnTheAuditTrail) {
  const fs::path dir = fs::temp_directory_path() / fmt::format("labtrace-audit-{}", getpid());
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string config = (dir / "lab.textproto").string();
  // lab-pc-7 uploads: only an instrument declared as uploading may be named by an upload.
  std::ofstream(config) << "name: \"audit lab\"\ninstruments { name: \"lab-pc-7\" driver: \"upload\" }\n";
  testing::TestCallers callers;
  auto start = [&] {
    callers = testing::EnrolTestCallers((dir / "data").string(), config);
    auto daemon = std::make_unique<ChildProcess>(std::vector<std::string>{
        LABTRACED_PATH, "--config", config, "--data", (dir / "data").string(), "--listen", "127.0.0.1:0"});
    auto listening = daemon->WaitForLine(std::regex(R"(api: listening on (http://[0-9.:]+))"), kEventDeadline);
    EXPECT_TRUE(listening) << daemon->output();
    return std::pair{std::move(daemon), listening ? (*listening)[1] : std::string()};
  };
  auto [daemon, server] = start();

  api::UploadRequest upload;
  upload.set_idempotency_key("pc-7-weighing-3");
  Reading* r = upload.add_readings();
  r->set_instrument("lab-pc-7");
  r->set_channel("mass");
  r->set_value(100.0213);
  r->set_unit("g");
  r->set_quality(GOOD);
  r->set_requested_at_ns(NowNs());
  std::string json;
  ASSERT_TRUE(google::protobuf::util::MessageToJsonString(upload, &json).ok());
  auto uploaded = cli::HttpPostAs(server, "/v1/uploads", json, callers.uploader);
  ASSERT_TRUE(uploaded && uploaded->status == 200) << (uploaded ? uploaded->body : uploaded.error().message());
  api::UploadReceipt receipt;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(uploaded->body, &receipt).ok());

  // Naming someone else as the one who corrects is refused: the actor is the caller.
  auto as_another = cli::HttpPost(server, fmt::format("/v1/readings/{}/corrections", receipt.first_sequence()),
                                  R"({"actor": "nguyen.van.a", "reason": "value typed from the wrong line",
                                      "corrected": {"value": 100.0231, "unit": "g", "quality": "GOOD"}})");
  ASSERT_TRUE(as_another);
  EXPECT_EQ(as_another->status, 403) << as_another->body;
  const std::string correction = R"({"reason": "value typed from the wrong line",
                                     "corrected": {"value": 100.0231, "unit": "g", "quality": "GOOD"}})";
  auto corrected = cli::HttpPost(server, fmt::format("/v1/readings/{}/corrections", receipt.first_sequence()), correction);
  ASSERT_TRUE(corrected && corrected->status == 200) << (corrected ? corrected->body : corrected.error().message());
  api::CorrectionReceipt correction_receipt;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(corrected->body, &correction_receipt).ok());
  EXPECT_EQ(correction_receipt.supersedes_sequence(), receipt.first_sequence());

  // Without a reason, or for a reading that does not exist, nothing is stored.
  auto no_reason = cli::HttpPost(server, fmt::format("/v1/readings/{}/corrections", receipt.first_sequence()),
                                 R"({"corrected": {"value": 1, "unit": "g", "quality": "GOOD"}})");
  EXPECT_EQ(no_reason->status, 400) << no_reason->body;
  auto unknown = cli::HttpPost(server, "/v1/readings/999999/corrections", correction);
  EXPECT_EQ(unknown->status, 404) << unknown->body;

  auto both = cli::HttpGet(server, "/v1/readings?instrument=lab-pc-7&all_versions=true");
  api::ReadingsResponse versions;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(both->body, &versions).ok());
  ASSERT_EQ(versions.readings_size(), 2);
  EXPECT_EQ(versions.readings(0).value(), 100.0213) << "the original stays as it was";
  EXPECT_EQ(versions.readings(1).value(), 100.0231);
  EXPECT_EQ(versions.readings(1).supersedes_sequence(), receipt.first_sequence());
  EXPECT_EQ(versions.readings(0).provenance().source(), Provenance::UPLOADED);
  EXPECT_EQ(versions.readings(1).provenance().source(), Provenance::TYPED) << "a correction is a person's value";
  EXPECT_EQ(versions.readings(1).provenance().user(), testing::TestCallers::UserOf(ROLE_REVIEWER));

  auto trail = cli::HttpGet(server, fmt::format("/v1/audit?entity=reading:{}", receipt.first_sequence()));
  api::AuditResponse audit;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(trail->body, &audit).ok()) << trail->body;
  ASSERT_EQ(audit.events_size(), 1);
  EXPECT_EQ(audit.events(0).action(), "amend");
  EXPECT_EQ(audit.events(0).actor(), testing::TestCallers::UserOf(ROLE_REVIEWER));
  EXPECT_EQ(audit.events(0).reason(), "value typed from the wrong line");
  EXPECT_NE(audit.events(0).old_value().find("100.0213 g"), std::string::npos);
  EXPECT_NE(audit.events(0).new_value().find("100.0231 g"), std::string::npos);
  EXPECT_GT(audit.events(0).time_ns(), 0);
  EXPECT_EQ(daemon->Stop(SIGTERM), 0);

  // Restarted with the same configuration: "start"; with a changed one: "configure".
  std::tie(daemon, server) = start();
  EXPECT_EQ(daemon->Stop(SIGTERM), 0);
  std::ofstream(config) << "name: \"audit lab, renamed\"\ninstruments { name: \"lab-pc-7\" driver: \"upload\" }\n";
  std::tie(daemon, server) = start();
  auto config_trail = cli::HttpGet(server, "/v1/audit?entity=lab-config");
  api::AuditResponse configs;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(config_trail->body, &configs).ok());
  ASSERT_EQ(configs.events_size(), 3);
  EXPECT_EQ(configs.events(0).action(), "configure");
  EXPECT_EQ(configs.events(1).action(), "start");
  EXPECT_EQ(configs.events(2).action(), "configure");
  EXPECT_EQ(configs.events(2).old_value(), configs.events(1).new_value());
  EXPECT_NE(configs.events(2).new_value(), configs.events(2).old_value());
  EXPECT_EQ(daemon->Stop(SIGTERM), 0);

  ChildProcess verify({LABTRACE_CLI_PATH, "verify", "--db", (dir / "data" / "labtrace.db").string(), "--no-progress"});
  EXPECT_EQ(verify.WaitForExit(kEventDeadline), 0) << verify.output();
  fs::remove_all(dir);
}

}  // namespace
}  // namespace labtrace

namespace labtrace {
namespace {

// ISO/IEC 17025 §6.4.9: an instrument past its calibration's due date is not used. Its
// readings are refused at capture (flagged, no value, certificate frozen on each); an
// approved override lets them through and is put on the audit trail.
class ExpiredCalibration : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / fmt::format("labtrace-expired-{}-{}", getpid(),
                                                   ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    balance_ = std::make_unique<ChildProcess>(
        std::vector<std::string>{LABTRACE_SIM_PATH, "mt-sics", "--link", (dir_ / "balance").string()});
    ASSERT_TRUE(balance_->WaitForLine(std::regex("linked at"), kEventDeadline)) << balance_->output();
  }
  void TearDown() override {
    daemon_.reset();
    balance_.reset();
    fs::remove_all(dir_);
  }

  // Starts the daemon on a balance whose calibration ran out on 2025-03-31.
  void Start(const std::string& override_block) {
    const std::string config = (dir_ / "lab.textproto").string();
    std::ofstream(config) << fmt::format(R"pb(
buses {{ name: "rs232" serial {{ device: "{}" }} }}
instruments {{
  name: "balance" driver: "mt-sics" bus: "rs232" period_ms: 100
  calibration {{ certificate: "VMI-2024-00112" issuer: "VMI" due_date: "2025-03-31" {} }}
}}
)pb", (dir_ / "balance").string(), override_block);
    testing::EnrolTestCallers((dir_ / "data").string(), config);
    daemon_ = std::make_unique<ChildProcess>(std::vector<std::string>{
        LABTRACED_PATH, "--config", config, "--data", (dir_ / "data").string(), "--listen", "127.0.0.1:0",
        "--log-level", "debug"});
    auto listening = daemon_->WaitForLine(std::regex(R"(api: listening on (http://[0-9.:]+))"), kEventDeadline);
    ASSERT_TRUE(listening) << daemon_->output();
    server_ = (*listening)[1];
  }

  api::ReadingsResponse Readings() {
    // One committed batch after the state change is enough to look at.
    EXPECT_TRUE(daemon_->WaitForLine(std::regex("store: committed"), kEventDeadline, daemon_->Mark()));
    api::ReadingsResponse response;
    auto reply = cli::HttpGet(server_, "/v1/readings?instrument=balance");
    EXPECT_TRUE(reply && google::protobuf::util::JsonStringToMessage(reply->body, &response).ok());
    return response;
  }

  fs::path dir_;
  std::string server_;
  std::unique_ptr<ChildProcess> balance_, daemon_;
};

TEST_F(ExpiredCalibration, ReadingsAreRefusedAtCapture) {
  Start("");
  ASSERT_TRUE(daemon_->WaitForLine(std::regex("instrument balance is now NOT GOOD \\(CALIBRATION_EXPIRED"),
                                   kEventDeadline))
      << daemon_->output();
  EXPECT_NE(daemon_->output().find("calibration VMI-2024-00112 expired after 2025-03-31"), std::string::npos);
  const auto readings = Readings();
  ASSERT_GT(readings.readings_size(), 0);
  for (const auto& reading : readings.readings()) {
    EXPECT_EQ(reading.quality(), CALIBRATION_EXPIRED);
    EXPECT_EQ(reading.value(), 0) << "a refused reading keeps no value";
    EXPECT_FALSE(reading.raw_frame().empty()) << "but keeps its frame as evidence";
    EXPECT_EQ(reading.calibration_certificate(), "VMI-2024-00112");
    EXPECT_EQ(reading.calibration_due_date(), "2025-03-31");
  }
}

TEST_F(ExpiredCalibration, ApprovedOverrideIsReadAndRecorded) {
  Start(R"(override_expired { approved_by: "tran.thi.b" reason: "recalibration booked for 2026-12-02; daily check with E2 weight passed" })");
  ASSERT_TRUE(daemon_->WaitForLine(std::regex("instrument balance is now GOOD"), kEventDeadline)) << daemon_->output();
  const auto readings = Readings();
  ASSERT_GT(readings.readings_size(), 0);
  EXPECT_EQ(readings.readings(0).quality(), GOOD);
  EXPECT_EQ(readings.readings(0).calibration_certificate(), "VMI-2024-00112");

  auto trail = cli::HttpGet(server_, "/v1/audit?entity=instrument:balance");
  api::AuditResponse audit;
  ASSERT_TRUE(trail && google::protobuf::util::JsonStringToMessage(trail->body, &audit).ok());
  // The override, and the balance's identification read at connect.
  std::vector<AuditEvent> overrides;
  for (const AuditEvent& event : audit.events()) {
    if (event.action() == "override") overrides.push_back(event);
  }
  ASSERT_EQ(overrides.size(), 1u);
  EXPECT_EQ(overrides[0].actor(), "tran.thi.b");
  EXPECT_EQ(overrides[0].reason(), "recalibration booked for 2026-12-02; daily check with E2 weight passed");
}

}  // namespace
}  // namespace labtrace
