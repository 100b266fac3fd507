// The SQLite wrapper: cached statements are prepared once per connection and come back
// reset; a bind SQLite refuses is never silently a NULL.
#include <unistd.h>

#include <filesystem>

#include <gtest/gtest.h>

#include "store/sqlite.h"

namespace labtrace::store {
namespace {

namespace fs = std::filesystem;

class SqliteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = fs::temp_directory_path() / ("labtrace-sqlite-test-" + std::to_string(::getpid()) + ".db");
    fs::remove(path_);
    auto db = Database::Open(path_.string(), Database::Mode::kReadWrite);
    ASSERT_TRUE(db.has_value()) << db.error().message();
    db_.emplace(std::move(*db));
    ASSERT_TRUE(db_->Execute("CREATE TABLE t (a INTEGER NOT NULL, b TEXT)").ok());
  }
  void TearDown() override {
    db_.reset();
    fs::remove(path_);
  }
  fs::path path_;
  std::optional<Database> db_;
};

TEST_F(SqliteTest, ACachedStatementIsPreparedOnceAndComesBackReset) {
  constexpr const char* kInsert = "INSERT INTO t (a, b) VALUES (?, ?)";
  const Statement* first = nullptr;
  {
    auto insert = db_->Cached(kInsert);
    ASSERT_TRUE(insert.has_value());
    first = &**insert;
    (*insert)->BindInt64(1, 1);
    (*insert)->BindText(2, "one");
    ASSERT_TRUE((*insert)->Run().ok());
    (*insert)->BindInt64(1, 2);
    // Not run: the handle ends with a binding made, which must not leak into the next use.
  }
  auto again = db_->Cached(kInsert);
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(&**again, first) << "prepared a second time";
  // Bindings were cleared: `a` is NULL now and the NOT NULL constraint refuses it.
  EXPECT_FALSE((*again)->Run().ok());
  auto other_copy = db_->Cached(kInsert, 1);
  ASSERT_TRUE(other_copy.has_value());
  EXPECT_NE(&**other_copy, first) << "a numbered copy is a statement of its own";
}

TEST_F(SqliteTest, ACursorLeftOpenIsResetWhenItsHandleEnds) {
  ASSERT_TRUE(db_->Execute("INSERT INTO t (a) VALUES (1), (2), (3)").ok());
  constexpr const char* kSelect = "SELECT a FROM t ORDER BY a";
  {
    auto select = db_->Cached(kSelect);
    ASSERT_TRUE(select.has_value());
    ASSERT_TRUE(*(*select)->Step());
    EXPECT_EQ((*select)->ColumnInt64(0), 1);
  }
  auto select = db_->Cached(kSelect);
  ASSERT_TRUE(*(*select)->Step());
  EXPECT_EQ((*select)->ColumnInt64(0), 1) << "the cursor went on where the last handle left it";
}

TEST_F(SqliteTest, ARefusedBindFailsTheStatementInsteadOfRunningItWithANull) {
  auto insert = db_->Prepare("INSERT INTO t (a, b) VALUES (?, ?)");
  ASSERT_TRUE(insert.has_value());
  insert->BindInt64(1, 7);
  insert->BindText(2, "seven");
  insert->BindText(3, "no such parameter");
  Status refused = insert->Run();
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.message().find("binding parameter 3"), std::string::npos) << refused.message();
  auto count = db_->Prepare("SELECT COUNT(*) FROM t");
  ASSERT_TRUE(*count->Step());
  EXPECT_EQ(count->ColumnInt64(0), 0) << "the statement ran despite the refused bind";
  // The refusal is cleared with the statement: the next use runs.
  insert->BindInt64(1, 8);
  insert->BindText(2, "eight");
  EXPECT_TRUE(insert->Run().ok());
}

}  // namespace
}  // namespace labtrace::store
