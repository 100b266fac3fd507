// The store's test fixture: a fresh data directory per test, and readings, uploads and
// direct reads of the store's file made the same way in every store test.
#pragma once

#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>
#include <future>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "store/record_store.h"

namespace labtrace::store {

namespace fs = std::filesystem;

class StoreTest : public ::testing::Test {
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

  std::string db() const { return (dir_ / RecordStore::kFileName).string(); }

  fs::path dir_;
};

using RecordStoreTest = StoreTest;
using LedgerTest = StoreTest;

inline api::UploadRequest MakeUpload(const std::string& key, int count, double first_value) {
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

// What the API gives an upload by `user` with token `token_id`.
inline Provenance UploadedBy(const std::string& user, const std::string& token_id = "") {
  Provenance provenance;
  provenance.set_source(Provenance::UPLOADED);
  provenance.set_user(user);
  provenance.set_token_id(token_id);
  return provenance;
}

// Uploads synchronously: waits for the store's answer.
inline Result<api::UploadReceipt> UploadAndWait(RecordStore& store, api::UploadRequest upload,
                                                Provenance provenance = UploadedBy("anonymous")) {
  std::promise<Result<api::UploadReceipt>> answer;
  store.Upload(std::move(upload), std::move(provenance),
               [&answer](Result<api::UploadReceipt> r) { answer.set_value(std::move(r)); });
  return answer.get_future().get();
}

}  // namespace labtrace::store
