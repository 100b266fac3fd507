#include "cli/metrology_commands.h"

#include <cmath>
#include <cstdio>

#include <fmt/format.h>
#include <google/protobuf/util/json_util.h>

#include "config/proto_file.h"
#include "metrology/decision.h"
#include "metrology/mpe.h"
#include "metrology/uncertainty.h"

namespace labtrace::cli {

namespace {

void PrintJson(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  options.always_print_primitive_fields = true;
  std::string json;
  (void)google::protobuf::util::MessageToJsonString(message, &json, options);
  std::puts(json.c_str());
}

int Fail(const Status& status, int code = 2) {
  std::fprintf(stderr, "labtrace: %s\n", status.message().c_str());
  return code;
}

std::string Nu(double nu) { return std::isinf(nu) ? "∞" : fmt::format("{:g}", nu); }

}  // namespace

int UncertaintyCommand(const std::string& budget_path, bool json) {
  metrology::UncertaintyBudget budget;
  if (Status read = config::ReadProtoFile(budget_path, budget); !read.ok()) return Fail(read);
  auto result = metrology::EvaluateBudget(budget);
  if (!result) return Fail(result.error().Annotate(budget_path));
  if (json) {
    PrintJson(*result);
    return 0;
  }
  // A unit of "1" (dimensionless) is not written after numbers.
  auto with_unit = [](std::string number, const std::string& unit) {
    return unit == "1" ? number : number + " " + unit;
  };
  const std::string& ru = result->report_unit();
  fmt::print("{}{}\n\n", budget.name(), budget.measurand().empty() ? "" : " — " + budget.measurand());
  fmt::print("{:<10} {:>20} {:>14} {:>8} {:>14} {:>5} {:>7}\n", "component", "estimate", "u(x_i)", "c_i",
             "|c_i|·u(x_i)", "ν_i", "share");
  for (const auto& row : result->contributions()) {
    fmt::print("{:<10} {:>20} {:>14} {:>8} {:>14} {:>5} {:>6.1f}%\n", row.symbol(),
               with_unit(fmt::format("{:.10g}", row.estimate()), result->unit()),
               with_unit(fmt::format("{:.4g}", row.standard_uncertainty()), ru), fmt::format("{:g}", row.sensitivity()),
               with_unit(fmt::format("{:.4g}", row.contribution()), ru), Nu(row.degrees_of_freedom()),
               row.variance_percent());
  }
  fmt::print("\nu_c   = {}\n", with_unit(fmt::format("{:.4g}", result->combined_standard_uncertainty()), ru));
  fmt::print("ν_eff = {}\n", Nu(result->effective_degrees_of_freedom()));
  fmt::print("k     = {:.4f} (p = {:.2f} %)\n", result->coverage_factor(), 100 * result->coverage_probability());
  fmt::print("U     = {}, reported as {}\n", with_unit(fmt::format("{:.4g}", result->expanded_uncertainty()), ru),
             with_unit(fmt::format("{:g}", result->expanded_uncertainty_rounded()), ru));
  std::fflush(stdout);
  std::printf("\nresult: %s\n", result->statement().c_str());
  return 0;
}

int DecideCommand(const DecideOptions& o) {
  auto rule = metrology::ParseDecisionRule(o.rule);
  if (!rule) return Fail(rule.error());
  rule->set_limits_inclusive(!o.exclusive);
  auto decision = metrology::Decide(o.value, o.u, o.k * o.u, {o.lower, o.upper}, *rule);
  if (!decision) return Fail(decision.error());
  if (o.json) {
    PrintJson(*decision);
    return 0;
  }
  std::printf("statement: %s\n", metrology::StatementWords(decision->statement()).c_str());
  std::printf("rule: %s, w = %g, limits %s\n", o.rule.c_str(), decision->guard_band(),
              o.exclusive ? "exclusive" : "inclusive");
  std::printf("acceptance zone: %s .. %s\n",
              o.lower ? fmt::format("{:g}", decision->lower_acceptance_limit()).c_str() : "-∞",
              o.upper ? fmt::format("{:g}", decision->upper_acceptance_limit()).c_str() : "+∞");
  std::printf("P(true value outside tolerance) = %.4f (below %.4f, above %.4f)\n", decision->probability_outside(),
              decision->probability_below_lower(), decision->probability_above_upper());
  std::printf("false accept risk = %.4f, false reject risk = %.4f\n", decision->false_accept_probability(),
              decision->false_reject_probability());
  return 0;
}

int MpeCommand(const MpeOptions& o) {
  metrology::MpeTables tables;
  if (Status read = config::ReadProtoFile(o.tables_path, tables); !read.ok()) return Fail(read);
  const metrology::MpeTable* table = metrology::FindMpeTable(tables, o.table);
  if (table == nullptr) return Fail(NotFound(fmt::format("{}: no MPE table named \"{}\"", o.tables_path, o.table)));
  Result<double> mpe = table->bands().empty()
                           ? metrology::MeterMpe(*table, o.load, o.resolution)
                           : metrology::BandMpe(*table, o.load, o.e,
                                                o.in_service ? metrology::VerificationStage::kInService
                                                             : metrology::VerificationStage::kVerification);
  if (!mpe) return Fail(mpe.error());
  if (o.json) {
    std::printf("{\"table\":\"%s\",\"load\":%.17g,\"mpe\":%.17g,\"in_service\":%s}\n", o.table.c_str(), o.load,
                *mpe, o.in_service ? "true" : "false");
    return 0;
  }
  std::printf("%s at %g: MPE ±%g%s\n", o.table.c_str(), o.load, *mpe, o.in_service ? " (in service)" : "");
  return 0;
}

}  // namespace labtrace::cli
