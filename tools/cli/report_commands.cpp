#include "cli/report_commands.h"

#include <fmt/format.h>
#include <google/protobuf/util/json_util.h>
#include <sodium.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "cli/http_client.h"
#include "cli/readings_commands.h"
#include "cli/terminal.h"
#include "cli/time_text.h"
#include "labtrace/api.pb.h"

namespace labtrace::cli {

namespace {

// Exit code of `report verify` when the report no longer stands (superseded or revoked).
constexpr int kReportNotValid = 3;

// Everything the commands' options fill in; one per program run.
struct Options {
  std::string server = DefaultServer();
  bool json = false;
  std::string number, sample, reason, html_file, pdf_file, code;
  std::vector<std::string> runs;
  bool password_stdin = false;
};

std::string ToJson(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  std::string json;
  (void)google::protobuf::util::MessageToJsonString(message, &json, options);
  return json;
}

// A fresh key per command: the daemon stores a change once however often it is sent.
std::string ChangeKey() {
  unsigned char bytes[16];
  randombytes_buf(bytes, sizeof bytes);
  std::string key = "cli-";
  for (unsigned char b : bytes) key += fmt::format("{:02x}", b);
  return key;
}

std::string Hex(std::string_view bytes) {
  std::string hex;
  for (unsigned char b : bytes) hex += fmt::format("{:02x}", b);
  return hex;
}

std::string Statement(metrology::Statement statement) {
  switch (statement) {
    case metrology::PASS:
      return "PASS (đạt)";
    case metrology::CONDITIONAL_PASS:
      return "CONDITIONAL PASS";
    case metrology::CONDITIONAL_FAIL:
      return "CONDITIONAL FAIL";
    case metrology::FAIL:
      return "FAIL (không đạt)";
    default:
      return "-";
  }
}

void PrintReport(const TestReport& report) {
  std::printf(
      "%s version %llu  %s%s  sample %s\n", report.number().c_str(),
      static_cast<unsigned long long>(report.version()), ReportState_Name(report.state()).c_str(),
      report.issued_on().empty() ? "" : fmt::format("  issued {}", report.issued_on()).c_str(),
      report.sample().code().c_str());
  std::printf("  customer  %s  %s\n", report.customer().id().c_str(),
              report.customer().name().c_str());
  std::printf("  product   %s  %s\n", report.product().id().c_str(),
              report.product().name().c_str());
  for (const ReportedRun& run : report.runs()) {
    std::printf("  run       %s v%llu  %s v%u (%s), tested %s\n", run.run().c_str(),
                static_cast<unsigned long long>(run.run_version()), run.method().id().c_str(),
                run.method().version(), run.method().standard().c_str(), run.tested_on().c_str());
    for (const TestResult& result : run.results()) {
      const auto& budget = result.budget();
      std::printf(
          "    RESULT %s: %.*f %s, U = %g %s (k = %.2f)  %s\n", result.characteristic_vi().c_str(),
          static_cast<int>(run.method().result_decimals()), result.value(), result.unit().c_str(),
          budget.expanded_uncertainty_rounded(), budget.report_unit().c_str(),
          budget.coverage_factor(), Statement(result.decision().statement()).c_str());
    }
  }
  for (const ElectronicSignature& signature : report.signatures()) {
    const auto& s = signature.statement();
    std::printf("  SIGNED %s by %s (%s) at %s\n",
                s.meaning() == SIGNATURE_MEANING_APPROVED ? "approved" : "reviewed",
                s.signer_full_name().c_str(), s.signer_user().c_str(),
                FormatUtc(s.signed_at_ns()).c_str());
  }
  if (!report.replaces().empty()) {
    std::printf("  replaces %s: %s\n", report.replaces().c_str(),
                report.amendment_reason().c_str());
  }
  if (!report.superseded_by().empty())
    std::printf("  superseded by %s\n", report.superseded_by().c_str());
  std::printf("  verification code %s\n", report.verification_code().c_str());
  if (!report.pdf_sha256().empty())
    std::printf("  issued PDF sha256 %s\n", Hex(report.pdf_sha256()).c_str());
}

int PostReport(const Options& o, const std::string& path, const google::protobuf::Message& body) {
  TestReport report;
  std::string json;
  if (int code = ReadAnswer(o.server, HttpPost(o.server, path, ToJson(body)), report, &json);
      code != 0)
    return code;
  if (o.json) {
    std::puts(json.c_str());
  } else {
    PrintReport(report);
  }
  return 0;
}

// Writes the report as HTML or PDF to `file`, as the daemon gives it.
int SaveDocument(const Options& o, const std::string& format, const std::string& file) {
  const std::string target =
      fmt::format("/v1/reports/{}?format={}", PercentEncode(o.number), format);
  auto reply = HttpGet(o.server, target);
  if (!reply || reply->status != 200) {
    api::ErrorResponse unused;
    return ReadAnswer(o.server, reply, unused);
  }
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  out << reply->body;
  out.close();
  if (!out) {
    std::fprintf(stderr, "labtrace report show: cannot write %s\n", file.c_str());
    return 1;
  }
  unsigned char hash[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(hash, reinterpret_cast<const unsigned char*>(reply->body.data()),
                     reply->body.size());
  std::printf("%s: %s, %zu bytes, sha256 %s\n", o.number.c_str(), file.c_str(), reply->body.size(),
              Hex({reinterpret_cast<const char*>(hash), sizeof hash}).c_str());
  return 0;
}

int Sign(const Options& o) {
  // The password again, as a signature requires (21 CFR Part 11 §11.200).
  std::optional<std::string> password;
  if (o.password_stdin) {
    password = ReadLine();
  } else if (::isatty(STDIN_FILENO)) {
    password = AskWithoutEcho(fmt::format("Signing and issuing {}. Password: ", o.number));
  } else {
    std::fputs(
        "labtrace report sign: stdin is not a terminal; give the password with --password-stdin\n",
        stderr);
    return 2;
  }
  if (!password || password->empty()) {
    std::fputs("labtrace report sign: no password was given; nothing was signed\n", stderr);
    return 2;
  }
  api::ReportSigning signing;
  signing.set_password(*password);
  signing.set_change_key(ChangeKey());
  if (!o.json) std::fputs("signing, and printing the report to PDF…\n", stderr);
  return PostReport(o, "/v1/reports/" + PercentEncode(o.number) + "/signatures", signing);
}

int Verify(const Options& o) {
  // A public question: asked without the logged-in user's token, as anyone would ask it.
  api::ReportVerification answer;
  std::string json;
  const auto reply = HttpGet(o.server, "/v1/verify/" + PercentEncode(o.code), "");
  if (int code = ReadAnswer(o.server, reply, answer, &json); code != 0) return code;
  if (o.json) {
    std::puts(json.c_str());
  } else if (answer.state() == "superseded") {
    std::printf("%s: superseded by %s\n", answer.number().c_str(), answer.replaced_by().c_str());
  } else {
    std::printf("%s: %s\n", answer.number().c_str(), answer.state().c_str());
  }
  return answer.state() == "valid" ? 0 : kReportNotValid;
}

}  // namespace

std::function<std::optional<int>()> AddReportCommands(CLI::App& app) {
  auto o = std::make_shared<Options>();
  std::vector<std::pair<CLI::App*, std::function<int()>>> commands;
  auto common = [&o](CLI::App* command) {
    command->add_option("--server", o->server, "daemon API URL (env LABTRACE_SERVER)")
        ->capture_default_str();
    command->add_flag("--json", o->json, "print the API's JSON answer");
    return command;
  };

  auto* report = app.add_subcommand(
      "report", "test reports (phiếu kết quả thử nghiệm): draft, sign, show, verify");
  report->require_subcommand(1);
  auto* draft =
      common(report->add_subcommand("draft", "draft a report on a sample from its approved runs"));
  draft->add_option("--sample", o->sample, "the sample's code (M-…)")->required();
  draft->add_option("--run", o->runs, "an approved run of the sample (TN-…); once per run")
      ->required();
  commands.emplace_back(draft, [o] {
    api::ReportDraft body;
    body.set_sample(o->sample);
    for (const std::string& run : o->runs) body.add_runs(run);
    body.set_change_key(ChangeKey());
    return PostReport(*o, "/v1/reports", body);
  });

  auto* sign =
      common(report->add_subcommand("sign", "sign and issue a draft report (within one's scope)"));
  sign->add_option("NUMBER", o->number, "the report's number (PKQ-…)")->required();
  sign->add_flag("--password-stdin", o->password_stdin, "read the password from stdin");
  commands.emplace_back(sign, [o] { return Sign(*o); });

  auto* show =
      common(report->add_subcommand("show", "a report; or save it as HTML, or its issued PDF"));
  show->add_option("NUMBER", o->number, "the report's number")->required();
  auto* html = show->add_option("--html", o->html_file, "write the report as HTML to this file");
  show->add_option("--pdf", o->pdf_file, "write the PDF (the issued one, once issued) to this file")
      ->excludes(html);
  commands.emplace_back(show, [o] {
    if (!o->html_file.empty()) return SaveDocument(*o, "html", o->html_file);
    if (!o->pdf_file.empty()) return SaveDocument(*o, "pdf", o->pdf_file);
    TestReport report;
    std::string json;
    if (int code =
            CallApi(o->server, "/v1/reports/" + PercentEncode(o->number), nullptr, report, &json);
        code != 0) {
      return code;
    }
    if (o->json) {
      std::puts(json.c_str());
    } else {
      PrintReport(report);
    }
    return 0;
  });

  auto* amend =
      common(report->add_subcommand("amend", "draft an amendment that replaces an issued report"));
  amend->add_option("NUMBER", o->number, "the issued report's number")->required();
  amend->add_option("--reason", o->reason, "why it is amended; printed on the new report")
      ->required();
  amend->add_option("--run", o->runs,
                    "the runs it carries (default: those of the report it replaces)");
  commands.emplace_back(amend, [o] {
    api::ReportAmendment body;
    body.set_reason(o->reason);
    for (const std::string& run : o->runs) body.add_runs(run);
    body.set_change_key(ChangeKey());
    return PostReport(*o, "/v1/reports/" + PercentEncode(o->number) + "/amendments", body);
  });

  auto* verify = common(report->add_subcommand("verify",
                                               "whether a report's verification code stands: valid "
                                               "(exit 0), superseded or revoked (exit 3)"));
  verify->add_option("CODE", o->code, "the code printed under the report's QR code")->required();
  commands.emplace_back(verify, [o] { return Verify(*o); });

  return [commands = std::move(commands)]() -> std::optional<int> {
    for (const auto& [command, run] : commands) {
      if (command->parsed()) return run();
    }
    return std::nullopt;
  };
}

}  // namespace labtrace::cli
