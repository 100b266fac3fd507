// Bearer tokens: made here, kept by the store as an AccessToken record (only the SHA-256
// of the text), checked here on every API call. A token's text is "lt_" followed by 32
// random bytes in unpadded base64url (43 characters): the prefix lets a leaked token be
// recognised in a log or a paste, and lets the API tell a mistyped header from a guess.
//
// Pure apart from the random bytes; thread-safe. Time is passed in (UTC ns).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "labtrace/auth.pb.h"
#include "labtrace/status.h"

namespace labtrace::auth {

inline constexpr std::string_view kTokenPrefix = "lt_";
inline constexpr int64_t kDefaultSessionLifetimeNs = 8LL * 3600 * 1'000'000'000;
// An uploader token lives on an instrument PC, where a person renews it by hand: a year,
// unless the admin asks for less. Revoking it takes effect at once either way.
inline constexpr int64_t kDefaultUploaderLifetimeNs = 365LL * 24 * 3600 * 1'000'000'000;

// A token as made: the text to show once, and the record to store.
struct IssuedToken {
  std::string text;
  AccessToken record;
};

// The caller a token proves, as the routes see it.
struct Caller {
  std::string user;
  Role role = ROLE_UNSPECIFIED;
  TokenKind kind = TOKEN_KIND_UNSPECIFIED;
  std::string token_id;
  std::vector<std::string> instruments;  // uploader tokens only
};

// A session token for `user` with `role` after a good login.
Result<IssuedToken> IssueSessionToken(std::string_view user, Role role, int64_t now_ns,
                                      int64_t lifetime_ns = kDefaultSessionLifetimeNs);

// An uploader token called `uploader` ("pc-moisture-3"), made by `admin` for the named
// instruments (at least one).
Result<IssuedToken> IssueUploaderToken(std::string_view uploader, std::string_view admin,
                                       const std::vector<std::string>& instruments, int64_t now_ns,
                                       int64_t lifetime_ns = kDefaultUploaderLifetimeNs);

// The store's lookup key for a presented token: SHA-256 of its text. Refuses text that
// is not shaped like a labtrace token, so the store is not asked about junk.
Result<std::string> TokenLookupKey(std::string_view text);

// Who `text` proves to be, given the record the store found under TokenLookupKey(text)
// (nullptr when it found none). Refuses an unknown, forged, expired or revoked token
// with kUnauthenticated; the hashes are compared in constant time.
Result<Caller> Authenticate(std::string_view text, const AccessToken* stored, int64_t now_ns);

// The record after a logout or an admin's revoke; a revoked token stays revoked at its
// first revocation's time.
AccessToken Revoked(AccessToken token, std::string_view by_user, int64_t now_ns);

// Ok when `caller` may send readings for `instrument`: an uploader token must name it.
// People's tokens have no instrument scope; their role decides (endpoint_table.h).
Status CheckInstrumentScope(const Caller& caller, std::string_view instrument);

}  // namespace labtrace::auth
