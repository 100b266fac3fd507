// Calibration and verification records on the demo lab (lab-config/demo-lab.textproto):
// a 30 kg class III platform scale verified with the M1 weights. MPEs are those of
// DOMAIN.md W3, the on-the-limit statements those of W4 (simple acceptance, inclusive),
// and the points' U is worked by hand below from the GUM, not taken from the code.
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <future>

#include <gtest/gtest.h>

#include "config/lab_config.h"
#include "store/record_store.h"
#include "workflow/calibration.h"

namespace labtrace::workflow {
namespace {

constexpr int64_t kS = 1'000'000'000;
constexpr int64_t kNow = 1795665600 * kS;  // 2026-11-26T04:00:00Z

Reading ScaleReading(uint64_t sequence, double kg, Quality quality = GOOD, std::string instrument = "platform-scale",
                     int64_t read_at_ns = kNow - 60 * kS) {
  Reading r;
  r.set_sequence(sequence);
  r.set_instrument(std::move(instrument));
  r.set_channel("mass");
  r.set_value(kg);
  r.set_unit("kg");
  r.set_quality(quality);
  r.set_requested_at_ns(read_at_ns);
  // As the daemon stamps what it reads from the scale (demo lab: MT-SICS on bench-rs232).
  r.mutable_provenance()->set_source(Provenance::POLLED);
  r.mutable_provenance()->set_driver("mt-sics");
  r.mutable_provenance()->set_bus("bench-rs232");
  return r;
}

Reading Climate(const std::string& channel, double value, const std::string& unit, int64_t at_ns, uint64_t seq) {
  Reading r;
  r.set_sequence(seq);
  r.set_instrument("climate-1");
  r.set_channel(channel);
  r.set_value(value);
  r.set_unit(unit);
  r.set_quality(GOOD);
  r.set_requested_at_ns(at_ns);
  return r;
}

class VerificationRecord : public ::testing::Test {
 protected:
  void SetUp() override {
    auto lab = config::LoadLab(LABTRACE_DEMO_LAB);
    ASSERT_TRUE(lab) << lab.error().message();
    lab_ = *lab;
    request_.set_idempotency_key("bench-1/2026-11-26/1");
    request_.set_procedure("KD-CAN-III");
    request_.set_mode(PERIODIC);
    request_.set_performed_by("Nguyễn Văn An");
    UnitUnderTest* uut = request_.mutable_unit_under_test();
    uut->set_id("platform-scale");
    uut->set_owner("Công ty TNHH Thực phẩm Sao Mai");
    uut->set_accuracy_class("III");
    uut->set_max_capacity(30);
    uut->set_verification_interval_e(0.01);
    uut->set_indication_interval_d(0.001);
    uut->set_unit("kg");
    evidence_.environment = {Climate("temperature", 22.4, "°C", kNow - 10 * kS, 901),
                             Climate("humidity", 51.0, "%RH", kNow - 10 * kS, 902)};
  }

  // A point read from the scale: the reading gets the next sequence number.
  void AddPoint(double nominal_kg, double indication_kg, Quality quality = GOOD) {
    const uint64_t sequence = 1000 + static_cast<uint64_t>(request_.points_size());
    evidence_.readings[sequence] = ScaleReading(sequence, indication_kg, quality);
    api::PointRequest* point = request_.add_points();
    point->set_nominal(nominal_kg);
    point->set_unit("kg");
    point->set_standard("M1-SET-01");
    point->set_reading_sequence(sequence);
  }

  Result<CalibrationRecord> Build(bool preview = false) {
    return BuildCalibrationRecord(lab_, request_, evidence_, kNow, preview);
  }

  config::Lab lab_;
  api::CalibrationRequest request_;
  CalibrationEvidence evidence_;
};

// "Nobody types a number off a display": the scale is read by the daemon, so a reading of
// it that came any other way (an upload under its name, stored before uploads were
// checked, or one from before provenance was recorded) cannot be a point.
TEST_F(VerificationRecord, AnUploadedReadingOfAPolledInstrumentIsRefusedAsAPoint) {
  AddPoint(5, 5.001);
  AddPoint(20, 20.006);
  Reading& uploaded = evidence_.readings.at(1001);
  uploaded.mutable_provenance()->Clear();
  uploaded.mutable_provenance()->set_source(Provenance::UPLOADED);
  uploaded.mutable_provenance()->set_user("anonymous");
  request_.set_stamp_number("TĐC-2026-0457");
  for (bool preview : {true, false}) {
    auto record = Build(preview);
    ASSERT_FALSE(record) << "preview " << preview;
    EXPECT_EQ(record.error().code(), StatusCode::kFailedPrecondition);
    const std::string& message = record.error().message();
    EXPECT_NE(message.find("points[1]"), std::string::npos) << message;
    EXPECT_NE(message.find("reading 1001 (platform-scale/mass) was uploaded"), std::string::npos) << message;
    EXPECT_NE(message.find("polled by the daemon or printed by the instrument to the daemon"), std::string::npos)
        << message;
    EXPECT_NE(message.find("Read the point from the instrument again"), std::string::npos) << message;
  }
  uploaded.clear_provenance();  // stored before schema 7: nobody can say how it came
  auto unknown = Build();
  ASSERT_FALSE(unknown);
  EXPECT_NE(unknown.error().message().find("of unknown provenance"), std::string::npos) << unknown.error().message();
}

TEST_F(VerificationRecord, EachPointKeepsTheProvenanceOfItsReading) {
  AddPoint(5, 5.001);
  api::PointRequest* typed = request_.add_points();  // typed in: no reading, no provenance
  typed->set_nominal(20);
  typed->set_unit("kg");
  typed->set_standard("M1-SET-01");
  typed->set_indication(20.006);
  request_.set_stamp_number("TĐC-2026-0457");
  auto record = Build();
  ASSERT_TRUE(record) << record.error().message();
  EXPECT_EQ(record->points(0).indication_provenance().source(), Provenance::POLLED);
  EXPECT_EQ(record->points(0).indication_provenance().bus(), "bench-rs232");
  EXPECT_FALSE(record->points(1).has_indication_provenance());
  EXPECT_EQ(record->points(1).reading_sequence(), 0u);
}

TEST(PointProvenance, AnInstrumentGivesReadingsTheWayItsDriverSays) {
  auto lab = config::LoadLab(LABTRACE_DEMO_LAB);
  ASSERT_TRUE(lab) << lab.error().message();
  using Sources = std::vector<Provenance::Source>;
  EXPECT_EQ(AcceptedProvenance(config::FindInstrumentConfig(*lab, "platform-scale")),
            (Sources{Provenance::POLLED, Provenance::PUSHED}));
  EXPECT_EQ(AcceptedProvenance(config::FindInstrumentConfig(*lab, "moisture-1")),
            (Sources{Provenance::UPLOADED, Provenance::IMPORTED}));
  EXPECT_EQ(AcceptedProvenance(nullptr), Sources{});
}

TEST_F(VerificationRecord, PassingScaleGetsErrorsMpeUncertaintyStampAndDueDate) {
  // References are nominal + the M1 certificate's corrections: 5.00005, 20.0002, 30.00025 kg.
  AddPoint(5, 5.001);
  AddPoint(20, 20.006);
  AddPoint(30, 30.009);
  request_.set_stamp_number("TĐC-2026-0457");
  auto record = Build();
  ASSERT_TRUE(record) << record.error().message();

  ASSERT_EQ(record->points_size(), 3);
  const double expected_error[] = {0.00095, 0.0058, 0.00875};
  // DOMAIN.md W3, verification MPE: ±5 g at 500 e, ±10 g at 20 kg, ±15 g at 30 kg.
  const double expected_mpe[] = {0.005, 0.010, 0.015};
  // U by hand (GUM): u(m_ref) = U_cert/2; each rounding of the indication (at load and at
  // zero) d/√12 = 0.288 675 g; infinite degrees of freedom, so k = 2.
  //   5 kg:  √(0.04² + 2·0.288675²)  = 0.410 203 g → U = 0.820 g → 0.82 g
  //   20 kg: √(0.15² + 2·0.288675²)  = 0.434 933 g → U = 0.870 g → 0.87 g
  //   30 kg: √(0.225² + 2·0.288675²) = 0.466 145 g → U = 0.932 g → 0.93 g
  const double expected_u[] = {0.00082, 0.00087, 0.00093};
  for (int i = 0; i < 3; ++i) {
    const CalibrationPoint& point = record->points(i);
    EXPECT_NEAR(point.error(), expected_error[i], 1e-12) << i;
    EXPECT_NEAR(point.mpe(), expected_mpe[i], 1e-12) << i;
    EXPECT_NEAR(point.budget().expanded_uncertainty_rounded(), expected_u[i], 1e-12) << i;
    EXPECT_NEAR(point.budget().coverage_factor(), 2.0, 1e-3) << i;
    EXPECT_EQ(point.decision().statement(), metrology::PASS) << i;
    EXPECT_EQ(point.reading_sequence(), 1000u + static_cast<uint64_t>(i));
  }
  EXPECT_EQ(record->verdict(), metrology::PASS);
  EXPECT_EQ(record->stamp_number(), "TĐC-2026-0457");
  EXPECT_EQ(record->next_due_date(), "2027-11-25");  // 12 months, less one day
  ASSERT_EQ(record->standards_size(), 1);
  EXPECT_EQ(record->standards(0).certificate(), "HC-2026-00412");
  EXPECT_EQ(record->standards(0).issuer(), "Trung tâm Kỹ thuật TĐC (this lab)");
  EXPECT_EQ(record->standards(0).valid_until(), "2032-06-14");
  // The certified values used, with U and k, as lab-config states them for M1-SET-01.
  ASSERT_EQ(record->standards(0).values_size(), 3);
  EXPECT_DOUBLE_EQ(record->standards(0).values(1).nominal(), 20);
  EXPECT_DOUBLE_EQ(record->standards(0).values(1).expanded_uncertainty(), 0.0003);
  EXPECT_DOUBLE_EQ(record->standards(0).values(1).coverage_factor(), 2);
  EXPECT_EQ(record->unit_under_test().manufacturer(), "Mettler Toledo");  // from the lab-config
  ASSERT_EQ(record->environment_size(), 2);
  EXPECT_EQ(record->environment(0).source(), "climate-1/temperature");
  EXPECT_EQ(record->environment(0).reading_sequence(), 901u);
  EXPECT_DOUBLE_EQ(record->environment(1).value(), 51.0);
}

TEST_F(VerificationRecord, W4SimpleAcceptanceRowByRowAtTheTwentyKilogramPoint) {
  // DOMAIN.md W4, simple acceptance column, limits inclusive: +5, +6, +9, +10 g pass;
  // +12, +15 g fail. The indication is the reference (20.0002 kg) plus the error.
  const struct {
    double error_g;
    metrology::Statement statement;
  } rows[] = {{5, metrology::PASS},  {6, metrology::PASS},  {9, metrology::PASS},
              {10, metrology::PASS}, {12, metrology::FAIL}, {15, metrology::FAIL}};
  for (const auto& row : rows) {
    request_.clear_points();
    evidence_.readings.clear();
    AddPoint(20, 20.0002 + row.error_g / 1000);
    auto record = Build(/*preview=*/true);
    ASSERT_TRUE(record) << record.error().message();
    EXPECT_EQ(record->points(0).decision().statement(), row.statement) << "error +" << row.error_g << " g";
    EXPECT_NEAR(record->points(0).error(), row.error_g / 1000, 1e-12);
  }
}

TEST_F(VerificationRecord, FailingScaleGetsNoStampAndAStampIsRefused) {
  AddPoint(5, 5.001);
  AddPoint(30, 30.016);  // +15.75 g against ±15 g
  request_.set_stamp_number("TĐC-2026-0458");
  auto refused = Build();
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message().find("no stamp may be applied"), std::string::npos) << refused.error().message();

  request_.clear_stamp_number();
  auto record = Build();
  ASSERT_TRUE(record) << record.error().message();
  EXPECT_EQ(record->points(1).decision().statement(), metrology::FAIL);
  EXPECT_EQ(record->verdict(), metrology::FAIL);
  EXPECT_TRUE(record->stamp_number().empty());
  EXPECT_TRUE(record->next_due_date().empty());
}

TEST_F(VerificationRecord, PassWithoutStampIsRefusedUnlessPreview) {
  AddPoint(20, 20.006);
  auto refused = Build();
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message().find("stamp_number"), std::string::npos);
  auto preview = Build(/*preview=*/true);
  ASSERT_TRUE(preview) << preview.error().message();
  EXPECT_EQ(preview->verdict(), metrology::PASS);
}

TEST_F(VerificationRecord, InServiceProcedureDoublesTheMpe) {
  config::CalibrationProcedure* procedure = lab_.mutable_procedures(0);
  procedure->set_in_service(true);
  AddPoint(5, 5.001);
  AddPoint(20, 20.006);
  AddPoint(30, 30.016);
  request_.set_stamp_number("TĐC-2026-0459");
  auto record = Build();
  ASSERT_TRUE(record) << record.error().message();
  // DOMAIN.md W3, in-service column: ±10, ±20, ±30 g.
  EXPECT_NEAR(record->points(0).mpe(), 0.010, 1e-12);
  EXPECT_NEAR(record->points(1).mpe(), 0.020, 1e-12);
  EXPECT_NEAR(record->points(2).mpe(), 0.030, 1e-12);
  EXPECT_EQ(record->verdict(), metrology::PASS);
}

TEST_F(VerificationRecord, AsLeftPointsDecideWhenTheScaleWasAdjusted) {
  AddPoint(30, 30.016);  // as found: fails
  AddPoint(30, 30.002);  // adjusted, as left: passes
  request_.mutable_points(1)->set_phase(AS_LEFT);
  request_.set_stamp_number("TĐC-2026-0460");
  auto record = Build();
  ASSERT_TRUE(record) << record.error().message();
  EXPECT_EQ(record->points(0).decision().statement(), metrology::FAIL);
  EXPECT_EQ(record->points(1).decision().statement(), metrology::PASS);
  EXPECT_EQ(record->verdict(), metrology::PASS);
}

TEST_F(VerificationRecord, ReadingsThatCannotBeUsedAreRefusedWithTheReason) {
  AddPoint(20, 20.006, UNSTABLE);
  request_.set_stamp_number("x");
  auto dynamic = Build();
  ASSERT_FALSE(dynamic);
  EXPECT_NE(dynamic.error().message().find("dynamic weighing"), std::string::npos) << dynamic.error().message();

  evidence_.readings[1000] = ScaleReading(1000, 20.006, GOOD, "balance-xs205");
  auto other = Build();
  ASSERT_FALSE(other);
  EXPECT_NE(other.error().message().find("is not of the unit under test platform-scale"), std::string::npos)
      << other.error().message();

  evidence_.readings.clear();
  auto missing = Build();
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.error().message().find("no reading has sequence 1000"), std::string::npos);
}

TEST_F(VerificationRecord, ExpiredStandardIsRefusedUnlessOverriddenAndTheOverrideIsKept) {
  const config::Lab& lab = lab_;
  AddPoint(20, 20.006);
  request_.set_stamp_number("TĐC-2032-0001");
  constexpr int64_t later = 1972267200 * kS;  // 2032-07-01T04:00:00Z: M1-SET-01 was valid until 2032-06-14
  for (Reading& r : evidence_.environment) r.set_requested_at_ns(later - 5 * kS);
  evidence_.readings[1000].set_requested_at_ns(later - 60 * kS);
  auto refused = BuildCalibrationRecord(lab, request_, evidence_, later);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(refused.error().message().find("M1-SET-01"), std::string::npos) << refused.error().message();
  EXPECT_NE(refused.error().message().find("2032-06-14"), std::string::npos);

  request_.mutable_override_expired()->set_approved_by("Trần Thị Bình (quality manager)");
  request_.mutable_override_expired()->set_reason("recalibration booked for 2032-07-03; intermediate check passed");
  auto record = BuildCalibrationRecord(lab, request_, evidence_, later);
  ASSERT_TRUE(record) << record.error().message();
  EXPECT_EQ(record->standards(0).override_approved_by(), "Trần Thị Bình (quality manager)");
  EXPECT_FALSE(record->standards(0).override_reason().empty());
}

// The demo lab is in Asia/Ho_Chi_Minh (UTC+7 all year, no daylight saving since 1975), so
// 2031-12-31T23:30:00Z is 06:30 on 1 January 2032 at the bench.
constexpr int64_t kNewYearMorning = 1956526200 * kS;  // 2031-12-31T23:30:00Z

TEST_F(VerificationRecord, MadeAt0630OnNewYearsDayIsDatedAndNumberedInTheNewYear) {
  ASSERT_EQ(lab_.time_zone(), "Asia/Ho_Chi_Minh");
  const config::Lab& lab = lab_;
  AddPoint(20, 20.006);
  evidence_.readings[1000].set_requested_at_ns(kNewYearMorning - 60 * kS);
  for (Reading& r : evidence_.environment) r.set_requested_at_ns(kNewYearMorning - 5 * kS);
  request_.set_stamp_number("TĐC-2032-0001");
  auto record = BuildCalibrationRecord(lab, request_, evidence_, kNewYearMorning);
  ASSERT_TRUE(record) << record.error().message();
  EXPECT_EQ(record->performed_on(), "2032-01-01");
  EXPECT_EQ(record->next_due_date(), "2032-12-31");  // 12 months from 1 January, less one day

  // The store numbers it in the year of the lab's date, not of the UTC instant.
  const std::string dir = ::testing::TempDir() + "labtrace-new-year-" + std::to_string(getpid());
  std::filesystem::remove_all(dir);
  auto store = store::RecordStore::Open(dir);
  ASSERT_TRUE(store) << store.error().message();
  std::promise<Result<api::CalibrationReceipt>> done;
  (*store)->RecordCalibration(*record, [&](Result<api::CalibrationReceipt> r) { done.set_value(std::move(r)); });
  auto receipt = done.get_future().get();
  ASSERT_TRUE(receipt) << receipt.error().message();
  EXPECT_EQ(receipt->certificate_number(), "KD-2032-00001");
  store->reset();
  std::filesystem::remove_all(dir);
}

TEST_F(VerificationRecord, StandardIsValidThroughItsLastDayInTheLabsTimeZone) {
  const config::Lab& lab = lab_;
  AddPoint(20, 20.006);
  request_.set_stamp_number("TĐC-2032-0002");
  // M1-SET-01 is valid until 2032-06-14: through 23:59:59 local (16:59:59Z), not at 00:00
  // local on the 15th (2032-06-14T17:00:00Z), although that is still the 14th in UTC.
  constexpr int64_t kMidnightLocal = 1970845200 * kS;  // 2032-06-14T17:00:00Z
  for (const auto& [at, usable] : {std::pair{kMidnightLocal - kS, true}, std::pair{kMidnightLocal, false}}) {
    evidence_.readings[1000].set_requested_at_ns(at - 60 * kS);
    for (Reading& r : evidence_.environment) r.set_requested_at_ns(at - 5 * kS);
    auto record = BuildCalibrationRecord(lab, request_, evidence_, at);
    ASSERT_EQ(record.has_value(), usable) << (record ? "accepted" : record.error().message()) << " at " << at / kS;
    if (!usable) {
      EXPECT_NE(record.error().message().find("valid until 2032-06-14"), std::string::npos);
    }
  }
}

TEST_F(VerificationRecord, StaleSensorIsRefusedAndHandEnteredConditionsAreAccepted) {
  AddPoint(20, 20.006);
  request_.set_stamp_number("TĐC-2026-0461");
  evidence_.environment[0].set_requested_at_ns(kNow - 600 * kS);
  auto refused = Build();
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message().find("climate-1/temperature was last read 600 s ago"), std::string::npos)
      << refused.error().message();

  EnvironmentCondition* entered = request_.add_environment();
  entered->set_quantity("temperature");
  entered->set_value(22.1);
  entered->set_unit("°C");
  entered->set_source("entered by Nguyễn Văn An from thermometer TH-07");
  auto record = Build();
  ASSERT_TRUE(record) << record.error().message();
  ASSERT_EQ(record->environment_size(), 2);
  EXPECT_EQ(record->environment(0).quantity(), "relative humidity");  // the sensor's
  EXPECT_EQ(record->environment(1).source(), "entered by Nguyễn Văn An from thermometer TH-07");
}

TEST_F(VerificationRecord, RequestMistakesAreNamed) {
  AddPoint(20, 20.006);
  request_.set_procedure("KD-CAN-II");
  auto unknown = Build();
  ASSERT_FALSE(unknown);
  EXPECT_NE(unknown.error().message().find("known: KD-CAN-III, HC-QUA-CAN-M1"), std::string::npos)
      << unknown.error().message();
  request_.set_procedure("KD-CAN-III");
  request_.set_mode(VERIFICATION_MODE_UNSPECIFIED);
  auto no_mode = Build();
  ASSERT_FALSE(no_mode);
  EXPECT_NE(no_mode.error().message().find("mode"), std::string::npos);
  request_.set_mode(INITIAL);
  request_.mutable_points(0)->set_nominal(25);
  auto no_value = Build();
  ASSERT_FALSE(no_value);
  EXPECT_NE(no_value.error().message().find("no certified value at 25 kg"), std::string::npos)
      << no_value.error().message();
}

TEST(LastDayOfValidity, SameDayLaterLessOneDayClampedToTheMonth) {
  EXPECT_EQ(*LastDayOfValidity("2031-11-26", 12), "2032-11-25");
  EXPECT_EQ(*LastDayOfValidity("2031-12-01", 12), "2032-11-30");
  EXPECT_EQ(*LastDayOfValidity("2026-01-31", 1), "2026-02-27");  // Feb 28 is the same day, less one
  EXPECT_EQ(*LastDayOfValidity("2024-02-29", 12), "2025-02-27");
  EXPECT_EQ(*LastDayOfValidity("2026-03-01", 24), "2028-02-29");
  EXPECT_FALSE(LastDayOfValidity("26/11/2026", 12));
}

}  // namespace
}  // namespace labtrace::workflow
