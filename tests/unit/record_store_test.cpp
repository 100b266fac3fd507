#include <filesystem>

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cmath>
#include <future>
#include <map>
#include <set>

#include "store/reading_writer.h"
#include "store/record_store.h"
#include "store/verifier.h"

namespace labtrace::store {
namespace {

namespace fs = std::filesystem;

class RecordStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("labtrace-store-test-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  static Reading Make(const std::string& instrument, const std::string& channel, double value,
                      int64_t at_ns, Quality quality = GOOD) {
    Reading reading;
    reading.set_instrument(instrument);
    reading.set_channel(channel);
    reading.set_value(value);
    reading.set_unit("g");
    reading.set_quality(quality);
    reading.set_requested_at_ns(at_ns);
    reading.set_raw_frame(std::string("S S 1.0 g\r\n\0", 12));
    reading.set_decimals(1);
    return reading;
  }

  // The values of one channel's readings as the store answers a search, oldest first.
  static std::vector<double> ValuesOf(const RecordStore& store, const std::string& instrument,
                                      const std::string& channel, uint32_t last = 0, int64_t since_ns = 0) {
    api::ReadingsQuery query;
    query.set_instrument(instrument);
    query.set_channel(channel);
    query.set_last(last);
    query.set_since_ns(since_ns);
    auto answer = store.Query(query);
    EXPECT_TRUE(answer.has_value()) << answer.error().message();
    std::vector<double> values;
    if (answer) {
      for (const Reading& r : answer->readings()) values.push_back(r.value());
    }
    return values;
  }

  // The first column of the first row `sql` gives on the store's file, read directly.
  int64_t CountIn(const char* sql) const {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open((dir_ / "labtrace.db").c_str(), &db), SQLITE_OK);
    sqlite3_stmt* stmt = nullptr;
    sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr);
    const int64_t n = sqlite3_step(stmt) == SQLITE_ROW ? sqlite3_column_int64(stmt, 0) : -1;
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return n;
  }

  fs::path dir_;
};

TEST_F(RecordStoreTest, CommittedReadingsComeBackWhole) {
  auto store = RecordStore::Open(dir_.string());
  ASSERT_TRUE(store.has_value()) << store.error().message();
  (*store)->Append({Make("balance", "mass", 100.5, 1000), Make("balance", "mass", 0, 2000, NO_REPLY)});
  (*store)->Flush();
  auto answer = (*store)->Query({});
  ASSERT_TRUE(answer.has_value()) << answer.error().message();
  ASSERT_EQ(answer->readings_size(), 2);
  const Reading& first = answer->readings(0);
  EXPECT_EQ(first.sequence(), 1u);
  EXPECT_EQ(first.value(), 100.5);
  EXPECT_EQ(first.raw_frame(), std::string("S S 1.0 g\r\n\0", 12));
  EXPECT_EQ(first.decimals(), 1);
  EXPECT_EQ(answer->readings(1).quality(), NO_REPLY);
  EXPECT_FALSE(answer->truncated());
}

TEST_F(RecordStoreTest, TheTextOfAStringFieldIsStoredAndVerified) {
  auto store = RecordStore::Open(dir_.string());
  ASSERT_TRUE(store.has_value()) << store.error().message();
  Reading text = Make("chamber-1", "program", 7, 1000);  // a value a decoder left behind
  text.set_text("STEP 1");
  text.set_unit("");
  (*store)->Append({text});
  (*store)->Flush();
  auto answer = (*store)->Query({});
  ASSERT_TRUE(answer.has_value());
  ASSERT_EQ(answer->readings_size(), 1);
  EXPECT_EQ(answer->readings(0).text(), "STEP 1");
  EXPECT_EQ(answer->readings(0).value(), 0) << "no number is stored for a text";
  const std::string path = (*store)->path();
  store->reset();
  auto report = VerifyStore(path, {});
  ASSERT_TRUE(report.has_value()) << report.error().message();
  EXPECT_TRUE(report->intact) << report->problem;
  EXPECT_EQ(report->records, 1u);
}

// Readings go in up to kRowsPerInsert to a statement; polls of 1, exactly that many, and
// more than twice that, and an upload between them, must each come back in their own
// place, numbered in order, and verify.
TEST_F(RecordStoreTest, ReadingsInsertedManyToAStatementKeepTheirPlaces) {
  auto store = RecordStore::Open(dir_.string());
  ASSERT_TRUE(store.has_value()) << store.error().message();
  int64_t sequence = 0;
  std::map<int64_t, double> expected;  // value by sequence
  auto poll = [&](const std::string& instrument, size_t registers) {
    std::vector<Reading> readings;
    for (size_t r = 0; r < registers; ++r) {
      const double value = 1000.0 * static_cast<double>(registers) + static_cast<double>(r);
      readings.push_back(Make(instrument, "r" + std::to_string(r), value, 5000 + static_cast<int64_t>(r)));
      expected[++sequence] = value;
    }
    return readings;
  };
  (*store)->Append(poll("one", 1));
  (*store)->Append(poll("sixteen", kRowsPerInsert));
  api::UploadRequest upload;
  upload.set_idempotency_key("between-the-polls");
  for (Reading& reading : poll("uploader", 5)) *upload.add_readings() = std::move(reading);
  std::promise<Result<api::UploadReceipt>> receipt;
  (*store)->Upload(upload, [&](Result<api::UploadReceipt> r) { receipt.set_value(std::move(r)); });
  (*store)->Append(poll("many", 2 * kRowsPerInsert + 5));
  (*store)->Flush();
  auto uploaded = receipt.get_future().get();
  ASSERT_TRUE(uploaded) << uploaded.error().message();

  auto answer = (*store)->Query({});
  ASSERT_TRUE(answer) << answer.error().message();
  std::map<int64_t, double> stored;
  for (const Reading& r : answer->readings()) {
    stored[static_cast<int64_t>(r.sequence())] = r.value();
    // The name says which register it is: the value must be that register's.
    const double registers = std::floor(r.value() / 1000.0);
    EXPECT_EQ(r.channel(), "r" + std::to_string(static_cast<int>(r.value() - 1000.0 * registers)));
    EXPECT_EQ(r.requested_at_ns(), 5000 + static_cast<int64_t>(r.value() - 1000.0 * registers));
  }
  ASSERT_EQ(stored.size(), expected.size());
  // Polls are stored ahead of uploads in a batch: compare values as sets, then the ends.
  std::multiset<double> stored_values, expected_values;
  for (auto [s, v] : stored) stored_values.insert(v);
  for (auto [s, v] : expected) expected_values.insert(v);
  EXPECT_EQ(stored_values, expected_values);
  EXPECT_EQ(stored.begin()->first, 1);
  EXPECT_EQ(stored.rbegin()->first, static_cast<int64_t>(expected.size())) << "sequences have no gap";
  EXPECT_EQ(uploaded->count(), 5u);
  EXPECT_EQ(uploaded->last_sequence() - uploaded->first_sequence(), 4u);

  const std::string path = (*store)->path();
  store->reset();
  auto report = VerifyStore(path, {});
  ASSERT_TRUE(report.has_value()) << report.error().message();
  EXPECT_TRUE(report->intact) << report->problem;
  EXPECT_EQ(report->records, expected.size() + 1) << "the readings and the upload's audit event";
}

TEST_F(RecordStoreTest, LastIsPerChannelAndSinceBoundsTime) {
  auto store = RecordStore::Open(dir_.string());
  ASSERT_TRUE(store.has_value());
  std::vector<Reading> readings;
  for (int i = 0; i < 10; ++i) {
    readings.push_back(Make("climate", "temperature", 20 + i, 1000 * i));
    readings.push_back(Make("balance", "mass", 100 + i, 1000 * i));
  }
  (*store)->Append(std::move(readings));
  (*store)->Flush();

  api::ReadingsQuery last3;
  last3.set_last(3);
  auto answer = (*store)->Query(last3);
  ASSERT_TRUE(answer.has_value());
  ASSERT_EQ(answer->readings_size(), 6);
  // Ordered by instrument, then oldest to newest within a channel.
  EXPECT_EQ(answer->readings(0).instrument(), "balance");
  EXPECT_EQ(answer->readings(0).value(), 107);
  EXPECT_EQ(answer->readings(2).value(), 109);
  EXPECT_EQ(answer->readings(3).instrument(), "climate");
  EXPECT_EQ(answer->readings(5).value(), 29);

  api::ReadingsQuery since;
  since.set_instrument("climate");
  since.set_since_ns(8000);
  answer = (*store)->Query(since);
  ASSERT_EQ(answer->readings_size(), 2);
  EXPECT_EQ(answer->readings(0).value(), 28);
}

// Schema 4 finds readings through runs (reading_runs) instead of an index by channel, and
// schema 5 finds the runs by their channel set. A store written before both is migrated
// in place: each old reading becomes a run of one, with the set of its one channel.
TEST_F(RecordStoreTest, AStoreFromBeforeReadingRunsIsMigratedAndFindsEveryReading) {
  {
    auto store = RecordStore::Open(dir_.string());
    ASSERT_TRUE(store.has_value());
    for (int poll = 0; poll < 3; ++poll) {
      (*store)->Append({Make("climate", "temperature", 20 + poll, 1000 * poll),
                        Make("climate", "humidity", 50 + poll, 1000 * poll)});
      (*store)->Append({Make("balance", "mass", 100 + poll, 1000 * poll)});
    }
  }
  ASSERT_EQ(CountIn("SELECT COUNT(*) FROM reading_runs"), 6) << "a poll of two channels is one run";
  // Back to schema 3, as a store written by the previous labtrace is.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir_ / "labtrace.db").c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db,
                         "DROP TABLE reading_runs; DROP TABLE channel_set_members; DROP TABLE channel_sets; "
                         "CREATE INDEX readings_by_channel ON readings (channel_id, sequence); "
                         "PRAGMA user_version = 3;",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  // verify never migrates: an archived copy of a schema-3 store is checked as it is.
  auto old_report = VerifyStore((dir_ / "labtrace.db").string(), {});
  ASSERT_TRUE(old_report.has_value()) << old_report.error().message();
  EXPECT_TRUE(old_report->intact) << old_report->problem;

  auto store = RecordStore::Open(dir_.string());
  ASSERT_TRUE(store.has_value()) << store.error().message();
  (*store)->Append({Make("climate", "temperature", 23, 3000), Make("climate", "humidity", 53, 3000)});
  (*store)->Flush();
  EXPECT_EQ(CountIn("SELECT COUNT(*) FROM reading_runs"), 9 + 1) << "nine runs of one, then one of two";
  EXPECT_EQ(CountIn("SELECT COUNT(*) FROM sqlite_master WHERE name = 'readings_by_channel'"), 0);
  EXPECT_EQ(CountIn("SELECT COUNT(*) FROM channel_sets"), 3 + 1) << "one per channel, then {temperature, humidity}";
  EXPECT_EQ(ValuesOf(**store, "climate", "humidity"), (std::vector<double>{50, 51, 52, 53}));
  EXPECT_EQ(ValuesOf(**store, "climate", "humidity", 2), (std::vector<double>{52, 53}));
  const std::string path = (*store)->path();
  store->reset();
  auto report = VerifyStore(path, {});
  ASSERT_TRUE(report.has_value()) << report.error().message();
  EXPECT_TRUE(report->intact) << report->problem;
  EXPECT_EQ(report->records, 11u);
}

// A channel that stops appearing in its instrument's polls (dropped from the configuration,
// or a rare channel of an upload source) is found through the runs of the channel sets
// that hold it, in order, merged across sets, with `last` and the limit kept.
TEST_F(RecordStoreTest, AChannelIsFoundAcrossEveryChannelSetThatHoldsIt) {
  // Each poll committed on its own, so that each is a run (polls of one instrument
  // committed together are one run, whose set is all their channels).
  auto poll = [](RecordStore& store, std::initializer_list<const char*> channels, int n) {
    std::vector<Reading> readings;
    for (const char* channel : channels) readings.push_back(Make("climate", channel, n, 1000 * n));
    store.Append(std::move(readings));
    store.Flush();
  };
  {
    auto store = RecordStore::Open(dir_.string());
    ASSERT_TRUE(store.has_value());
    for (int n = 0; n < 3; ++n) poll(**store, {"temperature", "humidity"}, n);
    for (int n = 3; n < 6; ++n) poll(**store, {"temperature"}, n);  // humidity dropped
  }
  auto store = RecordStore::Open(dir_.string());  // the writer's cache of sets starts empty
  ASSERT_TRUE(store.has_value());
  for (int n = 6; n < 8; ++n) poll(**store, {"humidity", "temperature", "pressure"}, n);
  poll(**store, {"temperature"}, 8);
  EXPECT_EQ(CountIn("SELECT COUNT(*) FROM channel_sets"), 3) << "a set is stored once, whatever the order in a poll";
  EXPECT_EQ(CountIn("SELECT COUNT(*) FROM reading_runs"), 9);

  auto values = [&](const char* channel, uint32_t last) { return ValuesOf(**store, "climate", channel, last); };
  EXPECT_EQ(values("humidity", 0), (std::vector<double>{0, 1, 2, 6, 7}));
  EXPECT_EQ(values("humidity", 3), (std::vector<double>{2, 6, 7}));
  EXPECT_EQ(values("temperature", 0), (std::vector<double>{0, 1, 2, 3, 4, 5, 6, 7, 8}));
  EXPECT_EQ(values("temperature", 4), (std::vector<double>{5, 6, 7, 8}));
  EXPECT_EQ(values("pressure", 0), (std::vector<double>{6, 7}));
  EXPECT_EQ(ValuesOf(**store, "climate", "humidity", 0, 2000), (std::vector<double>{2, 6, 7}));
  const std::string path = (*store)->path();
  store->reset();
  auto report = VerifyStore(path, {});
  ASSERT_TRUE(report.has_value()) << report.error().message();
  EXPECT_TRUE(report->intact) << report->problem;
}

// A schema-4 store (runs by instrument, no channel sets) is given the sets of its runs: a
// poll of several channels, whatever their order in it, is one set. A run that holds no
// reading (only an altered store has one) is carried over for verify to name.
TEST_F(RecordStoreTest, AStoreFromSchema4IsGivenTheChannelSetsOfItsRuns) {
  {
    auto store = RecordStore::Open(dir_.string());
    ASSERT_TRUE(store.has_value());
    for (int n = 0; n < 3; ++n) {
      Reading temperature = Make("climate", "temperature", n, 1000 * n);
      Reading humidity = Make("climate", "humidity", 50 + n, 1000 * n);
      if (n % 2) std::swap(temperature, humidity);  // the order within a poll does not make another set
      (*store)->Append({temperature, humidity});
      (*store)->Flush();
      (*store)->Append({Make("balance", "mass", 100 + n, 1000 * n)});
      (*store)->Flush();
    }
  }
  // Back to schema 4, as a store written by the previous labtrace is.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir_ / "labtrace.db").c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db,
                         "CREATE TABLE runs4 (first_sequence INTEGER PRIMARY KEY, instrument TEXT NOT NULL, "
                         "  count INTEGER NOT NULL CHECK (count > 0)); "
                         "INSERT INTO runs4 SELECT first_sequence, instrument, count FROM reading_runs; "
                         "DROP TABLE reading_runs; DROP TABLE channel_set_members; DROP TABLE channel_sets; "
                         "ALTER TABLE runs4 RENAME TO reading_runs; "
                         "CREATE INDEX reading_runs_by_instrument ON reading_runs (instrument, first_sequence); "
                         "PRAGMA user_version = 4;",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  auto store = RecordStore::Open(dir_.string());
  ASSERT_TRUE(store.has_value()) << store.error().message();
  EXPECT_EQ(CountIn("SELECT COUNT(*) FROM reading_runs"), 6);
  EXPECT_EQ(CountIn("SELECT COUNT(*) FROM channel_sets"), 2) << "{temperature, humidity} and {mass}";
  EXPECT_EQ(CountIn("SELECT COUNT(*) FROM channel_set_members"), 3);
  (*store)->Append({Make("climate", "humidity", 53, 3000), Make("climate", "temperature", 3, 3000)});
  (*store)->Flush();
  EXPECT_EQ(CountIn("SELECT COUNT(*) FROM channel_sets"), 2) << "the writer finds the migrated set by its content";
  EXPECT_EQ(ValuesOf(**store, "climate", "humidity"), (std::vector<double>{50, 51, 52, 53}));
  const std::string path = (*store)->path();
  store->reset();
  auto report = VerifyStore(path, {});
  ASSERT_TRUE(report.has_value()) << report.error().message();
  EXPECT_TRUE(report->intact) << report->problem;

  // An altered schema-4 store: a run past the last reading. Migrated, it is still named.
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db,
                         "CREATE TABLE runs4 (first_sequence INTEGER PRIMARY KEY, instrument TEXT NOT NULL, "
                         "  count INTEGER NOT NULL CHECK (count > 0)); "
                         "INSERT INTO runs4 SELECT first_sequence, instrument, count FROM reading_runs; "
                         "INSERT INTO runs4 SELECT MAX(sequence) + 5, 'balance', 1 FROM readings; "
                         "DROP TABLE reading_runs; DROP TABLE channel_set_members; DROP TABLE channel_sets; "
                         "ALTER TABLE runs4 RENAME TO reading_runs; PRAGMA user_version = 4;",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  store = RecordStore::Open(dir_.string());
  ASSERT_TRUE(store.has_value()) << store.error().message();
  store->reset();
  report = VerifyStore(path, {});
  ASSERT_TRUE(report.has_value()) << report.error().message();
  EXPECT_FALSE(report->intact);
  EXPECT_NE(report->problem.find("after the last reading: added outside labtrace"), std::string::npos)
      << report->problem;
}

// Without `last`, an answer stops at kMaxQueryRows, says it was cut, and holds the oldest
// readings in order, however they are spread over channel sets.
TEST_F(RecordStoreTest, AnAnswerCutAtTheLimitIsInOrderAcrossChannelSets) {
  auto store = RecordStore::Open(dir_.string());
  ASSERT_TRUE(store.has_value());
  const int per_set = static_cast<int>(kMaxQueryRows) / 2 + 100;
  int n = 0;
  for (int set = 0; set < 2; ++set) {  // {door} then {door, lamp}, alternating
    std::vector<Reading> readings;
    for (int i = 0; i < per_set; ++i, ++n) {
      readings.push_back(Make("cabinet", "door", n, 1 + n));
      if (n % 2) readings.push_back(Make("cabinet", "lamp", n, 1 + n));
      (*store)->Append(std::move(readings));
      readings.clear();
      if (n % 500 == 0) (*store)->Flush();  // runs of one poll and runs of many
    }
  }
  (*store)->Flush();
  ASSERT_EQ(CountIn("SELECT COUNT(DISTINCT channel_set) FROM reading_runs"), 2) << "door is in runs of both sets";
  api::ReadingsQuery door;
  door.set_instrument("cabinet");
  door.set_channel("door");
  auto answer = (*store)->Query(door);
  ASSERT_TRUE(answer.has_value()) << answer.error().message();
  ASSERT_EQ(static_cast<size_t>(answer->readings_size()), kMaxQueryRows);
  EXPECT_TRUE(answer->truncated());
  for (int i = 0; i < answer->readings_size(); ++i) {
    ASSERT_EQ(answer->readings(i).value(), i) << "reading " << i << " of the answer";
  }
}

TEST_F(RecordStoreTest, ReadingsSurviveReopenAndCannotBeAlteredInPlace) {
  {
    auto store = RecordStore::Open(dir_.string());
    ASSERT_TRUE(store.has_value());
    (*store)->Append({Make("balance", "mass", 1, 1)});
  }  // the destructor commits what is pending
  auto store = RecordStore::Open(dir_.string());
  ASSERT_TRUE(store.has_value());
  auto answer = (*store)->Query({});
  ASSERT_EQ(answer->readings_size(), 1);

  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir_ / "labtrace.db").c_str(), &db), SQLITE_OK);
  char* error = nullptr;
  EXPECT_NE(sqlite3_exec(db, "UPDATE readings SET value = 2", nullptr, nullptr, &error), SQLITE_OK);
  ASSERT_NE(error, nullptr);
  EXPECT_NE(std::string(error).find("append-only"), std::string::npos);
  sqlite3_free(error);
  EXPECT_NE(sqlite3_exec(db, "DELETE FROM readings", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  EXPECT_EQ((*store)->Query({})->readings(0).value(), 1);
}

TEST_F(RecordStoreTest, DatabaseIsInWalModeWithFullSync) {
  auto store = RecordStore::Open(dir_.string());
  ASSERT_TRUE(store.has_value());
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir_ / "labtrace.db").c_str(), &db), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &stmt, nullptr);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)), "wal");
  sqlite3_finalize(stmt);
  sqlite3_close(db);
}

}  // namespace
}  // namespace labtrace::store

namespace labtrace::store {
namespace {

api::UploadRequest MakeUpload(const std::string& key, int count, double first_value) {
  api::UploadRequest upload;
  upload.set_idempotency_key(key);
  for (int i = 0; i < count; ++i) {
    Reading* r = upload.add_readings();
    r->set_instrument("lab-pc-3");
    r->set_channel("mass");
    r->set_unit("g");
    r->set_quality(GOOD);
    r->set_value(first_value + i);
    r->set_requested_at_ns(1'000'000 + i);
    r->set_raw_frame("S S 1 g\r\n");
  }
  return upload;
}

// Uploads synchronously: waits for the store's answer.
Result<api::UploadReceipt> UploadAndWait(RecordStore& store, api::UploadRequest upload) {
  std::promise<Result<api::UploadReceipt>> answer;
  store.Upload(std::move(upload), [&answer](Result<api::UploadReceipt> r) { answer.set_value(std::move(r)); });
  return answer.get_future().get();
}

class LedgerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("labtrace-ledger-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string db() const { return (dir_ / RecordStore::kFileName).string(); }
  std::filesystem::path dir_;
};

// Polled readings gather for the poll window, but nothing anybody waits for does: an
// upload is acknowledged, and a Flush returns, within the commit window, taking the
// polls queued before them along. With a poll window of an hour, a store that waited it
// out would never end this test.
TEST_F(LedgerTest, WhatSomebodyWaitsForDoesNotWaitOutThePollWindow) {
  StoreOptions options;
  options.poll_window = std::chrono::hours(1);
  auto store = RecordStore::Open(dir_.string(), options);
  ASSERT_TRUE(store.has_value()) << store.error().message();
  std::vector<Reading> poll(1);
  poll[0].set_instrument("chamber-1");
  poll[0].set_channel("temperature");
  poll[0].set_unit("°C");
  poll[0].set_quality(GOOD);
  poll[0].set_value(23.4);
  poll[0].set_requested_at_ns(1000);
  (*store)->Append(poll);
  auto receipt = UploadAndWait(**store, MakeUpload("pc3-2026-12-02-001", 2, 10));
  ASSERT_TRUE(receipt.has_value()) << receipt.error().message();
  EXPECT_EQ(receipt->first_sequence(), 2u) << "the poll queued before it is committed with it, and first";
  EXPECT_EQ((*store)->Query({})->readings_size(), 3);

  (*store)->Append(poll);
  (*store)->Flush();
  EXPECT_EQ((*store)->Query({})->readings_size(), 4);
}

// A correction in the same batch as the upload it corrects finds the reading. (Rows wait
// to be inserted several to a statement; a first version let a correction look before
// the upload's last rows were in, and answered that no such reading existed.)
TEST_F(LedgerTest, ACorrectionFindsAReadingOfItsOwnBatch) {
  StoreOptions options;
  options.commit_window = std::chrono::milliseconds(500);  // both surely in one batch
  auto store = RecordStore::Open(dir_.string(), options);
  ASSERT_TRUE(store.has_value()) << store.error().message();
  std::promise<Result<api::UploadReceipt>> uploaded;
  (*store)->Upload(MakeUpload("pc3-2026-12-02-002", 5, 10),
                   [&](Result<api::UploadReceipt> r) { uploaded.set_value(std::move(r)); });
  api::CorrectionRequest correction;
  correction.set_actor("technician");
  correction.set_reason("transcription of the wrong channel");
  correction.mutable_corrected()->set_value(14.5);
  correction.mutable_corrected()->set_unit("g");
  correction.mutable_corrected()->set_quality(GOOD);
  std::promise<Result<api::CorrectionReceipt>> corrected;
  (*store)->Correct(5, correction, [&](Result<api::CorrectionReceipt> r) { corrected.set_value(std::move(r)); });
  auto upload = uploaded.get_future().get();
  ASSERT_TRUE(upload.has_value()) << upload.error().message();
  ASSERT_EQ(upload->last_sequence(), 5u) << "the correction names the upload's last reading";
  auto receipt = corrected.get_future().get();
  ASSERT_TRUE(receipt.has_value()) << receipt.error().message();
  EXPECT_EQ(receipt->supersedes_sequence(), 5u);
  EXPECT_EQ(receipt->sequence(), 6u);
}

TEST_F(LedgerTest, RepeatedIdempotencyKeyReturnsTheFirstReceiptAndStoresNothingTwice) {
  auto store = RecordStore::Open(dir_.string());
  ASSERT_TRUE(store.has_value()) << store.error().message();
  auto first = UploadAndWait(**store, MakeUpload("pc3-2026-11-25-001", 3, 10));
  ASSERT_TRUE(first.has_value()) << first.error().message();
  EXPECT_FALSE(first->replayed());
  EXPECT_EQ(first->count(), 3u);
  EXPECT_EQ(first->last_sequence() - first->first_sequence(), 2u);
  auto again = UploadAndWait(**store, MakeUpload("pc3-2026-11-25-001", 3, 10));
  ASSERT_TRUE(again.has_value());
  EXPECT_TRUE(again->replayed());
  EXPECT_EQ(again->first_sequence(), first->first_sequence());
  EXPECT_EQ(again->last_sequence(), first->last_sequence());
  EXPECT_EQ((*store)->Query({})->readings_size(), 3);
}

TEST_F(LedgerTest, BadUploadsAreRefusedWithTheReason) {
  auto store = RecordStore::Open(dir_.string());
  ASSERT_TRUE(store.has_value());
  auto no_key = UploadAndWait(**store, MakeUpload("", 1, 0));
  ASSERT_FALSE(no_key.has_value());
  EXPECT_NE(no_key.error().message().find("idempotency_key"), std::string::npos);
  auto upload = MakeUpload("k", 2, 0);
  upload.mutable_readings(1)->clear_unit();
  auto no_unit = UploadAndWait(**store, upload);
  ASSERT_FALSE(no_unit.has_value());
  EXPECT_NE(no_unit.error().message().find("readings[1]: unit is empty"), std::string::npos);
  EXPECT_EQ((*store)->Query({})->readings_size(), 0);
}

TEST_F(LedgerTest, StoreVerifiesIntactWithSignedCheckpoints) {
  {
    auto store = RecordStore::Open(dir_.string());
    ASSERT_TRUE(store.has_value());
    std::vector<Reading> polled;
    for (int i = 0; i < 25; ++i) {
      Reading r;
      r.set_instrument("climate-1");
      r.set_channel("temperature");
      r.set_unit("°C");
      r.set_quality(i % 5 == 0 ? NO_REPLY : GOOD);
      r.set_value(i % 5 == 0 ? 0 : 23.0 + i / 100.0);
      r.set_requested_at_ns(2'000'000 + i);
      polled.push_back(r);
    }
    (*store)->Append(polled);
    (*store)->Flush();
    ASSERT_TRUE(UploadAndWait(**store, MakeUpload("u1", 7, 100)).has_value());
    (*store)->RequestCheckpoint();
    (*store)->Append({polled[1]});
  }  // closing signs a final checkpoint
  auto report = VerifyStore(db(), {});
  ASSERT_TRUE(report.has_value()) << report.error().message();
  EXPECT_TRUE(report->intact) << report->problem;
  EXPECT_EQ(report->records, 33u + 1u) << "33 readings and the audit event of upload u1";
  EXPECT_GE(report->checkpoints, 1u);
  auto latest = LatestCheckpoint(db());
  ASSERT_TRUE(latest.has_value());
  EXPECT_EQ(latest->tree_size(), 34u);
  EXPECT_EQ(latest->root_hash(), std::string(reinterpret_cast<const char*>(report->root.data()), 32));
  EXPECT_TRUE(VerifyCheckpointSignature(*latest));

  // Reopening resumes the log where it stopped: the next records extend the same tree.
  {
    auto store = RecordStore::Open(dir_.string());
    ASSERT_TRUE(store.has_value());
    ASSERT_TRUE(UploadAndWait(**store, MakeUpload("u2", 4, 200)).has_value());
  }
  VerifyOptions with_saved;
  with_saved.saved_checkpoint = *latest;
  auto after = VerifyStore(db(), with_saved);
  ASSERT_TRUE(after.has_value());
  EXPECT_TRUE(after->intact) << after->problem;
  EXPECT_EQ(after->records, 34u + 4u + 1u) << "and 4 readings of upload u2 with its audit event";
}

}  // namespace
}  // namespace labtrace::store

namespace labtrace::store {
namespace {

// A burst larger than the queue must be slowed down, not thinned: every reading handed in
// while the disk is healthy is stored. (A first version dropped the oldest whenever the
// queue overflowed, healthy or not.)
TEST(RecordStoreBackpressure, BurstBeyondTheQueueIsStoredWhole) {
  const auto dir = std::filesystem::temp_directory_path() / ("labtrace-burst-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  StoreOptions options;
  options.max_queued_readings = 100;
  options.commit_window = std::chrono::milliseconds(1);
  // A producer held for room closes the batch at once: with a poll window of an hour
  // this test would otherwise never end.
  options.poll_window = std::chrono::hours(1);
  {
    auto store = RecordStore::Open(dir.string(), options);
    ASSERT_TRUE(store.has_value());
    for (int chunk = 0; chunk < 50; ++chunk) {
      std::vector<Reading> readings(60);
      for (int i = 0; i < 60; ++i) {
        readings[i].set_instrument("burst");
        readings[i].set_channel("c");
        readings[i].set_unit("1");
        readings[i].set_quality(GOOD);
        readings[i].set_value(chunk * 60 + i);
        readings[i].set_requested_at_ns(1 + chunk * 60 + i);
      }
      (*store)->Append(std::move(readings));
    }
    (*store)->Flush();
    EXPECT_EQ((*store)->Query({})->readings_size(), 3000);
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace labtrace::store

namespace labtrace::store {
namespace {

// Channels are told apart by both names, whatever bytes the names hold: "a|b" + "c" and
// "a" + "b|c" are two channels however they would be joined.
TEST(RecordStoreChannels, NamesThatWouldJoinAlikeStayApart) {
  const auto dir = std::filesystem::temp_directory_path() / ("labtrace-channels-" + std::to_string(getpid()));
  std::filesystem::remove_all(dir);
  {
    auto store = RecordStore::Open(dir.string());
    ASSERT_TRUE(store) << store.error().message();
    std::vector<Reading> readings;
    for (const auto& [instrument, channel] : std::vector<std::pair<std::string, std::string>>{
             {"a\x1f" "b", "c"}, {"a", "b\x1f" "c"}, {"1:ab", "c"}, {"1", ":abc"}}) {
      Reading r;
      r.set_instrument(instrument);
      r.set_channel(channel);
      r.set_unit("g");
      r.set_quality(GOOD);
      r.set_value(1);
      r.set_requested_at_ns(1);
      readings.push_back(r);
    }
    (*store)->Append(readings);
    (*store)->Flush();
    for (const Reading& sent : readings) {
      api::ReadingsQuery query;
      query.set_instrument(sent.instrument());
      query.set_channel(sent.channel());
      auto answer = (*store)->Query(query);
      ASSERT_TRUE(answer);
      ASSERT_EQ(answer->readings_size(), 1) << sent.instrument() << " / " << sent.channel();
    }
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace labtrace::store

namespace labtrace::store {
namespace {

std::vector<Reading> Poll(int first, int count) {
  std::vector<Reading> poll(static_cast<size_t>(count));
  for (int i = 0; i < count; ++i) poll[static_cast<size_t>(i)].set_value(first + i);
  return poll;
}

std::vector<double> Values(PolledReadings& queue) {
  std::vector<double> values;
  for (const auto& poll : queue.polls()) {
    for (const Reading& r : poll) values.push_back(r.value());
  }
  return values;
}

// While the disk refuses writes the queue keeps the newest readings; the cut may fall
// inside a poll, and what is left keeps its order.
TEST(PolledReadingsQueue, DropsTheOldestReadingsEvenInsideAPoll) {
  PolledReadings queue;
  queue.PushBack(Poll(0, 10));
  for (int first = 10; first < 130; first += 30) queue.PushBack(Poll(first, 30));
  ASSERT_EQ(queue.size(), 130u);
  EXPECT_EQ(queue.DropOldest(100), 30u);
  EXPECT_EQ(queue.size(), 100u);
  std::vector<double> expected;
  for (int v = 30; v < 130; ++v) expected.push_back(v);
  EXPECT_EQ(Values(queue), expected);
  EXPECT_EQ(queue.DropOldest(100), 0u);
}

// A batch that failed to commit goes back ahead of what arrived meanwhile, in its order.
TEST(PolledReadingsQueue, AFailedBatchGoesBackAheadOfNewerPolls) {
  PolledReadings queue, batch;
  queue.PushBack(Poll(0, 3));
  queue.PushBack(Poll(3, 2));
  queue.PushBack({});  // an empty poll is not queued
  while (!queue.empty()) batch.PushBack(queue.PopFront());
  queue.PushBack(Poll(5, 4));
  queue.PutBack(std::move(batch));
  EXPECT_TRUE(batch.empty());
  EXPECT_EQ(queue.size(), 9u);
  EXPECT_EQ(Values(queue), (std::vector<double>{0, 1, 2, 3, 4, 5, 6, 7, 8}));
  EXPECT_EQ(queue.PopFront().size(), 3u);
  EXPECT_EQ(queue.size(), 6u);
}

}  // namespace
}  // namespace labtrace::store
