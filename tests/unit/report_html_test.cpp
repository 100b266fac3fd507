// The test report's HTML: the form (template and language files) as the lab ships it,
// the template language's escaping and strictness, and a rice moisture report rendered
// whole. Expected texts are written out by hand.
#include "report/report_html.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "report/report_labels.h"
#include "report/report_template.h"
#include "support/rice_moisture_report.h"

namespace labtrace::report {
namespace {

namespace fs = std::filesystem;
using labtrace::testing::RiceMoistureReport;

constexpr const char* kForm = LABTRACE_REPORT_FORM;
constexpr const char* kZone = "Asia/Ho_Chi_Minh";

const ReportForm& Form() {
  static const ReportForm* form = [] {
    auto loaded = LoadTestReportForm(kForm);
    EXPECT_TRUE(loaded) << loaded.error().message();
    return loaded ? new ReportForm(std::move(*loaded)) : nullptr;
  }();
  return *form;
}

std::string Html(const TestReport& report) {
  auto html = ReportHtml(report, Form(), kZone);
  EXPECT_TRUE(html) << html.error().message();
  return html ? *html : "";
}

size_t Count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + what.size()))
    ++n;
  return n;
}

// ---- the template language ----

Result<std::string> RenderText(const std::string& text, const TemplateData& data) {
  auto parsed = Template::Parse(text, "t.html");
  if (!parsed) return Error(parsed.error());
  return parsed->Render(data);
}

TEST(ReportTemplate, EveryValueIsEscapedAsText) {
  TemplateData data;
  data.Text("name", "Công ty \"A & B\" <Gạo> 'X'");
  auto html = RenderText("<td title=\"{{name}}\">{{ name }}</td>", data);
  ASSERT_TRUE(html) << html.error().message();
  EXPECT_EQ(*html,
            "<td title=\"Công ty &quot;A &amp; B&quot; &lt;Gạo&gt; &#39;X&#39;\">"
            "Công ty &quot;A &amp; B&quot; &lt;Gạo&gt; &#39;X&#39;</td>");
}

TEST(ReportTemplate, ATemplateCannotUnescape) {
  for (const char* text : {"{{{name}}}", "{{&name}}"}) {
    auto parsed = Template::Parse(text, "t.html");
    ASSERT_FALSE(parsed) << text;
    EXPECT_NE(parsed.error().message().find("t.html:1:1: unescaped output"), std::string::npos)
        << parsed.error().message();
  }
}

TEST(ReportTemplate, OnlyCodeInsertsMarkup) {
  TemplateData data;
  data.Markup("qr", "<svg class=\"qr\"></svg>");
  auto html = RenderText("<div>{{qr}}</div>", data);
  ASSERT_TRUE(html);
  EXPECT_EQ(*html, "<div><svg class=\"qr\"></svg></div>");
  // Markup cannot be put into a CSS string.
  EXPECT_FALSE(RenderText("{{css:qr}}", data));
}

TEST(ReportTemplate, CssStringsCannotBeEndedByAValue) {
  TemplateData data;
  data.Text("number", "PKQ\"; } body { color: red } </style><script>");
  auto css = RenderText("content: \"{{css:number}}\";", data);
  ASSERT_TRUE(css) << css.error().message();
  EXPECT_EQ(*css,
            "content: \"PKQ\\22 \\3b  \\7d  body \\7b  color: red \\7d  \\3c /style\\3e \\3c "
            "script\\3e \";");
  EXPECT_EQ(EscapeCssString("Trang Số PKQ-2026-00005"), "Trang Số PKQ-2026-00005");
}

TEST(ReportTemplate, SectionsRepeatOverListsAndLookOutwards) {
  TemplateData data;
  data.Text("unit", "%");
  data.AddItem("rows").Text("value", "13,45");
  data.AddItem("rows").Text("value", "0,12");
  data.Flag("signed", false);
  data.List("empty");
  auto html = RenderText(
      "{{#rows}}[{{value}} {{unit}}]{{/rows}}{{#signed}}S{{/signed}}{{^signed}}U{{/signed}}"
      "{{#empty}}x{{/empty}}{{^empty}}none{{/empty}}",
      data);
  ASSERT_TRUE(html) << html.error().message();
  EXPECT_EQ(*html, "[13,45 %][0,12 %]Unone");
}

TEST(ReportTemplate, AnUnknownNameIsAnErrorWithItsPlace) {
  TemplateData data;
  data.Text("customer.name", "Minh Phú");
  auto html = RenderText("<p>\n  Khách hàng: {{customer.nmae}}</p>", data);
  ASSERT_FALSE(html);
  EXPECT_EQ(html.error().message(),
            "t.html:2:15: {{customer.nmae}}: the document provides no value of this name");
}

TEST(ReportTemplate, UnbalancedSectionsAreRefused) {
  auto open = Template::Parse("{{#runs}}\n<p>", "t.html");
  ASSERT_FALSE(open);
  EXPECT_EQ(open.error().message(), "t.html:1:1: {{#runs}} is never closed");
  auto crossed = Template::Parse("{{#a}}{{#b}}{{/a}}{{/b}}", "t.html");
  ASSERT_FALSE(crossed);
  EXPECT_EQ(crossed.error().message(), "t.html:1:13: {{/a}} closes {{#b}} of line 1");
  EXPECT_FALSE(Template::Parse("{{/a}}", "t.html"));
  EXPECT_FALSE(Template::Parse("{{ no spaces }}", "t.html"));
  EXPECT_FALSE(Template::Parse("{{name", "t.html"));
}

TEST(ReportTemplate, CheckVisitsBranchesARenderWouldSkip) {
  auto parsed = Template::Parse("{{#amended}}{{replacess}}{{/amended}}", "t.html");
  ASSERT_TRUE(parsed);
  TemplateData data;
  data.Flag("amended", false);
  data.Text("replaces", "PKQ-2026-00003");
  EXPECT_TRUE(parsed->Render(data));           // the misspelling hides behind a clear flag …
  const Status checked = parsed->Check(data);  // … until the form is checked
  EXPECT_EQ(checked.message(),
            "t.html:1:13: {{replacess}}: the document provides no value of this name");
}

// ---- the language files ----

TEST(ReportLabels, KeyEqualsTextLines) {
  auto labels = ReportLabels::Parse(
      "# a comment\n\ntitle = PHIẾU KẾT QUẢ THỬ NGHIỆM\npage=Trang \n", "vi.labels");
  ASSERT_TRUE(labels) << labels.error().message();
  EXPECT_EQ((*labels)["title"], "PHIẾU KẾT QUẢ THỬ NGHIỆM");
  EXPECT_EQ((*labels)["page"], "Trang");
  EXPECT_EQ(labels->texts().size(), 2u);
}

TEST(ReportLabels, MistakesAreRefusedWithTheirLine) {
  auto twice = ReportLabels::Parse("title = A\ntitle = B\n", "vi.labels");
  ASSERT_FALSE(twice);
  EXPECT_EQ(twice.error().message(), "vi.labels:2: title is given twice");
  auto no_equals = ReportLabels::Parse("\ntitle PHIẾU\n", "vi.labels");
  ASSERT_FALSE(no_equals);
  EXPECT_EQ(no_equals.error().message(), "vi.labels:2: expected \"key = text\"");
  EXPECT_FALSE(ReportLabels::Parse("Title = A\n", "vi.labels"));
  EXPECT_FALSE(ReportLabels::Parse("title =\n", "vi.labels"));
  // "PHI\xC1U": Latin-1 bytes from an editor that did not save as UTF-8.
  auto latin1 = ReportLabels::Parse("title = PHI\xC1U\n", "vi.labels");
  ASSERT_FALSE(latin1);
  EXPECT_EQ(latin1.error().message(),
            "vi.labels:1: the text of title is not UTF-8; save the file as UTF-8");
}

TEST(ReportLabels, Utf8Validation) {
  EXPECT_TRUE(IsUtf8("Đạt — ≤ 14 %"));
  EXPECT_FALSE(IsUtf8("\xC0\xAF"));      // overlong "/"
  EXPECT_FALSE(IsUtf8("\xED\xA0\x80"));  // a surrogate
  EXPECT_FALSE(IsUtf8("\xE1\xBA"));      // cut short
}

// ---- the form as shipped, and forms with mistakes ----

class BrokenForm : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) / ("report-form-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    for (const char* name : {"test-report.html", "vi.labels", "en.labels"}) {
      fs::copy_file(fs::path(kForm) / name, dir_ / name, fs::copy_options::overwrite_existing);
    }
  }
  void TearDown() override { fs::remove_all(dir_); }
  void Replace(const char* file, const std::string& from, const std::string& to) {
    std::ifstream in(dir_ / file);
    std::stringstream text;
    text << in.rdbuf();
    std::string s = text.str();
    const size_t at = s.find(from);
    ASSERT_NE(at, std::string::npos) << from;
    s.replace(at, from.size(), to);
    std::ofstream(dir_ / file) << s;
  }
  fs::path dir_;
};

TEST_F(BrokenForm, TheShippedFormLoads) {
  auto form = LoadTestReportForm(dir_.string());
  EXPECT_TRUE(form) << form.error().message();
}

TEST_F(BrokenForm, AMisspeltNameInARarelyShownBranchStopsTheLoad) {
  Replace("test-report.html", "{{amendment_reason}}</p>", "{{amendment_reson}}</p>");
  auto form = LoadTestReportForm(dir_.string());
  ASSERT_FALSE(form);
  EXPECT_NE(form.error().message().find("test-report.html:"), std::string::npos)
      << form.error().message();
  EXPECT_NE(form.error().message().find("{{amendment_reson}}: the document provides no value"),
            std::string::npos)
      << form.error().message();
}

TEST_F(BrokenForm, AWordInOnlyOneLanguageStopsTheLoad) {
  Replace("en.labels", "statement_fail = Fail\n", "");
  auto form = LoadTestReportForm(dir_.string());
  ASSERT_FALSE(form);
  EXPECT_NE(form.error().message().find("vi.labels has statement_fail but"), std::string::npos)
      << form.error().message();
}

TEST_F(BrokenForm, AWordTheCodePrintsMustBeThere) {
  Replace("en.labels", "meaning_approved = Approved by\n", "");
  Replace("vi.labels", "meaning_approved = Người phê duyệt\n", "");
  auto form = LoadTestReportForm(dir_.string());
  ASSERT_FALSE(form);
  EXPECT_NE(form.error().message().find("meaning_approved is missing"), std::string::npos)
      << form.error().message();
}

// ---- a whole report ----

TEST(ReportHtml, TitleAndLabInBothLanguagesVietnameseFirst) {
  const std::string html = Html(RiceMoistureReport());
  ASSERT_NE(html.find("PHIẾU KẾT QUẢ THỬ NGHIỆM"), std::string::npos);
  EXPECT_LT(html.find("PHIẾU KẾT QUẢ THỬ NGHIỆM"), html.find("TEST REPORT"));
  EXPECT_NE(html.find("Chi cục Tiêu chuẩn Đo lường Chất lượng tỉnh Đồng Tháp"), std::string::npos);
  EXPECT_NE(html.find("Sub-Department of Standards, Metrology and Quality"), std::string::npos);
  EXPECT_NE(html.find("VILAS 1234"), std::string::npos);
  EXPECT_NE(html.find("<html lang=\"vi\">"), std::string::npos);
}

TEST(ReportHtml, CustomerProductSampleAndDates) {
  const std::string html = Html(RiceMoistureReport());
  for (const char* text :
       {"Công ty TNHH Lương thực Minh Phú", "0312345678", "Ấp Tân Phú, xã Tân Thuận Đông",
        "Gạo trắng hạt dài 5 % tấm", "M-2026-00012", "Gạo trắng, túi PE 2 kg, niêm phong",
        "2 túi × 2 kg", "LSX 2603-07", "<td>30/03/2026</td>", "<td>31/03/2026</td>",
        "<td colspan=\"3\">02/04/2026</td>", "PKQ-2026-00005"}) {
    EXPECT_NE(html.find(text), std::string::npos) << text;
  }
}

TEST(ReportHtml, MethodWithStandardEditionClauseAndRule) {
  const std::string html = Html(RiceMoistureReport());
  EXPECT_NE(html.find("TCVN 9027:2011, Điều 7 — Gạo — Xác định độ ẩm (phương pháp sấy)"),
            std::string::npos);
  EXPECT_NE(html.find("TCVN 9027:2011, Clause 7 — Rice — Determination of moisture content"),
            std::string::npos);
  EXPECT_NE(html.find("Chấp nhận đơn giản (ILAC-G8:09/2019 §4.2.1)"), std::string::npos);
  EXPECT_NE(html.find("Simple acceptance (ILAC-G8:09/2019 §4.2.1)"), std::string::npos);
  EXPECT_NE(html.find("Kết quả nằm đúng trên giới hạn được coi là nằm trong giới hạn."),
            std::string::npos);
  EXPECT_EQ(html.find("Dải bảo vệ: w ="), std::string::npos);  // simple acceptance has none
}

TEST(ReportHtml, ResultWithDecimalCommaThenDecimalPoint) {
  const std::string html = Html(RiceMoistureReport());
  EXPECT_NE(html.find("<td class=\"num\">13,45<span class=\"en\">13.45</span></td>"),
            std::string::npos);
  EXPECT_NE(html.find("<td class=\"num\">0,12<span class=\"en\">0.12</span></td>"),
            std::string::npos);
  EXPECT_NE(html.find("<td class=\"num\">2<span class=\"en\">2</span></td>"), std::string::npos);
  EXPECT_NE(html.find("không lớn hơn 14<span class=\"en\">not more than 14</span>"),
            std::string::npos);
  EXPECT_NE(html.find("<td class=\"statement pass\">Đạt<span class=\"en\">Pass</span></td>"),
            std::string::npos);
}

TEST(ReportHtml, GuardedAcceptanceShowsTheAcceptanceLimit) {
  TestReport report = RiceMoistureReport();
  ReportedRun* run = report.mutable_runs(0);
  run->mutable_method()->mutable_decision_rule()->set_kind(metrology::NON_BINARY);
  TestResult* result = run->mutable_results(0);
  result->set_value(13.92);
  result->mutable_budget()->set_estimate_rounded(13.92);
  // w = U = 0.12 % (unrounded 0.1234): acceptance limit 14.0 − 0.1234 = 13.8766, shown
  // to the result's two decimals rounded inwards, 13.87: a value printed as 13.88 is
  // above 13.8766 and must not read as inside the acceptance limit.
  result->mutable_decision()->set_guard_band(0.1234);
  result->mutable_decision()->set_upper_acceptance_limit(13.8766);
  result->mutable_decision()->set_statement(metrology::CONDITIONAL_PASS);
  const std::string html = Html(report);
  EXPECT_NE(html.find("Giới hạn chấp nhận: không lớn hơn 13,87<span class=\"en\">Acceptance "
                      "limits: not more than 13.87</span>"),
            std::string::npos);
  EXPECT_NE(html.find("Đạt có điều kiện<span class=\"en\">Conditional pass</span>"),
            std::string::npos);
  EXPECT_NE(html.find("Dải bảo vệ: w = 1 × U."), std::string::npos);
  EXPECT_NE(html.find("Guard band: w = 1 × U."), std::string::npos);
}

TEST(ReportHtml, UncertaintyInAnotherUnitKeepsTheValueToItsLastDigit) {
  // W1 (EA-4/02 S1): m = 10 000.025 g with U = 59 mg: the value to the milligram.
  TestReport report = RiceMoistureReport();
  TestResult* result = report.mutable_runs(0)->mutable_results(0);
  result->set_unit("g");
  result->clear_upper_limit();
  metrology::BudgetResult* budget = result->mutable_budget();
  budget->set_unit("g");
  budget->set_report_unit("mg");
  budget->set_estimate_rounded(10000.025);
  budget->set_expanded_uncertainty_rounded(59);
  result->mutable_decision()->set_statement(metrology::STATEMENT_UNSPECIFIED);
  const std::string html = Html(report);
  EXPECT_NE(html.find("10\u202F000,025<span class=\"en\">10\u202F000.025</span>"),
            std::string::npos);
  EXPECT_NE(html.find("59 mg<span class=\"en\">59 mg</span>"), std::string::npos);
  EXPECT_NE(html.find("Không đánh giá<span class=\"en\">Not assessed</span>"), std::string::npos);
}

TEST(ReportHtml, ValuesThatLookLikeMarkupStayText) {
  TestReport report = RiceMoistureReport();
  report.mutable_customer()->set_name("Công ty \"A & B\" <Gạo>");
  report.mutable_sample()->set_description("<script>alert(1)</script>");
  report.set_number("PKQ\"</style><b>");
  const std::string html = Html(report);
  EXPECT_NE(html.find("Công ty &quot;A &amp; B&quot; &lt;Gạo&gt;"), std::string::npos);
  EXPECT_EQ(html.find("<Gạo>"), std::string::npos);
  EXPECT_EQ(html.find("<script>"), std::string::npos);
  EXPECT_NE(html.find("&lt;script&gt;alert(1)&lt;/script&gt;"), std::string::npos);
  EXPECT_EQ(Count(html, "</style>"), 1u);  // the number did not end the style sheet
  EXPECT_EQ(html.find("<b>"), std::string::npos);
}

TEST(ReportHtml, PageNumbersAndTheReportNumberOnEveryPage) {
  const std::string html = Html(RiceMoistureReport());
  EXPECT_NE(html.find("content: \"Số / No.: PKQ-2026-00005\";"), std::string::npos);
  EXPECT_NE(
      html.find(
          "content: \"Trang \" counter(page) \"/\" counter(pages) \" · Page \" counter(page)"),
      std::string::npos);
}

TEST(ReportHtml, SignatoriesWithMeaningAndLocalTime) {
  const std::string html = Html(RiceMoistureReport());
  EXPECT_NE(html.find("<strong>Người xem xét</strong><span class=\"en\">Reviewed by</span>"),
            std::string::npos);
  EXPECT_NE(html.find("<strong>Người phê duyệt</strong><span class=\"en\">Approved by</span>"),
            std::string::npos);
  EXPECT_NE(html.find("Nguyễn Thị Hồng Nhung"), std::string::npos);
  EXPECT_NE(html.find("Trần Văn Đức"), std::string::npos);
  EXPECT_NE(html.find("Thời điểm ký: <span class=\"nowrap\">02/04/2026 09:15 (UTC+07:00)</span>"),
            std::string::npos);
  EXPECT_NE(html.find("Signed at: <span class=\"nowrap\">02/04/2026 10:40 (UTC+07:00)</span>"),
            std::string::npos);
  EXPECT_LT(html.find("Người xem xét"), html.find("Người phê duyệt"));
  EXPECT_EQ(html.find("Phiếu chưa được ký."), std::string::npos);
}

TEST(ReportHtml, SignatureTimesFollowTheLabsZone) {
  auto html = ReportHtml(RiceMoistureReport(), Form(), "UTC");
  ASSERT_TRUE(html);
  EXPECT_NE(html->find("02/04/2026 02:15 (UTC+00:00)"), std::string::npos);
  auto unknown = ReportHtml(RiceMoistureReport(), Form(), "Asia/Saigon_City");
  ASSERT_FALSE(unknown);
  EXPECT_NE(unknown.error().message().find("\"Asia/Saigon_City\" is not a time zone"),
            std::string::npos);
}

TEST(ReportHtml, VerificationCodeAndItsQrCode) {
  const std::string html = Html(RiceMoistureReport());
  EXPECT_NE(html.find("<strong>7KQ2M4XW9TNA</strong>"), std::string::npos);
  EXPECT_NE(html.find("<svg class=\"qr\""), std::string::npos);
  EXPECT_NE(html.find("aria-label=\"https://tdc.example.gov.vn/verify/7KQ2M4XW9TNA\""),
            std::string::npos);
  EXPECT_NE(html.find("https://tdc.example.gov.vn/verify/7KQ2M4XW9TNA</p>"), std::string::npos);
}

TEST(ReportHtml, AnAmendedReportCitesTheOneItReplacesAndWhy) {
  EXPECT_EQ(Html(RiceMoistureReport()).find("Phiếu này thay thế phiếu"), std::string::npos);
  TestReport report = RiceMoistureReport();
  report.set_replaces("PKQ-2026-00003");
  report.set_amendment_reason("Sửa tên khách hàng theo giấy chứng nhận đăng ký doanh nghiệp");
  const std::string html = Html(report);
  EXPECT_NE(html.find("Phiếu này thay thế phiếu <strong>PKQ-2026-00003</strong>. Lý do sửa đổi: "
                      "Sửa tên khách hàng"),
            std::string::npos);
  EXPECT_NE(html.find("This report replaces report <strong>PKQ-2026-00003</strong>. Reason for the "
                      "amendment: Sửa"),
            std::string::npos);
}

TEST(ReportHtml, DraftSupersededAndRevokedSaySo) {
  TestReport report = RiceMoistureReport();
  report.set_state(REPORT_STATE_DRAFT);
  report.clear_signatures();
  std::string html = Html(report);
  EXPECT_NE(html.find("BẢN NHÁP — CHƯA CÓ GIÁ TRỊ"), std::string::npos);
  EXPECT_NE(html.find("Phiếu chưa được ký."), std::string::npos);
  report = RiceMoistureReport();
  report.set_state(REPORT_STATE_SUPERSEDED);
  report.set_superseded_by("PKQ-2026-00009");
  html = Html(report);
  EXPECT_NE(html.find("Phiếu này đã bị thay thế bởi phiếu PKQ-2026-00009."), std::string::npos);
  EXPECT_EQ(html.find("BẢN NHÁP"), std::string::npos);
  report.set_state(REPORT_STATE_REVOKED);
  EXPECT_NE(Html(report).find("Phiếu này đã bị thu hồi"), std::string::npos);
}

TEST(ReportHtml, NothingIsFetched) {
  const std::string html = Html(RiceMoistureReport());
  EXPECT_NE(html.find("content=\"default-src 'none'; style-src 'unsafe-inline'\""),
            std::string::npos);
  EXPECT_EQ(html.find("src="), std::string::npos);
  EXPECT_EQ(html.find("href="), std::string::npos);
  EXPECT_EQ(html.find("url("), std::string::npos);
}

}  // namespace
}  // namespace labtrace::report
