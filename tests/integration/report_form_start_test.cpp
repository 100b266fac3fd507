// The daemon and its test report form: a broken form (here a template naming a value no
// report has) stops the start with exit code 2 and the problem, before the store is
// opened; so does a form folder named with --report-form that is not there.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "support/child_process.h"

namespace labtrace {
namespace {

namespace fs = std::filesystem;
using testing::ChildProcess;

constexpr auto kDeadline = std::chrono::seconds(15);

class ReportFormStart : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / fmt::format("labtrace-form-start-{}", getpid());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Runs the daemon on the demo lab with `form`; its exit code and output.
  std::pair<int, std::string> Start(const fs::path& form) {
    ChildProcess daemon({LABTRACED_PATH, "--config", LABTRACE_DEMO_LAB, "--data",
                         (dir_ / "data").string(), "--listen", "127.0.0.1:0", "--report-form",
                         form.string()});
    const int code = daemon.WaitForExit(kDeadline);
    return {code, daemon.output()};
  }

  fs::path dir_;
};

TEST_F(ReportFormStart, ABrokenFormStopsTheStartBeforeTheStoreOpens) {
  const fs::path form = dir_ / "report";
  fs::copy(LABTRACE_REPORT_FORM, form);
  std::ofstream(form / "test-report.html", std::ios::app) << "<p>{{no_such_value}}</p>\n";
  const auto [code, output] = Start(form);
  EXPECT_EQ(code, 2) << output;
  EXPECT_NE(output.find("no_such_value"), std::string::npos) << output;
  EXPECT_NE(output.find("the test report form in " + form.string() + " is refused"),
            std::string::npos)
      << output;
  EXPECT_FALSE(fs::exists(dir_ / "data")) << "nothing was started";
}

TEST_F(ReportFormStart, AFormFolderNamedButMissingStopsTheStart) {
  const auto [code, output] = Start(dir_ / "no-such-form");
  EXPECT_EQ(code, 2) << output;
  EXPECT_NE(output.find("no-such-form"), std::string::npos) << output;
  EXPECT_FALSE(fs::exists(dir_ / "data"));
}

}  // namespace
}  // namespace labtrace
