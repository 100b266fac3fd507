// Bearer tokens (daemon/auth/access_token.h): made, looked up by hash, refused when
// forged, expired, revoked, or used for an instrument not on them.
#include <gtest/gtest.h>

#include "auth/access_token.h"

namespace labtrace::auth {
namespace {

constexpr int64_t kNow = 1'718'000'000'000'000'000;  // 2024-06-10, UTC ns
constexpr int64_t kSecond = 1'000'000'000;

IssuedToken Session(Role role = ROLE_TECHNICIAN) {
  auto token = IssueSessionToken("lan.nguyen", role, kNow);
  EXPECT_TRUE(token) << token.error().message();
  return *token;
}

TEST(AccessToken, IsShownOnceAndStoredAsItsHash) {
  const IssuedToken token = Session();
  EXPECT_TRUE(token.text.starts_with("lt_")) << token.text;
  EXPECT_EQ(token.text.size(), 3u + 43u);
  EXPECT_EQ(token.text.find_first_not_of(
                "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", 3),
            std::string::npos)
      << token.text;
  const std::string stored = token.record.SerializeAsString();
  EXPECT_EQ(stored.find(token.text.substr(3)), std::string::npos)
      << "the text itself is never stored";

  auto key = TokenLookupKey(token.text);
  ASSERT_TRUE(key) << key.error().message();
  EXPECT_EQ(*key, token.record.text_sha256());
  EXPECT_EQ(key->size(), 32u);

  EXPECT_TRUE(token.record.token_id().starts_with("tok-")) << token.record.token_id();
  EXPECT_EQ(token.record.token_id().size(), 4u + 12u);
  EXPECT_EQ(token.record.kind(), TOKEN_KIND_SESSION);
  EXPECT_EQ(token.record.expires_at_ns() - token.record.created_at_ns(), 8 * 3600 * kSecond);

  const IssuedToken other = Session();
  EXPECT_NE(other.text, token.text);
  EXPECT_NE(other.record.token_id(), token.record.token_id());
}

TEST(AccessToken, AuthenticatesItsHolder) {
  const IssuedToken token = Session(ROLE_REVIEWER);
  auto caller = Authenticate(token.text, &token.record, kNow + 10 * kSecond);
  ASSERT_TRUE(caller) << caller.error().message();
  EXPECT_EQ(caller->user, "lan.nguyen");
  EXPECT_EQ(caller->role, ROLE_REVIEWER);
  EXPECT_EQ(caller->kind, TOKEN_KIND_SESSION);
  EXPECT_EQ(caller->token_id, token.record.token_id());
}

TEST(AccessToken, RefusesForgedAndMalformedTokens) {
  const IssuedToken token = Session();
  // Right shape, never issued: the store finds nothing.
  const IssuedToken forged = Session();
  auto unknown = Authenticate(forged.text, nullptr, kNow);
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code(), StatusCode::kUnauthenticated);

  // A token presented against another token's record, as a loose lookup would find it.
  auto mismatched = Authenticate(forged.text, &token.record, kNow);
  ASSERT_FALSE(mismatched);
  EXPECT_EQ(mismatched.error().code(), StatusCode::kUnauthenticated);

  // One character changed.
  std::string altered = token.text;
  altered[10] = altered[10] == 'A' ? 'B' : 'A';
  EXPECT_FALSE(Authenticate(altered, &token.record, kNow));

  for (const std::string& junk :
       {std::string(""), std::string("Bearer ") + token.text, token.text.substr(0, 45),
        token.text + "A", "lx_" + token.text.substr(3), token.text.substr(0, 45) + "="}) {
    auto refused = Authenticate(junk, &token.record, kNow);
    ASSERT_FALSE(refused) << junk;
    EXPECT_EQ(refused.error().code(), StatusCode::kUnauthenticated) << junk;
    EXPECT_NE(refused.error().message().find("labtrace login"), std::string::npos)
        << refused.error().message();
  }
}

TEST(AccessToken, RefusesAnExpiredToken) {
  auto token = IssueSessionToken("lan.nguyen", ROLE_TECHNICIAN, kNow, 60 * kSecond);
  ASSERT_TRUE(token);
  EXPECT_TRUE(Authenticate(token->text, &token->record, kNow + 60 * kSecond - 1));
  auto expired = Authenticate(token->text, &token->record, kNow + 60 * kSecond);
  ASSERT_FALSE(expired);
  EXPECT_EQ(expired.error().code(), StatusCode::kUnauthenticated);
  EXPECT_NE(expired.error().message().find("expired"), std::string::npos)
      << expired.error().message();
  EXPECT_FALSE(IssueSessionToken("lan.nguyen", ROLE_TECHNICIAN, kNow, 0));
}

TEST(AccessToken, RefusesARevokedToken) {
  const IssuedToken token = Session();
  const AccessToken revoked = Revoked(token.record, "admin", kNow + kSecond);
  EXPECT_EQ(revoked.revoked_at_ns(), kNow + kSecond);
  auto refused = Authenticate(token.text, &revoked, kNow + 2 * kSecond);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code(), StatusCode::kUnauthenticated);
  EXPECT_NE(refused.error().message().find("revoked by admin"), std::string::npos)
      << refused.error().message();

  const AccessToken twice = Revoked(revoked, "lan.nguyen", kNow + 5 * kSecond);
  EXPECT_EQ(twice.revoked_at_ns(), kNow + kSecond);
  EXPECT_EQ(twice.revoked_by(), "admin");
}

TEST(AccessToken, UploaderIsScopedToItsInstruments) {
  auto token = IssueUploaderToken("pc-moisture-3", "admin", {"balance-xs205", "oven-ud"}, kNow);
  ASSERT_TRUE(token) << token.error().message();
  EXPECT_EQ(token->record.user(), "pc-moisture-3");
  EXPECT_EQ(token->record.issued_by(), "admin");
  EXPECT_EQ(token->record.expires_at_ns() - kNow, 365LL * 24 * 3600 * kSecond);
  auto caller = Authenticate(token->text, &token->record, kNow);
  ASSERT_TRUE(caller) << caller.error().message();
  EXPECT_EQ(caller->role, ROLE_UPLOADER);
  EXPECT_TRUE(CheckInstrumentScope(*caller, "balance-xs205").ok());
  EXPECT_TRUE(CheckInstrumentScope(*caller, "oven-ud").ok());

  const Status other = CheckInstrumentScope(*caller, "climate-1");
  EXPECT_EQ(other.code(), StatusCode::kPermissionDenied);
  EXPECT_NE(other.message().find("\"climate-1\""), std::string::npos) << other.message();
  EXPECT_NE(other.message().find("balance-xs205, oven-ud"), std::string::npos) << other.message();
  EXPECT_EQ(CheckInstrumentScope(*caller, "balance-xs20").code(), StatusCode::kPermissionDenied);

  // A person's session has no instrument scope; the endpoint table decides.
  const IssuedToken session = Session();
  auto person = Authenticate(session.text, &session.record, kNow);
  ASSERT_TRUE(person);
  EXPECT_TRUE(CheckInstrumentScope(*person, "climate-1").ok());
}

TEST(AccessToken, RefusesTokensNoPolicyAllows) {
  EXPECT_FALSE(IssueUploaderToken("pc-3", "admin", {}, kNow));
  EXPECT_FALSE(IssueUploaderToken("pc-3", "admin", {""}, kNow));
  EXPECT_FALSE(IssueSessionToken("pc-3", ROLE_UPLOADER, kNow));
  EXPECT_FALSE(IssueSessionToken("lan.nguyen", ROLE_UNSPECIFIED, kNow));
  EXPECT_FALSE(IssueSessionToken("", ROLE_TECHNICIAN, kNow));

  // A stored record altered to make a session token an uploader's, or an uploader's a person's.
  IssuedToken token = Session();
  token.record.set_role(ROLE_UPLOADER);
  auto tampered = Authenticate(token.text, &token.record, kNow);
  ASSERT_FALSE(tampered);
  EXPECT_EQ(tampered.error().code(), StatusCode::kDataLoss);

  auto uploader = IssueUploaderToken("pc-3", "admin", {"balance-xs205"}, kNow);
  ASSERT_TRUE(uploader);
  uploader->record.set_role(ROLE_ADMIN);
  EXPECT_FALSE(Authenticate(uploader->text, &uploader->record, kNow));
}

}  // namespace
}  // namespace labtrace::auth
