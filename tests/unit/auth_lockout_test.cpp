// Lockout after failed logins (daemon/auth/lockout.h; 21 CFR Part 11 §11.300(d)).
#include <gtest/gtest.h>

#include "auth/lockout.h"

namespace labtrace::auth {
namespace {

constexpr int64_t kNow = 1'718'000'000'000'000'000;
constexpr int64_t kMinute = 60LL * 1'000'000'000;

LoginState Fail(LoginState state, int times, int64_t at_ns,
                std::vector<LoginEvent>* events = nullptr) {
  for (int i = 0; i < times; ++i) {
    LoginOutcome outcome = AfterFailedLogin(state, "lan.nguyen", at_ns);
    state = outcome.state;
    if (events) events->insert(events->end(), outcome.events.begin(), outcome.events.end());
  }
  return state;
}

TEST(Lockout, FourFailuresDoNotLock) {
  const LoginState state = Fail({}, 4, kNow);
  EXPECT_EQ(state.failures_in_a_row(), 4u);
  EXPECT_TRUE(CheckLoginGate(state, kNow).open);
}

TEST(Lockout, TheFifthFailureLocksForFifteenMinutes) {
  std::vector<LoginEvent> events;
  const LoginState state = Fail({}, 5, kNow, &events);
  const LoginGate gate = CheckLoginGate(state, kNow + 1);
  EXPECT_FALSE(gate.open);
  EXPECT_EQ(gate.locked_until_ns, kNow + 15 * kMinute);
  EXPECT_FALSE(CheckLoginGate(state, kNow + 15 * kMinute - 1).open);
  EXPECT_TRUE(CheckLoginGate(state, kNow + 15 * kMinute).open);

  ASSERT_EQ(events.size(), 6u);  // five failures, then the lock
  for (int i = 0; i < 5; ++i) EXPECT_EQ(events[i].kind, LoginEventKind::kLoginFailed);
  EXPECT_EQ(events[5].kind, LoginEventKind::kLocked);
  EXPECT_EQ(events[5].user, "lan.nguyen");
  EXPECT_NE(events[5].reason.find("5 failed logins"), std::string::npos) << events[5].reason;

  const AuditEvent audit = AuditEventOf(events[5]);
  EXPECT_EQ(audit.action(), "lock");
  EXPECT_EQ(audit.entity(), "user:lan.nguyen");
  EXPECT_EQ(audit.actor(), "lan.nguyen");
  EXPECT_EQ(audit.time_ns(), kNow);
}

TEST(Lockout, AFailureWhileLockedChangesNothing) {
  const LoginState locked = Fail({}, 5, kNow);
  const LoginOutcome again = AfterFailedLogin(locked, "lan.nguyen", kNow + kMinute);
  EXPECT_EQ(again.state.locked_until_ns(), locked.locked_until_ns())
      << "a guesser cannot extend the lock";
  EXPECT_EQ(again.state.failures_in_a_row(), 5u);
  ASSERT_EQ(again.events.size(), 1u);
  EXPECT_EQ(again.events[0].kind, LoginEventKind::kLoginFailed);
  EXPECT_NE(again.events[0].reason.find("locked"), std::string::npos);
}

TEST(Lockout, AGoodLoginResetsTheCount) {
  LoginState state = Fail({}, 4, kNow);
  const LoginOutcome good = AfterGoodLogin(state, "lan.nguyen", kNow + kMinute);
  EXPECT_EQ(good.state.failures_in_a_row(), 0u);
  ASSERT_EQ(good.events.size(), 1u);
  EXPECT_EQ(good.events[0].kind, LoginEventKind::kLoginOk);
  EXPECT_EQ(AuditEventOf(good.events[0]).action(), "login");
  state = Fail(good.state, 4, kNow + 2 * kMinute);
  EXPECT_TRUE(CheckLoginGate(state, kNow + 2 * kMinute).open)
      << "4 + 4 failures with a good login between";
}

TEST(Lockout, AnExpiredLockStartsANewCount) {
  const LoginState locked = Fail({}, 5, kNow);
  const LoginState after = Fail(locked, 1, kNow + 16 * kMinute);
  EXPECT_EQ(after.failures_in_a_row(), 1u);
  EXPECT_TRUE(CheckLoginGate(after, kNow + 16 * kMinute).open);
  EXPECT_FALSE(CheckLoginGate(Fail(after, 4, kNow + 17 * kMinute), kNow + 17 * kMinute).open);
}

TEST(Lockout, AnAdminUnlocks) {
  const LoginState locked = Fail({}, 5, kNow);
  const LoginOutcome unlocked = AfterUnlock(locked, "lan.nguyen", "admin.minh", kNow + kMinute);
  EXPECT_TRUE(CheckLoginGate(unlocked.state, kNow + kMinute).open);
  EXPECT_EQ(unlocked.state.failures_in_a_row(), 0u);
  ASSERT_EQ(unlocked.events.size(), 1u);
  const AuditEvent audit = AuditEventOf(unlocked.events[0]);
  EXPECT_EQ(audit.action(), "unlock");
  EXPECT_EQ(audit.actor(), "admin.minh");
  EXPECT_EQ(audit.entity(), "user:lan.nguyen");
  // After an unlock it takes five new failures to lock again.
  EXPECT_TRUE(CheckLoginGate(Fail(unlocked.state, 4, kNow + kMinute), kNow + kMinute).open);
}

TEST(Lockout, FollowsAConfiguredPolicy) {
  const LockoutPolicy policy{3, 2 * kMinute};
  LoginState state;
  for (int i = 0; i < 3; ++i) state = AfterFailedLogin(state, "lan.nguyen", kNow, policy).state;
  EXPECT_EQ(CheckLoginGate(state, kNow).locked_until_ns, kNow + 2 * kMinute);
  EXPECT_EQ(AuditEventOf(AfterFailedLogin({}, "lan.nguyen", kNow).events[0]).action(),
            "login-failed");
}

}  // namespace
}  // namespace labtrace::auth
