// The writer's directory of channel and channel-set ids, against a real store file: the
// runs it remembers must never give a reading another channel's id.
#include <filesystem>

#include <gtest/gtest.h>

#include "store/channel_directory.h"
#include "store/schema.h"

namespace labtrace::store {
namespace {

namespace fs = std::filesystem;

class ChannelDirectoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = fs::temp_directory_path() / ("labtrace-directory-test-" + std::to_string(::getpid()) + "-" +
                                         ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".db");
    fs::remove(path_);
    auto db = Database::Open(path_.string(), Database::Mode::kReadWrite);
    ASSERT_TRUE(db) << db.error().message();
    db_.emplace(std::move(*db));
    ASSERT_TRUE(Migrate(*db_).ok());
  }
  void TearDown() override {
    directory_.Forget();  // its statements go before the connection
    db_.reset();
    fs::remove(path_);
  }

  int64_t Id(const std::string& instrument, const std::string& channel, size_t place) {
    auto id = directory_.ChannelId(instrument, channel, place);
    EXPECT_TRUE(id) << id.error().message();
    return id ? *id : -1;
  }
  // The channel as the database has it.
  std::string NameOf(int64_t id) {
    auto select = db_->Prepare("SELECT instrument || '/' || channel FROM channels WHERE channel_id = ?");
    select->BindInt64(1, id);
    auto row = select->Step();
    return row && *row ? select->ColumnText(0) : "(none)";
  }

  fs::path path_;
  std::optional<Database> db_;
  ChannelDirectory directory_;
};

TEST_F(ChannelDirectoryTest, ARunInAnotherOrderStillGetsEachChannelsOwnId) {
  Transaction transaction(*db_);
  ASSERT_TRUE(transaction.Begin().ok());
  directory_.Begin(*db_);
  const int64_t t = Id("chamber-1", "temperature", 0), h = Id("chamber-1", "humidity", 1);
  // The next poll lists them the other way round, then adds one, then drops one.
  EXPECT_EQ(Id("chamber-1", "humidity", 0), h);
  EXPECT_EQ(Id("chamber-1", "temperature", 1), t);
  const int64_t p = Id("chamber-1", "pressure", 2);
  EXPECT_EQ(Id("chamber-1", "temperature", 0), t);
  EXPECT_EQ(Id("chamber-1", "pressure", 1), p);
  // Another instrument with the same channel names has channels of its own.
  EXPECT_NE(Id("chamber-2", "temperature", 0), t);
  // A place given for the wrong instrument's run is only a hint.
  EXPECT_EQ(Id("chamber-1", "humidity", 1), h);
  for (auto [id, name] : {std::pair{t, "chamber-1/temperature"}, {h, "chamber-1/humidity"}, {p, "chamber-1/pressure"}}) {
    EXPECT_EQ(NameOf(id), name);
  }
}

TEST_F(ChannelDirectoryTest, SetsAreFoundByTheirMembersInAnyOrder) {
  Transaction transaction(*db_);
  ASSERT_TRUE(transaction.Begin().ok());
  directory_.Begin(*db_);
  const int64_t a = Id("chamber-1", "a", 0), b = Id("chamber-1", "b", 1), c = Id("chamber-1", "c", 2);
  const std::vector<int64_t> abc{a, b, c}, cba{c, b, a}, ab{a, b}, aab{a, a, b};
  auto set = [&](const std::vector<int64_t>& ids) {
    auto id = directory_.SetId("chamber-1", ids);
    EXPECT_TRUE(id) << id.error().message();
    return id ? *id : -1;
  };
  const int64_t first = set(abc);
  EXPECT_EQ(set(abc), first);
  EXPECT_EQ(set(cba), first);
  const int64_t smaller = set(ab);
  EXPECT_NE(smaller, first);
  EXPECT_EQ(set(aab), smaller);
  EXPECT_EQ(set(abc), first);
}

// A batch that does not commit takes its new channel ids with it, and SQLite gives them
// again. A directory that still remembered them would file the next channel's readings
// under the dropped one's id.
TEST_F(ChannelDirectoryTest, IdsOfABatchThatDidNotCommitAreForgotten) {
  int64_t dropped = 0;
  {
    Transaction transaction(*db_);
    ASSERT_TRUE(transaction.Begin().ok());
    directory_.Begin(*db_);
    dropped = Id("balance-1", "mass", 0);
  }  // rolled back
  directory_.Forget();

  Transaction transaction(*db_);
  ASSERT_TRUE(transaction.Begin().ok());
  directory_.Begin(*db_);
  const int64_t other = Id("balance-2", "mass", 0);
  EXPECT_EQ(other, dropped) << "SQLite gives the rolled-back id again; the test relies on it";
  const int64_t mass = Id("balance-1", "mass", 0);
  EXPECT_NE(mass, other);
  EXPECT_EQ(NameOf(mass), "balance-1/mass");
  EXPECT_EQ(NameOf(other), "balance-2/mass");
}

}  // namespace
}  // namespace labtrace::store
