#include "auth/electronic_signature.h"

#include <fmt/format.h>

#include "auth/crypto_bytes.h"

namespace labtrace::auth {

namespace {

std::string Hex(std::string_view bytes) {
  std::string hex(bytes.size() * 2 + 1, '\0');
  sodium_bin2hex(hex.data(), hex.size(), Bytes(bytes), bytes.size());
  hex.pop_back();
  return hex;
}

std::string RecordName(std::string_view kind, std::string_view id, uint64_t version) {
  return fmt::format("{} {} version {}", kind, id, version);
}

}  // namespace

std::string_view MeaningWord(SignatureMeaning meaning) {
  switch (meaning) {
    case SIGNATURE_MEANING_REVIEWED:
      return "reviewed";
    case SIGNATURE_MEANING_APPROVED:
      return "approved";
    default:
      return "";
  }
}

std::string SignatureText(const SignatureStatement& s) {
  const auto field = [](std::string_view name, std::string_view value) {
    return fmt::format("{} {}:{}\n", name, value.size(), value);
  };
  return "labtrace signature v1\n" + field("record_kind", s.record_kind()) +
         field("record_id", s.record_id()) +
         fmt::format("record_version {}\n", s.record_version()) +
         fmt::format("record_sha256 {}\n", Hex(s.record_sha256())) +
         field("signer_user", s.signer_user()) + field("signer_full_name", s.signer_full_name()) +
         fmt::format("meaning {}\n", MeaningWord(s.meaning())) +
         fmt::format("signed_at_ns {}\n", s.signed_at_ns());
}

Status CheckStatement(const SignatureStatement& s) {
  const auto missing = [&](std::string_view what) {
    return InvalidArgument(
        fmt::format("a signature on {} {} needs {}", s.record_kind(), s.record_id(), what));
  };
  if (s.record_kind().empty() || s.record_id().empty())
    return missing("the kind and id of the record it signs");
  if (s.record_sha256().size() != crypto_hash_sha256_BYTES)
    return missing("the record's 32-byte SHA-256");
  if (s.signer_user().empty() || s.signer_full_name().empty())
    return missing("the signer's user and printed name");
  if (MeaningWord(s.meaning()).empty()) return missing("a meaning (reviewed or approved)");
  if (s.signed_at_ns() <= 0) return missing("the time of signing");
  return OkStatus();
}

Status VerifySignature(const ElectronicSignature& signature, const SignedRecord& record,
                       std::string_view signer_public_key) {
  if (Status ready = SodiumReady(); !ready.ok()) return ready;
  const SignatureStatement& s = signature.statement();
  const std::string shown_on = RecordName(record.kind, record.id, record.version);
  if (Status complete = CheckStatement(s); !complete.ok())
    return complete.Annotate("signature on " + shown_on);
  if (s.record_kind() != record.kind || s.record_id() != record.id ||
      s.record_version() != record.version) {
    return DataLoss(fmt::format(
        "the signature of {} was made for {}, not for {}: it was copied, or the record "
        "was amended since; an amended version needs a new signature",
        s.signer_user(), RecordName(s.record_kind(), s.record_id(), s.record_version()), shown_on));
  }
  if (s.record_sha256() != record.sha256) {
    return DataLoss(fmt::format(
        "{} has SHA-256 {}, but {} signed content with SHA-256 {}: the record was altered "
        "after it was signed",
        shown_on, Hex(record.sha256), s.signer_user(), Hex(s.record_sha256())));
  }
  if (signer_public_key.size() != crypto_sign_PUBLICKEYBYTES ||
      signature.public_key() != signer_public_key) {
    return DataLoss(
        fmt::format("the signature on {} is not by the key {} holds (public key {}): it was made "
                    "with another key",
                    shown_on, s.signer_user(), Hex(signer_public_key)));
  }
  const std::string text = SignatureText(s);
  if (signature.signature().size() != crypto_sign_BYTES ||
      crypto_sign_verify_detached(Bytes(signature.signature()), Bytes(text), text.size(),
                                  Bytes(signer_public_key)) != 0) {
    return DataLoss(
        fmt::format("the signature of {} on {} does not verify: its printed name, meaning or time "
                    "was changed after signing, or the signature is forged",
                    s.signer_user(), shown_on));
  }
  return OkStatus();
}

}  // namespace labtrace::auth
