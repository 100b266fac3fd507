// Conformity records in the store: numbered in the lab's year, every change a new
// version, a change made from an old version refused, a retried change stored once, and
// every version a leaf that verify rehashes.
#include <sqlite3.h>

#include <future>
#include <string>

#include <gtest/gtest.h>

#include "store/record_store.h"
#include "store/verifier.h"
#include "store_test_support.h"

namespace labtrace::store {
namespace {

class StoreConformityTest : public StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    auto store = RecordStore::Open(dir_.string());
    ASSERT_TRUE(store.has_value()) << store.error().message();
    store_ = std::move(*store);
  }

  static ConformityChange NewSample(const std::string& change_key, const std::string& year,
                                    const std::string& description = "Gạo trắng, túi PE 2 kg") {
    ConformityChange change;
    Sample& sample = *change.record.mutable_sample();
    sample.set_enterprise("DN-2026-0001");
    sample.set_description(description);
    sample.set_received_by("test.technician");
    change.year = year;
    change.change_key = change_key;
    AuditEvent received;
    received.set_actor("test.technician");
    received.set_action("receive");
    change.events.push_back(received);
    return change;
  }

  Result<ConformityRecord> Save(ConformityChange change) {
    std::promise<Result<ConformityRecord>> answer;
    store_->SaveConformity(std::move(change),
                           [&answer](Result<ConformityRecord> r) { answer.set_value(std::move(r)); });
    return answer.get_future().get();
  }

  void Alter(const char* sql) {
    sqlite3* file = nullptr;
    ASSERT_EQ(sqlite3_open(db().c_str(), &file), SQLITE_OK);
    char* error = nullptr;
    EXPECT_EQ(sqlite3_exec(file, sql, nullptr, nullptr, &error), SQLITE_OK) << (error ? error : "");
    sqlite3_free(error);
    sqlite3_close(file);
  }

  std::unique_ptr<RecordStore> store_;
};

TEST_F(StoreConformityTest, NewRecordsAreNumberedByKindInTheLabsYear) {
  auto first = Save(NewSample("k1", "2026"));
  auto second = Save(NewSample("k2", "2026"));
  auto next_year = Save(NewSample("k3", "2027"));
  ConformityChange run;
  run.record.mutable_test_run()->set_sample("M-2026-00001");
  run.year = "2026";
  run.change_key = "k4";
  auto first_run = Save(std::move(run));
  ASSERT_TRUE(first && second && next_year && first_run);
  EXPECT_EQ(first->sample().code(), "M-2026-00001");
  EXPECT_EQ(second->sample().code(), "M-2026-00002");
  EXPECT_EQ(next_year->sample().code(), "M-2027-00001");
  EXPECT_EQ(first_run->test_run().id(), "TN-2026-00001");
  EXPECT_EQ(first->sample().version(), 1u);
}

TEST_F(StoreConformityTest, AChangeIsANewVersionAndTheOldOneStays) {
  auto received = Save(NewSample("k1", "2026"));
  ASSERT_TRUE(received) << received.error().message();
  ConformityChange disposal;
  disposal.record = *received;
  disposal.record.mutable_sample()->set_disposal("trả lại khách hàng");
  disposal.based_on = 1;
  disposal.change_key = "k2";
  AuditEvent disposal_event;
  disposal_event.set_actor("test.technician");
  disposal_event.set_action("amend");
  disposal.events.push_back(disposal_event);
  auto disposed = Save(std::move(disposal));
  ASSERT_TRUE(disposed) << disposed.error().message();
  EXPECT_EQ(disposed->sample().version(), 2u);

  auto latest = store_->FindConformity("sample", "M-2026-00001");
  ASSERT_TRUE(latest && *latest);
  EXPECT_EQ((*latest)->sample().disposal(), "trả lại khách hàng");
  auto original = store_->FindConformity("sample", "M-2026-00001", 1);
  ASSERT_TRUE(original && *original);
  EXPECT_EQ((*original)->sample().disposal(), "");
  auto versions = store_->ConformityVersions("sample", "M-2026-00001");
  ASSERT_TRUE(versions);
  EXPECT_EQ(versions->size(), 2u);
  auto listed = store_->ListConformity("sample", "DN-2026-0001", "");
  ASSERT_TRUE(listed);
  ASSERT_EQ(listed->size(), 1u) << "the latest version of each record, once";
  EXPECT_EQ(listed->front().sample().version(), 2u);
  store_->Flush();
  EXPECT_EQ(CountIn("SELECT COUNT(*) FROM audit_events WHERE entity = 'sample:M-2026-00001'"), 2);
}

TEST_F(StoreConformityTest, AChangeMadeFromAVersionThatIsNoLongerTheLatestIsRefused) {
  auto received = Save(NewSample("k1", "2026"));
  ASSERT_TRUE(received);
  ConformityChange first = {*received, 1, "", "k2", {}};
  first.record.mutable_sample()->set_storage("tủ mẫu K2");
  ASSERT_TRUE(Save(first));
  ConformityChange second = {*received, 1, "", "k3", {}};
  second.record.mutable_sample()->set_storage("tủ mẫu K3");
  auto refused = Save(second);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(refused.error().message().find("it is at version 2, the change was made from version 1"),
            std::string::npos)
      << refused.error().message();
  auto latest = store_->FindConformity("sample", "M-2026-00001");
  EXPECT_EQ((*latest)->sample().storage(), "tủ mẫu K2") << "the first change stands";

  ConformityChange unknown;
  unknown.record.mutable_sample()->set_code("M-2026-09999");
  unknown.based_on = 1;
  unknown.change_key = "k4";
  auto missing = Save(unknown);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), StatusCode::kNotFound);
}

TEST_F(StoreConformityTest, AChangeSentTwiceIsStoredOnce) {
  auto first = Save(NewSample("same-key", "2026"));
  auto again = Save(NewSample("same-key", "2026"));
  ASSERT_TRUE(first && again);
  EXPECT_EQ(again->sample().code(), first->sample().code());
  EXPECT_EQ(CountIn("SELECT COUNT(*) FROM conformity_records"), 1);
}

TEST_F(StoreConformityTest, EveryVersionIsALeafThatVerifyRehashes) {
  ASSERT_TRUE(Save(NewSample("k1", "2026")));
  ASSERT_TRUE(Save(NewSample("k2", "2026", "Gạo thơm")));
  store_.reset();
  auto intact = VerifyStore(db(), {});
  ASSERT_TRUE(intact) << intact.error().message();
  EXPECT_TRUE(intact->intact) << intact->problem;
  EXPECT_EQ(CountIn("SELECT COUNT(*) FROM batches WHERE record_kind = 4"), 2);

  // The record's bytes changed, its lookup columns left as they were: the leaf differs.
  Alter("DROP TRIGGER conformity_records_append_only_update; "
        "UPDATE conformity_records SET record = replace(record, CAST('thơm' AS BLOB), CAST('nếp' AS BLOB)) "
        "WHERE key = 'M-2026-00002'");
  auto altered = VerifyStore(db(), {});
  ASSERT_TRUE(altered);
  EXPECT_FALSE(altered->intact);
  EXPECT_NE(altered->problem.find("conformity record"), std::string::npos) << altered->problem;
  EXPECT_NE(altered->problem.find("sample M-2026-00002 version 1"), std::string::npos) << altered->problem;
}

TEST_F(StoreConformityTest, LookupColumnsThatDisagreeWithTheRecordAreNamed) {
  ASSERT_TRUE(Save(NewSample("k1", "2026")));
  store_.reset();
  // A sample listed under another enterprise than the one its record names.
  Alter("DROP TRIGGER conformity_records_append_only_update; "
        "UPDATE conformity_records SET parent = 'DN-2026-0002' WHERE key = 'M-2026-00001'");
  auto altered = VerifyStore(db(), {});
  ASSERT_TRUE(altered);
  EXPECT_FALSE(altered->intact);
  EXPECT_NE(altered->problem.find("lookup columns that do not match the record"), std::string::npos)
      << altered->problem;
}

}  // namespace
}  // namespace labtrace::store
