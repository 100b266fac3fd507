// The real labtraced reading the instruments that talk in lines of text — an SCPI
// multimeter (TCP and serial), Sartorius SBI and MT-SICS balances (asked, and printing by
// themselves), and a thermometer read by the generic line driver — each played by
// labtrace-sim on a pseudo-terminal or a TCP port. Faults are typed on the simulators'
// standard input; every wait is for an event (a log line, stored readings), never a sleep.
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <memory>
#include <regex>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "cli/http_client.h"
#include "labtrace/api.pb.h"
#include "support/child_process.h"
#include "support/daemon_process.h"
#include "support/labtrace_cli.h"
#include "support/readings.h"

namespace labtrace {
namespace {

namespace fs = std::filesystem;
using testing::ChildProcess;
using testing::FirstOf;
using testing::ParseJson;
using namespace std::chrono_literals;

constexpr auto kEventDeadline = 20s;

using Readings = std::vector<Reading>;

bool Any(const Readings& readings, Quality quality) { return testing::AnyOf(readings, {quality}); }

class TextInstruments : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / fmt::format("labtrace-text-{}-{}", getpid(),
                                                   ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override {
    daemon_.reset();
    sims_.clear();
    fs::remove_all(dir_);
  }

  // Starts `labtrace-sim ARGS…` and waits until it serves; returns where (a path or a port).
  std::string StartSim(std::vector<std::string> args) {
    args.insert(args.begin(), LABTRACE_SIM_PATH);
    auto& sim = sims_.emplace_back(std::make_unique<ChildProcess>(args));
    auto where = sim->WaitForLine(std::regex(R"((linked at (\S+)|listening on 127\.0\.0\.1:(\d+)))"), kEventDeadline);
    EXPECT_TRUE(where) << sim->output();
    if (!where) return {};
    return (*where)[2].empty() ? (*where)[3] : (*where)[2];
  }
  // A pseudo-terminal simulator at dir/name.
  std::string Serial(const std::string& name, std::vector<std::string> args) {
    args.insert(args.end(), {"--link", (dir_ / name).string()});
    return StartSim(args);
  }
  ChildProcess& Sim(size_t i) { return *sims_.at(i); }

  void StartDaemon(const std::string& config) {
    const std::string path = (dir_ / "lab.textproto").string();
    std::ofstream(path) << config;
    auto daemon = testing::StartDaemon(path, (dir_ / "data").string(), kEventDeadline);
    daemon_ = std::move(daemon.process);
    server_ = daemon.server;
    ASSERT_FALSE(server_.empty());
  }

  // Types `command` on simulator `i` and waits for its answer `echo`.
  void Type(size_t i, const std::string& command, const std::string& echo) {
    const size_t mark = Sim(i).Mark();
    Sim(i).Send(command + "\n");
    ASSERT_TRUE(Sim(i).WaitForLine(std::regex(echo), kEventDeadline, mark)) << Sim(i).output();
  }

  template <typename Done>
  Readings WaitFor(const std::string& instrument, const std::string& channel, uint64_t after, Done done) {
    return testing::WaitForReadings(*daemon_, server_, instrument, channel, after, done, kEventDeadline);
  }
  Readings WaitForQuality(const std::string& instrument, const std::string& channel, uint64_t after, Quality q) {
    return WaitFor(instrument, channel, after, [q](const Readings& r) { return Any(r, q); });
  }
  uint64_t Last(const std::string& instrument, const std::string& channel) {
    return testing::LastSequence(server_, instrument, channel);
  }
  api::InstrumentStatus Health(const std::string& instrument) {
    const auto health = ParseJson<api::HealthResponse>(testing::Labtrace({"health", "--json", "--server", server_}));
    for (const auto& status : health.instruments()) {
      if (status.instrument() == instrument) return status;
    }
    ADD_FAILURE() << "no health for " << instrument;
    return {};
  }
  std::vector<AuditEvent> Identifications(const std::string& instrument) {
    auto trail = cli::HttpGet(server_, "/v1/audit?entity=instrument:" + instrument);
    EXPECT_TRUE(trail && trail->status == 200);
    std::vector<AuditEvent> events;
    if (!trail) return events;
    const auto audit = ParseJson<api::AuditResponse>(trail->body);
    for (const AuditEvent& event : audit.events()) {
      if (event.action() == "identify") events.push_back(event);
    }
    return events;
  }

  fs::path dir_;
  std::string server_;
  std::vector<std::unique_ptr<ChildProcess>> sims_;
  std::unique_ptr<ChildProcess> daemon_;
};

constexpr const char* kScpiMeasurements = R"pb(
    scpi {
      setup: "*RST"
      setup: "CONF:VOLT:DC 10,1E-6"
      measurements { channel: "dc_voltage" query: "MEAS:VOLT:DC?" unit: "V" }
      measurements { channel: "resistance" query: "MEAS:RES?" unit: "Ω" }
    })pb";

TEST_F(TextInstruments, ScpiMeterOnTcpIsIdentifiedMeasuredAndFlagged) {
  const std::string port = StartSim({"scpi", "--tcp"});
  StartDaemon(fmt::format(R"pb(
    buses {{ name: "lan" tcp {{ host: "127.0.0.1" port: {} }} }}
    instruments {{ name: "dmm" driver: "scpi" bus: "lan" period_ms: 100 timeout_ms: 500 serial_number: "MY60012345" {} }}
  )pb", port, kScpiMeasurements));
  ASSERT_TRUE(daemon_->WaitForLine(std::regex("instrument dmm is now GOOD"), kEventDeadline)) << daemon_->output();

  // *IDN? at connect, on the instrument's health record and on the audit trail, firmware
  // included (ISO/IEC 17025 §6.4.13).
  const auto identity = Health("dmm").identity();
  EXPECT_EQ(identity.manufacturer(), "Keysight Technologies");
  EXPECT_EQ(identity.model(), "34465A");
  EXPECT_EQ(identity.serial_number(), "MY60012345");
  EXPECT_EQ(identity.firmware(), "A.03.01-02.40-03.01-00.52-03-01");
  // The audit event is committed with the next batch of readings.
  const size_t identified_at = daemon_->Mark();
  ASSERT_TRUE(daemon_->WaitForLine(std::regex("store: committed"), kEventDeadline, identified_at));
  const auto identified = Identifications("dmm");
  ASSERT_EQ(identified.size(), 1u);
  EXPECT_NE(identified[0].new_value().find("firmware A.03.01-02.40-03.01-00.52-03-01"), std::string::npos);

  // Values with the units of lab-config and the digits the meter printed:
  // "+1.09450300E-01" has its last digit at 1E-9 V.
  const auto good = WaitFor("dmm", "dc_voltage", 0, [](const Readings& r) { return Any(r, GOOD); });
  for (const Reading& r : good) {
    if (r.quality() != GOOD) continue;
    EXPECT_NEAR(r.value(), 0.1094503, 2e-6);
    EXPECT_EQ(r.unit(), "V");
    EXPECT_EQ(r.decimals(), 9);
    EXPECT_FALSE(r.raw_frame().empty());
  }
  const auto ohms = WaitFor("dmm", "resistance", 0, [](const Readings& r) { return Any(r, GOOD); });
  EXPECT_EQ(ohms.back().unit(), "Ω");

  // 9.9E37 and 9.91E37 are flags, never values.
  uint64_t before = Last("dmm", "dc_voltage");
  Type(0, "overload", "input overload");
  for (const Reading& r : WaitForQuality("dmm", "dc_voltage", before, OVERLOAD)) {
    if (r.quality() != OVERLOAD) continue;
    EXPECT_EQ(r.value(), 0);
    EXPECT_EQ(r.raw_frame(), "+9.90000000E+37\n");
  }
  before = Last("dmm", "dc_voltage");
  Type(0, "nan", "input nan");
  // One commit may hold later readings too: the flagged one is looked for, not taken last.
  const auto nan = FirstOf(WaitForQuality("dmm", "dc_voltage", before, NOT_A_NUMBER), NOT_A_NUMBER);
  ASSERT_TRUE(nan.has_value());
  EXPECT_EQ(nan->value(), 0);
  Type(0, "normal", "input normal");

  // An error queued during a poll is drained, logged, and takes that poll's values.
  before = Last("dmm", "dc_voltage");
  size_t mark = daemon_->Mark();
  Type(0, "error -222", "error -222 queued");
  const auto errored = FirstOf(WaitForQuality("dmm", "dc_voltage", before, DEVICE_ERROR), DEVICE_ERROR);
  ASSERT_TRUE(errored.has_value());
  EXPECT_NE(errored->detail().find("-222,\"Data out of range\""), std::string::npos) << errored->detail();
  EXPECT_EQ(errored->value(), 0);
  EXPECT_TRUE(daemon_->WaitForLine(std::regex(R"(instrument dmm: SCPI error -222,"Data out of range" during a poll)"),
                                   kEventDeadline, mark));
  WaitForQuality("dmm", "dc_voltage", errored->sequence(), GOOD);

  // A reply later than the timeout: that query is flagged, and no later reply is taken
  // for another query's (a volt value stored as ohms): the poll stops until *OPC? shows
  // the meter in step again.
  // (The delayed reply may be either query's, or the error queue's.) Waited for commit
  // by commit until a flagged reading is stored on either channel, then until both are
  // good again after it.
  const uint64_t before_voltage = Last("dmm", "dc_voltage"), before_resistance = Last("dmm", "resistance");
  Type(0, "fault delay 700 1", "fault delay");
  uint64_t flagged_at = 0;
  WaitFor("dmm", "dc_voltage", before_voltage, [&](const Readings& voltage) {
    for (const Reading& r : voltage) {
      if (r.quality() != GOOD) flagged_at = std::max(flagged_at, r.sequence());
    }
    for (const Reading& r : testing::StoredReadings(server_, "dmm", "resistance")) {
      if (r.sequence() > before_resistance && r.quality() != GOOD) flagged_at = std::max(flagged_at, r.sequence());
    }
    return flagged_at != 0;
  });
  ASSERT_NE(flagged_at, 0u) << "the late reply went unnoticed";
  for (const auto& [channel, truth, since] : {std::tuple{"dc_voltage", 0.1094503, before_voltage},
                                              std::tuple{"resistance", 99.9987, before_resistance}}) {
    WaitFor("dmm", channel, flagged_at, [](const Readings& r) { return Any(r, GOOD); });
    for (const Reading& r : testing::StoredReadings(server_, "dmm", channel)) {
      if (r.sequence() > since && r.quality() == GOOD) {
        EXPECT_NEAR(r.value(), truth, 1e-3) << channel << " took another query's reply: " << r.raw_frame();
      }
    }
  }

  // The meter drops the connection: flagged, then read again after a reconnect, which
  // identifies it again (the same identity: no new audit event).
  before = Last("dmm", "dc_voltage");
  Type(0, "fault disconnect 1", "fault disconnect");
  const auto dropped = WaitForQuality("dmm", "dc_voltage", before, DISCONNECTED);
  ASSERT_FALSE(dropped.empty());
  WaitForQuality("dmm", "dc_voltage", dropped.back().sequence(), GOOD);
  EXPECT_EQ(Identifications("dmm").size(), 1u);
}

TEST_F(TextInstruments, ScpiMeterOnASerialLine) {
  const std::string link = Serial("dmm", {"scpi"});
  StartDaemon(fmt::format(R"pb(
    buses {{ name: "rs232" serial {{ device: "{}" baud: 9600 }} }}
    instruments {{ name: "dmm" driver: "scpi" bus: "rs232" period_ms: 100 {} }}
  )pb", link, kScpiMeasurements));
  const auto good = FirstOf(WaitFor("dmm", "dc_voltage", 0, [](const Readings& r) { return Any(r, GOOD); }), GOOD);
  ASSERT_TRUE(good.has_value());
  EXPECT_NEAR(good->value(), 0.1094503, 2e-6);
  EXPECT_EQ(Health("dmm").identity().model(), "34465A");
}

TEST_F(TextInstruments, SbiBalanceAskedAndPrintingByItself) {
  const std::string asked = Serial("sbi-asked", {"sbi"});
  const std::string printing = Serial("sbi-printing", {"sbi"});
  // The printing balance's period is a minute: every reading it gives within the test
  // came because it printed, not because it was asked.
  StartDaemon(fmt::format(R"pb(
    buses {{ name: "rs232-1" serial {{ device: "{}" }} }}
    buses {{ name: "rs232-2" serial {{ device: "{}" }} }}
    instruments {{ name: "asked" driver: "sbi" bus: "rs232-1" period_ms: 100 timeout_ms: 300 }}
    instruments {{ name: "printing" driver: "sbi" bus: "rs232-2" period_ms: 60000 sbi {{ mode: PUSHED }} }}
  )pb", asked, printing));
  const auto good = FirstOf(WaitFor("asked", "mass", 0, [](const Readings& r) { return Any(r, GOOD); }), GOOD);
  ASSERT_TRUE(good.has_value());
  EXPECT_DOUBLE_EQ(good->value(), 100.0002);
  EXPECT_EQ(good->decimals(), 4);
  EXPECT_EQ(good->unit(), "g");
  EXPECT_EQ(good->raw_frame(), "+ 100.0002 g  \r\n");
  const auto identity = Health("asked").identity();
  EXPECT_EQ(identity.manufacturer(), "Sartorius");
  EXPECT_EQ(identity.model(), "SECURA224-1S");
  EXPECT_EQ(identity.serial_number(), "0034512345");
  EXPECT_EQ(identity.firmware(), "00-37-09");

  // Not stable: printed without a unit, stored as UNSTABLE in the balance's unit.
  uint64_t before = Last("asked", "mass");
  Type(0, "motion on", "motion on");
  const auto moving = WaitForQuality("asked", "mass", before, UNSTABLE);
  EXPECT_EQ(moving.back().unit(), "g");
  Type(0, "motion off", "motion off");
  // The display's special states are flags.
  for (const auto& [typed, echo, quality] : {std::tuple{"error 54", "error 54", DEVICE_ERROR},
                                           std::tuple{"error 0", "error 0", GOOD},
                                           std::tuple{"load 300", "load 300", OVERLOAD},
                                           std::tuple{"load -1", "load -1", UNDERLOAD},
                                           std::tuple{"load 100.0002", "load 100.0002", GOOD}}) {
    SCOPED_TRACE(typed);
    before = Last("asked", "mass");
    Type(0, typed, echo);
    const auto flagged = FirstOf(WaitForQuality("asked", "mass", before, quality), quality);
    ASSERT_TRUE(flagged.has_value());
    if (quality != GOOD) {
      EXPECT_EQ(flagged->value(), 0);
    }
  }

  // The print key pressed three times: three readings, no request.
  ASSERT_TRUE(daemon_->WaitForLine(std::regex("instrument printing: identifies as Sartorius"), kEventDeadline));
  for (int i = 0; i < 3; ++i) Sim(1).Send("print\n");
  const auto printed = WaitFor("printing", "mass", 0, [](const Readings& r) { return r.size() >= 3; });
  ASSERT_EQ(printed.size(), 3u);
  for (const Reading& r : printed) {
    EXPECT_EQ(r.quality(), GOOD);
    EXPECT_DOUBLE_EQ(r.value(), 100.0002);
  }
}

// An older balance that never answers ESC x, printing every 20 ms: identification must
// give up on each question in time, keep the weights printed meanwhile, and go on (it
// once waited for ever, each print line restarting the wait).
TEST_F(TextInstruments, SbiBalanceThatCannotIdentifyItselfIsStillRead) {
  const std::string link = Serial("sbi", {"sbi", "--anonymous", "--print-interval-ms", "20"});
  StartDaemon(fmt::format(R"pb(
    buses {{ name: "rs232" serial {{ device: "{}" }} }}
    instruments {{ name: "old-balance" driver: "sbi" bus: "rs232" period_ms: 60000 timeout_ms: 200 sbi {{ mode: PUSHED }} }}
  )pb", link));
  const auto printed = WaitFor("old-balance", "mass", 0, [](const Readings& r) { return r.size() >= 40; });
  for (const Reading& r : printed) {
    EXPECT_EQ(r.quality(), GOOD) << r.detail();
    EXPECT_DOUBLE_EQ(r.value(), 100.0002);
  }
  EXPECT_FALSE(Health("old-balance").has_identity()) << "a balance that said nothing has no identity";
  EXPECT_TRUE(Identifications("old-balance").empty());
}

TEST_F(TextInstruments, MtSicsBalanceInAutoPrintIsIdentifiedBetweenItsPrints) {
  // It prints every 20 ms, so its identification replies arrive between printed weights.
  const std::string link = Serial("balance", {"mt-sics", "--print-interval-ms", "20"});
  StartDaemon(fmt::format(R"pb(
    buses {{ name: "rs232" serial {{ device: "{}" }} }}
    instruments {{ name: "balance" driver: "mt-sics" bus: "rs232" period_ms: 60000 mt_sics {{ mode: PUSHED }} }}
  )pb", link));
  const auto printed = WaitFor("balance", "mass", 0, [](const Readings& r) { return r.size() >= 20; });
  for (const Reading& r : printed) {
    EXPECT_EQ(r.quality(), GOOD) << r.detail();
    EXPECT_NEAR(r.value(), 100.0, 0.001);
  }
  const auto identity = Health("balance").identity();
  EXPECT_EQ(identity.manufacturer(), "Mettler Toledo");
  EXPECT_EQ(identity.model(), "XS205DU 220 g");
  EXPECT_EQ(identity.serial_number(), "B312345678");
  EXPECT_EQ(identity.firmware(), "3.2.11");
  // Printed while moving: S D, dynamic.
  const uint64_t before = printed.back().sequence();
  Type(0, "motion on", "motion on");
  EXPECT_FALSE(WaitForQuality("balance", "mass", before, UNSTABLE).empty());
}

TEST_F(TextInstruments, LineDriverReadsAThermometerWithItsPattern) {
  const std::string asked = Serial("asked", {"printer"});
  const std::string printing = Serial("printing", {"printer"});
  const char* kLine = R"pb(
      pattern: "T1=\\s*(?<value>[-+]?[0-9]+\\.[0-9]+) (?<unit>°C)"
      skip_pattern: "TM-920 .*"
      unit: "°C")pb";
  StartDaemon(fmt::format(R"pb(
    buses {{ name: "rs232-1" serial {{ device: "{}" }} }}
    buses {{ name: "rs232-2" serial {{ device: "{}" }} }}
    instruments {{ name: "asked" driver: "line" bus: "rs232-1" period_ms: 100 line {{ {} command: "D" }} }}
    instruments {{ name: "printing" driver: "line" bus: "rs232-2" period_ms: 60000 line {{ {} channel: "temperature" }} }}
  )pb", asked, printing, kLine, kLine));
  // The first print carries the header line: skipped, not stored as a bad frame.
  const auto good = WaitFor("asked", "value", 0, [](const Readings& r) { return r.size() >= 3; });
  for (const Reading& r : good) {
    EXPECT_EQ(r.quality(), GOOD) << r.detail();
    EXPECT_NEAR(r.value(), 23.45, 0.05);
    EXPECT_EQ(r.unit(), "°C");
    EXPECT_EQ(r.decimals(), 2);
  }
  // A line the pattern does not read is a bad frame, kept as evidence, without a value.
  uint64_t before = Last("asked", "value");
  Type(0, "probe off", "probe off");
  const auto broken = WaitForQuality("asked", "value", before, BAD_FRAME);
  EXPECT_EQ(broken.back().raw_frame(), "T1=  ---- \u00b0C\r\n");
  EXPECT_EQ(broken.back().value(), 0);

  // Listening: the header and two prints give two readings.
  ASSERT_TRUE(daemon_->WaitForLine(std::regex("instrument printing: connected on"), kEventDeadline));
  Type(1, "temperature 37.02", "temperature 37.02");
  Sim(1).Send("print\nprint\n");
  const auto printed = WaitFor("printing", "temperature", 0, [](const Readings& r) { return r.size() >= 2; });
  ASSERT_EQ(printed.size(), 2u);
  for (const Reading& r : printed) {
    EXPECT_EQ(r.quality(), GOOD);
    EXPECT_NEAR(r.value(), 37.02, 0.05);
  }
}

// The faults every text simulator can inject, on a balance read by tokens (MT-SICS) and
// one read by columns (SBI): each is flagged, nothing is stored as a good value unless
// it is the true one, and the balance is read again afterwards.
TEST_F(TextInstruments, EachFaultClassIsFlaggedAndNeverStoredAsAGoodValue) {
  const std::string sics = Serial("sics", {"mt-sics"});
  const std::string sbi = Serial("sbi", {"sbi"});
  StartDaemon(fmt::format(R"pb(
    buses {{ name: "rs232-1" serial {{ device: "{}" }} }}
    buses {{ name: "rs232-2" serial {{ device: "{}" }} }}
    instruments {{ name: "sics" driver: "mt-sics" bus: "rs232-1" period_ms: 50 timeout_ms: 200 }}
    instruments {{ name: "sbi" driver: "sbi" bus: "rs232-2" period_ms: 50 timeout_ms: 200 }}
  )pb", sics, sbi));
  struct Case {
    std::string fault;
    std::vector<Quality> expected;  // a reading with one of these must follow
  };
  const std::vector<Case> cases = {
      {"garbage 2", {BAD_FRAME}},        {"noise-prefix 2", {BAD_FRAME}}, {"split 3", {GOOD}},
      {"no-reply 2", {NO_REPLY}},        {"delay 400 1", {NO_REPLY}},     {"disconnect 1", {DISCONNECTED, NO_REPLY}},
  };
  const std::pair<std::string, double> balances[] = {{"sics", 100.0}, {"sbi", 100.0002}};
  for (size_t b = 0; b < 2; ++b) {
    const auto& [name, truth] = balances[b];
    ASSERT_TRUE(daemon_->WaitForLine(std::regex("instrument " + name + " is now GOOD"), kEventDeadline));
    for (const Case& c : cases) {
      SCOPED_TRACE(name + ": " + c.fault);
      const uint64_t before = Last(name, "mass");
      Type(b, "fault " + c.fault, "^fault ");
      const auto flagged = WaitFor(name, "mass", before, [&](const Readings& r) {
        return std::any_of(r.begin(), r.end(), [&](const Reading& x) {
          return std::find(c.expected.begin(), c.expected.end(), x.quality()) != c.expected.end();
        });
      });
      ASSERT_FALSE(flagged.empty());
      // Then good again, and every good value on the way is the true one.
      const auto all = WaitFor(name, "mass", before, [&](const Readings& r) {
        return r.size() > flagged.size() && r.back().quality() == GOOD;
      });
      for (const Reading& r : all) {
        if (r.quality() == GOOD) EXPECT_NEAR(r.value(), truth, 0.001) << r.raw_frame();
        else EXPECT_EQ(r.value(), 0) << Quality_Name(r.quality());
      }
    }
  }
}

}  // namespace
}  // namespace labtrace
