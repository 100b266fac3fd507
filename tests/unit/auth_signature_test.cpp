// People's signing keys and electronic signatures (daemon/auth/sealed_key.h,
// electronic_signature.h, user_account.h; 21 CFR Part 11 §11.50, §11.70, §11.200).
#include <gtest/gtest.h>
#include <sodium.h>

#include "auth/electronic_signature.h"
#include "auth/sealed_key.h"
#include "auth/user_account.h"

namespace labtrace::auth {
namespace {

constexpr int64_t kNow = 1'718'000'000'000'000'000;

UserAccount Enrolled(std::string name, std::string full_name, std::string password,
                     Role role = ROLE_REVIEWER) {
  auto account = Enrol({name, full_name, role, password}, kNow, kTestOnlyCost);
  EXPECT_TRUE(account) << account.error().message();
  return *account;
}

std::string Sha256(std::string_view text) {
  std::string digest(crypto_hash_sha256_BYTES, '\0');
  crypto_hash_sha256(reinterpret_cast<unsigned char*>(digest.data()),
                     reinterpret_cast<const unsigned char*>(text.data()), text.size());
  return digest;
}

class Signatures : public ::testing::Test {
 protected:
  UserAccount lan_ = Enrolled("lan.nguyen", "Nguyễn Thị Lan", "mưa rơi đều đều");
  std::string run_hash_ = Sha256("run RUN-2024-0017 v2 canonical bytes");
  SignedRecord run_{"test_run", "RUN-2024-0017", 2, run_hash_};

  ElectronicSignature Signed(const UserAccount& user, std::string_view password,
                             const SignedRecord& record) {
    auto signatory = Signatory::Unseal(user, password);
    EXPECT_TRUE(signatory) << signatory.error().message();
    auto signature = signatory->Sign(record, SIGNATURE_MEANING_APPROVED, kNow + 5);
    EXPECT_TRUE(signature) << signature.error().message();
    return *signature;
  }
};

TEST_F(Signatures, EnrolmentMakesAHashAndASealedKey) {
  EXPECT_EQ(lan_.role(), ROLE_REVIEWER);
  EXPECT_TRUE(PasswordMatches(lan_.password_hash(), "mưa rơi đều đều"));
  EXPECT_EQ(lan_.signing_key().public_key().size(), 32u);
  EXPECT_EQ(lan_.signing_key().sealed_seed().size(), 48u);
  EXPECT_EQ(lan_.signing_key().salt().size(), 16u);
  EXPECT_EQ(lan_.signing_key().nonce().size(), 24u);
  EXPECT_EQ(lan_.signing_key().argon2_ops(), kTestOnlyCost.ops);
}

TEST_F(Signatures, EnrolmentRefusesWhatAPersonCannotBe) {
  EXPECT_FALSE(Enrol({"Lan Nguyen", "Nguyễn Thị Lan", ROLE_TECHNICIAN, "mưa rơi đều đều"}, kNow,
                     kTestOnlyCost));
  EXPECT_FALSE(
      Enrol({"", "Nguyễn Thị Lan", ROLE_TECHNICIAN, "mưa rơi đều đều"}, kNow, kTestOnlyCost));
  EXPECT_FALSE(Enrol({"lan", "", ROLE_TECHNICIAN, "mưa rơi đều đều"}, kNow, kTestOnlyCost));
  EXPECT_FALSE(Enrol({"pc-3", "PC 3", ROLE_UPLOADER, "mưa rơi đều đều"}, kNow, kTestOnlyCost));
  auto weak = Enrol({"lan", "Nguyễn Thị Lan", ROLE_TECHNICIAN, "short"}, kNow, kTestOnlyCost);
  ASSERT_FALSE(weak);
  EXPECT_NE(weak.error().message().find("enrolling lan: "), std::string::npos)
      << weak.error().message();
}

TEST_F(Signatures, ASignatureVerifiesOnItsRecord) {
  const ElectronicSignature signature = Signed(lan_, "mưa rơi đều đều", run_);
  const Status verified = VerifySignature(signature, run_, lan_.signing_key().public_key());
  EXPECT_TRUE(verified.ok()) << verified.message();
  EXPECT_EQ(signature.statement().signer_full_name(), "Nguyễn Thị Lan");
  EXPECT_EQ(signature.statement().meaning(), SIGNATURE_MEANING_APPROVED);
  EXPECT_EQ(signature.statement().signed_at_ns(), kNow + 5);
}

TEST_F(Signatures, AWrongPasswordDoesNotOpenTheKey) {
  auto refused = Signatory::Unseal(lan_, "mưa rơi đều đều!");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code(), StatusCode::kUnauthenticated);
  EXPECT_NE(refused.error().message().find("lan.nguyen"), std::string::npos)
      << refused.error().message();
  EXPECT_FALSE(Signatory::Unseal(lan_, ""));
}

TEST_F(Signatures, ASignatureMovedToAnotherRecordOrVersionIsRefused) {
  const ElectronicSignature signature = Signed(lan_, "mưa rơi đều đều", run_);
  const std::string& key = lan_.signing_key().public_key();
  const std::string other_hash = Sha256("run RUN-2024-0017 v3 canonical bytes");

  const Status next_version =
      VerifySignature(signature, {"test_run", "RUN-2024-0017", 3, run_hash_}, key);
  EXPECT_EQ(next_version.code(), StatusCode::kDataLoss);
  EXPECT_NE(next_version.message().find("not for test_run RUN-2024-0017 version 3"),
            std::string::npos)
      << next_version.message();
  EXPECT_FALSE(VerifySignature(signature, {"test_run", "RUN-2024-0018", 2, run_hash_}, key).ok());
  EXPECT_FALSE(
      VerifySignature(signature, {"test_report", "RUN-2024-0017", 2, run_hash_}, key).ok());
  const Status altered =
      VerifySignature(signature, {"test_run", "RUN-2024-0017", 2, other_hash}, key);
  EXPECT_EQ(altered.code(), StatusCode::kDataLoss);
  EXPECT_NE(altered.message().find("altered"), std::string::npos) << altered.message();
}

TEST_F(Signatures, AStatementChangedAfterSigningIsRefused) {
  const ElectronicSignature signature = Signed(lan_, "mưa rơi đều đều", run_);
  const std::string& key = lan_.signing_key().public_key();
  // The statement edited to follow the record it was copied onto: the bytes no longer verify.
  const auto refused = [&](auto edit) {
    ElectronicSignature changed = signature;
    edit(*changed.mutable_statement());
    const SignatureStatement& s = changed.statement();
    return VerifySignature(
        changed, {s.record_kind(), s.record_id(), s.record_version(), s.record_sha256()}, key);
  };
  EXPECT_FALSE(refused([](SignatureStatement& s) { s.set_record_id("RUN-2024-0018"); }).ok());
  EXPECT_FALSE(refused([](SignatureStatement& s) { s.set_record_version(3); }).ok());
  EXPECT_FALSE(refused([](SignatureStatement& s) { s.set_record_kind("test_report"); }).ok());
  EXPECT_FALSE(refused([&](SignatureStatement& s) { s.set_record_sha256(Sha256("other")); }).ok());
  EXPECT_FALSE(
      refused([](SignatureStatement& s) { s.set_signer_full_name("Trần Văn Bình"); }).ok());
  EXPECT_FALSE(
      refused([](SignatureStatement& s) { s.set_meaning(SIGNATURE_MEANING_REVIEWED); }).ok());
  EXPECT_FALSE(refused([](SignatureStatement& s) { s.set_signed_at_ns(kNow + 6); }).ok());
  const Status renamed = refused([](SignatureStatement& s) { s.set_signer_user("binh.tran"); });
  EXPECT_EQ(renamed.code(), StatusCode::kDataLoss);
  EXPECT_TRUE(refused([](SignatureStatement&) {}).ok()) << "the unchanged statement must verify";

  ElectronicSignature flipped = signature;
  (*flipped.mutable_signature())[7] ^= 1;
  EXPECT_FALSE(VerifySignature(flipped, run_, key).ok());
}

TEST_F(Signatures, AnotherPersonsKeyDoesNotVerify) {
  const UserAccount binh = Enrolled("binh.tran", "Trần Văn Bình", "trời trong xanh quá");
  const ElectronicSignature by_binh = Signed(binh, "trời trong xanh quá", run_);
  const Status wrong_key = VerifySignature(by_binh, run_, lan_.signing_key().public_key());
  EXPECT_EQ(wrong_key.code(), StatusCode::kDataLoss);
  EXPECT_TRUE(VerifySignature(by_binh, run_, binh.signing_key().public_key()).ok());

  // Binh's sealed key put on Lan's record: it opens with Binh's password, yet is refused,
  // because it is not the key of the public key the store holds for Lan.
  UserAccount swapped = lan_;
  SealedSigningKey binh_key = binh.signing_key();
  binh_key.set_public_key(lan_.signing_key().public_key());
  *swapped.mutable_signing_key() = binh_key;
  auto refused = Signatory::Unseal(swapped, "trời trong xanh quá");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code(), StatusCode::kDataLoss);
}

TEST_F(Signatures, AChangedPasswordResealsTheSameKey) {
  const ElectronicSignature before = Signed(lan_, "mưa rơi đều đều", run_);
  auto changed =
      ChangePassword(lan_, "mưa rơi đều đều", "nắng vàng trên sân", kNow + 100, kTestOnlyCost);
  ASSERT_TRUE(changed) << changed.error().message();
  EXPECT_EQ(changed->signing_key().public_key(), lan_.signing_key().public_key());
  EXPECT_NE(changed->signing_key().salt(), lan_.signing_key().salt());
  EXPECT_EQ(changed->signing_key().created_at_ns(), kNow);
  EXPECT_EQ(changed->signing_key().sealed_at_ns(), kNow + 100);
  EXPECT_TRUE(PasswordMatches(changed->password_hash(), "nắng vàng trên sân"));
  EXPECT_FALSE(PasswordMatches(changed->password_hash(), "mưa rơi đều đều"));

  EXPECT_FALSE(Signatory::Unseal(*changed, "mưa rơi đều đều"));
  const ElectronicSignature after = Signed(*changed, "nắng vàng trên sân", run_);
  EXPECT_TRUE(VerifySignature(after, run_, changed->signing_key().public_key()).ok());
  EXPECT_TRUE(VerifySignature(before, run_, changed->signing_key().public_key()).ok())
      << "signatures made before the change still verify";
}

TEST_F(Signatures, APasswordChangeNeedsTheCurrentPasswordAndThePolicy) {
  auto wrong = ChangePassword(lan_, "not the password", "nắng vàng trên sân", kNow, kTestOnlyCost);
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().code(), StatusCode::kUnauthenticated);
  auto weak = ChangePassword(lan_, "mưa rơi đều đều", "lan.nguyen", kNow, kTestOnlyCost);
  ASSERT_FALSE(weak);
  EXPECT_EQ(weak.error().code(), StatusCode::kInvalidArgument);
}

TEST_F(Signatures, AStatementMustShowWhoWhenAndWhy) {
  auto signatory = Signatory::Unseal(lan_, "mưa rơi đều đều");
  ASSERT_TRUE(signatory);
  EXPECT_FALSE(signatory->Sign(run_, SIGNATURE_MEANING_UNSPECIFIED, kNow));
  EXPECT_FALSE(signatory->Sign(run_, SIGNATURE_MEANING_REVIEWED, 0));
  EXPECT_FALSE(
      signatory->Sign({"test_run", "RUN-2024-0017", 2, "short"}, SIGNATURE_MEANING_REVIEWED, kNow));
  EXPECT_FALSE(
      signatory->Sign({"", "RUN-2024-0017", 2, run_hash_}, SIGNATURE_MEANING_REVIEWED, kNow));
}

// The canonical text, written out by hand from the format electronic_signature.h states.
TEST(SignatureText, IsTheDocumentedFormat) {
  SignatureStatement s;
  s.set_record_kind("test_run");
  s.set_record_id("RUN-2024-0017");
  s.set_record_version(2);
  s.set_record_sha256(std::string(31, '\0') + "\xff");
  s.set_signer_user("lan.nguyen");
  s.set_signer_full_name("Nguyễn Thị Lan");
  s.set_meaning(SIGNATURE_MEANING_REVIEWED);
  s.set_signed_at_ns(1718000000000000000);
  EXPECT_EQ(SignatureText(s),
            "labtrace signature v1\n"
            "record_kind 8:test_run\n"
            "record_id 13:RUN-2024-0017\n"
            "record_version 2\n"
            "record_sha256 00000000000000000000000000000000000000000000000000000000000000ff\n"
            "signer_user 10:lan.nguyen\n"
            "signer_full_name 18:Nguyễn Thị Lan\n"
            "meaning reviewed\n"
            "signed_at_ns 1718000000000000000\n");
}

}  // namespace
}  // namespace labtrace::auth
