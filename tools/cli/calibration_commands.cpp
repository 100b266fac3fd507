#include "cli/calibration_commands.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include <fmt/format.h>
#include <google/protobuf/util/json_util.h>

#include "cli/http_client.h"
#include "cli/time_text.h"
#include "config/proto_file.h"
#include "labtrace/api.pb.h"
#include "metrology/units.h"

namespace labtrace::cli {

namespace {

std::string Words(std::string name) {
  for (char& c : name) c = static_cast<char>(c == '_' ? ' ' : std::tolower(static_cast<unsigned char>(c)));
  return name;
}

std::string StatementText(metrology::Statement statement) {
  return statement == metrology::STATEMENT_UNSPECIFIED ? "-" : Words(metrology::Statement_Name(statement));
}

std::string RuleText(const metrology::DecisionRule& rule) {
  std::string text = Words(metrology::DecisionRuleKind_Name(rule.kind()));
  if (rule.kind() != metrology::SIMPLE_ACCEPTANCE && rule.kind() != metrology::DECISION_RULE_UNSPECIFIED) {
    text += fmt::format(" (w = {:g}·U)", rule.has_guard_factor() ? rule.guard_factor() : 1.0);
  }
  return text + (rule.limits_inclusive() ? ", a value on a limit is inside it" : ", a value on a limit is outside it");
}

void PrintChain(const api::TraceChain& chain) {
  std::printf("  %s\n", chain.subject().c_str());
  for (int i = 0; i < chain.links_size(); ++i) {
    const api::ChainLink& link = chain.links(i);
    std::string line = fmt::format("    {}{}", i == 0 ? "" : "← ", link.id());
    if (link.level() != config::STANDARD_LEVEL_UNSPECIFIED) line += " [" + Words(config::StandardLevel_Name(link.level())) + "]";
    if (!link.description().empty()) line += "  " + link.description();
    if (!link.certificate().empty()) line += fmt::format("; certificate {}", link.certificate());
    if (!link.issuer().empty()) line += fmt::format(" by {}", link.issuer());
    if (!link.valid_until().empty()) line += fmt::format(", valid until {}", link.valid_until());
    std::printf("%s\n", line.c_str());
  }
  if (chain.complete()) {
    std::printf("    complete: traceable to a national or international standard\n");
  } else {
    std::printf("    INCOMPLETE: %s\n", chain.problem().c_str());
  }
}

void PrintRecord(const CalibrationRecord& record) {
  const bool verification = record.kind() == config::VERIFICATION;
  const UnitUnderTest& uut = record.unit_under_test();
  std::printf("%s %s\n", verification ? "VERIFICATION RECORD" : "CALIBRATION RECORD",
              record.certificate_number().empty() ? "(preview, not stored)" : record.certificate_number().c_str());
  std::printf("%-17s %s — %s\n", "Procedure", record.procedure().c_str(), record.procedure_title().c_str());
  if (verification) std::printf("%-17s %s\n", "Mode", Words(VerificationMode_Name(record.mode())).c_str());
  std::printf("%-17s %s — %s %s, serial %s%s\n", "Unit under test", uut.id().c_str(), uut.manufacturer().c_str(),
              uut.model().c_str(), uut.serial_number().empty() ? "-" : uut.serial_number().c_str(),
              uut.accuracy_class().empty() ? "" : (", class " + uut.accuracy_class()).c_str());
  if (uut.max_capacity() > 0) {
    std::printf("%-17s Max %g %s, e = %g %s, d = %g %s\n", "", uut.max_capacity(), uut.unit().c_str(),
                uut.verification_interval_e(), uut.unit().c_str(), uut.indication_interval_d(), uut.unit().c_str());
  }
  if (!uut.owner().empty()) std::printf("%-17s %s\n", "Owner", uut.owner().c_str());
  // The lab's date first (the certificate's date), then the instant the record keeps.
  const std::string performed = record.performed_on().empty()
                                    ? FormatUtc(record.performed_at_ns())
                                    : record.performed_on() + " (" + FormatUtc(record.performed_at_ns()) + ")";
  std::printf("%-17s %s by %s\n", "Performed", performed.c_str(), record.performed_by().c_str());
  for (const EnvironmentCondition& condition : record.environment()) {
    std::string source = condition.source();
    if (condition.reading_sequence() != 0) source += fmt::format(", reading {}", condition.reading_sequence());
    std::printf("%-17s %s %g %s (%s)\n", &condition == &record.environment(0) ? "Conditions" : "",
                condition.quantity().c_str(), condition.value(), condition.unit().c_str(), source.c_str());
  }
  for (const StandardUsed& standard : record.standards()) {
    std::printf("%-17s %s %s; certificate %s by %s, valid until %s\n",
                &standard == &record.standards(0) ? "Standards" : "", standard.id().c_str(),
                standard.description().c_str(), standard.certificate().c_str(), standard.issuer().c_str(),
                standard.valid_until().c_str());
    for (const auto& value : standard.values()) {
      std::printf("%-17s   %g %s: correction %+g %s, U = %g %s (k = %g)\n", "", value.nominal(), value.unit().c_str(),
                  value.correction(), value.unit().c_str(), value.expanded_uncertainty(), value.unit().c_str(),
                  value.coverage_factor() == 0 ? 2.0 : value.coverage_factor());
    }
    if (!standard.override_approved_by().empty()) {
      std::printf("%-17s   used past its validity, approved by %s: %s\n", "", standard.override_approved_by().c_str(),
                  standard.override_reason().c_str());
    }
  }
  if (!record.mpe_table().empty()) {
    std::printf("%-17s %s; MPE from %s (%s)\n", "Decision rule", RuleText(record.decision_rule()).c_str(),
                record.mpe_table().c_str(), record.in_service() ? "in service" : "verification");
  }
  // Errors, MPE and U in the unit a certificate states them in (g for a kilogram scale
  // read to 1 g); indications with the decimals of d.
  const double d = uut.indication_interval_d();
  const int decimals = d > 0 ? std::max(0, static_cast<int>(std::ceil(-std::log10(d) - 1e-9))) : 6;
  std::string small = uut.unit().empty() ? "" : std::string(metrology::UnitForDifference(uut.unit(), d));
  std::printf("\n%-9s %10s %12s %12s %12s %10s %14s  %-16s %s\n", "PHASE", "NOMINAL", "REFERENCE", "INDICATION",
              ("ERROR/" + small).c_str(), ("MPE/" + small).c_str(), ("U/" + small + " (k)").c_str(), "STATEMENT",
              "READING");
  for (const CalibrationPoint& point : record.points()) {
    const auto& budget = point.budget();
    const auto in_small = [&](double difference) {
      return metrology::ConvertDifference(difference, point.unit(), small).value_or(difference);
    };
    const int point_decimals =
        decimals + static_cast<int>(std::lround(std::log10(metrology::ConvertDifference(1, uut.unit(), point.unit())
                                                               .value_or(1))));
    std::printf("%-9s %10s %12s %12s %12s %10s %14s  %-16s %s\n", point.phase() == AS_LEFT ? "as left" : "as found",
                fmt::format("{:g} {}", point.nominal(), point.unit()).c_str(),
                fmt::format("{:.10g}", point.reference_value()).c_str(),
                fmt::format("{:.{}f}", point.indication(), std::max(0, point_decimals)).c_str(),
                fmt::format("{:+.6g}", in_small(point.error())).c_str(),
                point.mpe() > 0 ? fmt::format("±{:g}", in_small(point.mpe())).c_str() : "-",
                fmt::format("{:g} ({:.2f})", in_small(budget.expanded_uncertainty_rounded()), budget.coverage_factor())
                    .c_str(),
                StatementText(point.decision().statement()).c_str(),
                point.reading_sequence() != 0 ? std::to_string(point.reading_sequence()).c_str() : "typed in");
  }
  std::printf("\n%-17s %s\n", "VERDICT", StatementText(record.verdict()).c_str());
  if (verification) {
    if (!record.stamp_number().empty()) {
      std::printf("%-17s %s\n%-17s %s\n", "Stamp / seal", record.stamp_number().c_str(), "Valid until",
                  record.next_due_date().c_str());
    } else {
      std::printf("%-17s none: the instrument did not pass; issue a rejection notice\n", "Stamp / seal");
    }
  }
  if (!record.comment().empty()) std::printf("%-17s %s\n", "Comment", record.comment().c_str());
}

}  // namespace

int CalibrationSubmitCommand(const std::string& server, const std::string& request_path, bool preview, bool json) {
  api::CalibrationRequest request;
  if (Status read = config::ReadProtoFile(request_path, request); !read.ok()) {
    std::fprintf(stderr, "%s\n", read.message().c_str());
    return 2;
  }
  std::string body;
  (void)google::protobuf::util::MessageToJsonString(request, &body);
  std::string answer_json;
  if (preview) {
    CalibrationRecord record;
    if (int code = CallApi(server, "/v1/calibrations?preview=true", &body, record, &answer_json); code != 0) return code;
    if (json) {
      std::fputs(answer_json.c_str(), stdout);
    } else {
      PrintRecord(record);
    }
    return 0;
  }
  api::CalibrationReceipt receipt;
  if (int code = CallApi(server, "/v1/calibrations", &body, receipt, &answer_json); code != 0) return code;
  if (json) {
    std::fputs(answer_json.c_str(), stdout);
  } else {
    std::printf("%s: %s%s (record %llu)\n", receipt.certificate_number().c_str(),
                StatementText(receipt.verdict()).c_str(), receipt.replayed() ? ", stored before" : "",
                static_cast<unsigned long long>(receipt.record_id()));
  }
  return 0;
}

int CalibrationReportCommand(const std::string& server, const std::string& number, bool json) {
  api::CalibrationReport report;
  std::string answer_json;
  if (int code = CallApi(server, "/v1/calibrations/" + PercentEncode(number), nullptr, report, &answer_json);
      code != 0) {
    return code;
  }
  if (json) {
    std::fputs(answer_json.c_str(), stdout);
    return 0;
  }
  PrintRecord(report.record());
  std::printf("\nTraceability\n");
  for (const api::TraceChain& chain : report.chains()) PrintChain(chain);
  if (report.chains().empty()) std::printf("  no reference standard was used\n");
  return 0;
}

int TraceChainCommand(const std::string& server, const ChainOptions& options) {
  std::string target;
  if (options.reading != 0) target = fmt::format("/v1/trace/chain?reading={}", options.reading);
  if (!options.instrument.empty()) target = "/v1/trace/chain?instrument=" + PercentEncode(options.instrument);
  if (!options.standard.empty()) target = "/v1/trace/chain?standard=" + PercentEncode(options.standard);
  if (target.empty()) {
    std::fprintf(stderr, "labtrace trace chain: give --reading, --instrument or --standard\n");
    return 2;
  }
  api::TraceChain chain;
  std::string answer_json;
  if (int code = CallApi(server, target, nullptr, chain, &answer_json); code != 0) return code;
  if (options.json) {
    std::fputs(answer_json.c_str(), stdout);
  } else {
    PrintChain(chain);
  }
  return chain.complete() ? 0 : 1;
}

int TraceReverseCommand(const std::string& server, const std::string& id, const std::string& certificate,
                        const std::string& since, bool json) {
  std::string target = "/v1/trace/reverse?id=" + PercentEncode(id);
  if (!certificate.empty()) target += "&certificate=" + PercentEncode(certificate);
  if (!since.empty()) target += "&since=" + PercentEncode(since);
  api::ReverseTrace trace;
  std::string answer_json;
  if (int code = CallApi(server, target, nullptr, trace, &answer_json); code != 0) return code;
  if (json) {
    std::fputs(answer_json.c_str(), stdout);
    return 0;
  }
  std::printf("Used %s under certificate %s%s:\n", trace.standard().c_str(), trace.certificate().c_str(),
              trace.since().empty() ? "" : (" since " + trace.since()).c_str());
  std::printf("\n%-15s %-24s %-16s %-10s %s\n", "RECORD", "PERFORMED (UTC)", "UNIT UNDER TEST", "VERDICT", "VIA");
  for (const api::AffectedRecord& record : trace.records()) {
    std::printf("%-15s %-24s %-16s %-10s %s\n", record.certificate_number().c_str(),
                FormatUtc(record.performed_at_ns()).c_str(), record.unit_under_test().c_str(),
                StatementText(record.verdict()).c_str(), record.via().c_str());
  }
  if (trace.records().empty()) std::printf("(no calibration or verification record)\n");
  std::printf("\n%-16s %-18s %s\n", "EQUIPMENT", "CERTIFICATE", "VIA (withdraw and recalibrate)");
  for (const api::AffectedEquipment& item : trace.equipment()) {
    std::printf("%-16s %-18s %s\n", item.id().c_str(), item.certificate().c_str(), item.via().c_str());
  }
  if (trace.equipment().empty()) std::printf("(none of the lab's standards or instruments)\n");
  std::printf("\n%-16s %-14s %-18s %10s  %s\n", "INSTRUMENT", "CHANNEL", "CERTIFICATE", "READINGS", "SEQUENCES");
  for (const api::AffectedReadings& group : trace.readings()) {
    std::printf("%-16s %-14s %-18s %10llu  %llu..%llu (%s .. %s)\n", group.instrument().c_str(),
                group.channel().c_str(), group.certificate().c_str(), static_cast<unsigned long long>(group.count()),
                static_cast<unsigned long long>(group.first_sequence()),
                static_cast<unsigned long long>(group.last_sequence()), FormatUtc(group.first_at_ns()).c_str(),
                FormatUtc(group.last_at_ns()).c_str());
  }
  if (trace.readings().empty()) std::printf("(no readings)\n");
  return 0;
}

}  // namespace labtrace::cli
