// Each folder of tests/config_cases holds a lab.textproto with one mistake and the
// exact message it must be refused with (expected_error). The demo lab must pass.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "config/lab_config.h"

namespace labtrace::config {
namespace {

namespace fs = std::filesystem;

std::string ReadFile(const fs::path& path) {
  std::ifstream file(path);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

std::string FirstLine(const std::string& text) { return text.substr(0, text.find('\n')); }

TEST(LabConfig, EveryErrorCaseIsRefusedWithItsMessage) {
  int cases = 0;
  for (const auto& entry : fs::directory_iterator(LABTRACE_CONFIG_CASES)) {
    SCOPED_TRACE(entry.path().filename().string());
    const std::string text = ReadFile(entry.path() / "lab.textproto");
    const std::string expected = FirstLine(ReadFile(entry.path() / "expected_error"));
    auto lab = ParseLab(text, "lab.textproto");
    ASSERT_FALSE(lab.has_value()) << "accepted a config that should be refused";
    EXPECT_EQ(lab.error().message(), expected);
    ++cases;
  }
  EXPECT_GE(cases, 13);
}

TEST(LabConfig, DemoLabIsValidAndGetsDefaults) {
  auto lab = LoadLab(LABTRACE_DEMO_LAB);
  ASSERT_TRUE(lab.has_value()) << lab.error().message();
  EXPECT_EQ(lab->instruments_size(), 7);
  // The MPE tables file joined the lab, so its procedures can name them.
  EXPECT_GE(lab->mpe_tables_size(), 4);
  EXPECT_EQ(lab->procedures(0).mpe_table(), "oiml-r76-class-III");
  for (const auto& instrument : lab->instruments()) {
    EXPECT_GT(instrument.period_ms(), 0u);
    EXPECT_GT(instrument.timeout_ms(), 0u);
  }
}

// An instrument with result files and no driver is an "upload" one; its profile gets
// the file defaults and the lab's time zone.
TEST(LabConfig, AResultFileInstrumentIsAnUploadingOneWithItsProfileCompleted) {
  auto lab = ParseLab(R"pb(
    time_zone: "Asia/Ho_Chi_Minh"
    instruments {
      name: "moisture-1"
      result_files { folder: "results/m" timestamp_column: "t" values { column: "m" channel: "m" unit: "%" } }
    }
    instruments { name: "lab-pc-3" driver: "upload" }
  )pb", "inline");
  ASSERT_TRUE(lab.has_value()) << lab.error().message();
  EXPECT_EQ(lab->instruments(0).driver(), "upload");
  EXPECT_TRUE(IsUploading(lab->instruments(0)));
  EXPECT_TRUE(IsUploading(lab->instruments(1)));
  const ResultFileProfile& profile = lab->instruments(0).result_files();
  EXPECT_EQ(profile.delimiter(), ",");
  EXPECT_EQ(profile.timestamp_format(), "%Y-%m-%d %H:%M:%S");
  EXPECT_EQ(profile.time_zone(), "Asia/Ho_Chi_Minh");
  auto demo = LoadLab(LABTRACE_DEMO_LAB);
  ASSERT_TRUE(demo.has_value());
  EXPECT_FALSE(IsUploading(*FindInstrumentConfig(*demo, "platform-scale")));
  EXPECT_TRUE(IsUploading(*FindInstrumentConfig(*demo, "moisture-1")));
}

TEST(LabConfig, DefaultsAreFilledWhenAbsent) {
  auto lab = ParseLab(R"pb(
    buses { name: "rs232" serial { device: "/dev/ttyS0" } }
    instruments { name: "b" driver: "mt-sics" bus: "rs232" }
  )pb", "inline");
  ASSERT_TRUE(lab.has_value()) << lab.error().message();
  EXPECT_EQ(lab->api().listen(), kDefaultListen);
  EXPECT_EQ(lab->buses(0).serial().baud(), kDefaultBaud);
  EXPECT_EQ(lab->instruments(0).period_ms(), kDefaultPeriodMs);
  EXPECT_EQ(lab->instruments(0).mt_sics().command(), "SI");
  EXPECT_EQ(lab->instruments(0).mt_sics().channel(), "mass");
}

TEST(LabConfig, MissingFileSaysSo) {
  auto lab = LoadLab("/nonexistent/lab.textproto");
  ASSERT_FALSE(lab.has_value());
  EXPECT_NE(lab.error().message().find("/nonexistent/lab.textproto: cannot open"), std::string::npos);
}

TEST(LabConfig, ListenAddresses) {
  EXPECT_EQ(ParseListen("127.0.0.1:0")->second, 0);
  EXPECT_EQ(ParseListen("[::1]:8470")->first, "::1");
  EXPECT_FALSE(ParseListen("localhost").has_value());
  EXPECT_FALSE(ParseListen("127.0.0.1:http").has_value());
}

}  // namespace
}  // namespace labtrace::config

namespace labtrace::config {
namespace {

TEST(LabConfig, MissingMpeTableFileIsNamedWithTheLineThatNamesIt) {
  const auto dir = std::filesystem::temp_directory_path() / ("labtrace-mpe-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  const auto path = dir / "lab.textproto";
  std::ofstream(path) << "name: \"lab\"\nmpe_table_files: \"procedures/mpe-tabels.textproto\"\n";
  auto lab = LoadLab(path.string());
  ASSERT_FALSE(lab);
  const std::string& message = lab.error().message();
  EXPECT_EQ(message.rfind(path.string() + ":2:1: mpe_table_files[0]: ", 0), 0u) << message;
  EXPECT_NE(message.find("procedures/mpe-tabels.textproto: cannot open"), std::string::npos) << message;
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace labtrace::config
