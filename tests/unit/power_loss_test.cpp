// Power cuts at every sync of a workload of acknowledged uploads. The fault VFS keeps
// only what was synced; after each cut the store is reopened from those bytes and every
// acknowledged upload must be there, once. The negative control, synchronous=OFF, must
// lose acknowledged uploads, or this test could not fail.
#include <unistd.h>

#include <filesystem>
#include <future>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "store/record_store.h"
#include "store/verifier.h"
#include "support/fault_vfs.h"

namespace labtrace::store {
namespace {

namespace fs = std::filesystem;
using labtrace::testing::FaultVfs;

constexpr int kUploads = 12;

api::UploadRequest MakeUpload(int number) {
  api::UploadRequest upload;
  upload.set_idempotency_key(fmt::format("upload-{}", number));
  for (int i = 0; i < 3; ++i) {
    Reading* r = upload.add_readings();
    r->set_instrument("lab-pc");
    r->set_channel("mass");
    r->set_unit("g");
    r->set_quality(GOOD);
    r->set_value(number * 10 + i);
    r->set_requested_at_ns(1000 + number);
  }
  return upload;
}

class PowerLoss : public ::testing::Test {
 protected:
  void SetUp() override {
    base_ = fs::temp_directory_path() /
            fmt::format("labtrace-power-{}-{}", getpid(), ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(base_);
    fs::create_directories(base_);
  }
  void TearDown() override { fs::remove_all(base_); }

  // A store on the fault VFS: exclusive locking (the VFS has no shared memory), each
  // upload committed at once, the key outside the simulated disk.
  StoreOptions Options() const {
    StoreOptions options;
    options.commit_window = std::chrono::milliseconds(0);
    options.signing_key_path = (base_ / "key").string();
    return options;
  }
  static StoreTestHooks OnFaultVfs(const FaultVfs& vfs, bool synchronous_off = false) {
    StoreTestHooks hooks;
    hooks.vfs = vfs.name();
    hooks.exclusive_locking = true;
    hooks.synchronous_off = synchronous_off;
    return hooks;
  }

  struct Outcome {
    std::vector<int> acknowledged;  // upload numbers
    int syncs = 0;
  };

  // Runs the workload on a fresh in-memory disk: uploads one by one until one is refused.
  Outcome Run(FaultVfs& vfs, bool synchronous_off) {
    Outcome outcome;
    auto store = RecordStore::Open((base_ / "mem").string(), Options(), OnFaultVfs(vfs, synchronous_off));
    if (!store) return outcome;  // the cut came while creating the schema
    for (int n = 0; n < kUploads; ++n) {
      std::promise<bool> answered;
      (*store)->Upload(MakeUpload(n), Provenance(), [&answered](Result<api::UploadReceipt> r) { answered.set_value(r.has_value()); });
      if (!answered.get_future().get()) break;
      outcome.acknowledged.push_back(n);
    }
    outcome.syncs = vfs.syncs();
    vfs.CutPowerNow();  // anything not synced by now is gone
    store->reset();
    return outcome;
  }

  // Reopens the durable bytes as a real store; returns how many acknowledged uploads are
  // missing, and checks that nothing is there twice and that the ledger verifies.
  int LostAfterReboot(const FaultVfs& vfs, const Outcome& outcome, const fs::path& disk) {
    vfs.WriteDurableFiles(disk);
    if (!fs::exists(disk / RecordStore::kFileName)) return static_cast<int>(outcome.acknowledged.size());
    StoreOptions options;
    options.signing_key_path = (base_ / "key").string();
    auto store = RecordStore::Open(disk.string(), options);
    EXPECT_TRUE(store.has_value()) << store.error().message();
    if (!store) return static_cast<int>(outcome.acknowledged.size());
    auto all = (*store)->Query({});
    EXPECT_TRUE(all.has_value());
    std::map<double, int> copies;
    for (const Reading& r : all->readings()) ++copies[r.value()];
    for (const auto& [value, count] : copies) EXPECT_EQ(count, 1) << "value " << value << " stored " << count << " times";
    int lost = 0;
    for (int n : outcome.acknowledged) {
      for (int i = 0; i < 3; ++i) lost += copies.count(n * 10 + i) == 0;
    }
    store->reset();
    auto report = VerifyStore((disk / RecordStore::kFileName).string(), {});
    EXPECT_TRUE(report.has_value() && report->intact) << (report ? report->problem : report.error().message());
    return lost;
  }

  fs::path base_;
};

TEST_F(PowerLoss, NoAcknowledgedUploadIsLostAtAnySync) {
  int total_syncs = 0;
  {
    FaultVfs vfs("labtrace-power-count");
    const Outcome full = Run(vfs, false);
    ASSERT_EQ(full.acknowledged.size(), static_cast<size_t>(kUploads));
    total_syncs = full.syncs;
  }
  ASSERT_GE(total_syncs, kUploads) << "each acknowledged upload must have been synced";
  int cuts_with_acknowledgements = 0;
  for (int k = 1; k <= total_syncs; ++k) {
    SCOPED_TRACE(::testing::Message() << "power cut at sync " << k << " of " << total_syncs);
    FaultVfs vfs(fmt::format("labtrace-power-{}", k));
    vfs.CutPowerAtSync(k);
    const Outcome outcome = Run(vfs, false);
    cuts_with_acknowledgements += !outcome.acknowledged.empty();
    EXPECT_EQ(LostAfterReboot(vfs, outcome, base_ / fmt::format("disk-{}", k)), 0)
        << outcome.acknowledged.size() << " uploads were acknowledged";
  }
  EXPECT_GT(cuts_with_acknowledgements, 0);
  std::printf("power cut at each of %d syncs: acknowledged-but-lost = 0 every time\n", total_syncs);
}

TEST_F(PowerLoss, NegativeControlWithoutSyncLosesAcknowledgedUploads) {
  FaultVfs vfs("labtrace-power-nosync");
  const Outcome outcome = Run(vfs, true);
  ASSERT_EQ(outcome.acknowledged.size(), static_cast<size_t>(kUploads));
  EXPECT_GT(LostAfterReboot(vfs, outcome, base_ / "disk"), 0)
      << "with synchronous=OFF a power cut must lose acknowledged uploads; if not, the test cannot fail";
}

TEST_F(PowerLoss, FullDiskStopsAcknowledgingAndRecoversWhenSpaceReturns) {
  FaultVfs vfs("labtrace-disk-full");
  auto store = RecordStore::Open((base_ / "mem").string(), Options(), OnFaultVfs(vfs));
  ASSERT_TRUE(store.has_value()) << store.error().message();
  auto upload = [&](int n) {
    std::promise<Result<api::UploadReceipt>> answered;
    (*store)->Upload(MakeUpload(n), Provenance(), [&answered](Result<api::UploadReceipt> r) { answered.set_value(std::move(r)); });
    return answered.get_future().get();
  };
  ASSERT_TRUE(upload(0).has_value());
  vfs.SetDiskFull(true);
  // Enough to need new pages.
  for (int n = 1; n < 200; ++n) {
    auto refused = upload(n);
    if (refused) continue;
    EXPECT_EQ(refused.error().code(), StatusCode::kResourceExhausted) << refused.error().message();
    EXPECT_NE(refused.error().message().find("send the upload again with the same idempotency key"), std::string::npos);
    vfs.SetDiskFull(false);
    auto accepted = upload(n);  // the same upload again, once there is room
    ASSERT_TRUE(accepted.has_value()) << accepted.error().message();
    EXPECT_FALSE(accepted->replayed());
    vfs.CutPowerNow();
    store->reset();
    return;
  }
  FAIL() << "the full disk never refused a write";
}

// A refused commit takes the channel ids it created with it, and SQLite gives them again
// to the next new channel. The writer must forget them too: a store that remembered
// them filed the refused channel's readings, sent again, under the other channel.
TEST_F(PowerLoss, AChannelCreatedByARefusedCommitIsNotConfusedWithTheNext) {
  FaultVfs vfs("labtrace-refused-channel");
  auto store = RecordStore::Open((base_ / "mem").string(), Options(), OnFaultVfs(vfs));
  ASSERT_TRUE(store.has_value()) << store.error().message();
  auto upload = [&](const std::string& key, const std::string& instrument, const std::string& channel) {
    api::UploadRequest request;
    request.set_idempotency_key(key);
    Reading* r = request.add_readings();
    r->set_instrument(instrument);
    r->set_channel(channel);
    r->set_unit("g");
    r->set_quality(GOOD);
    r->set_value(1);
    r->set_requested_at_ns(1000);
    std::promise<Result<api::UploadReceipt>> answered;
    (*store)->Upload(request, Provenance(), [&answered](Result<api::UploadReceipt> a) { answered.set_value(std::move(a)); });
    return answered.get_future().get();
  };
  ASSERT_TRUE(upload("first", "balance-1", "mass-0").has_value());
  vfs.SetDiskFull(true);
  for (int n = 1; n < 200; ++n) {  // each with a channel of its own, until one is refused
    const std::string channel = fmt::format("mass-{}", n);
    if (upload(channel, "balance-1", channel).has_value()) continue;
    vfs.SetDiskFull(false);
    ASSERT_TRUE(upload("other", "balance-2", "mass").has_value());
    ASSERT_TRUE(upload(channel, "balance-1", channel).has_value()) << "sent again";
    store->reset();
    // Read back from what the disk holds, through a store on the real file system (the
    // fault VFS's exclusive lock keeps a query's own connection out while it runs).
    const fs::path disk = base_ / "disk";
    vfs.WriteDurableFiles(disk);
    StoreOptions plain;
    plain.signing_key_path = (base_ / "key").string();
    auto reopened = RecordStore::Open(disk.string(), plain);
    ASSERT_TRUE(reopened.has_value()) << reopened.error().message();
    auto channels_of = [&](const std::string& instrument, const std::string& name) {
      api::ReadingsQuery query;
      query.set_instrument(instrument);
      query.set_channel(name);
      auto answer = (*reopened)->Query(query);
      EXPECT_TRUE(answer.has_value()) << answer.error().message();
      std::vector<std::string> found;
      if (answer) {
        for (const Reading& r : answer->readings()) found.push_back(r.instrument() + "/" + r.channel());
      }
      return found;
    };
    EXPECT_EQ(channels_of("balance-1", channel), std::vector<std::string>{"balance-1/" + channel});
    EXPECT_EQ(channels_of("balance-2", "mass"), std::vector<std::string>{"balance-2/mass"});
    return;
  }
  FAIL() << "the full disk never refused a write";
}

// An fsync that fails (the data may or may not be on the disk) refuses the upload it was
// to make durable, with the I/O error; the store reopens, and the upload sent again with
// the same key is stored once.
TEST_F(PowerLoss, FailedFsyncReopensAndDoesNotStoreTwice) {
  FaultVfs vfs("labtrace-fsync-error");
  Outcome outcome;
  {
    auto store = RecordStore::Open((base_ / "mem").string(), Options(), OnFaultVfs(vfs));
    ASSERT_TRUE(store.has_value());
    auto upload = [&](int n) {
      std::promise<Result<api::UploadReceipt>> answered;
      (*store)->Upload(MakeUpload(n), Provenance(), [&answered](Result<api::UploadReceipt> r) { answered.set_value(std::move(r)); });
      return answered.get_future().get();
    };
    for (int n = 0; n < kUploads; ++n) {
      if (n != kUploads / 2) {
        auto accepted = upload(n);
        ASSERT_TRUE(accepted.has_value()) << n << ": " << accepted.error().message();
        outcome.acknowledged.push_back(n);
        continue;
      }
      vfs.FailNextSync();
      auto refused = upload(n);
      EXPECT_EQ(vfs.failed_syncs(), 1) << "the upload's commit never reached the fsync that was to fail";
      ASSERT_FALSE(refused.has_value()) << "acknowledged although its fsync failed";
      EXPECT_EQ(refused.error().code(), StatusCode::kUnavailable) << refused.error().message();
      EXPECT_NE(refused.error().message().find("disk I/O error"), std::string::npos) << refused.error().message();
      EXPECT_NE(refused.error().message().find("send the upload again with the same idempotency key"),
                std::string::npos);
      // Refused: the sender sends it again with the same key.
      auto again = upload(n);
      ASSERT_TRUE(again.has_value()) << again.error().message();
      EXPECT_FALSE(again->replayed()) << "the refused upload had been stored";
      outcome.acknowledged.push_back(n);
    }
    vfs.CutPowerNow();
  }
  EXPECT_EQ(outcome.acknowledged.size(), static_cast<size_t>(kUploads));
  EXPECT_EQ(LostAfterReboot(vfs, outcome, base_ / "disk"), 0);
}

}  // namespace
}  // namespace labtrace::store
