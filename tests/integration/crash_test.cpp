// kill -9 during a steady, idempotency-keyed upload stream, again and again. After every
// restart: PRAGMA integrity_check and `labtrace verify` pass. At the end: no acknowledged
// upload is lost and none is stored twice.
//
// LABTRACE_CRASH_CYCLES sets the number of cycles (default 100); tools/crash-test.sh runs 1000.
// Where each kill lands is drawn from a seed, printed on stderr and recorded as the test's
// "seed" property (in --gtest_output=xml); LABTRACE_CRASH_SEED=N replays those draws.
// Only the draws: the daemon's own timing still varies from run to run.
#include <signal.h>
#include <sqlite3.h>
#include <unistd.h>

#include <atomic>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <regex>
#include <thread>

#include <fmt/format.h>
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>

#include "cli/http_client.h"
#include "labtrace/api.pb.h"
#include "support/child_process.h"
#include "support/test_callers.h"

namespace labtrace {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using testing::ChildProcess;

constexpr int kReadingsPerUpload = 10;

api::UploadRequest MakeUpload(const std::string& key, int number) {
  api::UploadRequest upload;
  upload.set_idempotency_key(key);
  for (int i = 0; i < kReadingsPerUpload; ++i) {
    Reading* r = upload.add_readings();
    r->set_instrument("lab-pc-crash");
    r->set_channel("mass");
    r->set_unit("g");
    r->set_quality(GOOD);
    // The value says which upload and which reading it is, so the end check can find it.
    r->set_value(number * 100 + i);
    r->set_requested_at_ns(1'000'000'000 + number);
  }
  return upload;
}

struct Ledger {
  std::mutex mutex;
  std::map<std::string, api::UploadReceipt> acknowledged;
  std::map<std::string, int> numbers;  // key → upload number
};

// Posts one upload; true with its receipt, false when the daemon did not answer 200.
bool Post(const std::string& server, const std::string& token, const api::UploadRequest& upload,
          api::UploadReceipt& receipt) {
  std::string json;
  if (!google::protobuf::util::MessageToJsonString(upload, &json).ok()) return false;
  auto reply = cli::HttpPostAs(server, "/v1/uploads", json, token);
  if (!reply || reply->status != 200) return false;
  return google::protobuf::util::JsonStringToMessage(reply->body, &receipt).ok();
}

std::string IntegrityCheck(const std::string& db_path) {
  sqlite3* db = nullptr;
  std::string result = "cannot open";
  if (sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &stmt, nullptr) == SQLITE_OK &&
        sqlite3_step(stmt) == SQLITE_ROW) {
      result = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
    }
    sqlite3_finalize(stmt);
  }
  sqlite3_close(db);
  return result;
}

// The seed of the kill timings: LABTRACE_CRASH_SEED, to replay a failure; otherwise a new
// one. Nothing when the variable is set but is not a number.
std::optional<uint32_t> CrashSeed() {
  const char* given = std::getenv("LABTRACE_CRASH_SEED");
  if (given == nullptr) return std::random_device{}();
  uint32_t seed = 0;
  const char* end = given + std::strlen(given);
  const auto [rest, error] = std::from_chars(given, end, seed);
  if (error != std::errc() || rest != end) return std::nullopt;
  return seed;
}

TEST(CrashRecovery, Kill9DuringUploadsLosesNoAcknowledgedUploadAndStoresNoneTwice) {
  const std::optional<uint32_t> seed = CrashSeed();
  ASSERT_TRUE(seed) << "LABTRACE_CRASH_SEED=\"" << std::getenv("LABTRACE_CRASH_SEED")
                    << "\" is not a seed; give a number from 0 to 4294967295";
  RecordProperty("seed", std::to_string(*seed));
  std::fprintf(stderr, "crash test seed %u (replay with LABTRACE_CRASH_SEED=%u)\n", *seed, *seed);
  SCOPED_TRACE(::testing::Message() << "seed " << *seed << " (LABTRACE_CRASH_SEED)");
  const int cycles = std::getenv("LABTRACE_CRASH_CYCLES") ? std::atoi(std::getenv("LABTRACE_CRASH_CYCLES")) : 100;
  const fs::path dir = fs::temp_directory_path() / fmt::format("labtrace-crash-{}", getpid());
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string config = (dir / "lab.textproto").string();
  std::ofstream(config) << "name: \"crash test lab\"\ninstruments { name: \"lab-pc-crash\" driver: \"upload\" }\n";
  const std::string db_path = (dir / "data" / "labtrace.db").string();
  const testing::TestCallers callers = testing::EnrolTestCallers((dir / "data").string(), config, {"lab-pc-crash"});

  std::mt19937 random(*seed);
  Ledger ledger;
  int next_number = 0;
  std::vector<std::string> unanswered;  // in flight when the daemon died
  for (int cycle = 0; cycle < cycles; ++cycle) {
    SCOPED_TRACE(::testing::Message() << "cycle " << cycle);
    ChildProcess daemon({LABTRACED_PATH, "--config", config, "--data", (dir / "data").string(), "--listen",
                         "127.0.0.1:0"});
    auto listening = daemon.WaitForLine(std::regex(R"(api: listening on (http://[0-9.:]+))"), 30s);
    ASSERT_TRUE(listening) << daemon.output();
    const std::string server = (*listening)[1];

    if (cycle > 0) {
      ASSERT_EQ(IntegrityCheck(db_path), "ok");
      ChildProcess verify({LABTRACE_CLI_PATH, "verify", "--db", db_path, "--no-progress"});
      ASSERT_EQ(verify.WaitForExit(60s), 0) << verify.output();
    }
    // What was in flight when the daemon died is sent again, with the same key.
    for (const std::string& key : unanswered) {
      api::UploadReceipt receipt;
      ASSERT_TRUE(Post(server, callers.uploader, MakeUpload(key, ledger.numbers[key]), receipt)) << key;
      std::lock_guard lock(ledger.mutex);
      ledger.acknowledged[key] = receipt;
    }
    unanswered.clear();

    // A steady stream from another thread; the kill lands after a random number of
    // acknowledgements, plus a random fraction of the next upload's round trip.
    std::atomic<int> acknowledged_this_cycle{0};
    std::atomic<bool> daemon_dead{false};
    std::atomic<bool> uploader_failed{false};
    std::string in_flight;
    std::thread uploader([&] {
      while (!daemon_dead) {
        const int number = next_number++;
        const std::string key = fmt::format("crash-{}-{}", cycle, number);
        {
          std::lock_guard lock(ledger.mutex);
          ledger.numbers[key] = number;
        }
        in_flight = key;
        api::UploadReceipt receipt;
        if (!Post(server, callers.uploader, MakeUpload(key, number), receipt)) {  // died mid-request, or refused
          if (!daemon_dead) uploader_failed = true;
          return;
        }
        std::lock_guard lock(ledger.mutex);
        ledger.acknowledged[key] = receipt;
        in_flight.clear();
        ++acknowledged_this_cycle;
      }
    });
    const int kill_after = std::uniform_int_distribution<int>(0, 4)(random);
    const auto give_up = std::chrono::steady_clock::now() + 30s;
    while (acknowledged_this_cycle < kill_after && !uploader_failed && std::chrono::steady_clock::now() < give_up) {
      std::this_thread::yield();
    }
    ASSERT_FALSE(uploader_failed) << "the daemon stopped answering before it was killed\n" << daemon.output();
    std::this_thread::sleep_for(std::chrono::microseconds(std::uniform_int_distribution<int>(0, 3000)(random)));
    daemon.Stop(SIGKILL);
    daemon_dead = true;
    uploader.join();
    if (!in_flight.empty()) unanswered.push_back(in_flight);
  }

  // One last start to settle what was in flight, then look at everything.
  ChildProcess daemon({LABTRACED_PATH, "--config", config, "--data", (dir / "data").string(), "--listen", "127.0.0.1:0"});
  auto listening = daemon.WaitForLine(std::regex(R"(api: listening on (http://[0-9.:]+))"), 30s);
  ASSERT_TRUE(listening);
  for (const std::string& key : unanswered) {
    api::UploadReceipt receipt;
    ASSERT_TRUE(Post((*listening)[1], callers.uploader, MakeUpload(key, ledger.numbers[key]), receipt));
    ledger.acknowledged[key] = receipt;
  }
  EXPECT_EQ(daemon.Stop(SIGTERM), 0) << daemon.output();

  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT sequence, value FROM readings ORDER BY sequence", -1, &stmt, nullptr),
            SQLITE_OK);
  std::map<int64_t, double> stored;
  std::map<double, int> copies;
  while (sqlite3_step(stmt) == SQLITE_ROW) {
    stored[sqlite3_column_int64(stmt, 0)] = sqlite3_column_double(stmt, 1);
    ++copies[sqlite3_column_double(stmt, 1)];
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);

  int lost = 0, duplicates = 0;
  for (const auto& [key, receipt] : ledger.acknowledged) {
    const int number = ledger.numbers[key];
    for (int i = 0; i < kReadingsPerUpload; ++i) {
      auto found = stored.find(static_cast<int64_t>(receipt.first_sequence()) + i);
      if (found == stored.end() || found->second != number * 100 + i) ++lost;
    }
  }
  for (const auto& [value, count] : copies) duplicates += count - 1;
  RecordProperty("acknowledged_uploads", static_cast<int>(ledger.acknowledged.size()));
  std::printf("%d cycles, %zu uploads acknowledged, acknowledged-but-lost = %d, duplicates = %d\n", cycles,
              ledger.acknowledged.size(), lost, duplicates);
  EXPECT_GT(ledger.acknowledged.size(), static_cast<size_t>(cycles / 2));
  EXPECT_EQ(lost, 0);
  EXPECT_EQ(duplicates, 0);
  ChildProcess verify({LABTRACE_CLI_PATH, "verify", "--db", db_path, "--no-progress"});
  EXPECT_EQ(verify.WaitForExit(60s), 0) << verify.output();
  fs::remove_all(dir);
}

}  // namespace
}  // namespace labtrace
