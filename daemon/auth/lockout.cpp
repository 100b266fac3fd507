#include "auth/lockout.h"

#include <fmt/format.h>

#include <cassert>

namespace labtrace::auth {

namespace {

bool LockedAt(const LoginState& state, int64_t now_ns) {
  return state.locked_until_ns() != 0 && now_ns < state.locked_until_ns();
}

LoginEvent Event(LoginEventKind kind, std::string_view user, std::string_view actor, int64_t now_ns,
                 std::string reason) {
  return {kind, std::string(user), std::string(actor), now_ns, std::move(reason)};
}

}  // namespace

LoginGate CheckLoginGate(const LoginState& state, int64_t now_ns) {
  if (LockedAt(state, now_ns)) return {false, state.locked_until_ns()};
  return {true, 0};
}

LoginOutcome AfterFailedLogin(const LoginState& state, std::string_view user, int64_t now_ns,
                              const LockoutPolicy& policy) {
  LoginOutcome outcome{state, {}};
  if (LockedAt(state, now_ns)) {
    outcome.events.push_back(
        Event(LoginEventKind::kLoginFailed, user, user, now_ns,
              fmt::format("account locked until {} (UTC ns); the password was not checked",
                          state.locked_until_ns())));
    return outcome;
  }
  LoginState& next = outcome.state;
  if (state.locked_until_ns() != 0) {  // a lock that has run out: a new count begins
    next.set_failures_in_a_row(0);
    next.set_locked_until_ns(0);
  }
  next.set_failures_in_a_row(next.failures_in_a_row() + 1);
  next.set_last_failure_at_ns(now_ns);
  outcome.events.push_back(
      Event(LoginEventKind::kLoginFailed, user, user, now_ns,
            fmt::format("wrong password ({} in a row)", next.failures_in_a_row())));
  if (next.failures_in_a_row() >= policy.failures_to_lock) {
    next.set_locked_until_ns(now_ns + policy.lock_ns);
    outcome.events.push_back(
        Event(LoginEventKind::kLocked, user, user, now_ns,
              fmt::format("{} failed logins in a row; locked for {} s", next.failures_in_a_row(),
                          policy.lock_ns / 1'000'000'000)));
  }
  return outcome;
}

LoginOutcome AfterGoodLogin(const LoginState& state, std::string_view user, int64_t now_ns) {
  // The caller checked the gate first; a good password does not open a locked account.
  assert(!LockedAt(state, now_ns));
  return {LoginState(),
          {Event(LoginEventKind::kLoginOk, user, user, now_ns,
                 state.failures_in_a_row() == 0
                     ? ""
                     : fmt::format("after {} failed attempts", state.failures_in_a_row()))}};
}

LoginOutcome AfterUnlock(const LoginState& state, std::string_view user, std::string_view admin,
                         int64_t now_ns) {
  return {LoginState(),
          {Event(LoginEventKind::kUnlocked, user, admin, now_ns,
                 LockedAt(state, now_ns) ? "lockout ended by an admin"
                                         : "failed logins cleared by an admin")}};
}

AuditEvent AuditEventOf(const LoginEvent& event) {
  AuditEvent audit;
  audit.set_time_ns(event.time_ns);
  audit.set_actor(event.actor);
  switch (event.kind) {
    case LoginEventKind::kLoginOk:
      audit.set_action("login");
      break;
    case LoginEventKind::kLoginFailed:
      audit.set_action("login-failed");
      break;
    case LoginEventKind::kLocked:
      audit.set_action("lock");
      break;
    case LoginEventKind::kUnlocked:
      audit.set_action("unlock");
      break;
  }
  audit.set_entity("user:" + event.user);
  audit.set_reason(event.reason);
  return audit;
}

}  // namespace labtrace::auth
