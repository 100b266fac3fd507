// Readings in the store: what goes in comes back whole, in order, found by channel and time.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cmath>
#include <map>
#include <set>

#include "store/reading_writer.h"

#include "store/record_store.h"
#include "store/verifier.h"
#include "store_test_support.h"

namespace labtrace::store {
namespace {
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
  (*store)->Upload(upload, UploadedBy("anonymous"), [&](Result<api::UploadReceipt> r) { receipt.set_value(std::move(r)); });
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
