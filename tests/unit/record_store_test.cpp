#include <filesystem>

#include <gtest/gtest.h>
#include <sqlite3.h>

#include "store/record_store.h"

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
