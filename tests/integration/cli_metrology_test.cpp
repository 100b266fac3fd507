// W1–W4 of ../shared/DOMAIN.md through the `labtrace` command line, as a metrologist
// would type them, checked against the published digits.
#include <cmath>

#include <fmt/format.h>
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>

#include "labtrace/api.pb.h"
#include "labtrace/config.pb.h"
#include "labtrace/metrology.pb.h"
#include "support/child_process.h"
#include "support/labtrace_cli.h"

namespace labtrace {
namespace {

using testing::ChildProcess;
using testing::Labtrace;
using testing::ParseJson;
using namespace std::chrono_literals;

double At(double value, int decimals) {
  const double scale = std::pow(10.0, decimals);
  return std::round(value * scale) / scale;
}

TEST(CliMetrology, W1ThroughUncertainty) {
  const std::string table = Labtrace({"uncertainty", LABTRACE_EXAMPLES "/w1-mass-10kg.textproto"});
  EXPECT_NE(table.find("u_c   = 29.26 mg"), std::string::npos) << table;
  EXPECT_NE(table.find("U     = 58.52 mg, reported as 59 mg"), std::string::npos) << table;
  EXPECT_NE(table.find("result: 10000.025 g ± 59 mg (k = 2.00, p = 95.45 %)"), std::string::npos) << table;

  const auto result = ParseJson<metrology::BudgetResult>(
      Labtrace({"uncertainty", LABTRACE_EXAMPLES "/w1-mass-10kg.textproto", "--json"}));
  EXPECT_EQ(At(result.combined_standard_uncertainty(), 2), 29.26);
  EXPECT_EQ(At(result.expanded_uncertainty(), 1), 58.5);
  EXPECT_EQ(result.expanded_uncertainty_rounded(), 59);
  EXPECT_EQ(result.estimate_rounded(), 10000.025);
}

TEST(CliMetrology, W2ThroughUncertaintyFromJson) {
  const auto result = ParseJson<metrology::BudgetResult>(
      Labtrace({"uncertainty", LABTRACE_EXAMPLES "/w2-welch-satterthwaite.json", "--json"}));
  EXPECT_EQ(At(result.combined_standard_uncertainty(), 4), 0.5831);
  EXPECT_EQ(result.effective_degrees_of_freedom(), 7);
  EXPECT_EQ(At(result.coverage_factor(), 4), 2.3646);
  EXPECT_EQ(At(result.expanded_uncertainty(), 3), 1.379);
}

TEST(CliMetrology, W3ThroughMpe) {
  struct Row {
    const char* load_g;
    double verification_g, in_service_g;
  };
  for (const Row& row : {Row{"5000", 5, 10}, Row{"5010", 10, 20}, Row{"20000", 10, 20}, Row{"30000", 15, 30}}) {
    const std::vector<std::string> args{"mpe", "--tables", LABTRACE_PROCEDURES "/mpe-tables.textproto", "--table",
                                        "oiml-r76-class-III", "--e", "10", "--load", row.load_g};
    // The whole answer, line for line: "MPE ±5" is also the start of "MPE ±50".
    EXPECT_EQ(Labtrace(args), fmt::format("oiml-r76-class-III at {}: MPE ±{:g}\n", row.load_g, row.verification_g));
    auto in_service = args;
    in_service.push_back("--in-service");
    EXPECT_EQ(Labtrace(in_service),
              fmt::format("oiml-r76-class-III at {}: MPE ±{:g} (in service)\n", row.load_g, row.in_service_g));
  }
}

TEST(CliMetrology, W4ThroughDecideForEveryRule) {
  struct Row {
    const char* error_g;
    const char *simple, *guarded, *nonbinary;
    double p_above;
  };
  const Row rows[] = {
      {"5", "pass", "pass", "pass", 0.0062},
      {"6", "pass", "pass", "pass", 0.0228},
      {"9", "pass", "fail", "conditional pass", 0.3085},
      {"10", "pass", "fail", "conditional pass", 0.5000},
      {"12", "fail", "fail", "conditional fail", 0.8413},
      {"15", "fail", "fail", "fail", 0.9938},
  };
  for (const Row& row : rows) {
    for (auto [rule, statement] : {std::pair{"simple", row.simple}, std::pair{"guarded", row.guarded},
                                   std::pair{"nonbinary", row.nonbinary}}) {
      const std::string out =
          Labtrace({"decide", "--value", row.error_g, "--u", "2", "--lower", "-10", "--upper", "10", "--rule", rule});
      EXPECT_EQ(out.substr(0, out.find('\n')), std::string("statement: ") + statement)
          << "+" << row.error_g << " g, " << rule;
      const auto decision = ParseJson<metrology::Decision>(Labtrace(
          {"decide", "--value", row.error_g, "--u", "2", "--lower", "-10", "--upper", "10", "--rule", rule, "--json"}));
      EXPECT_EQ(At(decision.probability_above_upper(), 4), row.p_above) << "+" << row.error_g << " g, " << rule;
    }
  }
}

TEST(CliMetrology, BadInputIsRefusedWithExitCode2) {
  EXPECT_NE(Labtrace({"decide", "--value", "1", "--u", "2", "--rule", "guarded"}, 2).find("at least one limit"),
            std::string::npos);
  EXPECT_NE(Labtrace({"uncertainty", "/nonexistent.textproto"}, 2).find("cannot open"), std::string::npos);
}

}  // namespace
}  // namespace labtrace

namespace labtrace {
namespace {

TEST(CliJson, ConfigCheckPrintsTheLabAsLoadedOrTheError) {
  const auto lab = testing::ParseJson<config::Lab>(testing::Labtrace({"config", "check", LABTRACE_DEMO_LAB, "--json"}));
  EXPECT_EQ(lab.instruments_size(), 7);
  EXPECT_GE(lab.mpe_tables_size(), 4);  // merged from procedures/mpe-tables.textproto
  EXPECT_EQ(lab.instruments(0).timeout_ms(), 500u);
  const auto error = testing::ParseJson<api::ErrorResponse>(testing::Labtrace(
      {"config", "check", LABTRACE_CONFIG_CASES "/unknown_traced_to/lab.textproto", "--json"}, 2));
  EXPECT_NE(error.error().find("traced_to: \"E2-SET-1\" is not the id"), std::string::npos) << error.error();
}

}  // namespace
}  // namespace labtrace
