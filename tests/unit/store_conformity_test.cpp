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

// SHA-256("%PDF-1.4\n%%EOF\n"), from Python's hashlib (an implementation the store does not use).
constexpr char kTinyPdf[] = "%PDF-1.4\n%%EOF\n";
constexpr unsigned char kTinyPdfSha256[32] = {
    0x14, 0xbc, 0xd0, 0x90, 0xba, 0xf3, 0x1e, 0xdb, 0xa6, 0x4e, 0x9c, 0xbd, 0x8c, 0xdf, 0xc1, 0x5f,
    0x94, 0x33, 0x44, 0xaa, 0x72, 0xcb, 0x36, 0x75, 0xad, 0x8e, 0x91, 0xbf, 0xcb, 0xce, 0x03, 0xad};

TEST_F(StoreConformityTest, AnIssuedReportsPdfIsKeptOnceBesideItUnchangedAndResolvesItsCode) {
  ConformityChange draft;
  TestReport& report = *draft.record.mutable_test_report();
  report.set_state(REPORT_STATE_DRAFT);
  report.mutable_sample()->set_code("M-2026-00001");
  report.set_verification_code("7KQ2M4XW9TNA");
  draft.year = "2026";
  draft.change_key = "draft";
  auto drafted = Save(draft);
  ASSERT_TRUE(drafted) << drafted.error().message();
  ASSERT_EQ(drafted->test_report().number(), "PKQ-2026-00001");

  ConformityChange issue;
  issue.record = *drafted;
  issue.record.mutable_test_report()->set_state(REPORT_STATE_ISSUED);
  issue.based_on = 1;
  issue.change_key = "issue";
  issue.issued_pdf = kTinyPdf;
  issue.record.mutable_test_report()->set_pdf_sha256(std::string(32, '\0'));
  auto wrong_hash = Save(issue);
  ASSERT_FALSE(wrong_hash) << "the report must carry its PDF's hash";
  EXPECT_EQ(wrong_hash.error().code(), StatusCode::kInvalidArgument);

  issue.record.mutable_test_report()->set_pdf_sha256(
      std::string(reinterpret_cast<const char*>(kTinyPdfSha256), sizeof kTinyPdfSha256));
  auto issued = Save(issue);
  ASSERT_TRUE(issued) << issued.error().message();
  EXPECT_EQ(issued->test_report().version(), 2u);
  auto kept = store_->FindIssuedDocument("PKQ-2026-00001");
  ASSERT_TRUE(kept && *kept);
  EXPECT_EQ((*kept)->pdf, kTinyPdf);
  EXPECT_EQ((*kept)->version, 2u);
  EXPECT_EQ((*kept)->sha256, issued->test_report().pdf_sha256());
  auto by_code = store_->FindIssuedReportByCode("7KQ2M4XW9TNA");
  ASSERT_TRUE(by_code && *by_code);
  EXPECT_EQ(**by_code, "PKQ-2026-00001");
  auto unknown = store_->FindIssuedReportByCode("7KQ2M4XW9TNB");
  ASSERT_TRUE(unknown);
  EXPECT_FALSE(*unknown);

  // Issued once: another PDF for the same report is refused, and the record not stored.
  ConformityChange again = issue;
  again.record = *issued;
  again.based_on = 2;
  again.change_key = "issue-again";
  auto twice = Save(again);
  ASSERT_FALSE(twice);
  EXPECT_EQ(twice.error().code(), StatusCode::kAlreadyExists);
  EXPECT_NE(twice.error().message().find("PKQ-2026-00001 was issued already"), std::string::npos)
      << twice.error().message();
  EXPECT_EQ(CountIn("SELECT COUNT(*) FROM conformity_records WHERE kind = 'test_report'"), 2);

  store_.reset();
  auto intact = VerifyStore(db(), {});
  ASSERT_TRUE(intact) << intact.error().message();
  EXPECT_TRUE(intact->intact) << intact->problem;

  // The engine refuses to change a kept PDF; with its trigger dropped, verify names it.
  sqlite3* file = nullptr;
  ASSERT_EQ(sqlite3_open(db().c_str(), &file), SQLITE_OK);
  EXPECT_NE(sqlite3_exec(file, "UPDATE issued_documents SET pdf = CAST('%PDF-1.4 forged' AS BLOB)", nullptr, nullptr,
                         nullptr),
            SQLITE_OK);
  EXPECT_NE(std::string(sqlite3_errmsg(file)).find("append-only"), std::string::npos) << sqlite3_errmsg(file);
  sqlite3_close(file);
  Alter("DROP TRIGGER issued_documents_append_only_update; "
        "UPDATE issued_documents SET pdf = CAST('%PDF-1.4 forged' AS BLOB)");
  auto forged = VerifyStore(db(), {});
  ASSERT_TRUE(forged) << forged.error().message();
  EXPECT_FALSE(forged->intact);
  EXPECT_NE(forged->problem.find("the issued PDF of PKQ-2026-00001"), std::string::npos) << forged->problem;
}

}  // namespace
}  // namespace labtrace::store
