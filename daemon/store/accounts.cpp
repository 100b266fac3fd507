// Users and bearer tokens in the store: each account version and each token kept whole as
// its deterministic bytes, revocations as rows of their own, all three tables append-only.
// Changes are handed to the writer thread and committed with their audit events, like
// calibration records; look-ups run on the pooled readers.
#include <span>
#include <type_traits>
#include <variant>

#include <fmt/format.h>

#include "labtrace/clock.h"
#include "store/record_bytes.h"
#include "store/record_store.h"
#include "store/store_rows.h"

namespace labtrace::store {

namespace {

constexpr const char* kSelectNextAccountVersion =
    "SELECT COALESCE(MAX(version), 0) + 1 FROM user_accounts WHERE name = ?";
constexpr const char* kInsertAccount =
    "INSERT INTO user_accounts (name, version, account, saved_at_ns) VALUES (?, ?, ?, ?)";
constexpr const char* kSelectLatestAccount =
    "SELECT account FROM user_accounts WHERE name = ? ORDER BY version DESC LIMIT 1";
constexpr const char* kSelectLatestAccounts =
    "SELECT a.account FROM user_accounts a "
    "WHERE a.version = (SELECT MAX(b.version) FROM user_accounts b WHERE b.name = a.name) ORDER BY a.name";
constexpr const char* kSelectTokenClash =
    "SELECT token_id FROM access_tokens WHERE token_id = ?1 OR text_sha256 = ?2 ORDER BY token_id LIMIT 1";
constexpr const char* kInsertToken = "INSERT INTO access_tokens (token_id, text_sha256, token) VALUES (?, ?, ?)";
constexpr const char* kInsertRevocation =
    "INSERT INTO token_revocations (token_id, revoked_at_ns, revoked_by) VALUES (?, ?, ?)";
#define LABTRACE_SELECT_TOKENS                                 \
  "SELECT t.token, r.revoked_at_ns, r.revoked_by FROM access_tokens t " \
  "LEFT JOIN token_revocations r ON r.token_id = t.token_id "
constexpr const char* kSelectTokenBySha256 = LABTRACE_SELECT_TOKENS "WHERE t.text_sha256 = ?";
constexpr const char* kSelectTokenById = LABTRACE_SELECT_TOKENS "WHERE t.token_id = ?";
constexpr const char* kSelectTokens = LABTRACE_SELECT_TOKENS "ORDER BY t.token_id";
#undef LABTRACE_SELECT_TOKENS

constexpr size_t kSha256Bytes = 32;

std::span<const uint8_t> AsBytes(const std::string& s) { return {reinterpret_cast<const uint8_t*>(s.data()), s.size()}; }

Result<UserAccount> ParseAccount(const std::string& blob) {
  UserAccount account;
  if (!account.ParseFromString(blob)) return Error(DataLoss("a stored user account does not parse"));
  return account;
}

// The token of the current row of `select` (a kSelectToken… statement), its revocation
// filled in: the stored record is the token as issued.
Result<AccessToken> TokenOfRow(const Statement& select) {
  AccessToken token;
  if (!token.ParseFromString(select.ColumnBlob(0))) return Error(DataLoss("a stored access token does not parse"));
  if (!select.ColumnIsNull(1)) {
    token.set_revoked_at_ns(select.ColumnInt64(1));
    token.set_revoked_by(select.ColumnText(2));
  }
  return token;
}

Result<std::optional<UserAccount>> LatestAccount(Database& db, const std::string& name) {
  auto select = db.Cached(kSelectLatestAccount);
  if (!select) return Error(select.error());
  (*select)->BindText(1, name);
  auto row = (*select)->Step();
  if (!row) return Error(row.error());
  if (!*row) return std::optional<UserAccount>();
  auto account = ParseAccount((*select)->ColumnBlob(0));
  if (!account) return Error(account.error());
  return std::optional<UserAccount>(std::move(*account));
}

Result<std::optional<AccessToken>> TokenWhere(Database& db, const char* sql, const std::string& key, bool blob) {
  auto select = db.Cached(sql);
  if (!select) return Error(select.error());
  if (blob) {
    (*select)->BindBlob(1, AsBytes(key));
  } else {
    (*select)->BindText(1, key);
  }
  auto row = (*select)->Step();
  if (!row) return Error(row.error());
  if (!*row) return std::optional<AccessToken>();
  auto token = TokenOfRow(**select);
  if (!token) return Error(token.error());
  return std::optional<AccessToken>(std::move(*token));
}

// Refuses a change before it is queued, naming what is wrong.
Status CheckChange(const UserAccount& account) {
  if (account.name().empty()) return InvalidArgument("cannot save a user account without a name");
  return OkStatus();
}
Status CheckChange(const AccessToken& token) {
  if (token.token_id().empty()) return InvalidArgument("cannot save an access token without a token_id");
  if (token.text_sha256().size() != kSha256Bytes) {
    return InvalidArgument(fmt::format("token {}: text_sha256 is {} bytes, not the 32 of a SHA-256", token.token_id(),
                                       token.text_sha256().size()));
  }
  if (token.revoked_at_ns() != 0 || !token.revoked_by().empty()) {
    return InvalidArgument(fmt::format("token {} is new and cannot be revoked already; save it, then revoke it",
                                       token.token_id()));
  }
  return OkStatus();
}

}  // namespace

void RecordStore::HandIn(PendingAccountChange change) {
  for (AuditEvent& event : change.events) {
    if (event.time_ns() == 0) event.set_time_ns(NowNs());
  }
  {
    std::lock_guard lock(mutex_);
    pending_account_changes_.push_back(std::move(change));
    ++handed_in_;
  }
  wake_.notify_one();
}

void RecordStore::SaveAccount(UserAccount account, std::vector<AuditEvent> events, AccountDone done) {
  if (Status s = CheckChange(account); !s.ok()) return done(s);
  HandIn({std::move(account), std::move(events), std::move(done)});
}

void RecordStore::SaveToken(AccessToken token, std::vector<AuditEvent> events, AccountDone done) {
  if (Status s = CheckChange(token); !s.ok()) return done(s);
  HandIn({std::move(token), std::move(events), std::move(done)});
}

void RecordStore::RevokeToken(std::string token_id, std::string revoked_by, int64_t revoked_at_ns,
                              std::vector<AuditEvent> events, AccountDone done) {
  if (token_id.empty() || revoked_by.empty() || revoked_at_ns <= 0) {
    return done(InvalidArgument(
        fmt::format("revoking token \"{}\": give the token_id, who revokes it and when", token_id)));
  }
  HandIn({TokenRevocation{std::move(token_id), std::move(revoked_by), revoked_at_ns}, std::move(events),
          std::move(done)});
}

Status RecordStore::CommitAccountChanges(Batch& batch, std::vector<AuditEvent>& audit, Outcome& outcome) {
  const int64_t now_ns = NowNs();
  // Each change says whether it was made (Ok, events to record), made before (Ok, nothing
  // to record), or refused (why); an error of the database fails the whole batch.
  auto commit_account = [&](const UserAccount& account, Status& answer) -> Result<bool> {
    auto next = db_.Cached(kSelectNextAccountVersion);
    if (!next) return Error(next.error());
    (*next)->BindText(1, account.name());
    if (auto row = (*next)->Step(); !row) return Error(row.error());
    const int64_t version = (*next)->ColumnInt64(0);
    auto insert = db_.Cached(kInsertAccount);
    if (!insert) return Error(insert.error());
    const std::string bytes = AccountRecordBytes(account);
    (*insert)->BindText(1, account.name());
    (*insert)->BindInt64(2, version);
    (*insert)->BindBlob(3, AsBytes(bytes));
    (*insert)->BindInt64(4, now_ns);
    if (Status s = (*insert)->Run(); !s.ok()) return Error(s);
    answer = OkStatus();
    return true;
  };
  auto commit_token = [&](const AccessToken& token, Status& answer) -> Result<bool> {
    auto clash = db_.Cached(kSelectTokenClash);
    if (!clash) return Error(clash.error());
    (*clash)->BindText(1, token.token_id());
    (*clash)->BindBlob(2, AsBytes(token.text_sha256()));
    auto row = (*clash)->Step();
    if (!row) return Error(row.error());
    if (*row) {
      answer = Status(StatusCode::kAlreadyExists,
                      fmt::format("token {} not stored: token {} has the same id or text; issue a new token",
                                  token.token_id(), (*clash)->ColumnText(0)));
      return false;
    }
    auto insert = db_.Cached(kInsertToken);
    if (!insert) return Error(insert.error());
    const std::string bytes = TokenRecordBytes(token);
    (*insert)->BindText(1, token.token_id());
    (*insert)->BindBlob(2, AsBytes(token.text_sha256()));
    (*insert)->BindBlob(3, AsBytes(bytes));
    if (Status s = (*insert)->Run(); !s.ok()) return Error(s);
    answer = OkStatus();
    return true;
  };
  auto commit_revocation = [&](const TokenRevocation& revocation, Status& answer) -> Result<bool> {
    auto token = TokenWhere(db_, kSelectTokenById, revocation.token_id, false);
    if (!token) return Error(token.error());
    if (!*token) {
      answer = NotFound(fmt::format("no token is called {}; see `labtrace token list`", revocation.token_id));
      return false;
    }
    answer = OkStatus();
    if ((*token)->revoked_at_ns() != 0) return false;  // the first revocation stands
    auto insert = db_.Cached(kInsertRevocation);
    if (!insert) return Error(insert.error());
    (*insert)->BindText(1, revocation.token_id);
    (*insert)->BindInt64(2, revocation.revoked_at_ns);
    (*insert)->BindText(3, revocation.revoked_by);
    if (Status s = (*insert)->Run(); !s.ok()) return Error(s);
    return true;
  };

  for (const PendingAccountChange& pending : batch.account_changes) {
    Status answer;
    Result<bool> made = std::visit(
        [&](const auto& change) -> Result<bool> {
          using Change = std::decay_t<decltype(change)>;
          if constexpr (std::is_same_v<Change, UserAccount>) {
            return commit_account(change, answer);
          } else if constexpr (std::is_same_v<Change, AccessToken>) {
            return commit_token(change, answer);
          } else {
            return commit_revocation(change, answer);
          }
        },
        pending.change);
    if (!made) return made.error();
    // Copied: if the commit fails, the change is answered so and nothing of it stays.
    if (*made) audit.insert(audit.end(), pending.events.begin(), pending.events.end());
    outcome.account_changes.push_back(std::move(answer));
  }
  return OkStatus();
}

Status RecordStore::RecoverAccountChanges(const Batch& batch, Outcome& outcome) {
  outcome.account_changes.clear();
  for (const PendingAccountChange& pending : batch.account_changes) {
    Result<bool> stored = std::visit(
        [&](const auto& change) -> Result<bool> {
          using Change = std::decay_t<decltype(change)>;
          if constexpr (std::is_same_v<Change, UserAccount>) {
            auto latest = LatestAccount(db_, change.name());
            if (!latest) return Error(latest.error());
            return *latest && AccountRecordBytes(**latest) == AccountRecordBytes(change);
          } else if constexpr (std::is_same_v<Change, AccessToken>) {
            auto token = TokenWhere(db_, kSelectTokenBySha256, change.text_sha256(), true);
            if (!token) return Error(token.error());
            return *token && (*token)->token_id() == change.token_id();
          } else {
            auto token = TokenWhere(db_, kSelectTokenById, change.token_id, false);
            if (!token) return Error(token.error());
            return *token && (*token)->revoked_at_ns() != 0;
          }
        },
        pending.change);
    if (!stored) return stored.error();
    outcome.account_changes.push_back(
        *stored ? OkStatus()
                : Unavailable("the change was refused in a commit whose answer was lost to an I/O error; "
                              "look it up before trying again"));
  }
  return OkStatus();
}

Result<std::optional<UserAccount>> RecordStore::FindAccount(const std::string& name) const {
  auto db = readers_.Acquire();
  if (!db) return Error(db.error());
  return LatestAccount(**db, name);
}

Result<std::vector<UserAccount>> RecordStore::Accounts() const {
  auto db = readers_.Acquire();
  if (!db) return Error(db.error());
  auto select = (*db)->Cached(kSelectLatestAccounts);
  if (!select) return Error(select.error());
  return CollectRows<UserAccount>(**select, [](const Statement& row) { return ParseAccount(row.ColumnBlob(0)); });
}

Result<std::optional<AccessToken>> RecordStore::FindToken(const std::string& text_sha256) const {
  auto db = readers_.Acquire();
  if (!db) return Error(db.error());
  return TokenWhere(**db, kSelectTokenBySha256, text_sha256, true);
}

Result<std::vector<AccessToken>> RecordStore::Tokens() const {
  auto db = readers_.Acquire();
  if (!db) return Error(db.error());
  auto select = (*db)->Cached(kSelectTokens);
  if (!select) return Error(select.error());
  return CollectRows<AccessToken>(**select, TokenOfRow);
}

}  // namespace labtrace::store
