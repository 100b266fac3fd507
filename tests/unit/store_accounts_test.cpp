// The store's users and tokens, and its hold on the data directory.
#include <fcntl.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <future>

#include <gtest/gtest.h>

#include "store/record_store.h"
#include "store/verifier.h"
#include "store_test_support.h"

namespace labtrace::store {
namespace {

using StoreLockTest = StoreTest;
using StoreAccountsTest = StoreTest;

UserAccount Account(const std::string& name, Role role, const std::string& password_hash) {
  UserAccount account;
  account.set_name(name);
  account.set_full_name("Nguyễn Thị Lan");
  account.set_role(role);
  account.set_password_hash(password_hash);
  account.set_created_at_ns(1'000);
  return account;
}

AccessToken Token(const std::string& id, char hash_byte) {
  AccessToken token;
  token.set_token_id(id);
  token.set_text_sha256(std::string(32, hash_byte));
  token.set_user("pc-moisture-3");
  token.set_role(ROLE_UPLOADER);
  token.set_kind(TOKEN_KIND_UPLOADER);
  token.set_expires_at_ns(9'000'000'000'000'000'000);
  token.add_instruments("moisture-3");
  return token;
}

AuditEvent Event(const std::string& action, const std::string& entity) {
  AuditEvent event;
  event.set_actor("host:root");
  event.set_action(action);
  event.set_entity(entity);
  return event;
}

// Runs `hand_in` with a `done` that waits for the store's answer, and returns it.
template <typename HandIn>
Status AnswerOf(HandIn hand_in) {
  std::promise<Status> answer;
  hand_in([&answer](Status s) { answer.set_value(std::move(s)); });
  return answer.get_future().get();
}

TEST_F(StoreAccountsTest, EachSaveIsANewVersionAndTheLatestIsFound) {
  auto store = RecordStore::Open(dir_.string());
  ASSERT_TRUE(store.has_value()) << store.error().message();
  RecordStore& s = **store;
  EXPECT_TRUE(AnswerOf([&](AccountDone done) {
                s.SaveAccount(Account("lan.nguyen", ROLE_TECHNICIAN, "h1"), {Event("create", "user:lan.nguyen")},
                              std::move(done));
              }).ok());
  EXPECT_TRUE(AnswerOf([&](AccountDone done) {
                s.SaveAccount(Account("an.tran", ROLE_ADMIN, "h2"), {}, std::move(done));
              }).ok());
  EXPECT_TRUE(AnswerOf([&](AccountDone done) {
                s.SaveAccount(Account("lan.nguyen", ROLE_REVIEWER, "h3"), {Event("role", "user:lan.nguyen")},
                              std::move(done));
              }).ok());

  auto lan = s.FindAccount("lan.nguyen");
  ASSERT_TRUE(lan.has_value()) << lan.error().message();
  ASSERT_TRUE(lan->has_value());
  EXPECT_EQ((*lan)->role(), ROLE_REVIEWER);
  EXPECT_EQ((*lan)->password_hash(), "h3");
  EXPECT_EQ(CountIn("SELECT MAX(version) FROM user_accounts WHERE name = 'lan.nguyen'"), 2);
  EXPECT_EQ(CountIn("SELECT COUNT(*) FROM user_accounts"), 3);

  auto nobody = s.FindAccount("nobody");
  ASSERT_TRUE(nobody.has_value());
  EXPECT_FALSE(nobody->has_value());

  auto all = s.Accounts();
  ASSERT_TRUE(all.has_value()) << all.error().message();
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].name(), "an.tran");
  EXPECT_EQ((*all)[1].name(), "lan.nguyen");
  EXPECT_EQ((*all)[1].password_hash(), "h3");

  auto audit = s.QueryAudit("user:lan.nguyen", 0);
  ASSERT_TRUE(audit.has_value()) << audit.error().message();
  ASSERT_EQ(audit->events_size(), 2);
  EXPECT_EQ(audit->events(0).action(), "create");
  EXPECT_EQ(audit->events(1).action(), "role");
  EXPECT_GT(audit->events(0).time_ns(), 0);
}

// `done` runs after the commit: another connection to the file already sees the row.
TEST_F(StoreAccountsTest, SavedBeforeDoneRuns) {
  auto store = RecordStore::Open(dir_.string());
  ASSERT_TRUE(store.has_value()) << store.error().message();
  int64_t rows_seen_in_done = -1;
  const Status saved = AnswerOf([&](AccountDone done) {
    (*store)->SaveAccount(Account("lan.nguyen", ROLE_TECHNICIAN, "h1"), {},
                          [&, done = std::move(done)](Status s) {
                            rows_seen_in_done = CountIn("SELECT COUNT(*) FROM user_accounts");
                            done(std::move(s));
                          });
  });
  EXPECT_TRUE(saved.ok()) << saved.message();
  EXPECT_EQ(rows_seen_in_done, 1);
}

TEST_F(StoreAccountsTest, TokensAreFoundByTheirHashAndRevokedOnce) {
  auto store = RecordStore::Open(dir_.string());
  ASSERT_TRUE(store.has_value()) << store.error().message();
  RecordStore& s = **store;
  EXPECT_TRUE(AnswerOf([&](AccountDone done) {
                s.SaveToken(Token("tok-000000000002", 'b'), {Event("create", "token:tok-000000000002")},
                            std::move(done));
              }).ok());
  EXPECT_TRUE(AnswerOf([&](AccountDone done) {
                s.SaveToken(Token("tok-000000000001", 'a'), {}, std::move(done));
              }).ok());
  // The same text under another id, or the same id again: refused, and not audited.
  const Status same_text = AnswerOf([&](AccountDone done) {
    s.SaveToken(Token("tok-000000000003", 'a'), {Event("create", "token:tok-000000000003")}, std::move(done));
  });
  EXPECT_EQ(same_text.code(), StatusCode::kAlreadyExists) << same_text.message();
  const Status same_id = AnswerOf(
      [&](AccountDone done) { s.SaveToken(Token("tok-000000000001", 'c'), {}, std::move(done)); });
  EXPECT_EQ(same_id.code(), StatusCode::kAlreadyExists) << same_id.message();
  AccessToken revoked_already = Token("tok-000000000004", 'd');
  revoked_already.set_revoked_at_ns(5);
  EXPECT_EQ(AnswerOf([&](AccountDone done) { s.SaveToken(revoked_already, {}, std::move(done)); }).code(),
            StatusCode::kInvalidArgument);

  auto found = s.FindToken(std::string(32, 'b'));
  ASSERT_TRUE(found.has_value()) << found.error().message();
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ((*found)->token_id(), "tok-000000000002");
  EXPECT_EQ((*found)->instruments(0), "moisture-3");
  EXPECT_EQ((*found)->revoked_at_ns(), 0);
  auto unknown = s.FindToken(std::string(32, 'z'));
  ASSERT_TRUE(unknown.has_value());
  EXPECT_FALSE(unknown->has_value());

  EXPECT_TRUE(AnswerOf([&](AccountDone done) {
                s.RevokeToken("tok-000000000002", "an.tran", 7'000, {Event("revoke", "token:tok-000000000002")},
                              std::move(done));
              }).ok());
  EXPECT_TRUE(AnswerOf([&](AccountDone done) {
                s.RevokeToken("tok-000000000002", "lan.nguyen", 8'000, {Event("revoke", "token:tok-000000000002")},
                              std::move(done));
              }).ok());
  const Status no_such = AnswerOf(
      [&](AccountDone done) { s.RevokeToken("tok-ffffffffffff", "an.tran", 9'000, {}, std::move(done)); });
  EXPECT_EQ(no_such.code(), StatusCode::kNotFound) << no_such.message();

  found = s.FindToken(std::string(32, 'b'));
  ASSERT_TRUE(found.has_value() && found->has_value());
  EXPECT_EQ((*found)->revoked_at_ns(), 7'000);
  EXPECT_EQ((*found)->revoked_by(), "an.tran");

  auto tokens = s.Tokens();
  ASSERT_TRUE(tokens.has_value()) << tokens.error().message();
  ASSERT_EQ(tokens->size(), 2u);
  EXPECT_EQ((*tokens)[0].token_id(), "tok-000000000001");
  EXPECT_EQ((*tokens)[0].revoked_at_ns(), 0);
  EXPECT_EQ((*tokens)[1].revoked_by(), "an.tran");

  // One create and one revoke were made; the refused and the repeated were not audited.
  EXPECT_EQ(CountIn("SELECT COUNT(*) FROM audit_events WHERE entity LIKE 'token:%'"), 2);

  // Their events are leaves of the log like any other.
  store->reset();
  auto report = VerifyStore(db(), {});
  ASSERT_TRUE(report.has_value()) << report.error().message();
  EXPECT_TRUE(report->intact) << report->problem;
}

TEST_F(StoreAccountsTest, AccountsAndTokensAreAppendOnly) {
  {
    auto store = RecordStore::Open(dir_.string());
    ASSERT_TRUE(store.has_value()) << store.error().message();
    ASSERT_TRUE(AnswerOf([&](AccountDone done) {
                  (*store)->SaveAccount(Account("lan.nguyen", ROLE_TECHNICIAN, "h1"), {}, std::move(done));
                }).ok());
    ASSERT_TRUE(AnswerOf([&](AccountDone done) {
                  (*store)->SaveToken(Token("tok-000000000001", 'a'), {}, std::move(done));
                }).ok());
    ASSERT_TRUE(AnswerOf([&](AccountDone done) {
                  (*store)->RevokeToken("tok-000000000001", "an.tran", 7'000, {}, std::move(done));
                }).ok());
  }
  sqlite3* file = nullptr;
  ASSERT_EQ(sqlite3_open(db().c_str(), &file), SQLITE_OK);
  for (const char* sql : {"UPDATE user_accounts SET version = 9", "DELETE FROM user_accounts",
                          "UPDATE access_tokens SET token = x''", "DELETE FROM token_revocations"}) {
    EXPECT_NE(sqlite3_exec(file, sql, nullptr, nullptr, nullptr), SQLITE_OK) << sql;
  }
  sqlite3_close(file);
}

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
