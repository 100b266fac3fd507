// Conformity test reports (issue 15): the phiếu kết quả thử nghiệm, from approved runs to
// an issued, signed report, and its amendment (ISO/IEC 17025 §7.8.2.1, §7.8.6, §7.8.8).
// Pure, like test_runs.h: each function takes the report as it is and returns its next
// version (which the store numbers and keeps beside the old one); the caller fetches the
// records, the signer's key and a verification code, prints the PDF and stores it all.
//
//   DraftReport      DRAFT       frozen copies of the lab, customer, product, sample and
//                                approved runs, with their results and run signatures
//   SignReport       ISSUED      a signatory's Ed25519 signature, within their approved
//                                scope, with the password typed again; issued on that date
//   AmendReport      DRAFT       a new report that replaces an issued one, with the reason
//   SupersedeReport  SUPERSEDED  the replaced report's next version, once its amendment
//                                is issued
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "auth/sealed_key.h"
#include "labtrace/api.pb.h"
#include "labtrace/config.pb.h"
#include "labtrace/conformity.pb.h"
#include "labtrace/status.h"

namespace labtrace::workflow {

inline constexpr std::string_view kReportKind = "test_report";
inline constexpr size_t kVerificationCodeLength = 12;

// A fresh verification code: 12 characters of Crockford's base32 (digits and capitals
// without I, L, O, U, so that nobody misreads one from paper), 60 bits from libsodium's
// randombytes. The one function here that is not pure: the caller makes the code and
// hands it to DraftReport.
std::string NewVerificationCode();
// A code as somebody typed it: capitals, spaces and dashes dropped, O read as 0 and I, L
// as 1 (Crockford's reading). "" when it cannot be a code.
std::string NormaliseVerificationCode(std::string_view typed);

// A new report (no number yet: the store numbers it) on `sample` of `customer`'s
// `product`, carrying `runs`, drafted by `user` at `now_ns`. Each run must be APPROVED and
// of this sample, and none twice; the lab must have an identity to print.
Result<TestReport> DraftReport(const config::Lab& lab, const Sample& sample,
                               const Enterprise& customer, const Product& product,
                               const std::vector<TestRun>& runs, std::string verification_code,
                               std::string_view user, int64_t now_ns);

// What a signature on a report binds: the report without its version, state, signatures,
// the PDF's hash and superseded_by, so that issuing, printing and superseding change
// nothing signed. Deterministic protobuf bytes, as SignedRunBytes.
std::string SignedReportBytes(const TestReport& report);
// SHA-256 of SignedReportBytes, 32 bytes.
std::string SignedReportHash(const TestReport& report);

// The draft `report` issued: `signer`'s signature ("approved") on the version the store
// will give it, issued on the lab's date of `now_ns`. Refused unless `signer` is one of
// the lab's signatories with every method of the report's runs in their scope; the
// refusal names the method.
Result<TestReport> SignReport(const config::Lab& lab, const TestReport& report,
                              const auth::Signatory& signer, int64_t now_ns);

// Checks every signature shown on `report` against the report's own content and the
// public key the store holds for its signer (`key_of(user)`, "" when unknown); names the
// first that fails, such as a signature copied from another report. An issued report
// with no signature fails too.
Status VerifyReportSignatures(const TestReport& report,
                              const std::function<std::string(const std::string&)>& key_of);

// `draft` (a DraftReport of the same sample, from the records as they are now) made the
// amendment of the issued report `old`: it cites the number it replaces and why (§7.8.8).
// `old` stays as it was until the amendment is issued.
Result<TestReport> AmendReport(const TestReport& old, TestReport draft, std::string_view reason);

// The next version of `old` once `replacement`, its amendment, is issued: superseded, and
// naming the report that replaces it.
Result<TestReport> SupersedeReport(const TestReport& old, const TestReport& replacement);

// What GET /v1/verify/{code} answers for a report's latest version: its number, valid,
// superseded or revoked, and the replacing report; nothing about the customer. NotFound
// for a report never issued: its code was never handed out.
Result<api::ReportVerification> VerificationOf(const TestReport& latest);

}  // namespace labtrace::workflow
