// A conformity test from sample to approval, as the lab runs it on the demo lab: an
// enterprise brings rice; the sample is received; a technician runs the demo's moisture
// method (PP-DA-GAO, oven drying) on the simulated analytical balance, each weighing
// captured by the daemon from the balance, never typed; the run is submitted, reviewed by
// one reviewer and approved by another, each re-entering a password; the signatures
// verify against the run, and the store verifies intact. Then the report: drafted from
// the approved run, refused to a reviewer outside the signatory scopes, issued by a
// signatory, its PDF kept and read back with pdftotext, its verification code resolved
// without a login, and an amendment that supersedes it.
//
// Expected moisture worked by hand from ISO 712's formula w = (m_wet − m_dry) /
// (m_wet − m_dish) × 100, with the masses put on the simulated pan (d = 0.01 mg):
//   determination 1: (30.13010 − 29.45620) / (30.13010 − 25.12340) = 0.67390 / 5.00670
//                    = 13.45996 %
//   determination 2: (29.88120 − 29.20750) / (29.88120 − 24.87650) = 0.67370 / 5.00470
//                    = 13.46135 %
//   mean 13.46065 %; the two differ by 0.0014 %, inside r = 0.15 %; at most 14.0 % → pass.
// The simulated XS205 shows each load with its noise (σ = 0.02 mg), as a real one does:
// each captured weighing is within 0.1 mg of its load, each determination is the formula
// of the weighings captured, and the mean is within 0.002 % of the figure above (the
// moisture moves by at most 20 %/g × 0.1 mg per weighing).
#include <openssl/sha.h>
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
#include "store/verifier.h"
#include "support/child_process.h"
#include "support/daemon_process.h"
#include "support/demo_lab.h"
#include "support/labtrace_cli.h"
#include "workflow/test_reports.h"
#include "workflow/test_runs.h"

namespace labtrace {
namespace {

namespace fs = std::filesystem;
using testing::ChildProcess;
using testing::ParseJson;
using namespace std::chrono_literals;

constexpr auto kEventDeadline = 15s;

std::string Json(const google::protobuf::Message& message) {
  std::string json;
  (void)google::protobuf::util::MessageToJsonString(message, &json);
  return json;
}

class ConformityRun : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / fmt::format("labtrace-conformity-{}", getpid());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    climate_ = std::make_unique<ChildProcess>(std::vector<std::string>{LABTRACE_SIM_PATH, "modbus-tcp", "--port", "0"});
    auto port = climate_->WaitForLine(std::regex(R"(listening on 127\.0\.0\.1:(\d+))"), kEventDeadline);
    ASSERT_TRUE(port) << climate_->output();
    balance_ = std::make_unique<ChildProcess>(
        std::vector<std::string>{LABTRACE_SIM_PATH, "mt-sics", "--link", (dir_ / "balance-xs205").string()});
    ASSERT_TRUE(balance_->WaitForLine(std::regex("linked at"), kEventDeadline)) << balance_->output();

    // The demo lab, dated today as the demo runs it, pointed at this test's simulators.
    config_path_ = testing::DemoLabToday(dir_, (*port)[1]);
    ASSERT_FALSE(config_path_.empty());

    // The demo's report form beside the lab-config, where the daemon looks for it.
    fs::create_directory_symlink(LABTRACE_REPORT_FORM, dir_ / "report");
    auto daemon = testing::StartDaemon(config_path_, (dir_ / "data").string(), kEventDeadline);
    daemon_ = std::move(daemon.process);
    server_ = daemon.server;
    callers_ = daemon.callers;
    ASSERT_FALSE(server_.empty());
    ASSERT_TRUE(daemon_->WaitForLine(std::regex("instrument balance-xs205 is now GOOD"), kEventDeadline))
        << daemon_->output();
  }

  void TearDown() override {
    daemon_.reset();
    climate_.reset();
    balance_.reset();
    fs::remove_all(dir_);
  }

  // POSTs `body` as the holder of `token`; the reply's status and JSON.
  cli::HttpReply Post(const std::string& path, const google::protobuf::Message& body, const std::string& token) {
    auto reply = cli::HttpPostAs(server_, path, Json(body), token);
    EXPECT_TRUE(reply.has_value()) << reply.error().message() << "\n" << daemon_->output();
    return reply ? *reply : cli::HttpReply{};
  }

  cli::HttpReply Get(const std::string& path, const std::string& token) {
    auto reply = cli::HttpGet(server_, path, token);
    EXPECT_TRUE(reply.has_value()) << reply.error().message();
    return reply ? *reply : cli::HttpReply{};
  }

  // Puts `grams` on the balance's pan, then asks the daemon to capture the next stable
  // weighing for `step` of determination `replicate`.
  TestRun LoadAndCapture(const std::string& run, const std::string& step, uint32_t replicate, double grams) {
    const size_t mark = balance_->Mark();
    balance_->Send(fmt::format("load {:.5f} g\n", grams));
    EXPECT_TRUE(balance_->WaitForLine(std::regex("on the pan"), kEventDeadline, mark)) << balance_->output();
    api::CaptureRequest capture;
    capture.set_step(step);
    capture.set_replicate(replicate);
    capture.set_wait_s(10);
    capture.set_change_key(fmt::format("{}-{}-{}", run, step, replicate));
    const auto reply = Post("/v1/runs/" + run + "/captures", capture, callers_.technician);
    EXPECT_EQ(reply.status, 200) << reply.body;
    return ParseJson<TestRun>(reply.body);
  }

  // The enterprise, its product and a sample received; the demo's moisture run on it,
  // every weighing captured from the balance; submitted, reviewed by test.reviewer and
  // approved by test.approver (W5): `approved` is the run as approved.
  void ReceiveTestAndApprove(TestRun& approved) {
    api::EnterpriseChange enterprise;
    enterprise.mutable_enterprise()->set_name("Công ty TNHH Lương thực Minh Phú");
    enterprise.mutable_enterprise()->set_tax_code("1600123456");
    enterprise.mutable_enterprise()->set_address("Quốc lộ 91, Châu Phú, An Giang");
    auto reply = Post("/v1/enterprises", enterprise, callers_.technician);
    ASSERT_EQ(reply.status, 200) << reply.body;
    const std::string enterprise_id = ParseJson<ConformityRecord>(reply.body).enterprise().id();
    EXPECT_TRUE(std::regex_match(enterprise_id, std::regex(R"(DN-20\d\d-0001)"))) << enterprise_id;

    api::ProductChange product;
    product.mutable_product()->set_enterprise(enterprise_id);
    product.mutable_product()->set_name("Gạo trắng hạt dài 5 % tấm");
    reply = Post("/v1/products", product, callers_.technician);
    ASSERT_EQ(reply.status, 200) << reply.body;
    const std::string product_id = ParseJson<ConformityRecord>(reply.body).product().id();

    api::SampleChange sample;
    sample.mutable_sample()->set_enterprise(enterprise_id);
    sample.mutable_sample()->set_product(product_id);
    sample.mutable_sample()->set_description("Gạo trắng, túi PE 2 kg, niêm phong");
    sample.mutable_sample()->set_quantity("2 túi × 2 kg");
    sample.mutable_sample()->set_condition("nguyên vẹn, niêm phong còn nguyên");
    reply = Post("/v1/samples", sample, callers_.technician);
    ASSERT_EQ(reply.status, 200) << reply.body;
    const Sample received = ParseJson<ConformityRecord>(reply.body).sample();
    EXPECT_TRUE(std::regex_match(received.code(), std::regex(R"(M-20\d\d-00001)"))) << received.code();
    EXPECT_EQ(received.received_by(), "test.technician") << "the receiver is the caller";

    api::RunStart start;
    start.set_sample(received.code());
    start.set_method("PP-DA-GAO");
    api::InstrumentChoice& balance = *start.add_instruments();
    balance.set_instrument_kind("balance");
    balance.set_instrument("balance-xs205");
    start.set_change_key("start-1");
    reply = Post("/v1/runs", start, callers_.technician);
    ASSERT_EQ(reply.status, 200) << reply.body;
    TestRun& run = approved;
    run = ParseJson<TestRun>(reply.body);
    const std::string id = run.id();
    EXPECT_EQ(run.state(), RUN_STATE_DRAFT);
    ASSERT_EQ(run.instruments_size(), 1);
    EXPECT_EQ(run.instruments(0).calibration_certificate(), "HC-2026-00405");

    // A weighing may not be typed: the method's steps are read from the balance.
    api::CaptureRequest typed;
    typed.set_step("dish");
    typed.set_typed_value(25.1234);
    reply = Post("/v1/runs/" + id + "/captures", typed, callers_.technician);
    EXPECT_EQ(reply.status, 403) << reply.body;
    EXPECT_NE(reply.body.find("does not allow manual entry"), std::string::npos) << reply.body;

    const double masses[2][3] = {{25.12340, 30.13010, 29.45620}, {24.87650, 29.88120, 29.20750}};
    const char* steps[3] = {"dish", "wet", "dry"};
    for (uint32_t replicate = 1; replicate <= 2; ++replicate) {
      for (int step = 0; step < 3; ++step) {
        run = LoadAndCapture(id, steps[step], replicate, masses[replicate - 1][step]);
        ASSERT_GT(run.captures_size(), 0);
        const Capture& made = run.captures(run.captures_size() - 1);
        EXPECT_EQ(made.step(), steps[step]);
        EXPECT_NEAR(made.value(), masses[replicate - 1][step], 0.0001) << "the weighing shown after the load";
        EXPECT_NE(made.reading_sequence(), 0u) << "bound to the stored reading";
        EXPECT_EQ(made.provenance().source(), Provenance::POLLED);
      }
    }
    ASSERT_EQ(run.captures_size(), 6);

    api::RunSubmission submission;
    submission.set_change_key("submit-1");
    reply = Post("/v1/runs/" + id + "/submission", submission, callers_.technician);
    ASSERT_EQ(reply.status, 200) << reply.body;
    run = ParseJson<TestRun>(reply.body);
    EXPECT_EQ(run.state(), RUN_STATE_SUBMITTED);
    ASSERT_EQ(run.results_size(), 1);
    const TestResult& moisture = run.results(0);
    ASSERT_EQ(moisture.determinations_size(), 2);
    auto weighed = [&run](const char* step, uint32_t replicate) {
      for (const Capture& capture : run.captures()) {
        if (capture.step() == step && capture.replicate() == replicate) return capture.value();
      }
      return 0.0;
    };
    for (uint32_t replicate = 1; replicate <= 2; ++replicate) {
      const double dish = weighed("dish", replicate), wet = weighed("wet", replicate), dry = weighed("dry", replicate);
      EXPECT_NEAR(moisture.determinations(replicate - 1), (wet - dry) / (wet - dish) * 100, 1e-9);
    }
    EXPECT_NEAR(moisture.value(), 13.46065, 0.002);
    EXPECT_EQ(moisture.decision().statement(), metrology::PASS);
    EXPECT_GT(moisture.budget().expanded_uncertainty(), 0);

    // W5 through the API: a technician may not sign; the reviewer's wrong password signs
    // nothing; the reviewer reviews; the reviewer may not also approve; another approves.
    api::RunReview review;
    review.set_password(testing::kTestPassword);
    reply = Post("/v1/runs/" + id + "/reviews", review, callers_.technician);
    EXPECT_EQ(reply.status, 403) << reply.body;
    api::RunReview wrong;
    wrong.set_password("not-the-password");
    reply = Post("/v1/runs/" + id + "/reviews", wrong, callers_.reviewer);
    EXPECT_EQ(reply.status, 403) << reply.body;
    EXPECT_NE(reply.body.find("nothing was signed"), std::string::npos) << reply.body;
    review.set_change_key("review-1");
    reply = Post("/v1/runs/" + id + "/reviews", review, callers_.reviewer);
    ASSERT_EQ(reply.status, 200) << reply.body;
    run = ParseJson<TestRun>(reply.body);
    EXPECT_EQ(run.state(), RUN_STATE_REVIEWED);
    review.set_change_key("review-2");
    reply = Post("/v1/runs/" + id + "/reviews", review, callers_.reviewer);
    EXPECT_EQ(reply.status, 403) << reply.body;
    review.set_change_key("approve-1");
    reply = Post("/v1/runs/" + id + "/reviews", review, callers_.approver);
    ASSERT_EQ(reply.status, 200) << reply.body;
    run = ParseJson<TestRun>(reply.body);
    EXPECT_EQ(run.state(), RUN_STATE_APPROVED);
    ASSERT_EQ(run.signatures_size(), 2);
    EXPECT_EQ(run.signatures(0).statement().meaning(), SIGNATURE_MEANING_REVIEWED);
    EXPECT_EQ(run.signatures(0).statement().signer_user(), "test.reviewer");
    EXPECT_EQ(run.signatures(1).statement().meaning(), SIGNATURE_MEANING_APPROVED);
    EXPECT_EQ(run.signatures(1).statement().signer_user(), "test.approver");
    EXPECT_EQ(run.signatures(1).statement().record_version(), run.submitted_version());
  }

  fs::path dir_;
  std::string config_path_, server_;
  testing::TestCallers callers_;
  std::unique_ptr<ChildProcess> climate_, balance_, daemon_;
};

TEST_F(ConformityRun, MoistureOfRiceFromReceiptToApprovalWithCapturedWeighings) {
  TestRun run;
  ASSERT_NO_FATAL_FAILURE(ReceiveTestAndApprove(run));
  const std::string id = run.id();

  // Both signatures verify against the run as stored, with the keys the store holds.
  daemon_.reset();
  auto store = store::RecordStore::Open((dir_ / "data").string());
  ASSERT_TRUE(store) << store.error().message();
  auto key_of = [&](const std::string& user) {
    auto account = (*store)->FindAccount(user);
    return account && *account ? (*account)->signing_key().public_key() : std::string();
  };
  auto stored = (*store)->FindConformity("test_run", id);
  ASSERT_TRUE(stored && *stored);
  const Status verified = workflow::VerifyRunSignatures((*stored)->test_run(), key_of);
  EXPECT_TRUE(verified.ok()) << verified.message();
  auto versions = (*store)->ConformityVersions("test_run", id);
  ASSERT_TRUE(versions);
  EXPECT_EQ(versions->size(), 10u) << "start, six captures, submission, review, approval: each a version";
  store->reset();
  auto report = store::VerifyStore((dir_ / "data" / "labtrace.db").string(), {});
  ASSERT_TRUE(report) << report.error().message();
  EXPECT_TRUE(report->intact) << report->problem;
}

// The text of a PDF as poppler's pdftotext reads it: a tool that shares nothing with
// the code that printed it.
std::string PdfText(const fs::path& pdf) {
  FILE* pipe = ::popen(("pdftotext -enc UTF-8 '" + pdf.string() + "' -").c_str(), "r");
  EXPECT_NE(pipe, nullptr);
  if (pipe == nullptr) return "";
  std::string text;
  char buffer[4096];
  for (size_t n; (n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0;) text.append(buffer, n);
  EXPECT_EQ(::pclose(pipe), 0) << "pdftotext failed on " << pdf;
  return text;
}

// SHA-256 by OpenSSL, not the libsodium the daemon hashes with.
std::string Sha256(const std::string& bytes) {
  unsigned char hash[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), hash);
  return std::string(reinterpret_cast<const char*>(hash), sizeof hash);
}

TEST_F(ConformityRun, TheReportIsIssuedInScopePrintedOnceAndItsCodeResolvesWithoutLogin) {
  TestRun run;
  ASSERT_NO_FATAL_FAILURE(ReceiveTestAndApprove(run));

  api::ReportDraft draft;
  draft.set_sample(run.sample());
  draft.add_runs(run.id());
  draft.set_change_key("report-1");
  auto reply = Post("/v1/reports", draft, callers_.technician);
  ASSERT_EQ(reply.status, 200) << reply.body;
  TestReport report = ParseJson<TestReport>(reply.body);
  const std::string number = report.number();
  EXPECT_TRUE(std::regex_match(number, std::regex(R"(PKQ-20\d\d-00001)"))) << number;
  EXPECT_EQ(report.state(), REPORT_STATE_DRAFT);
  ASSERT_EQ(report.runs_size(), 1);
  EXPECT_EQ(report.runs(0).run_version(), run.version());
  EXPECT_EQ(report.lab().name_vi(), "Chi cục Tiêu chuẩn Đo lường Chất lượng tỉnh An Giang");
  const std::string code = report.verification_code();
  ASSERT_EQ(code.size(), 12u);
  EXPECT_EQ(Get("/v1/verify/" + code, "").status, 404) << "a draft's code was never handed out";

  // test.approver reviews runs but is no report signatory (lab-config signatories); a
  // technician may not sign at all; a wrong password signs nothing.
  api::ReportSigning signing;
  signing.set_password(testing::kTestPassword);
  reply = Post("/v1/reports/" + number + "/signatures", signing, callers_.approver);
  EXPECT_EQ(reply.status, 403) << reply.body;
  EXPECT_NE(reply.body.find("test.approver is not one of the lab's report signatories"), std::string::npos)
      << reply.body;
  EXPECT_EQ(Post("/v1/reports/" + number + "/signatures", signing, callers_.technician).status, 403);
  api::ReportSigning wrong;
  wrong.set_password("not-the-password");
  EXPECT_EQ(Post("/v1/reports/" + number + "/signatures", wrong, callers_.reviewer).status, 403);

  signing.set_change_key("issue-1");
  reply = Post("/v1/reports/" + number + "/signatures", signing, callers_.reviewer);
  ASSERT_EQ(reply.status, 200) << reply.body;
  report = ParseJson<TestReport>(reply.body);
  EXPECT_EQ(report.state(), REPORT_STATE_ISSUED);
  EXPECT_EQ(report.version(), 2u);
  EXPECT_FALSE(report.issued_on().empty());
  ASSERT_EQ(report.signatures_size(), 1);
  EXPECT_EQ(report.signatures(0).statement().signer_user(), "test.reviewer");
  EXPECT_EQ(report.signatures(0).statement().meaning(), SIGNATURE_MEANING_APPROVED);
  ASSERT_EQ(report.pdf_sha256().size(), 32u);

  // The PDF issued, as kept: the same bytes each time, with the hash the record carries.
  reply = Get("/v1/reports/" + number + "?format=pdf", callers_.auditor);
  ASSERT_EQ(reply.status, 200) << reply.body;
  ASSERT_TRUE(reply.body.starts_with("%PDF-"));
  EXPECT_EQ(Sha256(reply.body), report.pdf_sha256());
  EXPECT_EQ(Get("/v1/reports/" + number + "?format=pdf", callers_.technician).body, reply.body);
  const fs::path pdf = dir_ / "issued.pdf";
  std::ofstream(pdf, std::ios::binary) << reply.body;
  const std::string text = PdfText(pdf);
  // 13.46065 % (within 0.002 %, above) to the method's two decimals, the Vietnamese way.
  for (const char* expected : {"PHIẾU KẾT QUẢ THỬ NGHIỆM", "Chi cục Tiêu chuẩn Đo lường Chất lượng", "13,46", "13.46",
                               "Công ty TNHH Lương thực Minh Phú", "Test reviewer"}) {
    EXPECT_NE(text.find(expected), std::string::npos) << expected << "\nin:\n" << text;
  }
  EXPECT_NE(text.find(number), std::string::npos);
  EXPECT_NE(text.find(code), std::string::npos);
  reply = Get("/v1/reports/" + number + "?format=html", callers_.auditor);
  ASSERT_EQ(reply.status, 200);
  EXPECT_NE(reply.body.find("PHIẾU KẾT QUẢ THỬ NGHIỆM"), std::string::npos);

  // Anyone may ask whether the report stands, and learns nothing about the customer.
  reply = Get("/v1/verify/" + code, "");
  ASSERT_EQ(reply.status, 200) << reply.body;
  auto verification = ParseJson<api::ReportVerification>(reply.body);
  EXPECT_EQ(verification.number(), number);
  EXPECT_EQ(verification.state(), "valid");
  EXPECT_EQ(reply.body.find("Minh Phú"), std::string::npos) << reply.body;
  EXPECT_EQ(reply.body.find(run.sample()), std::string::npos) << reply.body;

  // An amendment replaces it; once issued, the first report is superseded, and its code
  // says by which.
  api::ReportAmendment amendment;
  amendment.set_reason("Bổ sung số lô theo yêu cầu của khách hàng");
  amendment.set_change_key("amend-1");
  reply = Post("/v1/reports/" + number + "/amendments", amendment, callers_.technician);
  ASSERT_EQ(reply.status, 200) << reply.body;
  const TestReport amended = ParseJson<TestReport>(reply.body);
  EXPECT_EQ(amended.replaces(), number);
  EXPECT_NE(amended.verification_code(), code);
  signing.set_change_key("issue-2");
  reply = Post("/v1/reports/" + amended.number() + "/signatures", signing, callers_.reviewer);
  ASSERT_EQ(reply.status, 200) << reply.body;
  reply = Get("/v1/verify/" + code, "");
  ASSERT_EQ(reply.status, 200) << reply.body;
  verification = ParseJson<api::ReportVerification>(reply.body);
  EXPECT_EQ(verification.state(), "superseded");
  EXPECT_EQ(verification.replaced_by(), amended.number());
  reply = Get("/v1/verify/" + amended.verification_code(), "");
  EXPECT_EQ(ParseJson<api::ReportVerification>(reply.body).state(), "valid") << reply.body;
  // The first report's PDF is still the one handed out.
  EXPECT_EQ(Sha256(Get("/v1/reports/" + number + "?format=pdf", callers_.auditor).body), report.pdf_sha256());

  // The signatures verify against the reports as stored; the store, PDFs included, is intact.
  daemon_.reset();
  auto store = store::RecordStore::Open((dir_ / "data").string());
  ASSERT_TRUE(store) << store.error().message();
  auto key_of = [&](const std::string& user) {
    auto account = (*store)->FindAccount(user);
    return account && *account ? (*account)->signing_key().public_key() : std::string();
  };
  for (const std::string& stored_number : {number, amended.number()}) {
    auto stored = (*store)->FindConformity("test_report", stored_number);
    ASSERT_TRUE(stored && *stored);
    const Status verified = workflow::VerifyReportSignatures((*stored)->test_report(), key_of);
    EXPECT_TRUE(verified.ok()) << stored_number << ": " << verified.message();
  }
  store->reset();
  auto intact = store::VerifyStore((dir_ / "data" / "labtrace.db").string(), {});
  ASSERT_TRUE(intact) << intact.error().message();
  EXPECT_TRUE(intact->intact) << intact->problem;
}

}  // namespace
}  // namespace labtrace
