// A test report as a lab issues it: the moisture of a rice sample by oven drying, one
// result of 13.45 % with U = 0.12 % (k = 2) against a limit of at most 14.0 %, reviewed and
// approved. Every figure is set by hand here, as the report must print it; none is
// computed by the code under test.
#pragma once

#include "labtrace/conformity.pb.h"

namespace labtrace::testing {

// 2026-04-02T02:15:00Z and 03:40:00Z: 20 545 days from 1970-01-01 to 2026-04-02
// (56 years, 14 of them leap, then 31 + 28 + 31 + 1 days) × 86 400 s, plus the time of day.
// In Asia/Ho_Chi_Minh (UTC+07:00, no daylight saving) they are 09:15 and 10:40.
inline constexpr int64_t kReviewedAtNs = 1'775'096'100'000'000'000;
inline constexpr int64_t kApprovedAtNs = 1'775'101'200'000'000'000;

inline TestReport RiceMoistureReport() {
  TestReport report;
  report.set_number("PKQ-2026-00005");
  report.set_version(3);
  report.set_state(REPORT_STATE_ISSUED);
  report.set_issued_on("2026-04-02");
  report.set_verification_code("7KQ2M4XW9TNA");

  config::LabIdentity* lab = report.mutable_lab();
  lab->set_name_vi("Chi cục Tiêu chuẩn Đo lường Chất lượng tỉnh Đồng Tháp");
  lab->set_name_en("Sub-Department of Standards, Metrology and Quality of Đồng Tháp Province");
  lab->set_address("Số 12 đường Lê Lợi, phường 1, thành phố Cao Lãnh, tỉnh Đồng Tháp");
  lab->set_phone("0277 385 1234");
  lab->set_accreditation("VILAS 1234");
  lab->set_verify_url("https://tdc.example.gov.vn/verify/");

  Enterprise* customer = report.mutable_customer();
  customer->set_id("DN-2026-0007");
  customer->set_name("Công ty TNHH Lương thực Minh Phú");
  customer->set_tax_code("0312345678");
  customer->set_address("Ấp Tân Phú, xã Tân Thuận Đông, thành phố Cao Lãnh, tỉnh Đồng Tháp");

  Product* product = report.mutable_product();
  product->set_id("SP-2026-0011");
  product->set_name("Gạo trắng hạt dài 5 % tấm");
  product->set_brand("Hạt Ngọc Minh Phú");

  Sample* sample = report.mutable_sample();
  sample->set_code("M-2026-00012");
  sample->set_description("Gạo trắng, túi PE 2 kg, niêm phong");
  sample->set_quantity("2 túi × 2 kg");
  sample->set_lot("LSX 2603-07");
  sample->set_condition("nguyên vẹn, niêm phong còn nguyên");
  sample->set_received_on("2026-03-30");

  ReportedRun* run = report.add_runs();
  run->set_run("TN-2026-00017");
  run->set_run_version(4);
  run->set_tested_on("2026-03-31");
  config::TestMethod* method = run->mutable_method();
  method->set_id("PP-DA-GAO");
  method->set_version(2);
  method->set_title_vi("Gạo — Xác định độ ẩm (phương pháp sấy)");
  method->set_title_en("Rice — Determination of moisture content (oven drying)");
  method->set_standard("TCVN 9027:2011");
  method->set_clause("7");
  method->set_characteristic_vi("Độ ẩm");
  method->set_characteristic_en("Moisture");
  method->set_unit("%");
  method->set_upper_limit(14.0);
  method->set_result_decimals(2);
  method->mutable_decision_rule()->set_kind(metrology::SIMPLE_ACCEPTANCE);
  method->mutable_decision_rule()->set_limits_inclusive(true);

  TestResult* result = run->add_results();
  result->set_characteristic_vi("Độ ẩm");
  result->set_characteristic_en("Moisture");
  result->set_unit("%");
  result->add_determinations(13.41);
  result->add_determinations(13.49);
  result->set_value(13.45);
  result->set_upper_limit(14.0);
  metrology::BudgetResult* budget = result->mutable_budget();
  budget->set_unit("%");
  budget->set_report_unit("%");
  budget->set_estimate(13.45);
  budget->set_combined_standard_uncertainty(0.0617);
  budget->set_coverage_probability(0.9545);
  budget->set_coverage_factor(2.0);
  budget->set_expanded_uncertainty(0.1234);
  budget->set_expanded_uncertainty_rounded(0.12);
  budget->set_estimate_rounded(13.45);
  result->mutable_decision()->set_statement(metrology::PASS);
  result->mutable_decision()->set_upper_acceptance_limit(14.0);

  auto sign = [&](SignatureMeaning meaning, const char* user, const char* name, int64_t at_ns) {
    SignatureStatement* statement = report.add_signatures()->mutable_statement();
    statement->set_record_kind("test_report");
    statement->set_record_id(report.number());
    statement->set_record_version(2);
    statement->set_signer_user(user);
    statement->set_signer_full_name(name);
    statement->set_meaning(meaning);
    statement->set_signed_at_ns(at_ns);
  };
  sign(SIGNATURE_MEANING_REVIEWED, "nhung.nth", "Nguyễn Thị Hồng Nhung", kReviewedAtNs);
  sign(SIGNATURE_MEANING_APPROVED, "duc.tv", "Trần Văn Đức", kApprovedAtNs);
  return report;
}

}  // namespace labtrace::testing
