#include "auth/access_token.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

#include "auth/crypto_bytes.h"

namespace labtrace::auth {

namespace {

constexpr size_t kSecretBytes = 32;
constexpr size_t kTokenIdBytes = 6;

Result<IssuedToken> Issue(std::string_view user, std::string_view issued_by, Role role,
                          TokenKind kind, int64_t now_ns, int64_t lifetime_ns) {
  if (Status ready = SodiumReady(); !ready.ok()) return Error(ready);
  if (user.empty() || issued_by.empty()) {
    return Error(InvalidArgument("a token needs the name of who holds it and of who issued it"));
  }
  if (lifetime_ns <= 0) {
    return Error(
        InvalidArgument(fmt::format("a token lifetime of {} ns is not positive", lifetime_ns)));
  }
  Secret<kSecretBytes> secret;
  randombytes_buf(secret.data(), secret.size());
  Secret<sodium_base64_ENCODED_LEN(kSecretBytes, sodium_base64_VARIANT_URLSAFE_NO_PADDING)> encoded;
  char* encoded_text = reinterpret_cast<char*>(encoded.data());
  sodium_bin2base64(encoded_text, encoded.size(), secret.data(), secret.size(),
                    sodium_base64_VARIANT_URLSAFE_NO_PADDING);

  unsigned char id[kTokenIdBytes];
  randombytes_buf(id, sizeof id);
  char id_hex[2 * kTokenIdBytes + 1];
  sodium_bin2hex(id_hex, sizeof id_hex, id, sizeof id);

  IssuedToken token;
  token.text = std::string(kTokenPrefix) + encoded_text;
  AccessToken& record = token.record;
  record.set_token_id(std::string("tok-") + id_hex);
  record.set_text_sha256(Sha256(token.text));
  record.set_user(std::string(user));
  record.set_issued_by(std::string(issued_by));
  record.set_role(role);
  record.set_kind(kind);
  record.set_created_at_ns(now_ns);
  record.set_expires_at_ns(now_ns + lifetime_ns);
  return token;
}

bool HasTokenShape(std::string_view text) {
  constexpr size_t kEncodedChars = (kSecretBytes * 4 + 2) / 3;  // unpadded base64 of 32 bytes: 43
  if (!text.starts_with(kTokenPrefix) || text.size() != kTokenPrefix.size() + kEncodedChars)
    return false;
  Secret<kSecretBytes> secret;
  size_t decoded = 0;
  const char* end = nullptr;
  const std::string_view encoded = text.substr(kTokenPrefix.size());
  return sodium_base642bin(secret.data(), secret.size(), encoded.data(), encoded.size(), nullptr,
                           &decoded, &end, sodium_base64_VARIANT_URLSAFE_NO_PADDING) == 0 &&
         decoded == kSecretBytes && end == encoded.data() + encoded.size();
}

}  // namespace

Result<IssuedToken> IssueSessionToken(std::string_view user, Role role, int64_t now_ns,
                                      int64_t lifetime_ns) {
  if (role == ROLE_UNSPECIFIED || role == ROLE_UPLOADER) {
    return Error(InvalidArgument(
        fmt::format("a session is for a person; {} is not a person's role", Role_Name(role))));
  }
  return Issue(user, user, role, TOKEN_KIND_SESSION, now_ns, lifetime_ns);
}

Result<IssuedToken> IssueUploaderToken(std::string_view uploader, std::string_view admin,
                                       const std::vector<std::string>& instruments, int64_t now_ns,
                                       int64_t lifetime_ns) {
  if (instruments.empty()) {
    return Error(InvalidArgument("an uploader token must name the instruments it uploads for"));
  }
  if (std::any_of(instruments.begin(), instruments.end(),
                  [](const std::string& name) { return name.empty(); })) {
    return Error(InvalidArgument("an uploader token names an instrument with an empty name"));
  }
  auto token = Issue(uploader, admin, ROLE_UPLOADER, TOKEN_KIND_UPLOADER, now_ns, lifetime_ns);
  if (token) *token->record.mutable_instruments() = {instruments.begin(), instruments.end()};
  return token;
}

Result<std::string> TokenLookupKey(std::string_view text) {
  if (Status ready = SodiumReady(); !ready.ok()) return Error(ready);
  if (!HasTokenShape(text)) {
    return Error(Unauthenticated(fmt::format(
        "the bearer token is not a labtrace token ({} followed by 43 base64url characters); "
        "log in again with `labtrace login`",
        kTokenPrefix)));
  }
  return Sha256(text);
}

Result<Caller> Authenticate(std::string_view text, const AccessToken* stored, int64_t now_ns) {
  auto key = TokenLookupKey(text);
  if (!key) return Error(key.error());
  // The store found it by this hash; compared again here, in constant time, so that a
  // store lookup that matched loosely (a prefix, a collation) still proves nothing.
  if (stored == nullptr || stored->text_sha256().size() != key->size() ||
      sodium_memcmp(stored->text_sha256().data(), key->data(), key->size()) != 0) {
    return Error(Unauthenticated(
        "the bearer token is not one this lab issued; log in again with `labtrace login`"));
  }
  if (stored->revoked_at_ns() != 0) {
    return Error(Unauthenticated(
        fmt::format("token {} was revoked by {}; log in again with `labtrace login`",
                    stored->token_id(), stored->revoked_by())));
  }
  if (now_ns >= stored->expires_at_ns()) {
    return Error(Unauthenticated(
        fmt::format("token {} expired {} s ago; log in again with `labtrace login`",
                    stored->token_id(), (now_ns - stored->expires_at_ns()) / 1'000'000'000)));
  }
  const bool consistent =
      stored->kind() == TOKEN_KIND_SESSION
          ? stored->role() != ROLE_UNSPECIFIED && stored->role() != ROLE_UPLOADER
          : stored->kind() == TOKEN_KIND_UPLOADER && stored->role() == ROLE_UPLOADER &&
                stored->instruments_size() > 0;
  if (!consistent) {
    return Error(DataLoss(fmt::format(
        "token {} is stored with kind {} and role {}, which no token is issued with",
        stored->token_id(), TokenKind_Name(stored->kind()), Role_Name(stored->role()))));
  }
  return Caller{stored->user(),
                stored->role(),
                stored->kind(),
                stored->token_id(),
                {stored->instruments().begin(), stored->instruments().end()}};
}

AccessToken Revoked(AccessToken token, std::string_view by_user, int64_t now_ns) {
  if (token.revoked_at_ns() == 0) {
    token.set_revoked_at_ns(now_ns);
    token.set_revoked_by(std::string(by_user));
  }
  return token;
}

Status CheckInstrumentScope(const Caller& caller, std::string_view instrument) {
  if (caller.kind != TOKEN_KIND_UPLOADER) return OkStatus();
  if (std::find(caller.instruments.begin(), caller.instruments.end(), instrument) !=
      caller.instruments.end()) {
    return OkStatus();
  }
  return PermissionDenied(
      fmt::format("token {} may upload for {} only, not \"{}\"; ask an admin for a token that "
                  "names it",
                  caller.token_id, fmt::join(caller.instruments, ", "), instrument));
}

}  // namespace labtrace::auth
