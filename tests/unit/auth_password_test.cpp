// Password policy and Argon2id hashes (daemon/auth/password.h). Hashes use libsodium's
// _MIN cost so the tests run in milliseconds; the default cost is pinned by static_asserts
// in password.cpp against libsodium's INTERACTIVE constants.
#include <gtest/gtest.h>

#include "auth/password.h"

namespace labtrace::auth {
namespace {

TEST(PasswordPolicy, RefusesEmptyShortAndTheUserName) {
  const Status empty = CheckPasswordPolicy("lan.nguyen", "");
  EXPECT_EQ(empty.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(empty.message().find("empty"), std::string::npos) << empty.message();

  const Status nine = CheckPasswordPolicy("lan.nguyen", "123456789");
  EXPECT_EQ(nine.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(nine.message().find("9 characters"), std::string::npos) << nine.message();
  EXPECT_NE(nine.message().find("at least 10"), std::string::npos) << nine.message();
  EXPECT_TRUE(CheckPasswordPolicy("lan.nguyen", "1234567890").ok());

  const Status own_name = CheckPasswordPolicy("hoang.tuan.anh", "Hoang.Tuan.Anh");
  EXPECT_EQ(own_name.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(own_name.message().find("user name"), std::string::npos) << own_name.message();
  EXPECT_TRUE(CheckPasswordPolicy("hoang.tuan.anh", "hoang.tuan.anh!").ok());

  EXPECT_EQ(CheckPasswordPolicy("lan", std::string(kMaxPasswordBytes + 1, 'x')).code(),
            StatusCode::kInvalidArgument);
}

TEST(PasswordPolicy, CountsCharactersNotBytes) {
  // "mưa rơi đều" is 11 characters in 16 bytes; "đường đi" is 8 characters in 13 bytes, which
  // a count of bytes would let through.
  EXPECT_TRUE(CheckPasswordPolicy("lan", "mưa rơi đều").ok());
  const Status short_phrase = CheckPasswordPolicy("lan", "đường đi");
  EXPECT_EQ(short_phrase.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(short_phrase.message().find("8 characters"), std::string::npos)
      << short_phrase.message();
}

TEST(PasswordHash, VerifiesTheRightPasswordOnly) {
  auto hash = HashPassword("cân phân tích 205", kTestOnlyCost);
  ASSERT_TRUE(hash) << hash.error().message();
  EXPECT_TRUE(hash->starts_with("$argon2id$")) << *hash;
  EXPECT_EQ(hash->find("cân"), std::string::npos);
  EXPECT_TRUE(PasswordMatches(*hash, "cân phân tích 205"));
  EXPECT_FALSE(PasswordMatches(*hash, "cân phân tích 206"));
  EXPECT_FALSE(PasswordMatches(*hash, ""));

  auto again = HashPassword("cân phân tích 205", kTestOnlyCost);
  ASSERT_TRUE(again);
  EXPECT_NE(*hash, *again) << "each hash has its own salt";
}

TEST(PasswordHash, RefusesWhatIsNotAHash) {
  EXPECT_FALSE(PasswordMatches("", "anything at all"));
  EXPECT_FALSE(PasswordMatches("plain text password", "plain text password"));
  EXPECT_FALSE(PasswordMatches(std::string(1000, '$'), "x"));
}

TEST(PasswordHash, NeedsRehashWhenTheCostChanged) {
  auto hash = HashPassword("một hai ba bốn năm", kTestOnlyCost);
  ASSERT_TRUE(hash);
  EXPECT_FALSE(PasswordNeedsRehash(*hash, kTestOnlyCost));
  EXPECT_TRUE(PasswordNeedsRehash(*hash, kInteractiveCost));
  EXPECT_TRUE(PasswordNeedsRehash(*hash, {2, kTestOnlyCost.memory_bytes}));
  EXPECT_TRUE(PasswordNeedsRehash("not a hash", kTestOnlyCost));
}

}  // namespace
}  // namespace labtrace::auth
