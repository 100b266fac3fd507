#include "auth/sealed_key.h"

#include <fmt/format.h>

#include "auth/crypto_bytes.h"

namespace labtrace::auth {

namespace {

using Seed = Secret<crypto_sign_SEEDBYTES>;
using SealingKey = Secret<crypto_secretbox_KEYBYTES>;
using SecretKey = Secret<crypto_sign_SECRETKEYBYTES>;

Status DeriveSealingKey(std::string_view password, std::string_view salt, Argon2Cost cost,
                        SealingKey& key) {
  if (salt.size() != crypto_pwhash_SALTBYTES) {
    return DataLoss(fmt::format("the signing key's salt is {} bytes, not {}", salt.size(),
                                crypto_pwhash_SALTBYTES));
  }
  if (cost.ops < crypto_pwhash_OPSLIMIT_MIN || cost.memory_bytes < crypto_pwhash_MEMLIMIT_MIN) {
    return DataLoss(fmt::format(
        "the signing key's Argon2 cost ({} passes, {} bytes) is below libsodium's least", cost.ops,
        cost.memory_bytes));
  }
  if (crypto_pwhash(key.data(), key.size(), password.data(), password.size(), Bytes(salt), cost.ops,
                    cost.memory_bytes, crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return Status(
        StatusCode::kResourceExhausted,
        fmt::format(
            "deriving the key that seals a signing key needs {} MiB, which the system refused; "
            "free memory or lower the Argon2 cost",
            cost.memory_bytes >> 20));
  }
  return OkStatus();
}

Result<SealedSigningKey> Seal(const Seed& seed, std::string_view public_key,
                              std::string_view password, int64_t created_at_ns, int64_t now_ns,
                              Argon2Cost cost) {
  SealedSigningKey sealed;
  sealed.set_public_key(std::string(public_key));
  std::string salt(crypto_pwhash_SALTBYTES, '\0'), nonce(crypto_secretbox_NONCEBYTES, '\0');
  randombytes_buf(salt.data(), salt.size());
  randombytes_buf(nonce.data(), nonce.size());
  SealingKey key;
  if (Status derived = DeriveSealingKey(password, salt, cost, key); !derived.ok())
    return Error(derived);
  std::string box(crypto_secretbox_MACBYTES + seed.size(), '\0');
  crypto_secretbox_easy(Bytes(box), seed.data(), seed.size(), Bytes(nonce), key.data());
  sealed.set_sealed_seed(std::move(box));
  sealed.set_nonce(std::move(nonce));
  sealed.set_salt(std::move(salt));
  sealed.set_argon2_ops(cost.ops);
  sealed.set_argon2_memory_bytes(cost.memory_bytes);
  sealed.set_created_at_ns(created_at_ns);
  sealed.set_sealed_at_ns(now_ns);
  return sealed;
}

// Opens the key, and checks that its seed is the seed of the public key beside it, so that a
// sealed seed swapped between two users' records is refused rather than used.
Status Open(const SealedSigningKey& sealed, std::string_view password, SecretKey& secret_key) {
  if (Status ready = SodiumReady(); !ready.ok()) return ready;
  if (sealed.sealed_seed().size() != crypto_secretbox_MACBYTES + Seed::size() ||
      sealed.nonce().size() != crypto_secretbox_NONCEBYTES ||
      sealed.public_key().size() != crypto_sign_PUBLICKEYBYTES) {
    return DataLoss(
        "the sealed signing key is not the size a sealed Ed25519 seed has; it was damaged");
  }
  SealingKey key;
  if (Status derived = DeriveSealingKey(password, sealed.salt(),
                                        {sealed.argon2_ops(), sealed.argon2_memory_bytes()}, key);
      !derived.ok()) {
    return derived;
  }
  Seed seed;
  if (crypto_secretbox_open_easy(seed.data(), Bytes(sealed.sealed_seed()),
                                 sealed.sealed_seed().size(), Bytes(sealed.nonce()),
                                 key.data()) != 0) {
    return Unauthenticated(
        "wrong password: the signing key stays sealed; type the password you log in with");
  }
  std::array<unsigned char, crypto_sign_PUBLICKEYBYTES> public_key;
  crypto_sign_seed_keypair(public_key.data(), secret_key.data(), seed.data());
  if (sodium_memcmp(public_key.data(), sealed.public_key().data(), public_key.size()) != 0) {
    return DataLoss("the sealed signing key does not belong to the public key stored beside it");
  }
  return OkStatus();
}

}  // namespace

Result<SealedSigningKey> MakeSealedSigningKey(std::string_view password, int64_t now_ns,
                                              Argon2Cost cost) {
  if (Status ready = SodiumReady(); !ready.ok()) return Error(ready);
  Seed seed;
  randombytes_buf(seed.data(), seed.size());
  SecretKey secret_key;
  std::string public_key(crypto_sign_PUBLICKEYBYTES, '\0');
  crypto_sign_seed_keypair(Bytes(public_key), secret_key.data(), seed.data());
  return Seal(seed, public_key, password, now_ns, now_ns, cost);
}

Result<SealedSigningKey> ResealSigningKey(const SealedSigningKey& sealed,
                                          std::string_view old_password,
                                          std::string_view new_password, int64_t now_ns,
                                          Argon2Cost cost) {
  SecretKey secret_key;
  if (Status opened = Open(sealed, old_password, secret_key); !opened.ok()) return Error(opened);
  Seed seed;
  crypto_sign_ed25519_sk_to_seed(seed.data(), secret_key.data());
  return Seal(seed, sealed.public_key(), new_password, sealed.created_at_ns(), now_ns, cost);
}

Signatory::Signatory(std::string user, std::string full_name, std::string public_key)
    : user_(std::move(user)),
      full_name_(std::move(full_name)),
      public_key_(std::move(public_key)) {}

Signatory::Signatory(Signatory&& other) noexcept
    : user_(std::move(other.user_)),
      full_name_(std::move(other.full_name_)),
      public_key_(std::move(other.public_key_)) {
  secret_key_.TakeFrom(other.secret_key_);
}

Result<Signatory> Signatory::Unseal(const UserAccount& user, std::string_view password) {
  Signatory signatory(user.name(), user.full_name(), user.signing_key().public_key());
  if (Status opened = Open(user.signing_key(), password, signatory.secret_key_); !opened.ok()) {
    return Error(opened.Annotate(fmt::format("opening the signing key of {}", user.name())));
  }
  return signatory;
}

Result<ElectronicSignature> Signatory::Sign(const SignedRecord& record, SignatureMeaning meaning,
                                            int64_t now_ns) const {
  ElectronicSignature signature;
  SignatureStatement& s = *signature.mutable_statement();
  s.set_record_kind(std::string(record.kind));
  s.set_record_id(std::string(record.id));
  s.set_record_version(record.version);
  s.set_record_sha256(std::string(record.sha256));
  s.set_signer_user(user_);
  s.set_signer_full_name(full_name_);
  s.set_meaning(meaning);
  s.set_signed_at_ns(now_ns);
  if (Status complete = CheckStatement(s); !complete.ok()) return Error(complete);
  const std::string text = SignatureText(s);
  std::string bytes(crypto_sign_BYTES, '\0');
  crypto_sign_detached(Bytes(bytes), nullptr, Bytes(text), text.size(), secret_key_.data());
  signature.set_public_key(public_key_);
  signature.set_signature(std::move(bytes));
  return signature;
}

}  // namespace labtrace::auth
