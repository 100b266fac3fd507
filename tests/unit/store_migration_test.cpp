// Stores written by earlier schemas are migrated in place and find every reading.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cmath>
#include <map>
#include <set>

#include "store/record_store.h"
#include "store/verifier.h"
#include "store_test_support.h"

namespace labtrace::store {
namespace {
// What schema 9 added (conformity records).
#define LABTRACE_BEFORE_SCHEMA_9 "DROP TABLE conformity_records; "
// What schema 8 added (the index of superseded versions).
#define LABTRACE_BEFORE_SCHEMA_8 LABTRACE_BEFORE_SCHEMA_9 "DROP INDEX readings_superseded; "
// What schema 7 added (provenances, and each reading's provenance and sample), which a
// store written before it lacks.
#define LABTRACE_BEFORE_SCHEMA_7                                                                   \
  LABTRACE_BEFORE_SCHEMA_8 "DROP TABLE provenances; ALTER TABLE readings DROP COLUMN provenance_id; " \
  "ALTER TABLE readings DROP COLUMN sample_id; "
// The tables of schema 6 (users and tokens) and what came after, which a store written
// before it lacks.
#define LABTRACE_BEFORE_SCHEMA_6 \
  LABTRACE_BEFORE_SCHEMA_7 "DROP TABLE token_revocations; DROP TABLE access_tokens; DROP TABLE user_accounts; "

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
                         LABTRACE_BEFORE_SCHEMA_6 "DROP TABLE reading_runs; DROP TABLE channel_set_members; DROP TABLE channel_sets; "
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
                         LABTRACE_BEFORE_SCHEMA_6 "DROP TABLE reading_runs; DROP TABLE channel_set_members; DROP TABLE channel_sets; "
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
                         LABTRACE_BEFORE_SCHEMA_6 "DROP TABLE reading_runs; DROP TABLE channel_set_members; DROP TABLE channel_sets; "
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

}  // namespace
}  // namespace labtrace::store

namespace labtrace::store {
namespace {

// Schema 7 records where each reading came from, hashed with it. A store from before has
// no provenance: its readings keep the bytes their leaves were hashed from and read as
// unspecified (docs/DECISIONS.md, "Provenance"); verify passes on the archive as it is and
// on the store after the upgrade, whose new readings carry their provenance.
TEST_F(RecordStoreTest, AStoreFromBeforeProvenanceVerifiesAndItsNewReadingsCarryTheirs) {
  {
    auto store = RecordStore::Open(dir_.string());
    ASSERT_TRUE(store.has_value());
    (*store)->Append({Make("climate", "temperature", 20, 1000), Make("climate", "humidity", 50, 1000)});
  }
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open((dir_ / "labtrace.db").c_str(), &raw), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(raw,
                         LABTRACE_BEFORE_SCHEMA_7 "PRAGMA user_version = 6;",
                         nullptr, nullptr, nullptr),
            SQLITE_OK)
      << sqlite3_errmsg(raw);
  sqlite3_close(raw);
  auto archive = VerifyStore(db(), {});
  ASSERT_TRUE(archive.has_value()) << archive.error().message();
  EXPECT_TRUE(archive->intact) << archive->problem;

  auto store = RecordStore::Open(dir_.string());
  ASSERT_TRUE(store.has_value()) << store.error().message();
  Reading polled = Make("climate", "temperature", 21, 2000);
  polled.mutable_provenance()->set_source(Provenance::POLLED);
  polled.mutable_provenance()->set_driver("modbus");
  polled.mutable_provenance()->set_bus("mass-room-ethernet");
  Reading again = Make("climate", "humidity", 51, 2000);
  *again.mutable_provenance() = polled.provenance();
  (*store)->Append({polled, again});
  ASSERT_TRUE(UploadAndWait(**store, MakeUpload("pc-3-1", 2, 7), UploadedBy("nguyen.van.a", "tok-17")).has_value());
  (*store)->Flush();

  auto answer = (*store)->Query({});
  ASSERT_TRUE(answer.has_value()) << answer.error().message();
  std::map<double, Provenance> by_value;
  for (const Reading& r : answer->readings()) by_value[r.value()] = r.provenance();
  ASSERT_EQ(by_value.size(), 6u);
  EXPECT_EQ(by_value[20].source(), Provenance::SOURCE_UNSPECIFIED) << "stored before schema 7";
  EXPECT_EQ(by_value[50].source(), Provenance::SOURCE_UNSPECIFIED);
  EXPECT_EQ(by_value[21].source(), Provenance::POLLED);
  EXPECT_EQ(by_value[51].bus(), "mass-room-ethernet");
  EXPECT_EQ(by_value[8].source(), Provenance::UPLOADED);
  EXPECT_EQ(by_value[8].user(), "nguyen.van.a");
  EXPECT_EQ(by_value[8].token_id(), "tok-17");
  EXPECT_EQ(CountIn("SELECT COUNT(*) FROM provenances"), 2) << "a poll's readings share one provenance row";
  EXPECT_EQ(CountIn("SELECT COUNT(*) FROM readings WHERE provenance_id IS NULL"), 2);
  store->reset();
  auto report = VerifyStore(db(), {});
  ASSERT_TRUE(report.has_value()) << report.error().message();
  EXPECT_TRUE(report->intact) << report->problem;
  EXPECT_EQ(report->records, 2u + 2u + 2u + 1u) << "old readings, new readings, the upload's, its audit event";
}

}  // namespace
}  // namespace labtrace::store
