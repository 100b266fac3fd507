// Lockout after failed logins (21 CFR Part 11 §11.300(d)): five failures in a row lock
// the account for a configured time; a good login ends the run; an admin may unlock.
// A pure policy over the LoginState the store keeps for each user and an injected time;
// what happened comes back as LoginEvents, which the caller records as audit events.
//
// Thread-safe; the caller serialises attempts on one user (the store's one writer does).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "labtrace/auth.pb.h"
#include "labtrace/ledger.pb.h"

namespace labtrace::auth {

struct LockoutPolicy {
  uint32_t failures_to_lock = 5;
  int64_t lock_ns = 15LL * 60 * 1'000'000'000;
};

enum class LoginEventKind { kLoginOk, kLoginFailed, kLocked, kUnlocked };

// Something an audit trail must show about a login.
struct LoginEvent {
  LoginEventKind kind;
  std::string user;   // whose account
  std::string actor;  // who acted: the user, or the admin who unlocked
  int64_t time_ns;
  std::string reason;  // "wrong password (3 in a row)", "locked until …"
};

// Whether a password may be tried now. While locked it must not even be checked, so a
// guesser learns nothing from a locked account.
struct LoginGate {
  bool open;
  int64_t locked_until_ns;  // when !open
};
LoginGate CheckLoginGate(const LoginState& state, int64_t now_ns);

// The state after an attempt, and what to audit.
struct LoginOutcome {
  LoginState state;
  std::vector<LoginEvent> events;
};

// A wrong password (or an attempt while locked, which changes nothing but is recorded).
// A lock that has run out starts a new count: the next failure is the first, not the sixth.
LoginOutcome AfterFailedLogin(const LoginState& state, std::string_view user, int64_t now_ns,
                              const LockoutPolicy& policy = {});
LoginOutcome AfterGoodLogin(const LoginState& state, std::string_view user, int64_t now_ns);
// An admin ends a lockout (or clears a run of failures) at once.
LoginOutcome AfterUnlock(const LoginState& state, std::string_view user, std::string_view admin,
                         int64_t now_ns);

// The event as an audit trail entry: actor, action ("login", "login-failed", "lock",
// "unlock"), entity "user:NAME", reason. The store assigns its sequence.
AuditEvent AuditEventOf(const LoginEvent& event);

}  // namespace labtrace::auth
