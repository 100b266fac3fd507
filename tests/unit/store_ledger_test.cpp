// Uploads, corrections and the ledger: acknowledged once durable, stored once, verified.
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
  // The writer is held before its first batch until both are handed in: one batch.
  std::promise<void> both_handed_in;
  std::shared_future<void> release = both_handed_in.get_future().share();
  StoreTestHooks hooks;
  hooks.before_batch = [release] { release.wait(); };
  auto store = RecordStore::Open(dir_.string(), {}, hooks);
  ASSERT_TRUE(store.has_value()) << store.error().message();
  std::promise<Result<api::UploadReceipt>> uploaded;
  (*store)->Upload(MakeUpload("pc3-2026-12-02-002", 5, 10), UploadedBy("anonymous"),
                   [&](Result<api::UploadReceipt> r) { uploaded.set_value(std::move(r)); });
  api::CorrectionRequest correction;
  correction.set_actor("technician");
  correction.set_reason("transcription of the wrong channel");
  correction.mutable_corrected()->set_value(14.5);
  correction.mutable_corrected()->set_unit("g");
  correction.mutable_corrected()->set_quality(GOOD);
  std::promise<Result<api::CorrectionReceipt>> corrected;
  (*store)->Correct(5, correction, [&](Result<api::CorrectionReceipt> r) { corrected.set_value(std::move(r)); });
  both_handed_in.set_value();
  auto upload = uploaded.get_future().get();
  ASSERT_TRUE(upload.has_value()) << upload.error().message();
  ASSERT_EQ(upload->last_sequence(), 5u) << "the correction names the upload's last reading";
  auto receipt = corrected.get_future().get();
  ASSERT_TRUE(receipt.has_value()) << receipt.error().message();
  EXPECT_EQ(receipt->supersedes_sequence(), 5u);
  EXPECT_EQ(receipt->sequence(), 6u);
  store->reset();
  EXPECT_EQ(CountIn("SELECT COUNT(*) FROM batches WHERE record_kind = 1"), 1)
      << "the upload and its correction were not committed in one batch";
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
