// Where readings come from, through the real daemon: an upload may name only instruments
// declared as uploading, and result files dropped in a watched folder are imported whole
// or refused whole, each content stored once; every reading says how it came, and the
// store still verifies. Synchronised on the daemon's log lines (events), never a sleep.
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <regex>
#include <sstream>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "cli/http_client.h"
#include "labtrace/api.pb.h"
#include "support/child_process.h"
#include "support/daemon_process.h"
#include "support/labtrace_cli.h"

namespace labtrace {
namespace {

namespace fs = std::filesystem;
using testing::ChildProcess;
using testing::ParseJson;
using namespace std::chrono_literals;

constexpr auto kDeadline = 15s;

// A balance the daemon reads (on a port where nothing answers: it records that it is
// disconnected), a lab PC that uploads, and the demo's moisture analyser's result files.
constexpr char kLab[] = R"pb(
name: "provenance lab"
time_zone: "Asia/Ho_Chi_Minh"
buses { name: "bench" tcp { host: "127.0.0.1" port: 1 } }
instruments { name: "balance" driver: "mt-sics" bus: "bench" period_ms: 1000 }
instruments { name: "lab-pc-3" driver: "upload" }
instruments {
  name: "moisture-1"
  result_files {
    folder: "results/moisture-1"
    delimiter: ";"
    decimal_comma: true
    timestamp_column: "Ngày giờ"
    timestamp_format: "%d/%m/%Y %H:%M:%S"
    sample_id_column: "Mã mẫu"
    values { column: "Độ ẩm (%)" channel: "moisture" unit: "%" }
    values { column: "Khối lượng đầu (g)" channel: "initial_mass" unit: "g" }
  }
}
)pb";

std::string ReadFile(const fs::path& path) {
  std::ifstream file(path, std::ios::binary);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

class ReadingOrigins : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / fmt::format("labtrace-provenance-{}", getpid());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    std::ofstream(dir_ / "lab.textproto") << kLab;
    auto daemon = testing::StartDaemon((dir_ / "lab.textproto").string(), (dir_ / "data").string(), kDeadline);
    daemon_ = std::move(daemon.process);
    server_ = daemon.server;
    uploader_ = daemon.callers.uploader;
    ASSERT_FALSE(server_.empty());
    folder_ = dir_ / "data" / "results" / "moisture-1";
  }
  void TearDown() override {
    daemon_.reset();
    fs::remove_all(dir_);
  }

  api::ReadingsResponse ReadingsOf(const std::string& instrument) {
    auto reply = cli::HttpGet(server_, "/v1/readings?instrument=" + instrument);
    EXPECT_TRUE(reply && reply->status == 200) << (reply ? reply->body : reply.error().message());
    return reply ? ParseJson<api::ReadingsResponse>(reply->body) : api::ReadingsResponse();
  }

  // Drops `bytes` into the watched folder as `name` (written beside it, then renamed in,
  // as instrument software should) and waits for the daemon to log `outcome` about it.
  void Drop(const std::string& name, const std::string& bytes, const std::string& outcome) {
    const size_t mark = daemon_->Mark();
    std::ofstream(folder_ / (name + ".part"), std::ios::binary) << bytes;
    fs::rename(folder_ / (name + ".part"), folder_ / name);
    ASSERT_TRUE(daemon_->WaitForLine(std::regex(fmt::format(fmt::runtime(outcome), name)), kDeadline, mark))
        << daemon_->output();
    EXPECT_FALSE(fs::exists(folder_ / name)) << "the file left the folder";
  }

  fs::path dir_, folder_;
  std::unique_ptr<ChildProcess> daemon_;
  std::string server_, uploader_;
};

TEST_F(ReadingOrigins, AnUploadNamingAPolledOrUnknownInstrumentIsRefusedAndNothingOfItStored) {
  const std::string polled = R"({"idempotency_key": "pc3-1", "readings": [
      {"instrument": "lab-pc-3", "channel": "mass", "value": 1.5, "unit": "g", "quality": "GOOD",
       "requested_at_ns": "1795569245000000000"},
      {"instrument": "balance", "channel": "mass", "value": 100.0001, "unit": "g", "quality": "GOOD",
       "requested_at_ns": "1795569245000000000"}]})";
  auto refused = cli::HttpPostAs(server_, "/v1/uploads", polled, uploader_);
  ASSERT_TRUE(refused) << refused.error().message();
  EXPECT_EQ(refused->status, 409) << refused->body;
  EXPECT_NE(refused->body.find("readings[1]: instrument \\\"balance\\\" is read by the daemon itself (driver "
                               "\\\"mt-sics\\\" on bus \\\"bench\\\")"),
            std::string::npos)
      << refused->body;
  EXPECT_NE(refused->body.find("nothing of this upload was stored"), std::string::npos) << refused->body;

  auto unknown = cli::HttpPostAs(server_, "/v1/uploads", R"({"idempotency_key": "pc3-2", "readings": [
      {"instrument": "ghost", "channel": "mass", "value": 1, "unit": "g", "quality": "GOOD",
       "requested_at_ns": "1795569245000000000"}]})", uploader_);
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->status, 400) << unknown->body;
  EXPECT_NE(unknown->body.find("readings[0]: instrument \\\"ghost\\\" is not in the lab-config"), std::string::npos)
      << unknown->body;

  auto claimed = cli::HttpPostAs(server_, "/v1/uploads", R"({"idempotency_key": "pc3-3", "readings": [
      {"instrument": "lab-pc-3", "channel": "mass", "value": 1, "unit": "g", "quality": "GOOD",
       "requested_at_ns": "1795569245000000000", "provenance": {"source": "POLLED"}}]})", uploader_);
  ASSERT_TRUE(claimed);
  EXPECT_EQ(claimed->status, 400) << claimed->body;
  EXPECT_NE(claimed->body.find("provenance is set by the daemon"), std::string::npos) << claimed->body;
  EXPECT_EQ(ReadingsOf("lab-pc-3").readings_size(), 0) << "nothing of a refused upload is stored";
  EXPECT_EQ(ReadingsOf("ghost").readings_size(), 0);

  auto good = cli::HttpPostAs(server_, "/v1/uploads", R"({"idempotency_key": "pc3-4", "readings": [
      {"instrument": "lab-pc-3", "channel": "mass", "value": 1.5, "unit": "g", "quality": "GOOD",
       "requested_at_ns": "1795569245000000000"}]})", uploader_);
  ASSERT_TRUE(good && good->status == 200) << (good ? good->body : good.error().message());
  const auto stored = ReadingsOf("lab-pc-3");
  ASSERT_EQ(stored.readings_size(), 1);
  EXPECT_EQ(stored.readings(0).provenance().source(), Provenance::UPLOADED);
  EXPECT_EQ(stored.readings(0).provenance().user(), "test-uploader");
  EXPECT_FALSE(stored.readings(0).provenance().token_id().empty());
  // The daemon's own readings of the balance say how it read them.
  api::ReadingsResponse balance;
  for (int commits = 0; balance.readings_size() == 0 && commits < 50; ++commits) {
    const size_t mark = daemon_->Mark();
    ASSERT_TRUE(daemon_->WaitForLine(std::regex("store: committed"), kDeadline, mark)) << daemon_->output();
    balance = ReadingsOf("balance");
  }
  ASSERT_GT(balance.readings_size(), 0);
  EXPECT_EQ(balance.readings(0).provenance().source(), Provenance::POLLED);
  EXPECT_EQ(balance.readings(0).provenance().driver(), "mt-sics");
  EXPECT_EQ(balance.readings(0).provenance().bus(), "bench");
}

TEST_F(ReadingOrigins, AMalformedResultFileIsRejectedWholeWithItsReason) {
  std::string bytes = ReadFile(fs::path(LABTRACE_EXAMPLES) / "moisture-results.csv");
  bytes.replace(bytes.find("12,79"), 5, "12,7x");  // line 3: its first row is good, and not kept either
  Drop("bad.csv", bytes, "result file {} refused");
  EXPECT_EQ(ReadFile(folder_ / "rejected" / "bad.csv"), bytes) << "moved, not changed";
  const std::string reason = ReadFile(folder_ / "rejected" / "bad.csv.reason");
  EXPECT_NE(reason.find("line 3, column 33 (\"Độ ẩm (%)\"): \"12,7x\" is not a number"), std::string::npos) << reason;
  EXPECT_NE(reason.find("nothing of it was stored"), std::string::npos) << reason;
  EXPECT_EQ(ReadingsOf("moisture-1").readings_size(), 0);
  auto audit = cli::HttpGet(server_, "/v1/audit?entity=result-file:moisture-1/bad.csv");
  ASSERT_TRUE(audit && audit->status == 200);
  EXPECT_NE(audit->body.find("\"action\":\"reject\""), std::string::npos) << audit->body;
}

TEST_F(ReadingOrigins, TheSameResultFileTwiceIsStoredOnceAndTheStoreVerifies) {
  const std::string bytes = ReadFile(fs::path(LABTRACE_EXAMPLES) / "moisture-results.csv");
  Drop("run-1.csv", bytes, "imported result file {}: readings");
  EXPECT_TRUE(fs::exists(folder_ / "imported" / "run-1.csv"));
  auto first = ReadingsOf("moisture-1");
  ASSERT_EQ(first.readings_size(), 6);
  EXPECT_EQ(first.readings(0).channel(), "initial_mass");  // by channel, then sequence
  EXPECT_EQ(first.readings(0).sample_id(), "M-2026-0117");
  EXPECT_EQ(first.readings(2).sample_id(), "M-2026-0118");
  for (const Reading& r : first.readings()) {
    EXPECT_EQ(r.provenance().source(), Provenance::IMPORTED);
    EXPECT_EQ(r.provenance().file_name(), "run-1.csv");
    EXPECT_EQ(r.provenance().file_sha256(), "af23a4b6e773ec37dc208fd2fba886dbcff40728d3ba223b0e5896009a7a059d");
  }

  Drop("run-1-copy.csv", bytes, "result file {} was imported before");
  EXPECT_TRUE(fs::exists(folder_ / "imported" / "run-1-copy.csv"));
  const std::string note = ReadFile(folder_ / "imported" / "run-1-copy.csv.duplicate");
  EXPECT_NE(note.find("same content as a result file imported before"), std::string::npos) << note;
  EXPECT_EQ(ReadingsOf("moisture-1").readings_size(), 6) << "stored once";

  // A file of the same name again, with new content, is a new file: neither is overwritten.
  std::string later = bytes;
  later.replace(later.find("9,51"), 4, "9,49");
  Drop("run-1.csv", later, "imported result file {}: readings");
  EXPECT_TRUE(fs::exists(folder_ / "imported" / "run-1-2.csv"));
  EXPECT_EQ(ReadingsOf("moisture-1").readings_size(), 12);

  daemon_.reset();  // stopped: verify reads the store as the daemon left it
  const std::string output =
      testing::Labtrace({"verify", "--db", (dir_ / "data" / "labtrace.db").string(), "--no-progress"});
  EXPECT_NE(output.find("intact"), std::string::npos) << output;
}

}  // namespace
}  // namespace labtrace
