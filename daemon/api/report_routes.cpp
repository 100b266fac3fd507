// The API's test reports (docs/API.md, "Test reports"):
//   POST /v1/reports                          draft a report from approved runs of a sample
//   GET  /v1/reports/{number}[?version=N][&format=json|html|pdf]
//   POST /v1/reports/{number}/signatures      issue it, signed with one's password, in scope
//   POST /v1/reports/{number}/amendments      a new draft that replaces an issued report
//   GET  /v1/verify/{code}                    without login: valid, superseded or revoked
// The rules live in workflow/test_reports.h. A report is printed once, when it is issued,
// on the printing worker (chromium takes seconds); that PDF is stored beside the issued
// version in the same commit and is what every later request for the PDF gets.
#include <fmt/format.h>
#include <sodium.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "api/api_server.h"
#include "api/http_util.h"
#include "labtrace/clock.h"
#include "report/report_html.h"
#include "workflow/test_reports.h"
#include "workflow/test_runs.h"

namespace labtrace::api {

namespace asio = boost::asio;

namespace {

std::string Sha256(const std::string& bytes) {
  std::string hash(crypto_hash_sha256_BYTES, '\0');
  crypto_hash_sha256(reinterpret_cast<unsigned char*>(hash.data()),
                     reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
  return hash;
}

std::string Hex(std::string_view bytes) {
  std::string hex;
  for (unsigned char b : bytes) hex += fmt::format("{:02x}", b);
  return hex;
}

Response Document(const Request& request, std::string_view content_type, std::string body,
                  const std::string& name) {
  Response response(http::status::ok, request.version());
  response.set(http::field::server, "labtraced");
  response.set(http::field::content_type, content_type);
  response.set(http::field::content_disposition, fmt::format("inline; filename=\"{}\"", name));
  response.body() = std::move(body);
  response.keep_alive(request.keep_alive());
  response.prepare_payload();
  return response;
}

AuditEvent Event(const auth::Caller& caller, std::string action, std::string what) {
  AuditEvent event;
  event.set_actor(caller.user);
  event.set_action(std::move(action));
  event.set_new_value(std::move(what));
  return event;
}

}  // namespace

void ApiServer::SetReportForm(std::shared_ptr<const report::ReportForm> form,
                              report::PdfPrinterOptions printer) {
  report_form_ = std::move(form);
  printer_options_ = std::move(printer);
}

Status ApiServer::ReportFormLoaded() const {
  if (report_form_) return OkStatus();
  return Unavailable(
      "this daemon has no report form: start it with lab-config/report beside its lab-config file, "
      "or with "
      "--report-form DIR");
}

asio::awaitable<Result<TestReport>> ApiServer::LatestReport(const std::string& number,
                                                            uint64_t based_on) {
  auto record = co_await LatestRecord(std::string(workflow::kReportKind), number);
  if (!record) co_return Error(record.error());
  if (based_on != 0 && based_on != record->test_report().version()) {
    co_return Error(FailedPrecondition(
        fmt::format("{} is at version {}, the change was made from version {}; look "
                    "at it again and redo the change",
                    number, record->test_report().version(), based_on)));
  }
  co_return std::move(*record->mutable_test_report());
}

asio::awaitable<Result<TestReport>> ApiServer::DraftFromRecords(const std::string& sample_code,
                                                                std::vector<std::string> run_ids,
                                                                const std::string& user) {
  auto sample = co_await LatestRecord("sample", sample_code);
  if (!sample) co_return Error(sample.error().Annotate("sample"));
  auto customer = co_await LatestRecord("enterprise", sample->sample().enterprise());
  if (!customer) co_return Error(customer.error().Annotate("the sample's enterprise"));
  auto product = co_await LatestRecord("product", sample->sample().product());
  if (!product) co_return Error(product.error().Annotate("the sample's product"));
  std::vector<TestRun> runs;
  for (const std::string& id : run_ids) {
    auto run = co_await LatestRun(id, 0);
    if (!run) co_return Error(run.error().Annotate("runs"));
    runs.push_back(std::move(*run));
  }
  co_return workflow::DraftReport(lab_, sample->sample(), customer->enterprise(),
                                  product->product(), runs, workflow::NewVerificationCode(), user,
                                  NowNs());
}

asio::awaitable<Result<std::string>> ApiServer::PrintReport(TestReport report) {
  auto html = report::ReportHtml(report, *report_form_, LabTimeZone());
  if (!html) co_return Error(html.error().Annotate(fmt::format("{} as HTML", report.number())));
  auto printed = report::PrintPdf(*html, printer_options_);
  if (!printed) {
    co_return Error(printed.error().Annotate(fmt::format("printing {}", report.number())));
  }
  co_return std::move(printed->pdf);
}

asio::awaitable<Result<TestReport>> ApiServer::SignReportAsCaller(TestReport report,
                                                                  std::string user,
                                                                  std::string password) {
  auto account = store_.FindAccount(user);
  if (!account) co_return Error(account.error());
  if (!*account) co_return Error(PermissionDenied(fmt::format("{} is no user of this lab", user)));
  auto signer = auth::Signatory::Unseal(**account, password);
  if (!signer) {
    co_return Error(PermissionDenied(fmt::format(
        "the password given does not open {}'s signing key: nothing was signed; type the "
        "password again",
        user)));
  }
  co_return workflow::SignReport(lab_, report, *signer, NowNs());
}

asio::awaitable<Result<ApiServer::ReportDocument>> ApiServer::FindReportDocument(
    std::string number, uint64_t version, std::string format) {
  ReportDocument found;
  auto record = store_.FindConformity(workflow::kReportKind, number, version);
  if (!record) co_return Error(record.error());
  found.record = std::move(*record);
  if (!found.record) co_return found;
  if (format == "pdf") {
    auto document = store_.FindIssuedDocument(number);
    if (!document) co_return Error(document.error());
    // The PDF issued is the report's from its issue on: a superseded report is shown as
    // it was handed out. An earlier version, a draft, is printed afresh.
    if (*document && (*document)->version <= found.record->test_report().version()) {
      found.document = std::move(**document);
    }
  } else if (format == "html") {
    auto html = report::ReportHtml(found.record->test_report(), *report_form_, LabTimeZone());
    if (!html) co_return Error(html.error());
    found.html = std::move(*html);
  }
  co_return found;
}

asio::awaitable<Result<ReportVerification>> ApiServer::ResolveCode(std::string code,
                                                                   Status unknown) {
  auto number = store_.FindIssuedReportByCode(code);
  if (!number) co_return Error(number.error());
  if (!*number) co_return Error(unknown);
  auto latest = store_.FindConformity(workflow::kReportKind, **number);
  if (!latest) co_return Error(latest.error());
  if (!*latest) {
    co_return Error(Internal(fmt::format("{} has a document but no record", **number)));
  }
  co_return workflow::VerificationOf((*latest)->test_report());
}

asio::awaitable<Response> ApiServer::AnswerReports(const Request& request,
                                                   const auth::Caller& caller,
                                                   std::string_view route, std::string number) {
  if (route == "GET /v1/reports/{number}") co_return co_await AnswerReportDocument(request, number);

  if (route == "POST /v1/reports") {
    ReportDraft body;
    if (Status parsed = ParseBody(request, body); !parsed.ok())
      co_return ErrorReply(request, parsed);
    auto draft = co_await DraftFromRecords(body.sample(), {body.runs().begin(), body.runs().end()},
                                           caller.user);
    if (!draft) co_return ErrorReply(request, draft.error());
    std::string runs;
    for (const ReportedRun& run : draft->runs())
      runs += fmt::format(" {} v{}", run.run(), run.run_version());
    store::ConformityChange change;
    *change.record.mutable_test_report() = std::move(*draft);
    change.change_key = ChangeKeyOr(body.change_key());
    change.events.push_back(
        Event(caller, "create", fmt::format("draft on sample {}, runs{}", body.sample(), runs)));
    auto saved = co_await SaveRecord(std::move(change));
    if (!saved) co_return ErrorReply(request, saved.error());
    co_return Reply(request, http::status::ok, saved->test_report());
  }

  if (route == "POST /v1/reports/{number}/amendments") {
    ReportAmendment body;
    if (Status parsed = ParseBody(request, body); !parsed.ok())
      co_return ErrorReply(request, parsed);
    auto old = co_await LatestReport(number, 0);
    if (!old) co_return ErrorReply(request, old.error());
    std::vector<std::string> run_ids(body.runs().begin(), body.runs().end());
    if (run_ids.empty()) {
      for (const ReportedRun& run : old->runs()) run_ids.push_back(run.run());
    }
    auto draft = co_await DraftFromRecords(old->sample().code(), std::move(run_ids), caller.user);
    if (!draft)
      co_return ErrorReply(request, draft.error().Annotate(fmt::format("amending {}", number)));
    auto amendment = workflow::AmendReport(*old, std::move(*draft), body.reason());
    if (!amendment) co_return ErrorReply(request, amendment.error());
    store::ConformityChange change;
    *change.record.mutable_test_report() = std::move(*amendment);
    change.change_key = ChangeKeyOr(body.change_key());
    change.events.push_back(Event(caller, "create",
                                  fmt::format("draft amendment of {} version {}: {}", number,
                                              old->version(), body.reason())));
    auto saved = co_await SaveRecord(std::move(change));
    if (!saved) co_return ErrorReply(request, saved.error());
    co_return Reply(request, http::status::ok, saved->test_report());
  }

  // POST /v1/reports/{number}/signatures
  ReportSigning body;
  if (Status parsed = ParseBody(request, body); !parsed.ok()) co_return ErrorReply(request, parsed);
  auto report = co_await LatestReport(number, body.based_on());
  if (!report) co_return ErrorReply(request, report.error());
  if (Status loaded = ReportFormLoaded(); !loaded.ok()) co_return ErrorReply(request, loaded);
  if (!report->replaces().empty()) {
    auto old = co_await LatestReport(report->replaces(), 0);
    if (!old) co_return ErrorReply(request, old.error().Annotate("the report it replaces"));
    if (old->state() != REPORT_STATE_ISSUED) {
      co_return ErrorReply(
          request, FailedPrecondition(fmt::format(
                       "{} replaces {}, which is {}{}: nothing was signed", number, old->number(),
                       ReportState_Name(old->state()),
                       old->superseded_by().empty() ? "" : " by " + old->superseded_by())));
    }
  }
  // Opening the signing key is Argon2id's work: on the accounts thread, one at a time.
  auto issued = co_await asio::co_spawn(
      accounts_, SignReportAsCaller(*report, caller.user, body.password()), asio::use_awaitable);
  if (!issued) {
    if (issued.error().code() == StatusCode::kPermissionDenied) {
      AuditEvent refused = Event(caller, "refuse", "");
      refused.set_entity(fmt::format("test_report:{}", number));
      refused.set_reason(issued.error().message());
      store_.RecordAudit(std::move(refused));
    }
    co_return ErrorReply(request, issued.error());
  }
  // Printed as the version the store gives it, signatures and all, before it is stored:
  // nothing is issued without its document.
  issued->set_version(report->version() + 1);
  auto pdf = co_await asio::co_spawn(printer_, PrintReport(*issued), asio::use_awaitable);
  if (!pdf)
    co_return ErrorReply(request,
                         pdf.error().Annotate("nothing was issued; sign again once this is fixed"));
  issued->set_pdf_sha256(Sha256(*pdf));
  const ElectronicSignature& signature = issued->signatures(issued->signatures_size() - 1);
  store::ConformityChange change;
  change.events.push_back(
      Event(caller, "sign",
            fmt::format("issued on {}, {} by {} ({}): version {}, sha256 {}; PDF sha256 {}",
                        issued->issued_on(), auth::MeaningWord(signature.statement().meaning()),
                        signature.statement().signer_full_name(),
                        signature.statement().signer_user(), signature.statement().record_version(),
                        Hex(signature.statement().record_sha256()), Hex(issued->pdf_sha256()))));
  *change.record.mutable_test_report() = std::move(*issued);
  change.based_on = report->version();
  change.change_key = ChangeKeyOr(body.change_key());
  change.issued_pdf = std::move(*pdf);
  auto saved = co_await SaveRecord(std::move(change));
  if (!saved) co_return ErrorReply(request, saved.error());
  if (!saved->test_report().replaces().empty()) {
    if (Status superseded = co_await Supersede(caller, saved->test_report()); !superseded.ok()) {
      co_return ErrorReply(request, superseded.Annotate(fmt::format("{} was issued, but", number)));
    }
  }
  co_return Reply(request, http::status::ok, saved->test_report());
}

asio::awaitable<Status> ApiServer::Supersede(const auth::Caller& caller, TestReport replacement) {
  // Keyed by the two numbers: a report is superseded once, and a retry stores nothing twice.
  const std::string change_key =
      fmt::format("supersede {} by {}", replacement.replaces(), replacement.number());
  auto old = co_await LatestReport(replacement.replaces(), 0);
  if (!old) co_return old.error();
  auto next = workflow::SupersedeReport(*old, replacement);
  if (!next) co_return next.error();
  store::ConformityChange change;
  change.based_on = old->version();
  change.change_key = change_key;
  change.events.push_back(Event(
      caller, "supersede",
      fmt::format("superseded by {}: {}", replacement.number(), replacement.amendment_reason())));
  *change.record.mutable_test_report() = std::move(*next);
  auto saved = co_await SaveRecord(std::move(change));
  co_return saved ? OkStatus() : saved.error();
}

asio::awaitable<Response> ApiServer::AnswerReportDocument(const Request& request,
                                                          std::string number) {
  const std::string_view target(request.target().data(), request.target().size());
  auto params = ParseQueryString(target);
  if (!params) co_return ErrorReply(request, params.error());
  if (Status known = OnlyKnownParameters(*params, "version, format"); !known.ok())
    co_return ErrorReply(request, known);
  auto version = ParseInteger<uint64_t>(*params, "version");
  if (!version) co_return ErrorReply(request, version.error());
  const std::string format = params->count("format") ? params->at("format") : "json";
  if (format != "json" && format != "html" && format != "pdf") {
    co_return ErrorReply(request,
                         InvalidArgument(fmt::format("format=\"{}\": json, html or pdf", format)));
  }
  if (format != "json") {
    if (Status loaded = ReportFormLoaded(); !loaded.ok()) co_return ErrorReply(request, loaded);
  }
  auto found = co_await asio::co_spawn(queries_, FindReportDocument(number, *version, format),
                                       asio::use_awaitable);
  if (!found) co_return ErrorReply(request, found.error());
  if (!found->record) {
    co_return ErrorReply(
        request, NotFound(fmt::format("there is no test report {}{}", number,
                                      *version ? fmt::format(" version {}", *version) : "")));
  }
  const TestReport& report = found->record->test_report();
  if (format == "json") co_return Reply(request, http::status::ok, report);
  if (format == "html") {
    co_return Document(request, "text/html; charset=utf-8", std::move(found->html),
                       number + ".html");
  }
  if (found->document) {
    co_return Document(request, "application/pdf", std::move(found->document->pdf),
                       number + ".pdf");
  }
  auto pdf = co_await asio::co_spawn(printer_, PrintReport(report), asio::use_awaitable);
  if (!pdf) co_return ErrorReply(request, pdf.error());
  co_return Document(request, "application/pdf", std::move(*pdf),
                     fmt::format("{}-draft.pdf", number));
}

asio::awaitable<Response> ApiServer::AnswerVerification(const Request& request, std::string typed) {
  const std::string code = workflow::NormaliseVerificationCode(typed);
  const Status unknown =
      NotFound(fmt::format("no issued report has the verification code {}: check it against the "
                           "code printed under the QR "
                           "code (12 letters and digits)",
                           code.empty() ? typed.substr(0, 40) : code));
  if (code.empty()) co_return ErrorReply(request, unknown);
  auto answer = co_await asio::co_spawn(queries_, ResolveCode(code, unknown), asio::use_awaitable);
  if (!answer) co_return ErrorReply(request, answer.error());
  co_return Reply(request, http::status::ok, *answer);
}

}  // namespace labtrace::api
