// Tampering with a store using the sqlite3 command line, as someone with access to the
// file could, and `labtrace verify` naming what was changed.
#include <unistd.h>

#include <filesystem>
#include <array>
#include <fstream>
#include <future>
#include <random>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "store/record_store.h"
#include "store/signing_key.h"
#include "store/sqlite.h"
#include "store/verifier.h"
#include "support/child_process.h"

namespace labtrace {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using testing::ChildProcess;

constexpr int kPolled = 60, kUploaded = 40;
// Records in the ledger: the readings and the audit event that says the upload was stored.
constexpr int kRecords = kPolled + kUploaded + 1;

class Tampering : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    pristine_ = fs::temp_directory_path() / fmt::format("labtrace-tamper-{}", getpid());
    fs::remove_all(pristine_);
    auto store = store::RecordStore::Open(pristine_.string());
    ASSERT_TRUE(store.has_value()) << store.error().message();
    std::vector<Reading> polled;
    for (int i = 0; i < kPolled; ++i) {
      Reading r;
      r.set_instrument("balance-xs205");
      r.set_channel("mass");
      r.set_unit("g");
      r.set_quality(GOOD);
      r.set_value(100.00012 + i * 1e-5);
      r.set_decimals(5);
      r.set_requested_at_ns(1795590001'000'000'000 + i * 1'000'000'000LL);
      r.set_raw_frame(fmt::format("S S {:10.5f} g\r\n", r.value()));
      r.mutable_provenance()->set_source(Provenance::POLLED);
      r.mutable_provenance()->set_driver("mt-sics");
      r.mutable_provenance()->set_bus("balance-rs232");
      polled.push_back(r);
    }
    (*store)->Append(std::vector<Reading>(polled.begin(), polled.begin() + 30));
    (*store)->Flush();
    (*store)->Append(std::vector<Reading>(polled.begin() + 30, polled.end()));
    (*store)->Flush();
    api::UploadRequest upload;
    upload.set_idempotency_key("pc3-run-17");
    for (int i = 0; i < kUploaded; ++i) {
      Reading* r = upload.add_readings();
      *r = polled[i % kPolled];
      r->set_instrument("lab-pc-3");
      r->clear_provenance();  // the store gives it the upload's
    }
    Provenance uploaded;
    uploaded.set_source(Provenance::UPLOADED);
    uploaded.set_user("anonymous");
    std::promise<bool> done;
    (*store)->Upload(upload, uploaded, [&done](Result<api::UploadReceipt> r) { done.set_value(r.has_value()); });
    ASSERT_TRUE(done.get_future().get());
    store->reset();  // closes, with a final signed checkpoint
    auto checkpoint = store::LatestCheckpoint((pristine_ / "labtrace.db").string());
    ASSERT_TRUE(checkpoint.has_value());
    std::ofstream(pristine_ / "saved.checkpoint") << store::FormatCheckpointFile(*checkpoint);
    auto lab_key = store::SigningKey::Load((pristine_ / "lab-signing.key").string());
    ASSERT_TRUE(lab_key.has_value()) << lab_key.error().message();
    lab_key_ = store::PublicKeyText(lab_key->public_key());
    std::ofstream(pristine_ / "lab.pub") << lab_key_ << "\n";
  }
  static void TearDownTestSuite() { fs::remove_all(pristine_); }

  void SetUp() override {
    copy_ = fs::temp_directory_path() /
            fmt::format("labtrace-tamper-{}-{}", getpid(), ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(copy_);
    fs::create_directories(copy_);
    fs::copy_file(pristine_ / "labtrace.db", db());
  }
  void TearDown() override { fs::remove_all(copy_); }

  std::string db() const { return (copy_ / "labtrace.db").string(); }

  // Runs SQL on the copy with the sqlite3 command line.
  void Sqlite(const std::string& sql) {
    ChildProcess sqlite({"/usr/bin/sqlite3", db(), sql});
    ASSERT_EQ(sqlite.WaitForExit(30s), 0) << sql << "\n" << sqlite.output();
  }

  // Runs `labtrace verify`; returns its exit code and output.
  std::pair<int, std::string> Verify(bool with_saved_checkpoint = false, std::vector<std::string> extra = {}) {
    std::vector<std::string> args{LABTRACE_CLI_PATH, "verify", "--db", db(), "--no-progress"};
    if (with_saved_checkpoint) {
      args.push_back("--checkpoint");
      args.push_back((pristine_ / "saved.checkpoint").string());
    }
    args.insert(args.end(), extra.begin(), extra.end());
    ChildProcess verify(args);
    const int code = verify.WaitForExit(30s);
    return {code, verify.output()};
  }

  // `labtrace verify` with the lab's public key pinned by --trusted-key.
  std::pair<int, std::string> VerifyPinned(std::vector<std::string> extra = {}) {
    extra.insert(extra.begin(), {"--trusted-key", (pristine_ / "lab.pub").string()});
    return Verify(false, std::move(extra));
  }

  static fs::path pristine_;
  static std::string lab_key_;  // hex, as `labtrace checkpoint key` prints it
  fs::path copy_;
};

fs::path Tampering::pristine_;
std::string Tampering::lab_key_;

TEST_F(Tampering, UntouchedStoreIsIntact) {
  auto [code, output] = Verify(true);
  EXPECT_EQ(code, 0) << output;
  EXPECT_NE(output.find(fmt::format("intact: {} records", kRecords)), std::string::npos) << output;
}

TEST_F(Tampering, RandomSingleByteEditsAreEachNamed) {
  std::mt19937 random(20261125);
  const char* columns[] = {"raw_frame", "unit", "detail", "requested_at_ns", "value", "quality", "decimals", "text"};
  for (int round = 0; round < 12; ++round) {
    SetUp();
    const int sequence = std::uniform_int_distribution<int>(1, kPolled + kUploaded)(random);
    const std::string column = columns[round % std::size(columns)];
    std::string change;
    if (column == "raw_frame") {  // one byte of the frame, "S S  100.00012 g": the 8th
      change = "raw_frame = CAST(substr(CAST(raw_frame AS TEXT), 1, 7) || 'X' || substr(CAST(raw_frame AS TEXT), 9) AS BLOB)";
    } else if (column == "unit" || column == "detail" || column == "text") {
      change = column + " = " + column + " || 'x'";
    } else if (column == "value") {
      change = "value = value + 0.00001";
    } else {
      change = column + " = " + column + " + 1";
    }
    Sqlite(fmt::format("DROP TRIGGER readings_append_only_update; UPDATE readings SET {} WHERE sequence = {};", change,
                       sequence));
    auto [code, output] = Verify();
    EXPECT_EQ(code, 1) << column << " of reading " << sequence << ": " << output;
    EXPECT_NE(output.find(fmt::format("reading {} (", sequence)), std::string::npos) << output;
    EXPECT_NE(output.find("does not match its leaf hash: altered after commit"), std::string::npos) << output;
    TearDown();
  }
}

// Where a reading came from is hashed with it: a polled reading passed off as uploaded
// (its provenance row rewritten, or the reading pointed at another one, or at none) is
// found, and so is a provenance row deleted.
TEST_F(Tampering, AlteredProvenanceIsNamed) {
  // Provenance 1 is the balance's (polled); X'0803' is {source: UPLOADED}.
  Sqlite("DROP TRIGGER provenances_append_only_update; UPDATE provenances SET record = X'0803' WHERE provenance_id = 1;");
  auto [code, output] = Verify();
  EXPECT_EQ(code, 1) << output;
  EXPECT_NE(output.find("reading 1 ("), std::string::npos) << output;
  EXPECT_NE(output.find("does not match its leaf hash: altered after commit"), std::string::npos) << output;
  for (const char* change : {"provenance_id = 2", "provenance_id = NULL"}) {
    TearDown();
    SetUp();
    Sqlite(fmt::format("DROP TRIGGER readings_append_only_update; UPDATE readings SET {} WHERE sequence = 7;", change));
    std::tie(code, output) = Verify();
    EXPECT_EQ(code, 1) << change << ": " << output;
    EXPECT_NE(output.find("reading 7 ("), std::string::npos) << change << ": " << output;
  }
  TearDown();
  SetUp();
  Sqlite("DROP TRIGGER provenances_append_only_delete; "
         "DELETE FROM provenances WHERE provenance_id = 2;");
  std::tie(code, output) = Verify();
  EXPECT_EQ(code, 1) << output;
  EXPECT_NE(output.find(fmt::format("reading {} (", kPolled + 1)), std::string::npos) << output;
  EXPECT_NE(output.find("names provenance 2 that is missing: deleted"), std::string::npos) << output;
}

TEST_F(Tampering, DeletedReadingIsNamed) {
  Sqlite("DROP TRIGGER readings_append_only_delete; DELETE FROM readings WHERE sequence = 33;");
  auto [code, output] = Verify();
  EXPECT_EQ(code, 1);
  EXPECT_NE(output.find("reading 33 (leaf 32) is missing: deleted"), std::string::npos) << output;
}

// The runs are how a search by channel finds readings: a reading left out of them is
// hidden from the API though its row and leaf are intact.
TEST_F(Tampering, AReadingHiddenFromChannelSearchIsNamed) {
  Sqlite("DROP TRIGGER reading_runs_append_only_delete; "
         "DELETE FROM reading_runs WHERE first_sequence = (SELECT MAX(first_sequence) FROM reading_runs "
         "WHERE first_sequence <= 33);");
  auto [code, output] = Verify();
  EXPECT_EQ(code, 1);
  EXPECT_NE(output.find("is in no run of its instrument whose channel set holds its channel, so a search by channel "
                        "cannot find it"),
            std::string::npos)
      << output;
}

// A run pointed at a channel set that lacks a channel of its readings hides those readings
// from a search just as well; so does a set's member row removed.
TEST_F(Tampering, AChannelSetThatLeavesOutAReadingsChannelIsNamed) {
  Sqlite("DROP TRIGGER reading_runs_append_only_update; "
         "UPDATE reading_runs SET channel_set = (SELECT s.set_id FROM channel_sets s JOIN channels c "
         "  ON s.channel_ids = CAST(c.channel_id AS TEXT) WHERE c.instrument = 'lab-pc-3') "
         "WHERE first_sequence = (SELECT MAX(first_sequence) FROM reading_runs WHERE first_sequence <= 33);");
  auto [code, output] = Verify();
  EXPECT_EQ(code, 1);
  EXPECT_NE(output.find("whose channel set holds its channel"), std::string::npos) << output;
  TearDown();
  SetUp();
  Sqlite("DROP TRIGGER channel_set_members_append_only_delete; "
         "DELETE FROM channel_set_members WHERE set_id = 1;");
  std::tie(code, output) = Verify();
  EXPECT_EQ(code, 1);
  EXPECT_NE(output.find("channel_set_members does not hold the channels of channel set"), std::string::npos) << output;
}

// SQL compares a member or a run's set stored as text or a fraction with nothing, so it
// hides readings from a search though it would read as the right whole number.
TEST_F(Tampering, ChannelSetIdsThatAreNotWholeNumbersAreNamed) {
  Sqlite("DROP TRIGGER channel_set_members_append_only_update; "
         "UPDATE channel_set_members SET channel_id = channel_id || 'x' WHERE set_id = 2;");
  auto [code, output] = Verify();
  EXPECT_EQ(code, 1);
  EXPECT_NE(output.find("channel_set_members holds a member of set 2 that is not a whole number"), std::string::npos)
      << output;
  TearDown();
  SetUp();
  Sqlite("DROP TRIGGER reading_runs_append_only_update; "
         "UPDATE reading_runs SET channel_set = channel_set + 0.5 "
         "WHERE first_sequence = (SELECT MAX(first_sequence) FROM reading_runs WHERE first_sequence <= 33);");
  std::tie(code, output) = Verify();
  EXPECT_EQ(code, 1);
  EXPECT_NE(output.find("whose count or channel set is not a whole number"), std::string::npos) << output;
}

// A search by channel goes by the index reading_runs_by_channel_set: an index that lacks
// a run hides its readings though every row and leaf is intact. SQLite's integrity_check
// found this until the verifier stepped the index beside the table itself.
TEST_F(Tampering, ARunsIndexThatLacksARunIsNamed) {
  // An index of the same shape without the first run takes over the real one's root page,
  // and the real one's b-tree is dropped under the other's name: no page is lost, so the
  // file itself is sound and only the index disagrees with its table.
  Sqlite("CREATE INDEX scratch ON reading_runs (channel_set, first_sequence) WHERE first_sequence <> 1;");
  Sqlite("CREATE TEMP TABLE roots AS SELECT name, rootpage FROM sqlite_master "
         "  WHERE name IN ('scratch', 'reading_runs_by_channel_set'); "
         "PRAGMA writable_schema = ON; "
         "UPDATE sqlite_master SET rootpage = (SELECT rootpage FROM temp.roots r WHERE r.name <> sqlite_master.name) "
         "  WHERE name IN ('scratch', 'reading_runs_by_channel_set');");
  Sqlite("DROP INDEX scratch;");
  auto [code, output] = Verify();
  EXPECT_EQ(code, 1) << output;
  EXPECT_NE(output.find("is in a run from 1 that the index reading_runs_by_channel_set does not hold"),
            std::string::npos)
      << output;
}

// Runs added outside labtrace: one overlapping a true run returns its readings twice to a
// search; one after the last reading would make the daemon's next commit clash with it.
TEST_F(Tampering, RunsAddedOutsideLabtraceAreNamed) {
  Sqlite("INSERT INTO reading_runs (first_sequence, instrument, count, channel_set) "
         "SELECT first_sequence + 1, instrument, 1, channel_set FROM reading_runs WHERE count > 1 LIMIT 1;");
  auto [code, output] = Verify();
  EXPECT_EQ(code, 1);
  EXPECT_NE(output.find("follows runs that overlap"), std::string::npos) << output;
  TearDown();
  SetUp();
  Sqlite("INSERT INTO reading_runs (first_sequence, instrument, count, channel_set) "
         "SELECT MAX(sequence) + 5, 'balance', 1, 1 FROM readings;");
  std::tie(code, output) = Verify();
  EXPECT_EQ(code, 1);
  EXPECT_NE(output.find("after the last reading: added outside labtrace"), std::string::npos) << output;
}

TEST_F(Tampering, DeletedBatchIsNamed) {
  Sqlite("DROP TRIGGER batches_append_only_delete; DELETE FROM batches WHERE batch_id = 2;");
  auto [code, output] = Verify();
  EXPECT_EQ(code, 1);
  EXPECT_NE(output.find("batch 3 starts at leaf 60, expected 30: batches were removed or rewritten"),
            std::string::npos)
      << output;
}

TEST_F(Tampering, ReadingAddedOutsideLabtraceIsNamed) {
  Sqlite("INSERT INTO readings (channel_id, value, unit, quality, requested_at_ns, raw_frame, detail, decimals, "
         "calibration_certificate, calibration_due_date) "
         "SELECT channel_id, 99.9, unit, quality, requested_at_ns, raw_frame, detail, decimals, "
         "calibration_certificate, calibration_due_date FROM readings WHERE sequence = 1;");
  auto [code, output] = Verify();
  EXPECT_EQ(code, 1);
  EXPECT_NE(output.find(fmt::format("reading {} is not in the ledger: added outside labtrace", kPolled + kUploaded + 1)),
            std::string::npos)
      << output;
}

TEST_F(Tampering, TruncatedTailIsFoundAgainstTheSavedCheckpoint) {
  // Remove the last batch whole, its checkpoints too: the store alone looks consistent…
  Sqlite(fmt::format(
      "DROP TRIGGER readings_append_only_delete; DROP TRIGGER audit_events_append_only_delete; "
      "DROP TRIGGER batches_append_only_delete; DROP TRIGGER checkpoints_append_only_delete; "
      "DROP TRIGGER reading_runs_append_only_delete; DELETE FROM reading_runs WHERE first_sequence > {0}; "
      "DELETE FROM readings WHERE sequence > {0}; DELETE FROM audit_events; "
      "DELETE FROM batches WHERE first_leaf >= {0}; DELETE FROM checkpoints;",
      kPolled));
  EXPECT_EQ(Verify(false).first, 0) << "without outside evidence a clean cut cannot be seen";
  // …but not to an auditor holding the checkpoint saved before.
  auto [code, output] = Verify(true);
  EXPECT_EQ(code, 1);
  EXPECT_NE(output.find(fmt::format("covers {} records, but the store holds {}: the tail was truncated",
                                    kRecords, kPolled)),
            std::string::npos)
      << output;
}

TEST_F(Tampering, TruncatedTailIsFoundAgainstTheStoredCheckpoint) {
  Sqlite(fmt::format(
      "DROP TRIGGER readings_append_only_delete; DROP TRIGGER batches_append_only_delete; "
      "DROP TRIGGER audit_events_append_only_delete; "
      "DROP TRIGGER reading_runs_append_only_delete; DELETE FROM reading_runs WHERE first_sequence > {0}; "
      "DELETE FROM readings WHERE sequence > {0}; DELETE FROM batches WHERE first_leaf >= {0}; "
      "DELETE FROM audit_events;",
      kPolled));
  auto [code, output] = Verify();
  EXPECT_EQ(code, 1);
  EXPECT_NE(output.find("the tail was truncated"), std::string::npos) << output;
}

TEST_F(Tampering, RewrittenCheckpointFailsItsSignature) {
  Sqlite("DROP TRIGGER checkpoints_append_only_update; UPDATE checkpoints SET tree_size = tree_size - 1;");
  auto [code, output] = Verify();
  EXPECT_EQ(code, 1);
  EXPECT_NE(output.find("has a signature that does not verify: altered"), std::string::npos) << output;
}

TEST_F(Tampering, ReplacedLeafHashNamesItsRecord) {
  // The record is untouched but its stored leaf hash is swapped for its neighbour's.
  Sqlite("DROP TRIGGER batches_append_only_update; "
         "UPDATE batches SET leaf_hashes = substr(leaf_hashes, 1, 160) || substr(leaf_hashes, 129, 32) || "
         "substr(leaf_hashes, 193) WHERE batch_id = 1;");
  auto [code, output] = Verify();
  EXPECT_EQ(code, 1);
  EXPECT_NE(output.find("reading 6 ("), std::string::npos) << output;
}

}  // namespace
}  // namespace labtrace

namespace labtrace {
namespace {

TEST_F(Tampering, AlteredAuditEventIsNamed) {
  Sqlite("DROP TRIGGER audit_events_append_only_update; UPDATE audit_events SET actor = 'someone else';");
  auto [code, output] = Verify();
  EXPECT_EQ(code, 1);
  EXPECT_NE(output.find("audit event 1 (create upload:pc3-run-17 by someone else) does not match its leaf hash"),
            std::string::npos)
      << output;
}

}  // namespace
}  // namespace labtrace

namespace labtrace {
namespace {

TEST_F(Tampering, InclusionAndConsistencyProofsVerifyAgainstTheSignedCheckpoint) {
  ChildProcess inclusion({LABTRACE_CLI_PATH, "proof", "inclusion", "--db", db(), "--reading", "17", "--json"});
  EXPECT_EQ(inclusion.WaitForExit(30s), 0) << inclusion.output();
  EXPECT_NE(inclusion.output().find("\"leaf_index\":16"), std::string::npos) << inclusion.output();
  EXPECT_NE(inclusion.output().find(fmt::format("\"tree_size\":{}", kRecords)), std::string::npos);
  EXPECT_NE(inclusion.output().find("\"root_is_signed\":true,\"verified\":true"), std::string::npos)
      << inclusion.output();
  auto checkpoint = store::LatestCheckpoint(db());
  ASSERT_TRUE(checkpoint.has_value());
  store::Hash root;
  std::copy(checkpoint->root_hash().begin(), checkpoint->root_hash().end(), root.begin());
  EXPECT_NE(inclusion.output().find(store::ToHex(root)), std::string::npos) << "proved against the signed root";

  ChildProcess consistency({LABTRACE_CLI_PATH, "proof", "consistency", "--db", db(), "--from", "30", "--to",
                            std::to_string(kRecords)});
  EXPECT_EQ(consistency.WaitForExit(30s), 0) << consistency.output();
  EXPECT_NE(consistency.output().find("the proof verifies"), std::string::npos) << consistency.output();
}

TEST_F(Tampering, InclusionProofOfAnAlteredLeafDoesNotVerify) {
  Sqlite("DROP TRIGGER batches_append_only_update; "
         "UPDATE batches SET leaf_hashes = substr(leaf_hashes, 1, 512) || zeroblob(32) || substr(leaf_hashes, 545) "
         "WHERE batch_id = 1;");
  ChildProcess inclusion({LABTRACE_CLI_PATH, "proof", "inclusion", "--db", db(), "--reading", "17"});
  EXPECT_EQ(inclusion.WaitForExit(30s), 1) << inclusion.output();
  EXPECT_NE(inclusion.output().find("THE PROOF DOES NOT VERIFY"), std::string::npos) << inclusion.output();
}

}  // namespace
}  // namespace labtrace

// The lab's key pinned outside the store: someone who can write the store and the key file
// beside it can make every hash and signature agree again, but not with the lab's key.
namespace labtrace {
namespace {

// One weighing of the balance, for a store made or extended outside the lab.
Reading Weighing(double grams, int64_t requested_at_ns) {
  Reading r;
  r.set_instrument("balance-xs205");
  r.set_channel("mass");
  r.set_unit("g");
  r.set_quality(GOOD);
  r.set_value(grams);
  r.set_requested_at_ns(requested_at_ns);
  return r;
}

TEST_F(Tampering, CheckpointKeyPrintsTheKeyThatSignsTheCheckpoints) {
  ChildProcess key({LABTRACE_CLI_PATH, "checkpoint", "key", "--db", (pristine_ / "labtrace.db").string()});
  EXPECT_EQ(key.WaitForExit(30s), 0) << key.output();
  EXPECT_EQ(key.output(), lab_key_ + "\n");
  auto checkpoint = store::LatestCheckpoint(db());
  ASSERT_TRUE(checkpoint.has_value());
  EXPECT_EQ(store::PublicKeyText(checkpoint->public_key()), lab_key_);

  auto [code, output] = VerifyPinned();
  EXPECT_EQ(code, 0) << output;
  EXPECT_NE(output.find(fmt::format("checkpoints signed by the lab's key {} (pinned by --trusted-key", lab_key_)),
            std::string::npos)
      << output;
}

// Every checkpoint signed again with a key of the forger's own: each signature verifies.
TEST_F(Tampering, ReSignedStoreIsRefusedWithThePinnedKey) {
  std::array<uint8_t, 32> seed{};
  seed.fill(7);
  const store::SigningKey forger = store::SigningKey::FromSeed(seed);
  {
    auto db = store::Database::Open(this->db(), store::Database::Mode::kReadWrite);
    ASSERT_TRUE(db.has_value()) << db.error().message();
    ASSERT_TRUE(db->Execute("DROP TRIGGER checkpoints_append_only_update").ok());
    std::vector<std::pair<int64_t, Checkpoint>> checkpoints;
    auto select = db->Prepare("SELECT checkpoint_id, tree_size, root_hash, time_ns FROM checkpoints ORDER BY checkpoint_id");
    ASSERT_TRUE(select.has_value());
    while (select->Step().value_or(false)) {
      Checkpoint c;
      c.set_tree_size(static_cast<uint64_t>(select->ColumnInt64(1)));
      c.set_root_hash(select->ColumnBlob(2));
      c.set_time_ns(select->ColumnInt64(3));
      checkpoints.emplace_back(select->ColumnInt64(0), c);
    }
    ASSERT_FALSE(checkpoints.empty());
    auto update = db->Prepare("UPDATE checkpoints SET public_key = ?, signature = ? WHERE checkpoint_id = ?");
    ASSERT_TRUE(update.has_value());
    for (const auto& [id, c] : checkpoints) {
      const std::string signature = forger.Sign(store::CheckpointText(c));
      update->BindBlob(1, forger.public_key());
      update->BindBlob(2, {reinterpret_cast<const uint8_t*>(signature.data()), signature.size()});
      update->BindInt64(3, id);
      ASSERT_TRUE(update->Step().has_value());
      update->Reset();
    }
  }
  const std::string forged_key = store::PublicKeyText(forger.public_key());
  auto [code, output] = Verify();
  EXPECT_EQ(code, 0) << "without a pinned key a re-signed store cannot be told from the lab's: " << output;
  EXPECT_NE(output.find("which is not pinned"), std::string::npos) << output;

  std::tie(code, output) = VerifyPinned();
  EXPECT_EQ(code, 1) << output;
  EXPECT_NE(output.find("NOT INTACT: checkpoint 1 (size "), std::string::npos) << output;
  EXPECT_NE(output.find(fmt::format("is signed by key {}, not the lab's key {}: re-signed outside the lab", forged_key,
                                    lab_key_)),
            std::string::npos)
      << output;
}

// A whole store made again by labtrace itself, with its own key and other values: every
// hash, root, chain link and signature agrees.
TEST_F(Tampering, ForgedStoreMadeWithAnotherKeyIsRefusedWithThePinnedKey) {
  fs::remove_all(copy_);
  {
    auto forged = store::RecordStore::Open(copy_.string());
    ASSERT_TRUE(forged.has_value()) << forged.error().message();
    (*forged)->Append({Weighing(99.5, 1795590001'000'000'000)});
    (*forged)->Flush();
  }
  auto [code, output] = Verify();
  EXPECT_EQ(code, 0) << output;
  std::tie(code, output) = VerifyPinned();
  EXPECT_EQ(code, 1) << output;
  EXPECT_NE(output.find(fmt::format("not the lab's key {}: re-signed outside the lab", lab_key_)), std::string::npos)
      << output;
}

TEST_F(Tampering, DeletedCheckpointsAreRefusedWithThePinnedKey) {
  Sqlite("DROP TRIGGER checkpoints_append_only_delete; DELETE FROM checkpoints;");
  auto [code, output] = Verify();
  EXPECT_EQ(code, 0) << output;
  EXPECT_NE(output.find("no signed checkpoint: nothing but the records' own hashes vouches for them"),
            std::string::npos)
      << output;

  std::tie(code, output) = VerifyPinned();
  EXPECT_EQ(code, 1) << output;
  EXPECT_NE(output.find(fmt::format("the store holds no signed checkpoint (the lab's key {} is pinned): they were "
                                    "deleted, or the daemon never made one",
                                    lab_key_)),
            std::string::npos)
      << output;

  std::tie(code, output) = Verify(false, {"--require-checkpoint"});
  EXPECT_EQ(code, 1) << output;
  EXPECT_NE(output.find("the store holds no signed checkpoint:"), std::string::npos) << output;
  std::tie(code, output) = VerifyPinned({"--allow-no-checkpoint"});
  EXPECT_EQ(code, 0) << output;
}

// The daemon's key file replaced, and the daemon run on: later checkpoints are signed by
// the new key.
TEST_F(Tampering, SwappedKeyIsRefused) {
  {
    store::StoreOptions options;
    options.signing_key_path = (copy_ / "swapped.key").string();
    auto store = store::RecordStore::Open(copy_.string(), options);
    ASSERT_TRUE(store.has_value()) << store.error().message();
    (*store)->Append({Weighing(100.5, 1795590100'000'000'000)});
    (*store)->Flush();
  }
  auto swapped = store::SigningKey::Load((copy_ / "swapped.key").string());
  ASSERT_TRUE(swapped.has_value()) << swapped.error().message();
  const std::string swapped_key = store::PublicKeyText(swapped->public_key());

  auto [code, output] = Verify();
  EXPECT_EQ(code, 1) << output;
  EXPECT_NE(output.find(fmt::format("is signed by key {}, not checkpoint 1's key {}", swapped_key, lab_key_)),
            std::string::npos)
      << output;
  std::tie(code, output) = VerifyPinned();
  EXPECT_EQ(code, 1) << output;
  EXPECT_NE(output.find(fmt::format("is signed by key {}, not the lab's key {}: re-signed outside the lab, or the "
                                    "daemon's key was replaced",
                                    swapped_key, lab_key_)),
            std::string::npos)
      << output;
}

TEST_F(Tampering, SigningKeyReadableByOthersIsRefusedAtStart) {
  fs::copy_file(pristine_ / "lab-signing.key", copy_ / "lab-signing.key");
  fs::permissions(copy_ / "lab-signing.key", fs::perms(0644));
  auto store = store::RecordStore::Open(copy_.string());
  ASSERT_FALSE(store.has_value());
  const std::string key_path = (copy_ / "lab-signing.key").string();
  EXPECT_EQ(store.error().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(store.error().message().find(fmt::format("signing key {} has mode 0644", key_path)), std::string::npos)
      << store.error().message();
  EXPECT_NE(store.error().message().find(fmt::format("run `chmod 600 {}`", key_path)), std::string::npos)
      << store.error().message();
  fs::permissions(copy_ / "lab-signing.key", fs::perms(0600));
  EXPECT_TRUE(store::RecordStore::Open(copy_.string()).has_value());
}

TEST_F(Tampering, LabConfigPinsTheKey) {
  std::ofstream(copy_ / "lab.textproto") << fmt::format("name: \"pinned\"\ntrusted_checkpoint_key: \"{}\"\n", lab_key_);
  auto [code, output] = Verify(false, {"--config", (copy_ / "lab.textproto").string()});
  EXPECT_EQ(code, 0) << output;
  EXPECT_NE(output.find("(pinned by " + (copy_ / "lab.textproto").string() + ")"), std::string::npos) << output;

  std::ofstream(copy_ / "bad.textproto") << "name: \"pinned\"\ntrusted_checkpoint_key: \"d8480bf5\"\n";
  std::tie(code, output) = Verify(false, {"--config", (copy_ / "bad.textproto").string()});
  EXPECT_EQ(code, 2) << output;
  EXPECT_NE(output.find("bad.textproto:2:1: trusted_checkpoint_key: is not an Ed25519 public key"), std::string::npos)
      << output;
}

}  // namespace
}  // namespace labtrace
