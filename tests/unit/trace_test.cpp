// Traceability up (chains) and down (reverse trace, ISO/IEC 17025 §7.10) on the fixture
// lab tests/fixtures/trace-lab.textproto, with records in a real store. The expected sets
// are written out by hand from the fixture's story, record by record.
#include <unistd.h>

#include <filesystem>
#include <set>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "config/lab_config.h"
#include "store/record_store.h"
#include "workflow/trace.h"

namespace labtrace::workflow {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kS = 1'000'000'000;
constexpr int64_t kDay = 86400 * kS;
constexpr int64_t kJan1 = 1767225600 * kS;  // 2026-01-01T00:00:00Z

config::Lab FixtureLab() {
  auto lab = config::LoadLab(LABTRACE_FIXTURES "/trace-lab.textproto");
  EXPECT_TRUE(lab) << lab.error().message();
  return lab ? *lab : config::Lab();
}

TEST(TraceChain, StandardClimbsToTheNationalStandard) {
  const auto chain = ChainOfStandard(FixtureLab(), "F1-SET-01");
  EXPECT_TRUE(chain.complete()) << chain.problem();
  ASSERT_EQ(chain.links_size(), 3);
  EXPECT_EQ(chain.links(0).id(), "F1-SET-01");
  EXPECT_EQ(chain.links(0).certificate(), "HC-2026-00001");
  EXPECT_EQ(chain.links(1).id(), "E2-SET-01");
  EXPECT_EQ(chain.links(1).issuer(), "VMI");
  EXPECT_EQ(chain.links(2).id(), "VMI-MASS-NATIONAL");
  EXPECT_EQ(chain.links(2).level(), config::NATIONAL);
}

TEST(TraceChain, InstrumentAndReadingClimbThroughTheirCalibration) {
  const config::Lab lab = FixtureLab();
  const auto chain = ChainOfInstrument(lab, "balance-ref");
  EXPECT_TRUE(chain.complete()) << chain.problem();
  ASSERT_EQ(chain.links_size(), 4);
  EXPECT_EQ(chain.links(0).certificate(), "HC-2026-00002");
  EXPECT_EQ(chain.links(3).id(), "VMI-MASS-NATIONAL");

  Reading reading;
  reading.set_sequence(17);
  reading.set_instrument("balance-ref");
  reading.set_channel("mass");
  reading.set_calibration_certificate("HC-2026-00002");
  EXPECT_TRUE(ChainOfReading(lab, reading).complete());
  // Taken under an earlier calibration: the lab-config only knows the current chain.
  reading.set_calibration_certificate("HC-2025-00500");
  const auto old = ChainOfReading(lab, reading);
  EXPECT_FALSE(old.complete());
  EXPECT_NE(old.problem().find("taken under certificate HC-2025-00500"), std::string::npos) << old.problem();
}

TEST(TraceChain, BrokenChainSaysWhereItEnds) {
  const auto chain = ChainOfStandard(FixtureLab(), "M1-SET-09");
  EXPECT_FALSE(chain.complete());
  EXPECT_NE(chain.problem().find("ends at M1-SET-09 (WORKING)"), std::string::npos) << chain.problem();
  const auto unknown = ChainOfStandard(FixtureLab(), "NO-SUCH");
  EXPECT_FALSE(unknown.complete());
}

class ReverseTraceOnStore : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / fmt::format("labtrace-trace-{}", getpid());
    fs::remove_all(dir_);
    auto store = store::RecordStore::Open(dir_.string());
    ASSERT_TRUE(store) << store.error().message();
    store_ = std::move(*store);

    // The fixture's story, in order. Record ids (and so certificate numbers) are assigned
    // by the store in this order.
    Record(config::CALIBRATION, "F1-SET-01", 90, {{"E2-SET-01", "VMI-M-2026-0417"}});           // HC-2026-00001
    Record(config::CALIBRATION, "balance-ref", 95, {{"F1-SET-01", "HC-2026-00001"}});           // HC-2026-00002
    Record(config::VERIFICATION, "scale-A", 120, {{"F1-SET-01", "HC-2026-00001"}});             // KD-2026-00003
    Record(config::VERIFICATION, "scale-B", 121, {{"F1-SET-02", "VMI-M-2026-0420"}});           // KD-2026-00004
    Record(config::VERIFICATION, "scale-C", 122, {{"F1-SET-01", "HC-2025-00777"}});             // KD-2026-00005
    Record(config::CALIBRATION, "scale-D", 123, {{"E2-SET-01", "VMI-M-2024-0099"}});            // HC-2026-00006
    Record(config::VERIFICATION, "scale-E", 150,
           {{"F1-SET-02", "VMI-M-2026-0420"}, {"E2-SET-01", "VMI-M-2026-0417"}});               // KD-2026-00007
    Record(config::CALIBRATION, "pipette-9", 160, {{"balance-ref", "HC-2026-00002"}});          // HC-2026-00008
    Record(config::VERIFICATION, "scale-F", 170, {{"M1-SET-02", "HC-2026-00990"}});             // KD-2026-00009
    Record(config::VERIFICATION, "scale-G", 171, {{"M1-SET-03", "HC-2026-00950"}});             // KD-2026-00010

    // Readings of the working balance under its current and its earlier calibration, and of
    // an unrelated sensor.
    std::vector<Reading> readings;
    for (int i = 0; i < 5; ++i) readings.push_back(MakeReading("balance-ref", "HC-2026-00002", 100 + i));
    for (int i = 0; i < 3; ++i) readings.push_back(MakeReading("balance-ref", "HC-2025-00500", 10 + i));
    readings.push_back(MakeReading("climate-1", "HC-2026-00388", 100));
    store_->Append(std::move(readings));
    store_->Flush();
    ASSERT_EQ(numbers_.size(), 10u);
  }
  void TearDown() override {
    store_.reset();
    fs::remove_all(dir_);
  }

  void Record(config::CalibrationKind kind, const std::string& unit, int day,
              std::vector<std::pair<std::string, std::string>> standards) {
    CalibrationRecord record;
    record.set_kind(kind);
    record.set_mode(kind == config::VERIFICATION ? PERIODIC : VERIFICATION_MODE_UNSPECIFIED);
    record.mutable_unit_under_test()->set_id(unit);
    record.set_performed_by("technician");
    record.set_performed_at_ns(kJan1 + day * kDay);
    record.set_idempotency_key(unit + std::to_string(day));
    record.set_verdict(metrology::PASS);
    for (const auto& [id, certificate] : standards) {
      StandardUsed* used = record.add_standards();
      used->set_id(id);
      used->set_certificate(certificate);
    }
    store_->RecordCalibration(record, [this](Result<api::CalibrationReceipt> receipt) {
      ASSERT_TRUE(receipt) << receipt.error().message();
      numbers_.push_back(receipt->certificate_number());
    });
    store_->Flush();
  }

  static Reading MakeReading(const std::string& instrument, const std::string& certificate, int day) {
    Reading r;
    r.set_instrument(instrument);
    r.set_channel(instrument == "climate-1" ? "temperature" : "mass");
    r.set_value(1.0);
    r.set_unit(instrument == "climate-1" ? "°C" : "g");
    r.set_quality(GOOD);
    r.set_requested_at_ns(kJan1 + day * kDay);
    r.set_calibration_certificate(certificate);
    return r;
  }

  api::ReverseTrace Trace(const std::string& id, const std::string& certificate, int64_t since_ns = 0,
                          const std::string& since = "") {
    auto records = store_->CalibrationsSince(since_ns);
    EXPECT_TRUE(records) << records.error().message();
    auto groups = store_->ReadingGroupsSince(since_ns);
    EXPECT_TRUE(groups) << groups.error().message();
    return ReverseTraceOf(FixtureLab(), id, certificate, since, *records, *groups);
  }

  static std::set<std::string> Numbers(const api::ReverseTrace& trace) {
    std::set<std::string> numbers;
    for (const auto& record : trace.records()) numbers.insert(record.certificate_number());
    return numbers;
  }

  fs::path dir_;
  std::unique_ptr<store::RecordStore> store_;
  std::vector<std::string> numbers_;
};

TEST_F(ReverseTraceOnStore, FindsExactlyWhatUsedTheStandardDirectlyOrThroughWhatItCalibrated) {
  ASSERT_EQ(numbers_[0], "HC-2026-00001");  // the fixture's F1-SET-01 certificate
  ASSERT_EQ(numbers_[1], "HC-2026-00002");  // the fixture's balance-ref certificate
  const auto trace = Trace("E2-SET-01", CurrentCertificate(FixtureLab(), "E2-SET-01"));
  // E2 calibrated F1-SET-01 (1); F1 under that certificate calibrated balance-ref (2) and
  // verified scale-A (3); balance-ref under its certificate calibrated pipette-9 (8);
  // scale-E (7) used E2 itself; M1-SET-02, calibrated against F1 (lab-config only),
  // verified scale-F (9). Not: scale-B (F1-SET-02, another chain), scale-C (F1 under its
  // earlier certificate), scale-D (E2 under its earlier certificate), scale-G (M1-SET-03,
  // calibrated against F1's earlier calibration).
  EXPECT_EQ(Numbers(trace), (std::set<std::string>{"HC-2026-00001", "HC-2026-00002", "KD-2026-00003",
                                                   "KD-2026-00007", "HC-2026-00008", "KD-2026-00009"}));
  // The lab's equipment to withdraw: F1-SET-01, balance-ref, M1-SET-02.
  std::set<std::string> equipment;
  for (const auto& item : trace.equipment()) equipment.insert(item.id() + " " + item.certificate());
  EXPECT_EQ(equipment, (std::set<std::string>{"F1-SET-01 HC-2026-00001", "balance-ref HC-2026-00002",
                                              "M1-SET-02 HC-2026-00990"}));
  // The working balance's readings under the affected certificate, and only those.
  ASSERT_EQ(trace.readings_size(), 1);
  EXPECT_EQ(trace.readings(0).instrument(), "balance-ref");
  EXPECT_EQ(trace.readings(0).certificate(), "HC-2026-00002");
  EXPECT_EQ(trace.readings(0).count(), 5u);
  for (const auto& record : trace.records()) {
    if (record.certificate_number() == "HC-2026-00008") {
      EXPECT_EQ(record.via(), "E2-SET-01 (VMI-M-2026-0417) → F1-SET-01 (HC-2026-00001) → balance-ref (HC-2026-00002) → "
                              "pipette-9");
    }
  }
}

TEST_F(ReverseTraceOnStore, AWorkingStandardAffectsOnlyItsOwnUses) {
  const auto trace = Trace("F1-SET-01", "HC-2026-00001");
  EXPECT_EQ(Numbers(trace),
            (std::set<std::string>{"HC-2026-00002", "KD-2026-00003", "HC-2026-00008", "KD-2026-00009"}));
  const auto other = Trace("F1-SET-02", "VMI-M-2026-0420");
  EXPECT_EQ(Numbers(other), (std::set<std::string>{"KD-2026-00004", "KD-2026-00007"}));
  EXPECT_EQ(other.readings_size(), 0);
}

TEST_F(ReverseTraceOnStore, SinceTheLastGoodCheckLeavesEarlierWorkOut) {
  // E2 passed an intermediate check on day 100: F1-SET-01's calibration (day 90) stands,
  // so only what used E2 itself afterwards is affected.
  const auto trace = Trace("E2-SET-01", "VMI-M-2026-0417", kJan1 + 100 * kDay, "2026-04-11");
  EXPECT_EQ(Numbers(trace), (std::set<std::string>{"KD-2026-00007"}));
  EXPECT_EQ(trace.readings_size(), 0);
  EXPECT_EQ(trace.equipment_size(), 0);
}

TEST_F(ReverseTraceOnStore, AnInstrumentFoundOutOfToleranceListsItsReadingsAndWhatItCalibrated) {
  const auto trace = Trace("balance-ref", CurrentCertificate(FixtureLab(), "balance-ref"));
  EXPECT_EQ(Numbers(trace), (std::set<std::string>{"HC-2026-00008"}));
  ASSERT_EQ(trace.readings_size(), 1);
  EXPECT_EQ(trace.readings(0).count(), 5u);
  EXPECT_EQ(trace.readings(0).first_at_ns(), kJan1 + 100 * kDay);
  EXPECT_EQ(trace.readings(0).last_at_ns(), kJan1 + 104 * kDay);
}

}  // namespace
}  // namespace labtrace::workflow
