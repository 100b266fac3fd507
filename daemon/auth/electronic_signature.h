// Electronic signatures on records (21 CFR Part 11 §11.50, §11.70; ISO/IEC 17025 §7.5):
// the canonical bytes a signature covers, and the check that a signature is the named
// signer's and belongs to the record it is shown on. Making one needs the signer's
// password: see Signatory in sealed_key.h.
//
// Pure; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "labtrace/auth.pb.h"
#include "labtrace/status.h"

namespace labtrace::auth {

// One version of one record, as the store identifies it.
struct SignedRecord {
  std::string_view kind;  // "test_run"
  std::string_view id;    // "RUN-2024-0017"
  uint64_t version = 0;
  std::string_view sha256;  // 32 bytes: the SHA-256 of that version's canonical bytes
};

// "reviewed", "approved", or "" for an unspecified meaning.
std::string_view MeaningWord(SignatureMeaning meaning);

// The bytes a signature covers. Not protobuf's serialisation, which the protobuf project
// does not promise to keep stable across versions or languages: a line per field, each
// string prefixed by its length in bytes, so that no two statements give the same text
// and an auditor's verifier in any language can rebuild it:
//   labtrace signature v1
//   record_kind 8:test_run
//   record_id 13:RUN-2024-0017
//   record_version 2
//   record_sha256 <64 hex digits>
//   signer_user 10:lan.nguyen
//   signer_full_name 18:Nguyễn Thị Lan
//   meaning approved
//   signed_at_ns 1718000000000000000
std::string SignatureText(const SignatureStatement& statement);

// Ok, or what is missing from a statement that a signature must show (§11.50: the
// printed name, the time, the meaning) or bind (§11.70: the record and its hash).
Status CheckStatement(const SignatureStatement& statement);

// Ok when `signature` is a valid Ed25519 signature by `signer_public_key` (the key the
// store holds for the signer named in it) over its statement, and the statement names
// `record`: kind, id, version and hash. Otherwise says which of these fails, so a
// signature copied onto another record or version, or onto altered content, is named.
Status VerifySignature(const ElectronicSignature& signature, const SignedRecord& record,
                       std::string_view signer_public_key);

}  // namespace labtrace::auth
