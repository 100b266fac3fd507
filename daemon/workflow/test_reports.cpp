#include "workflow/test_reports.h"

#include <fmt/format.h>
#include <sodium.h>

#include <algorithm>
#include <set>

#include "auth/electronic_signature.h"
#include "config/lab_calendar.h"

namespace labtrace::workflow {

namespace {

// Crockford's base32: no I, L, O or U.
constexpr std::string_view kCodeAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

std::string Sha256(const std::string& bytes) {
  std::string hash(crypto_hash_sha256_BYTES, '\0');
  crypto_hash_sha256(reinterpret_cast<unsigned char*>(hash.data()),
                     reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
  return hash;
}

std::string StateWord(ReportState state) { return ReportState_Name(state); }

auth::SignedRecord RecordOf(const TestReport& report, const std::string& hash) {
  return {kReportKind, report.number(), report.signed_version(), hash};
}

}  // namespace

std::string NewVerificationCode() {
  std::string code;
  for (size_t i = 0; i < kVerificationCodeLength; ++i) {
    code += kCodeAlphabet[randombytes_uniform(static_cast<uint32_t>(kCodeAlphabet.size()))];
  }
  return code;
}

std::string NormaliseVerificationCode(std::string_view typed) {
  std::string code;
  for (char c : typed) {
    if (c == ' ' || c == '-') continue;
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    if (c == 'O') c = '0';
    if (c == 'I' || c == 'L') c = '1';
    if (kCodeAlphabet.find(c) == std::string_view::npos) return "";
    code += c;
  }
  return code.size() == kVerificationCodeLength ? code : "";
}

Result<TestReport> DraftReport(const config::Lab& lab, const Sample& sample,
                               const Enterprise& customer, const Product& product,
                               const std::vector<TestRun>& runs, std::string verification_code,
                               std::string_view user, int64_t now_ns) {
  if (lab.identity().name_vi().empty()) {
    return Error(
        FailedPrecondition("the lab-config has no identity { name_vi: … } to print at the head of "
                           "a report (ISO/IEC 17025 §7.8.2.1 a)"));
  }
  if (sample.enterprise() != customer.id() || sample.product() != product.id()) {
    return Error(InvalidArgument(
        fmt::format("sample {} is of {}'s product {}, not of {}'s product {}", sample.code(),
                    sample.enterprise(), sample.product(), customer.id(), product.id())));
  }
  if (runs.empty())
    return Error(InvalidArgument("runs: a report carries at least one approved run of the sample"));
  if (NormaliseVerificationCode(verification_code) != verification_code) {
    return Error(InvalidArgument(
        fmt::format("\"{}\" is not a verification code (12 characters of Crockford's base32)",
                    verification_code)));
  }
  TestReport report;
  report.set_state(REPORT_STATE_DRAFT);
  *report.mutable_lab() = lab.identity();
  *report.mutable_customer() = customer;
  *report.mutable_product() = product;
  *report.mutable_sample() = sample;
  report.set_drafted_by(std::string(user));
  report.set_drafted_at_ns(now_ns);
  report.set_verification_code(std::move(verification_code));
  std::set<std::string> carried;
  for (const TestRun& run : runs) {
    if (run.sample() != sample.code()) {
      return Error(InvalidArgument(
          fmt::format("{} is a run on sample {}; a report on {} carries only that sample's runs",
                      run.id(), run.sample(), sample.code())));
    }
    if (run.state() != RUN_STATE_APPROVED) {
      return Error(
          FailedPrecondition(fmt::format("{} is {} at version {}: only an approved run goes on a "
                                         "report (it needs its review and approval first)",
                                         run.id(), RunState_Name(run.state()), run.version())));
    }
    if (!carried.insert(run.id()).second) {
      return Error(InvalidArgument(fmt::format("runs: {} is named twice", run.id())));
    }
    ReportedRun& reported = *report.add_runs();
    reported.set_run(run.id());
    reported.set_run_version(run.version());
    *reported.mutable_method() = run.method();
    *reported.mutable_results() = run.results();
    reported.set_tested_on(run.tested_on());
    *reported.mutable_signatures() = run.signatures();
    *reported.mutable_instruments() = run.instruments();
    reported.set_fee_vnd(run.fee_vnd());
  }
  return report;
}

std::string SignedReportBytes(const TestReport& report) {
  TestReport signed_part = report;
  signed_part.clear_version();
  signed_part.clear_state();
  signed_part.clear_signatures();
  signed_part.clear_pdf_sha256();
  signed_part.clear_superseded_by();
  std::string bytes;
  // No map fields: protobuf's serialisation is deterministic (see store/record_bytes.h).
  signed_part.SerializeToString(&bytes);
  return bytes;
}

std::string SignedReportHash(const TestReport& report) { return Sha256(SignedReportBytes(report)); }

Result<TestReport> SignReport(const config::Lab& lab, const TestReport& report,
                              const auth::Signatory& signer, int64_t now_ns) {
  if (report.state() != REPORT_STATE_DRAFT) {
    return Error(
        FailedPrecondition(fmt::format("{} is {}: only a draft is signed and issued; an issued "
                                       "report is changed by amending it (a new report that "
                                       "replaces it)",
                                       report.number(), StateWord(report.state()))));
  }
  if (report.number().empty())
    return Error(InvalidArgument("a report is signed once the store has numbered it"));
  const config::Signatory* scope = nullptr;
  for (const config::Signatory& signatory : lab.signatories()) {
    if (signatory.user() == signer.user()) scope = &signatory;
  }
  if (scope == nullptr) {
    return Error(
        PermissionDenied(fmt::format("{} is not one of the lab's report signatories (lab-config "
                                     "signatories): nothing was signed",
                                     signer.user())));
  }
  for (const ReportedRun& run : report.runs()) {
    const auto& methods = scope->methods();
    if (std::find(methods.begin(), methods.end(), run.method().id()) == methods.end()) {
      return Error(PermissionDenied(
          fmt::format("{} may not sign reports for method {} ({}), which {} carries: it is outside "
                      "their approved scope "
                      "(lab-config signatories); nothing was signed",
                      signer.user(), run.method().id(), run.method().standard(), report.number())));
    }
  }
  TestReport next = report;
  next.set_issued_on(config::LabCalendar::Of(lab).DateOf(now_ns));
  next.set_signed_version(report.version() + 1);  // the version the store gives it
  auto signature =
      signer.Sign(RecordOf(next, SignedReportHash(next)), SIGNATURE_MEANING_APPROVED, now_ns);
  if (!signature) return Error(signature.error());
  *next.add_signatures() = std::move(*signature);
  next.set_state(REPORT_STATE_ISSUED);
  return next;
}

Status VerifyReportSignatures(const TestReport& report,
                              const std::function<std::string(const std::string&)>& key_of) {
  if (report.signatures().empty()) {
    if (report.state() == REPORT_STATE_DRAFT) return OkStatus();
    return DataLoss(fmt::format("{} version {} is {} but shows no signature", report.number(),
                                report.version(), StateWord(report.state())));
  }
  const std::string hash = SignedReportHash(report);
  for (const ElectronicSignature& signature : report.signatures()) {
    const std::string key = key_of(signature.statement().signer_user());
    if (key.empty()) {
      return PermissionDenied(fmt::format("{} shows a signature by {}, who is no user of this lab",
                                          report.number(), signature.statement().signer_user()));
    }
    if (Status s = auth::VerifySignature(signature, RecordOf(report, hash), key); !s.ok()) return s;
  }
  return OkStatus();
}

Result<TestReport> AmendReport(const TestReport& old, TestReport draft, std::string_view reason) {
  if (old.state() == REPORT_STATE_DRAFT) {
    return Error(FailedPrecondition(fmt::format(
        "{} is a draft, never issued: draft a new report instead of amending it", old.number())));
  }
  if (old.state() == REPORT_STATE_SUPERSEDED) {
    return Error(FailedPrecondition(fmt::format("{} was replaced already, by {}: amend that one",
                                                old.number(), old.superseded_by())));
  }
  if (old.state() != REPORT_STATE_ISSUED) {
    return Error(FailedPrecondition(
        fmt::format("{} is {} and cannot be amended", old.number(), StateWord(old.state()))));
  }
  if (reason.empty()) {
    return Error(InvalidArgument(
        "reason: an amended report says why it replaces the earlier one (ISO/IEC 17025 §7.8.8)"));
  }
  if (draft.state() != REPORT_STATE_DRAFT || !draft.number().empty()) {
    return Error(InvalidArgument("the amendment is a new draft report, not yet numbered"));
  }
  if (draft.sample().code() != old.sample().code()) {
    return Error(
        InvalidArgument(fmt::format("{} reports on sample {}; its amendment must too, not on {}",
                                    old.number(), old.sample().code(), draft.sample().code())));
  }
  draft.set_replaces(old.number());
  draft.set_amendment_reason(std::string(reason));
  return draft;
}

Result<TestReport> SupersedeReport(const TestReport& old, const TestReport& replacement) {
  if (replacement.state() != REPORT_STATE_ISSUED || replacement.replaces() != old.number()) {
    return Error(FailedPrecondition(fmt::format(
        "{} is superseded only by an issued report that replaces it; {} is {}{}", old.number(),
        replacement.number(), StateWord(replacement.state()),
        replacement.replaces().empty() ? " and replaces none"
                                       : fmt::format(" and replaces {}", replacement.replaces()))));
  }
  if (old.state() != REPORT_STATE_ISSUED) {
    return Error(FailedPrecondition(
        fmt::format("{} is {}, not an issued report that {} may supersede", old.number(),
                    StateWord(old.state()), replacement.number())));
  }
  TestReport next = old;
  next.set_state(REPORT_STATE_SUPERSEDED);
  next.set_superseded_by(replacement.number());
  return next;
}

Result<api::ReportVerification> VerificationOf(const TestReport& latest) {
  if (latest.state() != REPORT_STATE_ISSUED && latest.state() != REPORT_STATE_SUPERSEDED &&
      latest.state() != REPORT_STATE_REVOKED) {
    return Error(NotFound("no issued report has this verification code"));
  }
  api::ReportVerification answer;
  answer.set_number(latest.number());
  switch (latest.state()) {
    case REPORT_STATE_SUPERSEDED:
      answer.set_state("superseded");
      answer.set_replaced_by(latest.superseded_by());
      break;
    case REPORT_STATE_REVOKED:
      answer.set_state("revoked");
      break;
    default:  // REPORT_STATE_ISSUED
      answer.set_state("valid");
      break;
  }
  return answer;
}

}  // namespace labtrace::workflow
