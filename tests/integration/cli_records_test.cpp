// The CLI as a technician and an auditor use it on the real daemon: readings by time and
// sequence, page after page, as CSV, current versions unless every one is asked for;
// corrections; the audit trail by actor, kind and entity; the uploads; verify --json on a
// store whose instrument names need escaping. Readings come in as uploads, so that what
// is stored is known exactly.
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <regex>
#include <sstream>

#include <fmt/format.h>
#include <sqlite3.h>
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>

#include "cli/http_client.h"
#include "labtrace/api.pb.h"
#include "labtrace/clock.h"
#include "labtrace/ledger.pb.h"
#include "support/child_process.h"
#include "support/daemon_process.h"
#include "support/labtrace_cli.h"

namespace labtrace {
namespace {

namespace fs = std::filesystem;
using testing::ChildProcess;
using testing::Labtrace;
using testing::ParseJson;
using namespace std::chrono_literals;

constexpr auto kEventDeadline = 20s;
constexpr int64_t kSecond = 1'000'000'000;

class CliRecords : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / fmt::format("labtrace-cli-records-{}-{}", getpid(),
                                                   ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    // The instrument PCs that upload here, one with a name that tests JSON escaping.
    std::ofstream(dir_ / "lab.textproto") << "name: \"records lab\"\n"
                                             "instruments { name: \"lab-pc-7\" driver: \"upload\" }\n"
                                             "instruments { name: \"pc-9\" driver: \"upload\" }\n"
                                             "instruments { name: \"pc \\\"7\\\" \\\\ bench\" driver: \"upload\" }\n";
    daemon_ = testing::StartDaemon((dir_ / "lab.textproto").string(), (dir_ / "data").string(), kEventDeadline);
    ASSERT_FALSE(daemon_.server.empty());
  }
  void TearDown() override {
    daemon_.process.reset();
    fs::remove_all(dir_);
  }

  api::UploadReceipt Upload(const api::UploadRequest& upload) {
    std::string json;
    EXPECT_TRUE(google::protobuf::util::MessageToJsonString(upload, &json).ok());
    auto reply = cli::HttpPostAs(daemon_.server, "/v1/uploads", json, daemon_.callers.uploader);
    EXPECT_TRUE(reply && reply->status == 200) << (reply ? reply->body : reply.error().message());
    return reply ? ParseJson<api::UploadReceipt>(reply->body) : api::UploadReceipt();
  }

  // `labtrace ARGS… --server S`
  std::string Cli(std::vector<std::string> args, int expected_exit = 0) {
    args.insert(args.end(), {"--server", daemon_.server});
    return Labtrace(std::move(args), expected_exit);
  }

  fs::path dir_;
  testing::RunningDaemon daemon_;
};

Reading Weighing(const std::string& instrument, const std::string& channel, double value, int64_t at_ns) {
  Reading r;
  r.set_instrument(instrument);
  r.set_channel(channel);
  r.set_value(value);
  r.set_unit("g");
  r.set_quality(GOOD);
  r.set_decimals(4);
  r.set_requested_at_ns(at_ns);
  return r;
}

TEST_F(CliRecords, ReadingsByTimeAndSequenceCorrectedAndAsCsv) {
  // Three weighings a minute apart, an hour ago; the last unstable, with a detail that
  // CSV must quote.
  const int64_t start = NowNs() - 3600 * kSecond;
  api::UploadRequest upload;
  upload.set_idempotency_key("pc-7/run-1");
  for (int i = 0; i < 3; ++i) *upload.add_readings() = Weighing("lab-pc-7", "mass", 100.0210 + i, start + i * 60 * kSecond);
  upload.mutable_readings(2)->set_quality(UNSTABLE);
  upload.mutable_readings(2)->set_detail(R"(balance said "S D", still moving)");
  const api::UploadReceipt receipt = Upload(upload);
  const uint64_t first = receipt.first_sequence();

  // The first is corrected: by default only its new version is shown, in its place in
  // sequence order (after the others); --all-versions shows both.
  const std::string corrected = Cli({"correct", std::to_string(first), "--value", "100.0231", "--reason",
                                     "value typed from the wrong line"});
  EXPECT_NE(corrected.find(fmt::format("reading {} corrected", first)), std::string::npos) << corrected;
  const auto current = ParseJson<api::ReadingsResponse>(Cli({"readings", "--instrument", "lab-pc-7", "--json"}));
  ASSERT_EQ(current.readings_size(), 3);
  EXPECT_EQ(current.readings(0).sequence(), first + 1);
  EXPECT_EQ(current.readings(2).supersedes_sequence(), first);
  EXPECT_EQ(current.readings(2).value(), 100.0231);
  EXPECT_EQ(current.readings(2).unit(), "g") << "a correction without --unit keeps the reading's unit";
  const auto every = ParseJson<api::ReadingsResponse>(
      Cli({"readings", "--instrument", "lab-pc-7", "--all-versions", "--json"}));
  ASSERT_EQ(every.readings_size(), 4);
  EXPECT_EQ(every.readings(0).value(), 100.0210) << "the original stays as it was";

  // --after: what was stored after a sequence; --until: before a time (RFC 3339 or a
  // duration back from now). The correction carries its original's time.
  const auto after = ParseJson<api::ReadingsResponse>(
      Cli({"readings", "--instrument", "lab-pc-7", "--after", std::to_string(first + 1), "--json"}));
  ASSERT_EQ(after.readings_size(), 2);
  EXPECT_EQ(after.readings(0).sequence(), first + 2);
  const auto until = ParseJson<api::ReadingsResponse>(
      Cli({"readings", "--instrument", "lab-pc-7", "--until", "59m", "--json"}));
  ASSERT_EQ(until.readings_size(), 2) << "the second weighing, and the first's correction";
  EXPECT_EQ(until.readings(1).supersedes_sequence(), first);
  EXPECT_NE(Cli({"readings", "--until", "bogus"}, 2).find("bogus"), std::string::npos);

  // CSV: RFC 4180, CRLF, the detail quoted with its quotes doubled.
  const std::string csv = Cli({"readings", "--instrument", "lab-pc-7", "--format", "csv"});
  std::vector<std::string> lines;
  for (size_t at = 0, end; (end = csv.find("\r\n", at)) != std::string::npos; at = end + 2) {
    lines.push_back(csv.substr(at, end - at));
  }
  ASSERT_EQ(lines.size(), 4u) << csv;
  EXPECT_EQ(lines[0],
            "sequence,requested_at_utc,requested_at_ns,instrument,channel,value,unit,quality,decimals,"
            "supersedes_sequence,calibration_certificate,detail");
  EXPECT_TRUE(lines[2].ends_with(R"(,102.0210,g,unstable,4,,,"balance said ""S D"", still moving")")) << lines[2];
  EXPECT_TRUE(lines[3].starts_with(fmt::format("{},", first + 3))) << lines[3];
  EXPECT_TRUE(lines[3].find(fmt::format(",100.0231,g,good,4,{},", first)) != std::string::npos) << lines[3];

  // The audit trail, as an auditor narrows it: by actor (the reviewer whose token the CLI sent), by kind, by entity prefix.
  const auto by_actor = ParseJson<api::AuditResponse>(Cli({"audit", "--actor", "test.reviewer", "--json"}));
  ASSERT_EQ(by_actor.events_size(), 1);
  EXPECT_EQ(by_actor.events(0).action(), "amend");
  EXPECT_EQ(by_actor.events(0).entity(), fmt::format("reading:{}", first));
  const auto creates = ParseJson<api::AuditResponse>(Cli({"audit", "--kind", "create", "--json"}));
  ASSERT_EQ(creates.events_size(), 1);
  EXPECT_EQ(creates.events(0).entity(), "upload:pc-7/run-1");
  EXPECT_EQ(ParseJson<api::AuditResponse>(Cli({"audit", "--entity", "upload:*", "--json"})).events_size(), 1);
  EXPECT_EQ(ParseJson<api::AuditResponse>(Cli({"audit", "--entity", "reading:*", "--json"})).events_size(), 1);
  EXPECT_EQ(ParseJson<api::AuditResponse>(Cli({"audit", "--entity", "lab-config", "--json"})).events_size(), 1);
  EXPECT_EQ(ParseJson<api::AuditResponse>(Cli({"audit", "--until", "1h", "--json"})).events_size(), 0)
      << "nothing was done an hour ago";
  const std::string trail = Cli({"audit", "--actor", "test.reviewer"});
  EXPECT_NE(trail.find("why: value typed from the wrong line"), std::string::npos) << trail;
  EXPECT_NE(trail.find("100.021 g (GOOD) → 100.0231 g (GOOD)"), std::string::npos) << trail;

  // The uploads, with whose readings each held.
  const auto uploads = ParseJson<api::UploadsResponse>(Cli({"uploads", "--json"}));
  ASSERT_EQ(uploads.uploads_size(), 1);
  EXPECT_EQ(uploads.uploads(0).idempotency_key(), "pc-7/run-1");
  EXPECT_EQ(uploads.uploads(0).count(), 3u);
  EXPECT_EQ(uploads.uploads(0).first_sequence(), first);
  ASSERT_EQ(uploads.uploads(0).instruments_size(), 1);
  EXPECT_EQ(uploads.uploads(0).instruments(0), "lab-pc-7");
  EXPECT_GT(uploads.uploads(0).received_at_ns(), start);
  EXPECT_EQ(ParseJson<api::UploadsResponse>(Cli({"uploads", "--instrument", "balance", "--json"})).uploads_size(), 0);
  const std::string uploads_text = Cli({"uploads"});
  EXPECT_NE(uploads_text.find(fmt::format("{}..{}", first, first + 2)), std::string::npos) << uploads_text;

  // A typo in a query is refused, not widened into "everything".
  auto typo = cli::HttpGet(daemon_.server, "/v1/audit?actr=nguyen.van.a");
  ASSERT_TRUE(typo);
  EXPECT_EQ(typo->status, 400);
  EXPECT_NE(typo->body.find("unknown query parameter \\\"actr\\\""), std::string::npos) << typo->body;
}

// More readings than one page holds: the API pages with a cursor, and the CLI follows it
// to the end, every reading once, in order, with --last counted over pages too.
TEST_F(CliRecords, ReadingsPastOnePage) {
  const int64_t start = NowNs() - 3600 * kSecond;
  constexpr int kPerChannel = 12'500;  // two channels: 25 000, two and a half pages
  // Sent as an instrument PC must: at most 10 000 readings an upload.
  uint32_t stored = 0;
  api::UploadRequest upload;
  for (int i = 0; i < kPerChannel; ++i) {
    for (const char* channel : {"a", "b"}) *upload.add_readings() = Weighing("pc-9", channel, i, start + i * kSecond / 10);
    if (upload.readings_size() == 10'000 || i + 1 == kPerChannel) {
      upload.set_idempotency_key(fmt::format("pc-9/long-run/{}", i));
      stored += Upload(upload).count();
      upload.Clear();
    }
  }
  ASSERT_EQ(stored, 2u * kPerChannel);

  auto page = cli::HttpGet(daemon_.server, "/v1/readings?instrument=pc-9");
  ASSERT_TRUE(page && page->status == 200);
  const auto first_page = ParseJson<api::ReadingsResponse>(page->body);
  EXPECT_EQ(first_page.readings_size(), 10'000);
  EXPECT_TRUE(first_page.truncated());
  ASSERT_FALSE(first_page.next_cursor().empty());
  auto bad = cli::HttpGet(daemon_.server, "/v1/readings?instrument=pc-9&cursor=not-a-cursor");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400) << bad->body;

  const auto all = ParseJson<api::ReadingsResponse>(Cli({"readings", "--instrument", "pc-9", "--json"}));
  ASSERT_EQ(all.readings_size(), 2 * kPerChannel);
  for (int i = 0; i < all.readings_size(); ++i) {
    const Reading& r = all.readings(i);
    ASSERT_EQ(r.channel(), i < kPerChannel ? "a" : "b") << i;
    ASSERT_EQ(r.value(), i % kPerChannel) << i;
  }
  // The newest 6 000 of each channel: 12 000 readings, over two pages.
  const auto last = ParseJson<api::ReadingsResponse>(Cli({"readings", "--instrument", "pc-9", "--last", "6000", "--json"}));
  ASSERT_EQ(last.readings_size(), 12'000);
  EXPECT_EQ(last.readings(0).value(), kPerChannel - 6000);
  EXPECT_EQ(last.readings(5999).value(), kPerChannel - 1);
  EXPECT_EQ(last.readings(6000).channel(), "b");
  EXPECT_EQ(last.readings(6000).value(), kPerChannel - 6000);
  const std::string csv = Cli({"readings", "--instrument", "pc-9", "--format", "csv"});
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 2 * kPerChannel + 1);
}

// verify --json is written by a JSON printer: the problem names an instrument whose name
// holds a quote and a backslash, and the output is still one JSON object that says so.
TEST_F(CliRecords, VerifyJsonEscapesWhatTheStoreHolds) {
  const std::string awkward = R"(pc "7" \ bench)";
  api::UploadRequest upload;
  upload.set_idempotency_key("awkward");
  *upload.add_readings() = Weighing(awkward, "mass", 1.5, NowNs());
  const uint64_t sequence = Upload(upload).first_sequence();
  ASSERT_EQ(daemon_.process->Stop(SIGTERM), 0) << daemon_.process->output();

  const std::string db = (dir_ / "data" / "labtrace.db").string();
  const auto intact = ParseJson<StoreVerification>(Labtrace({"verify", "--db", db, "--no-progress", "--json"}));
  EXPECT_TRUE(intact.intact());
  EXPECT_GT(intact.records(), 0u);
  EXPECT_EQ(intact.problem(), "");

  sqlite3* handle = nullptr;
  ASSERT_EQ(sqlite3_open(db.c_str(), &handle), SQLITE_OK);
  const std::string alter = fmt::format(
      "DROP TRIGGER readings_append_only_update; UPDATE readings SET value = 2.5 WHERE sequence = {};", sequence);
  EXPECT_EQ(sqlite3_exec(handle, alter.c_str(), nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(handle);
  sqlite3_close(handle);
  ChildProcess verify({LABTRACE_CLI_PATH, "verify", "--db", db, "--no-progress", "--json"});
  ASSERT_EQ(verify.WaitForExit(kEventDeadline), 1) << verify.output();
  // stdout and stderr share the pipe: the JSON object is the line that starts with '{'.
  std::istringstream lines(verify.output());
  std::string line, json;
  while (std::getline(lines, line)) {
    if (line.starts_with("{")) json = line;
  }
  const auto altered = ParseJson<StoreVerification>(json);
  EXPECT_FALSE(altered.intact());
  EXPECT_NE(altered.problem().find(awkward + "/mass"), std::string::npos) << altered.problem();
}

}  // namespace
}  // namespace labtrace
