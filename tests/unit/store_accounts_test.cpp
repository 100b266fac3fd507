// The store's users and tokens, and its hold on the data directory.
#include <fcntl.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "store/record_store.h"
#include "store_test_support.h"

namespace labtrace::store {
namespace {

using StoreLockTest = StoreTest;

TEST_F(StoreLockTest, SecondOpenInTheSameProcessIsRefusedUntilTheFirstCloses) {
  auto first = RecordStore::Open(dir_.string());
  ASSERT_TRUE(first.has_value()) << first.error().message();
  auto second = RecordStore::Open(dir_.string());
  ASSERT_FALSE(second.has_value());
  EXPECT_EQ(second.error().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(second.error().message().find("is using " + dir_.string() + "; stop it first, or use the API"),
            std::string::npos)
      << second.error().message();
  first->reset();
  auto again = RecordStore::Open(dir_.string());
  EXPECT_TRUE(again.has_value()) << again.error().message();
}

// Another process (here a child that takes the lock with flock(2) itself, as a daemon's
// store would) keeps every store of this process out while it lives.
TEST_F(StoreLockTest, OpenIsRefusedWhileAnotherProcessHoldsTheLock) {
  fs::create_directories(dir_);
  int locked[2], release[2];
  ASSERT_EQ(::pipe(locked), 0);
  ASSERT_EQ(::pipe(release), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    const int fd = ::open((dir_ / "labtrace.lock").c_str(), O_RDWR | O_CREAT, 0644);
    const char ok = fd >= 0 && ::flock(fd, LOCK_EX | LOCK_NB) == 0 ? 'y' : 'n';
    (void)!::write(locked[1], &ok, 1);
    char done;
    (void)!::read(release[0], &done, 1);
    ::_exit(0);
  }
  char ok = 0;
  ASSERT_EQ(::read(locked[0], &ok, 1), 1);
  ASSERT_EQ(ok, 'y');
  auto refused = RecordStore::Open(dir_.string());
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code(), StatusCode::kFailedPrecondition);
  const char done = 'x';
  ASSERT_EQ(::write(release[1], &done, 1), 1);
  int status = 0;
  ::waitpid(child, &status, 0);
  for (int fd : {locked[0], locked[1], release[0], release[1]}) ::close(fd);
  auto opened = RecordStore::Open(dir_.string());
  EXPECT_TRUE(opened.has_value()) << opened.error().message();
}

}  // namespace
}  // namespace labtrace::store
