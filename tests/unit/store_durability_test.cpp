// What the store does to stay durable and keep up: WAL with a sync per commit, backpressure,
// and the queue of polled readings while the disk refuses writes.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cmath>
#include <map>
#include <set>

#include "support/fault_vfs.h"

#include "store/record_store.h"
#include "store/verifier.h"
#include "store_test_support.h"

namespace labtrace::store {
namespace {

using labtrace::testing::FaultVfs;

TEST_F(RecordStoreTest, DatabaseIsInWalMode) {
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

// synchronous=FULL is what makes an acknowledged upload durable in WAL mode: every commit
// syncs the WAL before it returns. (With NORMAL, WAL commits are synced only at a
// checkpoint, and an acknowledged upload can be lost to a power cut.) The fault VFS
// counts the syncs; the negative control, synchronous=OFF, must show none, or this test
// could not fail.
TEST_F(RecordStoreTest, EveryAcknowledgedUploadIsSyncedBeforeItsAnswer) {
  for (const bool synchronous_off : {false, true}) {
    FaultVfs vfs(synchronous_off ? "labtrace-sync-off" : "labtrace-sync-full");
    StoreOptions options;
    options.commit_window = std::chrono::milliseconds(0);
    options.signing_key_path = (dir_ / "key").string();
    StoreTestHooks hooks;
    hooks.vfs = vfs.name();
    hooks.exclusive_locking = true;
    hooks.synchronous_off = synchronous_off;
    auto store = RecordStore::Open((dir_ / "mem").string(), options, hooks);
    ASSERT_TRUE(store.has_value()) << store.error().message();
    std::vector<int> syncs_per_upload;
    for (int n = 0; n < 3; ++n) {
      const int before = vfs.syncs();
      auto receipt = UploadAndWait(**store, MakeUpload("sync-" + std::to_string(n), 2, n * 10));
      ASSERT_TRUE(receipt.has_value()) << receipt.error().message();
      syncs_per_upload.push_back(vfs.syncs() - before);
    }
    for (int syncs : syncs_per_upload) {
      if (synchronous_off) {
        EXPECT_EQ(syncs, 0) << "the negative control synced";
      } else {
        EXPECT_GE(syncs, 1) << "an upload was acknowledged before anything was synced";
      }
    }
    store->reset();
  }
}

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
