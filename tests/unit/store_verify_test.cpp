// Verification of a store larger than one hand-over between the verifier's threads: the
// runs of readings are read on a second connection and thread in blocks of 4 096, so a
// store whose every reading is a run of its own (two instruments taking turns) spans
// several. What is altered deep in it must still be named, and the first of two
// alterations must be the one named, whichever thread found it.
#include <sqlite3.h>

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "store/verifier.h"
#include "store_test_support.h"

namespace labtrace::store {
namespace {

constexpr int64_t kReadings = 20'000;

class VerifyTest : public StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    auto store = RecordStore::Open(dir_.string());
    ASSERT_TRUE(store.has_value()) << store.error().message();
    // In four commits, so four batches.
    for (int64_t first = 0; first < kReadings; first += kReadings / 4) {
      std::vector<Reading> readings;
      for (int64_t i = first; i < first + kReadings / 4; ++i) {
        readings.push_back(i % 2 ? Make("climate-1", "temperature", 20.0 + 1e-3 * static_cast<double>(i), 1000 + i)
                                 : Make("balance-xs205", "mass", 100.0 + 1e-5 * static_cast<double>(i), 1000 + i));
      }
      (*store)->Append(std::move(readings));
      (*store)->Flush();
    }
  }

  // Runs `sql` on the store's file as someone with the file could.
  void Alter(const char* sql) {
    sqlite3* file = nullptr;
    ASSERT_EQ(sqlite3_open(db().c_str(), &file), SQLITE_OK);
    char* error = nullptr;
    EXPECT_EQ(sqlite3_exec(file, sql, nullptr, nullptr, &error), SQLITE_OK) << (error ? error : "");
    sqlite3_free(error);
    sqlite3_close(file);
  }

  VerifyReport Verify() {
    auto report = VerifyStore(db(), {});
    EXPECT_TRUE(report.has_value()) << report.error().message();
    return report ? *report : VerifyReport{};
  }
};

TEST_F(VerifyTest, ManyBlocksOfRunsVerifyIntact) {
  EXPECT_EQ(CountIn("SELECT count(*) FROM reading_runs"), kReadings) << "every reading a run of its own";
  EXPECT_GE(CountIn("SELECT count(*) FROM batches"), 4);
  const VerifyReport report = Verify();
  EXPECT_TRUE(report.intact) << report.problem;
  EXPECT_EQ(report.records, static_cast<uint64_t>(kReadings));
}

TEST_F(VerifyTest, ARunDeletedDeepInTheStoreIsNamed) {
  Alter("DROP TRIGGER reading_runs_append_only_delete; DELETE FROM reading_runs WHERE first_sequence = 17001;");
  const VerifyReport report = Verify();
  EXPECT_FALSE(report.intact);
  EXPECT_NE(report.problem.find("reading 17001 (leaf 17000) (balance-xs205/mass"), std::string::npos)
      << report.problem;
  EXPECT_NE(report.problem.find("is in no run of its instrument"), std::string::npos) << report.problem;
}

TEST_F(VerifyTest, AReadingValueAlteredDeepInTheStoreIsNamed) {
  Alter("DROP TRIGGER readings_append_only_update; UPDATE readings SET value = value + 1e-5 WHERE sequence = 18002;");
  const VerifyReport report = Verify();
  EXPECT_FALSE(report.intact);
  EXPECT_NE(report.problem.find("reading 18002 (climate-1/temperature"), std::string::npos) << report.problem;
  EXPECT_NE(report.problem.find("does not match its leaf hash"), std::string::npos) << report.problem;
}

TEST_F(VerifyTest, TheFirstOfTwoAlterationsIsNamed) {
  // A run's set made a fraction (found by the runs' thread) before an altered value (found
  // by the walk's): the run comes first in the ledger, so it is the one named.
  Alter("DROP TRIGGER reading_runs_append_only_update; DROP TRIGGER readings_append_only_update; "
        "UPDATE reading_runs SET channel_set = channel_set + 0.5 WHERE first_sequence = 15001; "
        "UPDATE readings SET value = 0 WHERE sequence = 15003;");
  VerifyReport report = Verify();
  EXPECT_FALSE(report.intact);
  EXPECT_NE(report.problem.find("reading 15001"), std::string::npos) << report.problem;
  EXPECT_NE(report.problem.find("whose count or channel set is not a whole number"), std::string::npos)
      << report.problem;

  // And the other way round.
  Alter("UPDATE readings SET value = 0 WHERE sequence = 3003; "
        "UPDATE reading_runs SET count = 2 WHERE first_sequence = 19001;");
  report = Verify();
  EXPECT_NE(report.problem.find("reading 3003"), std::string::npos) << report.problem;
  EXPECT_NE(report.problem.find("does not match its leaf hash"), std::string::npos) << report.problem;
}

TEST_F(VerifyTest, ABatchRootAlteredBeforeAnAlteredReadingIsNamedFirst) {
  // The batch roots are checked on the log's thread, the readings by the walk's, which is
  // ahead of it: the walk finds the first reading of the second batch altered while the
  // log is still hashing the first batch. The first batch's root still comes first.
  Alter("DROP TRIGGER batches_append_only_update; DROP TRIGGER readings_append_only_update; "
        "UPDATE batches SET batch_root = zeroblob(32) WHERE batch_id = (SELECT min(batch_id) FROM batches); "
        "UPDATE readings SET value = 0 "
        "WHERE sequence = (SELECT first_record_id FROM batches ORDER BY batch_id LIMIT 1 OFFSET 1);");
  const VerifyReport report = Verify();
  EXPECT_FALSE(report.intact);
  EXPECT_NE(report.problem.find("(leaves 0.."), std::string::npos) << report.problem;
  EXPECT_NE(report.problem.find("does not match its root"), std::string::npos) << report.problem;
}

}  // namespace
}  // namespace labtrace::store
