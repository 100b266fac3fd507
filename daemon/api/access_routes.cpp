// The API's access routes (docs/API.md, "Who may call what"):
//   POST   /v1/sessions                log in: a session token
//   DELETE /v1/sessions/current        log out: the token sent is revoked
//   POST   /v1/password                change one's own password
//   GET    /v1/users, POST /v1/users   users; enrol one
//   POST   /v1/users/{name}/unlock     end a lockout
//   GET    /v1/tokens, POST /v1/tokens tokens in force; make an uploader token
//   DELETE /v1/tokens/{token_id}       revoke a token
//
// Password work (Argon2id: a tenth of a second and 64 MiB a time) runs on `accounts_`, a
// thread of its own, never on the io_context or the query worker. Every change to an
// account runs there, one at a time, waiting for the store to have it: two logins of one
// user cannot both read three failures and both write four.
#include <future>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "api/api_server.h"
#include "api/http_util.h"
#include "auth/password.h"
#include "auth/user_account.h"
#include "config/lab_config.h"
#include "labtrace/clock.h"

namespace labtrace::api {

namespace asio = boost::asio;

namespace {

constexpr std::string_view kWrongLogin = "wrong user name or password";
constexpr int64_t kSecondNs = 1'000'000'000;
constexpr int64_t kDayNs = 24 * 3600 * kSecondNs;
constexpr uint32_t kMostUploaderDays = 2 * 365;

// Blocks the accounts thread until the store has made a change durable, or refused it.
template <typename Start>
Status Durably(Start start) {
  std::promise<Status> promise;
  auto future = promise.get_future();
  start([&promise](Status status) { promise.set_value(std::move(status)); });
  return future.get();
}

std::vector<AuditEvent> AuditEventsOf(const std::vector<auth::LoginEvent>& events) {
  std::vector<AuditEvent> audit;
  for (const auth::LoginEvent& event : events) audit.push_back(auth::AuditEventOf(event));
  return audit;
}

AuditEvent Event(std::string_view actor, std::string_view action, std::string entity, std::string new_value,
                 std::string reason = "") {
  AuditEvent event;
  event.set_time_ns(NowNs());
  event.set_actor(std::string(actor));
  event.set_action(std::string(action));
  event.set_entity(std::move(entity));
  event.set_new_value(std::move(new_value));
  event.set_reason(std::move(reason));
  return event;
}

UserSummary SummaryOf(const UserAccount& account) {
  UserSummary summary;
  summary.set_name(account.name());
  summary.set_full_name(account.full_name());
  summary.set_role(account.role());
  summary.set_created_at_ns(account.created_at_ns());
  summary.set_password_changed_at_ns(account.password_changed_at_ns());
  summary.set_failures_in_a_row(account.login().failures_in_a_row());
  summary.set_locked_until_ns(account.login().locked_until_ns());
  summary.set_signing_public_key(account.signing_key().public_key());
  return summary;
}

AccessToken WithoutHash(AccessToken token) {
  token.clear_text_sha256();
  return token;
}

bool SameState(const LoginState& a, const LoginState& b) {
  return a.SerializeAsString() == b.SerializeAsString();
}

// A name a caller typed, fit for the audit trail whatever it was.
std::string Bounded(std::string_view typed) {
  constexpr size_t kMost = 64;
  return typed.size() <= kMost ? std::string(typed) : fmt::format("{}…", typed.substr(0, kMost));
}

}  // namespace

// ---- sessions ----

asio::awaitable<Response> ApiServer::AnswerLogin(const Request& request) {
  LoginRequest login;
  if (Status parsed = ParseBody(request, login); !parsed.ok()) co_return ErrorReply(request, parsed);
  auto session = co_await asio::co_spawn(accounts_, LogIn(std::move(login)), asio::use_awaitable);
  if (!session) co_return ErrorReply(request, session.error());
  co_return Reply(request, http::status::ok, *session);
}

// No co_await inside: the accounts thread runs one of these to the end before the next.
asio::awaitable<Result<SessionResponse>> ApiServer::LogIn(LoginRequest login) {
  if (login.user().empty() || login.password().empty()) {
    co_return Error(InvalidArgument("a login needs \"user\" and \"password\""));
  }
  if (login.password().size() > auth::kMaxPasswordBytes) co_return Error(Unauthenticated(std::string(kWrongLogin)));
  const int64_t now = NowNs();
  auto found = store_.FindAccount(login.user());
  if (!found) co_return Error(found.error());
  if (!*found) {
    // Spend the time a real check takes, so that timing does not tell names apart.
    static const std::string kDecoy = auth::HashPassword("labtrace decoy password").value_or("");
    (void)auth::PasswordMatches(kDecoy, login.password());
    store_.RecordAudit(Event(Bounded(login.user()), "login-failed", "user:" + Bounded(login.user()), "", "no such user"));
    store_.Flush();  // on the trail before the answer, as every other login is
    co_return Error(Unauthenticated(std::string(kWrongLogin)));
  }
  UserAccount account = std::move(**found);
  const auth::LoginGate gate = auth::CheckLoginGate(account.login(), now);
  if (!gate.open || !auth::PasswordMatches(account.password_hash(), login.password())) {
    auth::LoginOutcome outcome = auth::AfterFailedLogin(account.login(), account.name(), now, lockout_);
    if (SameState(outcome.state, account.login())) {
      for (AuditEvent& event : AuditEventsOf(outcome.events)) store_.RecordAudit(std::move(event));
      store_.Flush();
    } else {
      *account.mutable_login() = outcome.state;
      Status saved = Durably([&](auto done) { store_.SaveAccount(account, AuditEventsOf(outcome.events), done); });
      if (!saved.ok()) co_return Error(saved);
    }
    const int64_t locked_until = outcome.state.locked_until_ns();
    if (locked_until > now) {
      co_return Error(Unauthenticated(fmt::format(
          "account {} is locked for {} more minute(s) after {} failed logins; an admin can unlock it "
          "(POST /v1/users/{}/unlock)",
          account.name(), (locked_until - now + 60 * kSecondNs - 1) / (60 * kSecondNs), lockout_.failures_to_lock,
          account.name())));
    }
    co_return Error(Unauthenticated(std::string(kWrongLogin)));
  }
  auth::LoginOutcome outcome = auth::AfterGoodLogin(account.login(), account.name(), now);
  auto issued = auth::IssueSessionToken(account.name(), account.role(), now, session_lifetime_ns_);
  if (!issued) co_return Error(issued.error());
  if (!SameState(outcome.state, account.login())) {
    *account.mutable_login() = outcome.state;
    Status saved = Durably([&](auto done) { store_.SaveAccount(account, {}, done); });
    if (!saved.ok()) co_return Error(saved);
  }
  std::vector<AuditEvent> events = AuditEventsOf(outcome.events);
  for (AuditEvent& event : events) event.set_new_value("token " + issued->record.token_id());
  Status saved = Durably([&](auto done) { store_.SaveToken(issued->record, std::move(events), done); });
  if (!saved.ok()) co_return Error(saved);
  SessionResponse session;
  session.set_token(issued->text);
  session.set_token_id(issued->record.token_id());
  session.set_user(account.name());
  session.set_full_name(account.full_name());
  session.set_role(account.role());
  session.set_expires_at_ns(issued->record.expires_at_ns());
  co_return session;
}

asio::awaitable<Response> ApiServer::AnswerLogout(const Request& request, const auth::Caller& caller) {
  std::vector<AuditEvent> events{Event(caller.user, "logout", "token:" + caller.token_id, "revoked")};
  auto revoked = co_await AsyncStore<bool>(
      [&](auto done) {
        store_.RevokeToken(caller.token_id, caller.user, NowNs(), std::move(events),
                           [done](Status status) { done(status.ok() ? Result<bool>(true) : Error(status)); });
      },
      asio::use_awaitable);
  if (!revoked) co_return ErrorReply(request, revoked.error());
  ForgetToken(caller.token_id);
  DoneResponse done;
  done.set_outcome(fmt::format("logged out; token {} is revoked", caller.token_id));
  co_return Reply(request, http::status::ok, done);
}

// ---- passwords and users ----

asio::awaitable<Response> ApiServer::AnswerPasswordChange(const Request& request, const auth::Caller& caller) {
  PasswordChangeRequest change;
  if (Status parsed = ParseBody(request, change); !parsed.ok()) co_return ErrorReply(request, parsed);
  Status changed = co_await asio::co_spawn(accounts_, ChangePassword(std::move(change), caller.user), asio::use_awaitable);
  if (!changed.ok()) co_return ErrorReply(request, changed);
  DoneResponse done;
  done.set_outcome("password changed; your signing key is sealed under the new one");
  co_return Reply(request, http::status::ok, done);
}

asio::awaitable<Status> ApiServer::ChangePassword(PasswordChangeRequest change, std::string user) {
  const int64_t now = NowNs();
  auto found = store_.FindAccount(user);
  if (!found) co_return found.error();
  if (!*found) co_return NotFound(fmt::format("no user is named {}", user));
  UserAccount& account = **found;
  auto changed = auth::ChangePassword(account, change.current_password(), change.new_password(), now);
  if (!changed) {
    if (changed.error().code() != StatusCode::kUnauthenticated) co_return changed.error();
    // A wrong current password is a failed login: a stolen session must not guess freely.
    auth::LoginOutcome outcome = auth::AfterFailedLogin(account.login(), account.name(), now, lockout_);
    *account.mutable_login() = outcome.state;
    Status saved = Durably([&](auto done) { store_.SaveAccount(account, AuditEventsOf(outcome.events), done); });
    co_return saved.ok() ? changed.error() : saved;
  }
  std::vector<AuditEvent> events{Event(user, "change-password", "user:" + user, "", "by the user")};
  co_return Durably([&](auto done) { store_.SaveAccount(*changed, std::move(events), done); });
}

asio::awaitable<Response> ApiServer::AnswerUsers(const Request& request) {
  auto accounts = co_await asio::co_spawn(queries_, ListAccounts(), asio::use_awaitable);
  if (!accounts) co_return ErrorReply(request, accounts.error());
  UsersResponse users;
  for (const UserAccount& account : *accounts) *users.add_users() = SummaryOf(account);
  co_return Reply(request, http::status::ok, users);
}

asio::awaitable<Result<std::vector<UserAccount>>> ApiServer::ListAccounts() { co_return store_.Accounts(); }

asio::awaitable<Response> ApiServer::AnswerEnrol(const Request& request, const auth::Caller& caller) {
  EnrolRequest enrolment;
  if (Status parsed = ParseBody(request, enrolment); !parsed.ok()) co_return ErrorReply(request, parsed);
  auto user = co_await asio::co_spawn(accounts_, Enrol(std::move(enrolment), caller.user), asio::use_awaitable);
  if (!user) co_return ErrorReply(request, user.error());
  co_return Reply(request, http::status::ok, *user);
}

asio::awaitable<Result<UserSummary>> ApiServer::Enrol(EnrolRequest request, std::string admin) {
  if (request.role() == ROLE_UNSPECIFIED || request.role() == ROLE_UPLOADER) {
    co_return Error(InvalidArgument(
        "role must be ROLE_TECHNICIAN, ROLE_REVIEWER, ROLE_AUDITOR or ROLE_ADMIN; uploaders are tokens "
        "(POST /v1/tokens), not people"));
  }
  auto existing = store_.FindAccount(request.name());
  if (!existing) co_return Error(existing.error());
  if (*existing) co_return Error(Status(StatusCode::kAlreadyExists,
                                fmt::format("a user named {} exists; users are never replaced", request.name())));
  auth::Enrolment enrolment{request.name(), request.full_name(), request.role(), request.password()};
  auto account = auth::Enrol(enrolment, NowNs());
  if (!account) co_return Error(account.error());
  std::vector<AuditEvent> events{Event(admin, "create", "user:" + account->name(),
                                       fmt::format("{} ({})", account->full_name(), auth::RoleName(account->role())),
                                       "enrolled by an admin")};
  Status saved = Durably([&](auto done) { store_.SaveAccount(*account, std::move(events), done); });
  if (!saved.ok()) co_return Error(saved);
  co_return SummaryOf(*account);
}

asio::awaitable<Response> ApiServer::AnswerUnlock(const Request& request, const auth::Caller& caller, std::string name) {
  auto user = co_await asio::co_spawn(accounts_, Unlock(std::move(name), caller.user), asio::use_awaitable);
  if (!user) co_return ErrorReply(request, user.error());
  co_return Reply(request, http::status::ok, *user);
}

asio::awaitable<Result<UserSummary>> ApiServer::Unlock(std::string name, std::string admin) {
  auto found = store_.FindAccount(name);
  if (!found) co_return Error(found.error());
  if (!*found) co_return Error(NotFound(fmt::format("no user is named {}", Bounded(name))));
  UserAccount& account = **found;
  auth::LoginOutcome outcome = auth::AfterUnlock(account.login(), account.name(), admin, NowNs());
  *account.mutable_login() = outcome.state;
  Status saved = Durably([&](auto done) { store_.SaveAccount(account, AuditEventsOf(outcome.events), done); });
  if (!saved.ok()) co_return Error(saved);
  co_return SummaryOf(account);
}

// ---- tokens ----

asio::awaitable<Response> ApiServer::AnswerTokens(const Request& request) {
  auto tokens = co_await asio::co_spawn(queries_, ListTokens(), asio::use_awaitable);
  if (!tokens) co_return ErrorReply(request, tokens.error());
  const int64_t now = NowNs();
  TokensResponse in_force;
  for (AccessToken& token : *tokens) {
    if (token.revoked_at_ns() == 0 && token.expires_at_ns() > now) *in_force.add_tokens() = WithoutHash(std::move(token));
  }
  co_return Reply(request, http::status::ok, in_force);
}

asio::awaitable<Result<std::vector<AccessToken>>> ApiServer::ListTokens() { co_return store_.Tokens(); }

asio::awaitable<Response> ApiServer::AnswerNewToken(const Request& request, const auth::Caller& caller) {
  TokenRequest wanted;
  if (Status parsed = ParseBody(request, wanted); !parsed.ok()) co_return ErrorReply(request, parsed);
  if (Status name = auth::CheckUserName(wanted.uploader()); !name.ok()) {
    co_return ErrorReply(request, InvalidArgument(fmt::format("uploader: {}", name.message())));
  }
  std::vector<std::string> instruments;
  for (const std::string& instrument : wanted.instruments()) {
    if (config::FindInstrumentConfig(lab_, instrument) == nullptr) {
      co_return ErrorReply(request, InvalidArgument(fmt::format(
                                        "instruments: \"{}\" is not an instrument of this lab's config", instrument)));
    }
    instruments.push_back(instrument);
  }
  if (wanted.days() > kMostUploaderDays) {
    co_return ErrorReply(request, InvalidArgument(fmt::format("days: at most {}", kMostUploaderDays)));
  }
  const int64_t now = NowNs();
  auto issued = auth::IssueUploaderToken(wanted.uploader(), caller.user, instruments, now,
                                         wanted.days() == 0 ? auth::kDefaultUploaderLifetimeNs : wanted.days() * kDayNs);
  if (!issued) co_return ErrorReply(request, issued.error());
  std::vector<AuditEvent> events{Event(caller.user, "create", "token:" + issued->record.token_id(),
                                       fmt::format("uploader {} for {}", wanted.uploader(), fmt::join(instruments, ", ")),
                                       "made by an admin")};
  auto saved = co_await AsyncStore<bool>(
      [&](auto done) {
        store_.SaveToken(issued->record, std::move(events),
                         [done](Status status) { done(status.ok() ? Result<bool>(true) : Error(status)); });
      },
      asio::use_awaitable);
  if (!saved) co_return ErrorReply(request, saved.error());
  IssuedTokenResponse answer;
  answer.set_token(issued->text);
  *answer.mutable_record() = WithoutHash(issued->record);
  co_return Reply(request, http::status::ok, answer);
}

asio::awaitable<Response> ApiServer::AnswerRevokeToken(const Request& request, const auth::Caller& caller,
                                                       std::string token_id) {
  std::vector<AuditEvent> events{Event(caller.user, "revoke", "token:" + Bounded(token_id), "revoked", "by an admin")};
  auto revoked = co_await AsyncStore<bool>(
      [&](auto done) {
        store_.RevokeToken(token_id, caller.user, NowNs(), std::move(events),
                           [done](Status status) { done(status.ok() ? Result<bool>(true) : Error(status)); });
      },
      asio::use_awaitable);
  if (!revoked) co_return ErrorReply(request, revoked.error());
  ForgetToken(token_id);
  DoneResponse done;
  done.set_outcome(fmt::format("token {} is revoked", token_id));
  co_return Reply(request, http::status::ok, done);
}

}  // namespace labtrace::api
