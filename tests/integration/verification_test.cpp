// A verification from start to finish, as a technician does it on the demo lab: the
// customer's 30 kg class III platform scale (a simulated IND570 on a pseudo-terminal) is
// loaded with the M1 weights; labtraced reads each stable weighing; `labtrace calibration
// submit` makes the verification record from those readings; the report prints errors,
// MPE, U, verdict, stamp and the chain; reverse trace of the weights finds the record.
//
// Expected numbers are worked by hand from the simulator's span error (the indication is
// the reference mass × (1 + ppm·10⁻⁶), rounded to d = 1 g) and DOMAIN.md W3's MPEs.
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <future>
#include <memory>
#include <regex>
#include <sstream>

#include <fmt/format.h>
#include <google/protobuf/text_format.h>
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>

#include "cli/http_client.h"
#include "labtrace/api.pb.h"
#include "labtrace/clock.h"
#include "store/record_store.h"
#include "support/child_process.h"
#include "support/daemon_process.h"
#include "support/demo_lab.h"
#include "support/labtrace_cli.h"

namespace labtrace {
namespace {

namespace fs = std::filesystem;
using testing::ChildProcess;
using testing::Labtrace;
using testing::ParseJson;
using namespace std::chrono_literals;

constexpr auto kEventDeadline = 15s;

// Today in the demo lab (Asia/Ho_Chi_Minh: UTC+7, no daylight saving) + 12 months − 1
// day, with the standard library's calendar.
std::string ExpectedDueDate() {
  using namespace std::chrono;
  const year_month_day today{floor<days>(system_clock::now() + hours(7))};
  year_month_day same_day_next_year = today + years(1);
  if (!same_day_next_year.ok()) same_day_next_year = same_day_next_year.year() / same_day_next_year.month() / last;
  const year_month_day due{sys_days(same_day_next_year) - days(1)};
  return fmt::format("{:04}-{:02}-{:02}", static_cast<int>(due.year()), static_cast<unsigned>(due.month()),
                     static_cast<unsigned>(due.day()));
}

class PlatformScaleVerification : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / fmt::format("labtrace-verify-{}", getpid());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    climate_ = std::make_unique<ChildProcess>(std::vector<std::string>{LABTRACE_SIM_PATH, "modbus-tcp", "--port", "0"});
    auto port = climate_->WaitForLine(std::regex(R"(listening on 127\.0\.0\.1:(\d+))"), kEventDeadline);
    ASSERT_TRUE(port) << climate_->output();
    balance_ = std::make_unique<ChildProcess>(
        std::vector<std::string>{LABTRACE_SIM_PATH, "mt-sics", "--link", (dir_ / "balance-xs205").string()});
    scale_ = std::make_unique<ChildProcess>(std::vector<std::string>{
        LABTRACE_SIM_PATH, "mt-sics", "--balance", "ind570-30kg", "--span-error-ppm", "100", "--link",
        (dir_ / "platform-scale").string()});
    ASSERT_TRUE(balance_->WaitForLine(std::regex("linked at"), kEventDeadline)) << balance_->output();
    ASSERT_TRUE(scale_->WaitForLine(std::regex("linked at"), kEventDeadline)) << scale_->output();

    // The demo lab, dated today as the demo runs it, pointed at this test's simulators.
    config_path_ = testing::DemoLabToday(dir_, (*port)[1]);
    ASSERT_FALSE(config_path_.empty());

    auto daemon = testing::StartDaemon(config_path_, (dir_ / "data").string(), kEventDeadline);
    daemon_ = std::move(daemon.process);
    server_ = daemon.server;
    ASSERT_FALSE(server_.empty());
    ASSERT_TRUE(daemon_->WaitForLine(std::regex("instrument climate-1 is now GOOD"), kEventDeadline)) << daemon_->output();
    ASSERT_TRUE(daemon_->WaitForLine(std::regex("instrument platform-scale is now GOOD"), kEventDeadline))
        << daemon_->output();
  }

  void TearDown() override {
    daemon_.reset();
    climate_.reset();
    balance_.reset();
    scale_.reset();
    fs::remove_all(dir_);
  }

  // Puts `kg` on the pan and returns the sequence of the first stored weighing that shows
  // `indication`: the technician reading the display once it has settled.
  uint64_t LoadAndRead(double kg, double indication) {
    const size_t sim_mark = scale_->Mark();
    scale_->Send(fmt::format("load {:.6f} kg\n", kg));
    EXPECT_TRUE(scale_->WaitForLine(std::regex("on the pan"), kEventDeadline, sim_mark)) << scale_->output();
    const auto deadline = std::chrono::steady_clock::now() + kEventDeadline;
    while (std::chrono::steady_clock::now() < deadline) {
      const size_t mark = daemon_->Mark();
      if (!daemon_->WaitForLine(std::regex("store: committed"), kEventDeadline, mark)) break;
      auto reply = cli::HttpGet(server_, "/v1/readings?instrument=platform-scale&last=1");
      if (!reply || reply->status != 200) continue;
      const auto readings = ParseJson<api::ReadingsResponse>(reply->body);
      if (readings.readings_size() == 1 && std::fabs(readings.readings(0).value() - indication) < 1e-9) {
        return readings.readings(0).sequence();
      }
    }
    ADD_FAILURE() << "the scale never showed " << indication << " kg\n" << daemon_->output();
    return 0;
  }

  api::CalibrationRequest Request(const std::string& key) {
    api::CalibrationRequest request;
    request.set_idempotency_key(key);
    request.set_procedure("KD-CAN-III");
    request.set_mode(PERIODIC);
    UnitUnderTest* uut = request.mutable_unit_under_test();
    uut->set_id("platform-scale");
    uut->set_owner("Công ty TNHH Thực phẩm Sao Mai");
    uut->set_accuracy_class("III");
    uut->set_max_capacity(30);
    uut->set_verification_interval_e(0.01);
    uut->set_indication_interval_d(0.001);
    uut->set_unit("kg");
    return request;
  }

  static void AddPoint(api::CalibrationRequest& request, double nominal, const std::string& unit, uint64_t sequence) {
    api::PointRequest* point = request.add_points();
    point->set_nominal(nominal);
    point->set_unit(unit);
    point->set_standard("M1-SET-01");
    point->set_reading_sequence(sequence);
  }

  std::string Write(const api::CalibrationRequest& request, const std::string& name) {
    std::string text;
    google::protobuf::TextFormat::PrintToString(request, &text);
    const std::string path = (dir_ / name).string();
    std::ofstream(path) << text;
    return path;
  }

  fs::path dir_;
  std::string config_path_, server_;
  std::unique_ptr<ChildProcess> climate_, balance_, scale_, daemon_;
};

TEST_F(PlatformScaleVerification, ClassIIIScaleFromWeighingsToStampedCertificateAndBack) {
  // M1-SET-01's certified values: 200.002 g, 5.00005, 20.0002, 30.00025 kg. With the
  // scale's +100 ppm span error the display shows 0.200, 5.001, 20.002, 30.003 kg.
  api::CalibrationRequest request = Request("bench-1/2026/platform-scale/1");
  AddPoint(request, 200, "g", LoadAndRead(0.200002, 0.200));
  AddPoint(request, 5, "kg", LoadAndRead(5.00005, 5.001));
  AddPoint(request, 20, "kg", LoadAndRead(20.0002, 20.002));
  AddPoint(request, 30, "kg", LoadAndRead(30.00025, 30.003));
  ASSERT_FALSE(HasFailure());

  // The technician looks at the verdict before sealing.
  const auto preview = ParseJson<CalibrationRecord>(
      Labtrace({"calibration", "submit", Write(request, "preview.textproto"), "--preview", "--json", "--server", server_}));
  EXPECT_EQ(preview.verdict(), metrology::PASS);
  EXPECT_TRUE(preview.certificate_number().empty());

  request.set_stamp_number("TĐC-2026-0457");
  const std::string request_path = Write(request, "request.textproto");
  const auto receipt = ParseJson<api::CalibrationReceipt>(
      Labtrace({"calibration", "submit", request_path, "--json", "--server", server_}));
  EXPECT_TRUE(std::regex_match(receipt.certificate_number(), std::regex(R"(KD-20\d\d-00001)")))
      << receipt.certificate_number();
  EXPECT_EQ(receipt.verdict(), metrology::PASS);
  // Sent again (the answer was lost): the first receipt, nothing stored twice.
  const auto again = ParseJson<api::CalibrationReceipt>(
      Labtrace({"calibration", "submit", request_path, "--json", "--server", server_}));
  EXPECT_EQ(again.certificate_number(), receipt.certificate_number());
  EXPECT_TRUE(again.replayed());

  const auto report = ParseJson<api::CalibrationReport>(
      Labtrace({"calibration", "report", receipt.certificate_number(), "--json", "--server", server_}));
  const CalibrationRecord& record = report.record();
  ASSERT_EQ(record.points_size(), 4);
  // Errors (indication − reference) and DOMAIN.md W3's verification MPEs: 20 e → ±0.5 e,
  // 500 e → ±0.5 e, 2000 e → ±1 e, 3000 e → ±1.5 e, with e = 10 g.
  const double errors[] = {-0.002, 0.00095, 0.0018, 0.00275};  // the 200 g point is in g
  const double mpes[] = {5, 0.005, 0.010, 0.015};
  for (int i = 0; i < 4; ++i) {
    // Read by the daemon, and the record says so: the demo's scale is asked with "S".
    EXPECT_EQ(record.points(i).indication_provenance().source(), Provenance::POLLED) << i;
    EXPECT_EQ(record.points(i).indication_provenance().driver(), "mt-sics") << i;
    EXPECT_NEAR(record.points(i).error(), errors[i], 1e-12) << i;
    EXPECT_NEAR(record.points(i).mpe(), mpes[i], 1e-12) << i;
    EXPECT_EQ(record.points(i).decision().statement(), metrology::PASS) << i;
    EXPECT_NE(record.points(i).reading_sequence(), 0u);
  }
  EXPECT_EQ(record.verdict(), metrology::PASS);
  EXPECT_EQ(record.stamp_number(), "TĐC-2026-0457");
  EXPECT_EQ(record.next_due_date(), ExpectedDueDate());
  EXPECT_EQ(record.unit_under_test().model(), "IND570 + 30 kg platform");
  ASSERT_EQ(record.environment_size(), 2);  // from the climate controller, with its readings
  EXPECT_EQ(record.environment(0).source(), "climate-1/temperature");
  EXPECT_NE(record.environment(0).reading_sequence(), 0u);
  ASSERT_EQ(report.chains_size(), 1);
  EXPECT_TRUE(report.chains(0).complete()) << report.chains(0).problem();
  ASSERT_EQ(report.chains(0).links_size(), 3);
  EXPECT_EQ(report.chains(0).links(2).id(), "VMI-MASS-NATIONAL");

  const std::string text = Labtrace({"calibration", "report", receipt.certificate_number(), "--server", server_});
  for (const char* expected : {"VERIFICATION RECORD KD-", "TĐC-2026-0457", "oiml-r76-class-III", "±15", "+2.75", "U/g (k)",
                               "complete: traceable to a national or international standard"}) {
    EXPECT_NE(text.find(expected), std::string::npos) << expected << "\n" << text;
  }

  // The span drifts to +600 ppm: 20.012 and 30.018 kg, errors +11.8 g and +17.75 g beyond
  // ±10 g and ±15 g. No stamp may be applied.
  const size_t mark = scale_->Mark();
  scale_->Send("span-error 600\n");
  ASSERT_TRUE(scale_->WaitForLine(std::regex("span error 600 ppm"), kEventDeadline, mark));
  api::CalibrationRequest failing = Request("bench-1/2026/platform-scale/2");
  AddPoint(failing, 20, "kg", LoadAndRead(20.0002, 20.012));
  AddPoint(failing, 30, "kg", LoadAndRead(30.00025, 30.018));
  failing.set_stamp_number("TĐC-2026-0458");
  const std::string refused =
      Labtrace({"calibration", "submit", Write(failing, "stamped.textproto"), "--server", server_}, 2);
  EXPECT_NE(refused.find("no stamp may be applied"), std::string::npos) << refused;
  failing.clear_stamp_number();
  const auto rejected = ParseJson<api::CalibrationReceipt>(
      Labtrace({"calibration", "submit", Write(failing, "failing.textproto"), "--json", "--server", server_}));
  EXPECT_EQ(rejected.verdict(), metrology::FAIL);

  // Both records in the list a technician looks through, by number, with their verdicts.
  const auto listed = ParseJson<api::CalibrationList>(
      Labtrace({"calibration", "list", "--instrument", "platform-scale", "--json", "--server", server_}));
  ASSERT_EQ(listed.records_size(), 2);
  EXPECT_EQ(listed.records(0).certificate_number(), receipt.certificate_number());
  EXPECT_EQ(listed.records(0).verdict(), metrology::PASS);
  EXPECT_EQ(listed.records(0).stamp_number(), "TĐC-2026-0457");
  EXPECT_EQ(listed.records(0).unit_under_test(), "platform-scale");
  EXPECT_EQ(listed.records(1).certificate_number(), rejected.certificate_number());
  EXPECT_EQ(listed.records(1).verdict(), metrology::FAIL);
  EXPECT_EQ(ParseJson<api::CalibrationList>(
                Labtrace({"calibration", "list", "--instrument", "balance-xs205", "--json", "--server", server_}))
                .records_size(),
            0);
  const std::string list_text = Labtrace({"calibration", "list", "--server", server_});
  EXPECT_NE(list_text.find(receipt.certificate_number() + " "), std::string::npos) << list_text;
  EXPECT_NE(list_text.find("pass, stamp TĐC-2026-0457"), std::string::npos) << list_text;

  // M1-SET-01 found out of tolerance: both verifications used it, nothing else did.
  const auto trace = ParseJson<api::ReverseTrace>(
      Labtrace({"trace", "reverse", "M1-SET-01", "--json", "--server", server_}));
  ASSERT_EQ(trace.records_size(), 2);
  EXPECT_EQ(trace.records(0).certificate_number(), receipt.certificate_number());
  EXPECT_EQ(trace.records(1).certificate_number(), rejected.certificate_number());
  // E2-SET-01 calibrated M1-SET-01 (lab-config) and the analytical balance: both are to be
  // withdrawn, the verifications follow, and so do the balance's readings.
  const auto upstream = ParseJson<api::ReverseTrace>(
      Labtrace({"trace", "reverse", "E2-SET-01", "--json", "--server", server_}));
  EXPECT_EQ(upstream.records_size(), 2);
  EXPECT_EQ(upstream.equipment_size(), 2);
  ASSERT_GE(upstream.readings_size(), 1);
  EXPECT_EQ(upstream.readings(0).instrument(), "balance-xs205");
  const std::string upstream_text = Labtrace({"trace", "reverse", "E2-SET-01", "--server", server_});
  for (const char* expected : {"withdraw and recalibrate", "M1-SET-01 ", "HC-2026-00412", receipt.certificate_number().c_str()}) {
    EXPECT_NE(upstream_text.find(expected), std::string::npos) << expected << "\n" << upstream_text;
  }

  // The records are in the ledger like readings: the store verifies, and the audit trail
  // holds who made the record.
  auto audit = cli::HttpGet(server_, "/v1/audit?entity=calibration:" + receipt.certificate_number());
  ASSERT_TRUE(audit);
  const auto events = ParseJson<api::AuditResponse>(audit->body);
  ASSERT_EQ(events.events_size(), 1);
  // The performer is the caller, whose token the CLI sent: the reviewer's (test_callers.h).
  EXPECT_EQ(events.events(0).actor(), testing::TestCallers::UserOf(ROLE_REVIEWER));
  daemon_->Stop(SIGTERM);
  const std::string verified =
      Labtrace({"verify", "--db", (dir_ / "data" / "labtrace.db").string(), "--no-progress"});
  EXPECT_NE(verified.find("intact"), std::string::npos) << verified;
}

// An upload under the polled scale's name is refused at the API now
// (provenance_test.cpp); one that reached the store before the rule, or while the scale
// was declared "upload", is still there, and a verification must not be built on it.
TEST_F(PlatformScaleVerification, AVerificationBuiltOnAnUploadedPointOfThePolledScaleIsRefused) {
  const uint64_t polled = LoadAndRead(5.00005, 5.001);
  ASSERT_FALSE(HasFailure());
  daemon_.reset();  // the store is the daemon's while it runs
  uint64_t uploaded = 0;
  {
    auto store = store::RecordStore::Open((dir_ / "data").string());
    ASSERT_TRUE(store.has_value()) << store.error().message();
    api::UploadRequest upload;
    upload.set_idempotency_key("pc-before-the-rule");
    Reading* reading = upload.add_readings();
    reading->set_instrument("platform-scale");
    reading->set_channel("mass");
    reading->set_value(20.002);
    reading->set_unit("kg");
    reading->set_quality(GOOD);
    reading->set_requested_at_ns(NowNs());
    Provenance from;
    from.set_source(Provenance::UPLOADED);
    from.set_user("anonymous");
    std::promise<Result<api::UploadReceipt>> stored;
    (*store)->Upload(upload, from, [&stored](Result<api::UploadReceipt> r) { stored.set_value(std::move(r)); });
    auto receipt = stored.get_future().get();
    ASSERT_TRUE(receipt.has_value()) << receipt.error().message();
    uploaded = receipt->first_sequence();
  }
  auto daemon = testing::StartDaemon(config_path_, (dir_ / "data").string(), kEventDeadline);
  daemon_ = std::move(daemon.process);
  server_ = daemon.server;
  ASSERT_FALSE(server_.empty());

  api::CalibrationRequest request = Request("bench-1/uploaded-point");
  AddPoint(request, 5, "kg", polled);
  AddPoint(request, 20, "kg", uploaded);
  request.set_stamp_number("TĐC-2026-0458");
  std::string json;
  ASSERT_TRUE(google::protobuf::util::MessageToJsonString(request, &json).ok());
  for (const char* target : {"/v1/calibrations?preview=true", "/v1/calibrations"}) {
    auto refused = cli::HttpPost(server_, target, json);
    ASSERT_TRUE(refused) << refused.error().message();
    EXPECT_EQ(refused->status, 409) << target << ": " << refused->body;
    EXPECT_NE(refused->body.find(fmt::format("points[1]: reading {} (platform-scale/mass) was uploaded", uploaded)),
              std::string::npos)
        << refused->body;
  }
  auto trail = cli::HttpGet(server_, "/v1/audit");
  ASSERT_TRUE(trail && trail->status == 200);
  EXPECT_EQ(trail->body.find("calibration:"), std::string::npos) << "no record was stored: " << trail->body;
}

}  // namespace
}  // namespace labtrace
