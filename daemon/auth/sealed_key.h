// A person's Ed25519 signing key (issue 15; 21 CFR Part 11 §11.200(a)(1)): made at
// enrolment, kept by the store only sealed under the person's password, and opened only
// to sign, with the password typed again. libsodium throughout, like the lab's own key
// (store/signing_key.h), so the auditor's verifier needs one library.
#pragma once

#include <sodium.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "auth/crypto_bytes.h"
#include "auth/electronic_signature.h"
#include "auth/password.h"
#include "labtrace/auth.pb.h"
#include "labtrace/status.h"

namespace labtrace::auth {

// A fresh key pair, its seed sealed under `password` (secretbox, key from Argon2id with a
// fresh salt).
Result<SealedSigningKey> MakeSealedSigningKey(std::string_view password, int64_t now_ns,
                                              Argon2Cost cost = kInteractiveCost);

// The same key pair sealed under `new_password`, with a fresh salt and nonce; refuses
// (kUnauthenticated) when `old_password` does not open it.
Result<SealedSigningKey> ResealSigningKey(const SealedSigningKey& sealed,
                                          std::string_view old_password,
                                          std::string_view new_password, int64_t now_ns,
                                          Argon2Cost cost = kInteractiveCost);

// A person able to sign: their key opened with their password. Lives for one signing
// request on the thread that handles it; the secret is wiped when it goes.
class Signatory {
 public:
  // Opens `user`'s key. A wrong password is kUnauthenticated, and says nothing more.
  static Result<Signatory> Unseal(const UserAccount& user, std::string_view password);

  Signatory(Signatory&& other) noexcept;
  Signatory& operator=(Signatory&&) = delete;
  Signatory(const Signatory&) = delete;
  Signatory& operator=(const Signatory&) = delete;

  // Signs `record` with `meaning` at `now_ns`, under this person's user and printed name.
  Result<ElectronicSignature> Sign(const SignedRecord& record, SignatureMeaning meaning,
                                   int64_t now_ns) const;

  const std::string& user() const { return user_; }

 private:
  Signatory(std::string user, std::string full_name, std::string public_key);

  std::string user_;
  std::string full_name_;
  std::string public_key_;
  Secret<crypto_sign_SECRETKEYBYTES> secret_key_;
};

}  // namespace labtrace::auth
