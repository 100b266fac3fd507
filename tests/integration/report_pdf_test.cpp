// The test report printed to PDF by Debian's chromium, and read back with poppler's
// pdftotext, pdffonts and pdfinfo and zbar's zbarimg: tools that share nothing with the
// code that wrote the page. CI installs chromium, so a missing chromium fails here.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "report/pdf_printer.h"
#include "report/report_html.h"
#include "support/rice_moisture_report.h"

namespace labtrace::report {
namespace {

namespace fs = std::filesystem;
using labtrace::testing::RiceMoistureReport;
using namespace std::chrono_literals;

constexpr const char* kForm = LABTRACE_REPORT_FORM;

PdfPrinterOptions Options() {
  PdfPrinterOptions options;
  options.fontconfig_file = std::string(kForm) + "/fonts.conf";
  return options;
}

// A scratch folder for the test's files, removed after it.
class ReportPdf : public ::testing::Test {
 protected:
  void SetUp() override {
    // Short: chromium's socket goes in a folder made here, and its path is limited.
    static int tests = 0;
    dir_ = fs::path(::testing::TempDir()) / fmt::format("report-pdf-{}-{}", ::getpid(), ++tests);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Renders and prints `report`, keeps the PDF in the scratch folder and returns its path.
  std::string Print(const TestReport& report) {
    static const auto form = LoadTestReportForm(kForm);
    EXPECT_TRUE(form) << form.error().message();
    auto html = ReportHtml(report, *form, "Asia/Ho_Chi_Minh");
    EXPECT_TRUE(html) << html.error().message();
    auto printed = PrintPdf(html ? *html : "", Options());
    EXPECT_TRUE(printed) << printed.error().message();
    if (!printed) return "";
    // Measured here, so each CI log says how long chromium took on that machine.
    RecordProperty("chromium_ms", static_cast<int>(printed->elapsed.count()));
    std::fprintf(stderr, "chromium printed %zu bytes in %lld ms (own network namespace: %s)\n",
                 printed->pdf.size(), static_cast<long long>(printed->elapsed.count()),
                 printed->own_network_namespace ? "yes" : "no");
    EXPECT_LT(printed->elapsed, 30s);
    const std::string path = (dir_ / "report.pdf").string();
    std::ofstream(path, std::ios::binary) << printed->pdf;
    return path;
  }

  fs::path dir_;
};

// Runs a command and returns what it printed on its standard output; the test fails if
// the command fails.
std::string Output(const std::string& command) {
  FILE* pipe = ::popen(command.c_str(), "r");
  EXPECT_NE(pipe, nullptr) << command;
  if (pipe == nullptr) return "";
  std::string out;
  char buffer[4096];
  for (size_t n; (n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0;) out.append(buffer, n);
  EXPECT_EQ(::pclose(pipe), 0) << command << "\n" << out;
  return out;
}

int PageCount(const std::string& pdf) {
  std::smatch pages;
  const std::string info = Output("pdfinfo '" + pdf + "'");
  EXPECT_TRUE(std::regex_search(info, pages, std::regex(R"(Pages:\s+(\d+))"))) << info;
  return pages.empty() ? 0 : std::stoi(pages[1]);
}

// The code points of UTF-8 text (the form's files are checked to be UTF-8 at load).
std::vector<char32_t> CodePoints(const std::string& text) {
  std::vector<char32_t> points;
  for (size_t i = 0; i < text.size();) {
    const auto b = static_cast<unsigned char>(text[i]);
    const int length = b < 0x80 ? 1 : (b & 0xE0) == 0xC0 ? 2 : (b & 0xF0) == 0xE0 ? 3 : 4;
    char32_t point = length == 1 ? b : b & (0x7F >> length);
    for (int k = 1; k < length && i + k < text.size(); ++k)
      point = (point << 6) | (text[i + k] & 0x3F);
    points.push_back(point);
    i += length;
  }
  return points;
}

// fontconfig's charset of a font file: "20-7e a0-17f 1ea0-1ef9 …", as ranges.
std::vector<std::pair<char32_t, char32_t>> Charset(const std::string& font_file) {
  std::vector<std::pair<char32_t, char32_t>> ranges;
  std::istringstream words(Output("fc-query --format '%{charset}' '" + font_file + "'"));
  for (std::string word; words >> word;) {
    const size_t dash = word.find('-');
    const auto first = static_cast<char32_t>(std::stoul(word.substr(0, dash), nullptr, 16));
    const auto last = dash == std::string::npos
                          ? first
                          : static_cast<char32_t>(std::stoul(word.substr(dash + 1), nullptr, 16));
    ranges.emplace_back(first, last);
  }
  return ranges;
}

TEST_F(ReportPdf, EveryCharacterOfTheFormIsInThePinnedFont) {
  // A character the pinned font lacks prints as a box (fontconfig may not fall back):
  // every word of the form, in each style of the font, must be covered.
  const std::string fonts =
      Output(fmt::format("FONTCONFIG_FILE='{}/fonts.conf' XDG_CACHE_HOME='{}' fc-list --format "
                         "'%{{file}}\\n'",
                         kForm, dir_.string()));
  std::istringstream files(fonts);
  std::vector<std::string> font_files;
  for (std::string file; std::getline(files, file);) font_files.push_back(file);
  ASSERT_EQ(font_files.size(), 4u) << fonts;  // Noto Serif regular, bold, italic, bold italic
  std::string text;
  for (const char* name : {"test-report.html", "vi.labels", "en.labels"}) {
    std::ifstream in(fs::path(kForm) / name);
    std::stringstream content;
    content << in.rdbuf();
    text += content.str();
  }
  // And what the code adds: a report with its figures, dates and signature times.
  static const auto form = LoadTestReportForm(kForm);
  ASSERT_TRUE(form) << form.error().message();
  TestReport report = RiceMoistureReport();
  report.mutable_runs(0)->mutable_results(0)->mutable_budget()->set_estimate_rounded(10000.025);
  auto html = ReportHtml(report, *form, "Asia/Ho_Chi_Minh");
  ASSERT_TRUE(html);
  text += *html;
  for (const std::string& file : font_files) {
    const auto charset = Charset(file);
    std::set<char32_t> missing;
    for (const char32_t point : CodePoints(text)) {
      if (point == '\n' || point == '\r' || point == '\t') continue;
      const bool covered = std::any_of(charset.begin(), charset.end(), [&](const auto& range) {
        return point >= range.first && point <= range.second;
      });
      if (!covered) missing.insert(point);
    }
    std::string shown;
    for (const char32_t point : missing)
      shown += fmt::format(" U+{:04X}", static_cast<uint32_t>(point));
    EXPECT_TRUE(missing.empty()) << file << " lacks" << shown;
  }
}

TEST_F(ReportPdf, VietnameseTextComesBackExactly) {
  const std::string pdf = Print(RiceMoistureReport());
  ASSERT_FALSE(pdf.empty());
  const std::string text = Output("pdftotext -enc UTF-8 '" + pdf + "' -");
  for (const char* expected :
       {"PHIẾU KẾT QUẢ THỬ NGHIỆM", "TEST REPORT", "Chi cục Tiêu chuẩn Đo lường Chất lượng",
        "Công ty TNHH Lương thực Minh Phú", "Gạo — Xác định độ ẩm (phương pháp sấy)", "13,45",
        "13.45", "0,12", "Đạt", "Người phê duyệt", "Trần Văn Đức", "02/04/2026 09:15 (UTC+07:00)",
        "7KQ2M4XW9TNA"}) {
    EXPECT_NE(text.find(expected), std::string::npos) << expected << "\nin:\n" << text;
  }
  // The Vietnamese figure comes before the English one.
  EXPECT_LT(text.find("13,45"), text.find("13.45"));
}

TEST_F(ReportPdf, OnlyThePinnedFontEmbedded) {
  const std::string pdf = Print(RiceMoistureReport());
  ASSERT_FALSE(pdf.empty());
  const std::string fonts = Output("pdffonts '" + pdf + "'");
  std::istringstream lines(fonts);
  std::string line;
  std::getline(lines, line);  // name type encoding emb sub uni object ID
  std::getline(lines, line);  // ----
  int count = 0;
  // "AAAAAA+NotoSerif-Regular  CID TrueType  Identity-H  yes yes yes  4  0": a subset of
  // Noto Serif, embedded, with a Unicode map (so the text can be copied and searched).
  const std::regex pinned(
      R"(^[A-Z]{6}\+NotoSerif-(Regular|Bold|Italic|BoldItalic)\s+CID TrueType\s+Identity-H\s+yes\s+yes\s+yes\s)");
  while (std::getline(lines, line)) {
    if (line.empty()) continue;
    ++count;
    EXPECT_TRUE(std::regex_search(line, pinned)) << line;
  }
  EXPECT_GE(count, 2) << fonts;  // regular and bold at least
}

TEST_F(ReportPdf, QrCodeDecodesToTheVerificationLink) {
  const std::string pdf = Print(RiceMoistureReport());
  ASSERT_FALSE(pdf.empty());
  const std::string png = (dir_ / "page").string();
  Output(fmt::format("pdftoppm -r 200 -f 1 -l 1 -singlefile -png '{}' '{}'", pdf, png));
  const std::string decoded = Output("zbarimg --quiet --raw '" + png + ".png' 2>/dev/null");
  EXPECT_EQ(decoded, "https://tdc.example.gov.vn/verify/7KQ2M4XW9TNA\n");
}

TEST_F(ReportPdf, EveryPageHasItsNumberOfAllAndTheReportNumber) {
  TestReport report = RiceMoistureReport();
  // Enough results for a second page.
  ReportedRun* run = report.mutable_runs(0);
  for (int i = 0; i < 24; ++i) *run->add_results() = run->results(0);
  const std::string pdf = Print(report);
  ASSERT_FALSE(pdf.empty());
  const int pages = PageCount(pdf);
  ASSERT_GE(pages, 2);
  for (int page = 1; page <= pages; ++page) {
    const std::string text =
        Output(fmt::format("pdftotext -enc UTF-8 -f {0} -l {0} '{1}' -", page, pdf));
    EXPECT_NE(text.find(fmt::format("Trang {}/{} · Page {}/{}", page, pages, page, pages)),
              std::string::npos)
        << "page " << page << ":\n"
        << text;
    EXPECT_NE(text.find("Số / No.: PKQ-2026-00005"), std::string::npos) << "page " << page << ":\n"
                                                                        << text;
  }
}

TEST_F(ReportPdf, MarkupInAValuePrintsAsText) {
  TestReport report = RiceMoistureReport();
  report.mutable_customer()->set_name("Công ty \"A & B\" <Gạo>");
  const std::string pdf = Print(report);
  ASSERT_FALSE(pdf.empty());
  const std::string text = Output("pdftotext -enc UTF-8 '" + pdf + "' -");
  EXPECT_NE(text.find("Công ty \"A & B\" <Gạo>"), std::string::npos) << text;
}

TEST_F(ReportPdf, TheAmendedReportSaysWhatItReplaces) {
  TestReport report = RiceMoistureReport();
  report.set_replaces("PKQ-2026-00003");
  report.set_amendment_reason("Sửa tên khách hàng");
  const std::string pdf = Print(report);
  ASSERT_FALSE(pdf.empty());
  const std::string text = Output("pdftotext -enc UTF-8 '" + pdf + "' -");
  EXPECT_NE(text.find("Phiếu này thay thế phiếu PKQ-2026-00003"), std::string::npos) << text;
  EXPECT_NE(text.find("This report replaces report PKQ-2026-00003"), std::string::npos) << text;
}

TEST_F(ReportPdf, ChromiumReachesNoNetwork) {
  // A listener on loopback, and a page that asks it for a style sheet, a font and an
  // image, with no Content-Security-Policy to stop it: the printer itself must.
  const int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  ASSERT_GE(listener, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  ASSERT_EQ(::listen(listener, 8), 0);
  socklen_t length = sizeof address;
  ASSERT_EQ(::getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length), 0);
  const int port = ntohs(address.sin_port);
  const std::string html = fmt::format(
      "<!DOCTYPE html><html><head><meta charset=\"utf-8\">"
      "<link rel=\"stylesheet\" href=\"http://127.0.0.1:{0}/a.css\">"
      "<style>@font-face {{ font-family: X; src: url(http://localhost:{0}/x.woff2); "
      "}}</style></head>"
      "<body style=\"font-family: X\"><img src=\"http://127.0.0.1:{0}/a.png\">"
      "<img src=\"http://example.com/b.png\">offline</body></html>",
      port);
  auto printed = PrintPdf(html, Options());
  ASSERT_TRUE(printed) << printed.error().message();
  const int connection = ::accept(listener, nullptr, nullptr);
  EXPECT_LT(connection, 0) << "chromium connected to the loopback listener";
  if (connection >= 0) ::close(connection);
  ::close(listener);
}

TEST(PdfPrinter, MissingChromiumIsAClearError) {
  PdfPrinterOptions options = Options();
  options.chromium = "/nonexistent/chromium";
  auto printed = PrintPdf("<p>x</p>", options);
  ASSERT_FALSE(printed);
  EXPECT_EQ(printed.error().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(printed.error().message(),
            "/nonexistent/chromium is not there to print the PDF: install Debian's chromium "
            "(apt-get install chromium)");
}

TEST(PdfPrinter, MissingFontconfigIsAClearError) {
  PdfPrinterOptions options = Options();
  options.fontconfig_file = "/nonexistent/fonts.conf";
  auto printed = PrintPdf("<p>x</p>", options);
  ASSERT_FALSE(printed);
  EXPECT_EQ(printed.error().code(), StatusCode::kFailedPrecondition);
}

// Processes whose command line names `text`, from /proc.
std::vector<std::string> ProcessesNaming(const std::string& text) {
  std::vector<std::string> found;
  for (const auto& entry : fs::directory_iterator("/proc")) {
    std::ifstream in(entry.path() / "cmdline", std::ios::binary);
    std::stringstream cmdline;
    cmdline << in.rdbuf();
    if (cmdline.str().find(text) != std::string::npos)
      found.push_back(entry.path().filename().string());
  }
  return found;
}

TEST_F(ReportPdf, ChromiumThatOverrunsIsKilledWithItsChildren) {
  PdfPrinterOptions options = Options();
  options.timeout = 700ms;           // less than chromium needs, but long enough for it to fork
  options.temp_dir = dir_.string();  // so that its processes can be found by their profile
  const auto started = std::chrono::steady_clock::now();
  auto printed = PrintPdf("<p>x</p>", options);
  ASSERT_FALSE(printed);
  EXPECT_EQ(printed.error().code(), StatusCode::kDeadlineExceeded) << printed.error().message();
  EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
  EXPECT_EQ(ProcessesNaming(dir_.string() + "/labtrace-print-"), std::vector<std::string>{});
}

TEST(PdfPrinter, ATempFolderTooLongForChromiumsSocketIsRefused) {
  PdfPrinterOptions options = Options();
  options.temp_dir = "/tmp/" + std::string(60, 'x');
  auto printed = PrintPdf("<p>x</p>", options);
  ASSERT_FALSE(printed);
  EXPECT_EQ(printed.error().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(printed.error().message().find("too long a path for chromium's socket"),
            std::string::npos);
}

TEST(PdfPrinter, AFailingChromiumIsReportedWithItsLog) {
  // /bin/false stands in for a chromium that exits with an error.
  PdfPrinterOptions options = Options();
  options.chromium = "/bin/false";
  auto printed = PrintPdf("<p>x</p>", options);
  ASSERT_FALSE(printed);
  EXPECT_EQ(printed.error().code(), StatusCode::kInternal);
  EXPECT_NE(printed.error().message().find("chromium exited with status 1"), std::string::npos)
      << printed.error().message();
}

}  // namespace
}  // namespace labtrace::report
