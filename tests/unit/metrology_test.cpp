// Worked examples W1–W4 of ../shared/DOMAIN.md, to the digits published there. The
// expected numbers are typed from the published examples, never taken from this code.
#include <cmath>

#include <gtest/gtest.h>
#include <google/protobuf/text_format.h>

#include "config/proto_file.h"
#include "metrology/decision.h"
#include "metrology/mpe.h"
#include "metrology/uncertainty.h"
#include "metrology/units.h"

namespace labtrace::metrology {
namespace {

// Rounds to `decimals` places, as the published tables print.
double At(double value, int decimals) {
  const double scale = std::pow(10.0, decimals);
  return std::round(value * scale) / scale;
}

TEST(UncertaintyBudget, W1_EA4_02_S1_MassOfA10kgWeight) {
  UncertaintyBudget budget;
  ASSERT_TRUE(config::ReadProtoFile(LABTRACE_EXAMPLES "/w1-mass-10kg.textproto", budget).ok());
  auto result = EvaluateBudget(budget);
  ASSERT_TRUE(result.has_value()) << result.error().message();
  ASSERT_EQ(result->contributions_size(), 5);
  // Standard uncertainties, mg: 22.5, 8.66, 14.43, 5.77, 5.77.
  EXPECT_EQ(At(result->contributions(0).standard_uncertainty(), 1), 22.5);
  EXPECT_EQ(At(result->contributions(1).standard_uncertainty(), 2), 8.66);
  EXPECT_EQ(At(result->contributions(2).standard_uncertainty(), 2), 14.43);
  EXPECT_EQ(At(result->contributions(3).standard_uncertainty(), 2), 5.77);
  EXPECT_EQ(At(result->contributions(4).standard_uncertainty(), 2), 5.77);
  // m_X = 10 000.025 g, u = 29.26 mg, U = 58.5 mg (k = 2), reported as 59 mg.
  EXPECT_EQ(At(result->estimate(), 3), 10000.025);
  EXPECT_EQ(At(result->combined_standard_uncertainty(), 2), 29.26);
  EXPECT_EQ(At(result->coverage_factor(), 2), 2.00);
  EXPECT_EQ(At(result->expanded_uncertainty(), 1), 58.5);
  EXPECT_EQ(result->expanded_uncertainty_rounded(), 59);
  EXPECT_EQ(result->estimate_rounded(), 10000.025);
  EXPECT_TRUE(std::isinf(result->effective_degrees_of_freedom()));
  EXPECT_EQ(result->statement(), "10000.025 g ± 59 mg (k = 2.00, p = 95.45 %)");
}

UncertaintyBudget W2Budget(double p) {
  UncertaintyBudget budget;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(R"pb(
    unit: "1"
    components { symbol: "x1" standard_uncertainty: 0.5 degrees_of_freedom: 4 }
    components { symbol: "x2" standard_uncertainty: 0.3 }
  )pb", &budget));
  budget.set_coverage_probability(p);
  return budget;
}

TEST(UncertaintyBudget, W2_WelchSatterthwaiteAt95Percent) {
  auto result = EvaluateBudget(W2Budget(0.95));
  ASSERT_TRUE(result.has_value()) << result.error().message();
  EXPECT_EQ(At(result->combined_standard_uncertainty(), 4), 0.5831);
  EXPECT_EQ(result->effective_degrees_of_freedom(), 7);  // 7.398 truncated
  EXPECT_EQ(At(result->coverage_factor(), 4), 2.3646);
  EXPECT_EQ(At(result->expanded_uncertainty(), 3), 1.379);
}

TEST(UncertaintyBudget, W2_WelchSatterthwaiteAtTheLabConvention) {
  auto result = EvaluateBudget(W2Budget(0));  // 0: the lab's 95.45 %
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(result->coverage_probability(), 0.9545);
  EXPECT_EQ(At(result->coverage_factor(), 4), 2.4288);
  EXPECT_EQ(At(result->expanded_uncertainty(), 3), 1.416);
}

TEST(UncertaintyBudget, EffectiveDegreesOfFreedomBeforeTruncation) {
  // W2: ν_eff = 0.5831⁴ / (0.5⁴/4) = 7.398, truncated to 7.
  const double combined = std::sqrt(0.5 * 0.5 + 0.3 * 0.3);
  EXPECT_EQ(At(std::pow(combined, 4) / (std::pow(0.5, 4) / 4), 3), 7.398);
  EXPECT_EQ(EffectiveDegreesOfFreedom(combined, {0.5, 0.3}, {4, INFINITY}), 7);
}

TEST(UncertaintyBudget, DistributionsFollowTheGum) {
  auto u = [](const char* text) {
    UncertaintyComponent c;
    EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &c));
    return *StandardUncertainty(c);
  };
  EXPECT_DOUBLE_EQ(u("normal { expanded_uncertainty: 45 coverage_factor: 2 }"), 22.5);
  EXPECT_DOUBLE_EQ(u("rectangular { half_width: 3 }"), 3 / std::sqrt(3.0));
  EXPECT_DOUBLE_EQ(u("triangular { half_width: 6 }"), 6 / std::sqrt(6.0));
  EXPECT_DOUBLE_EQ(u("u_shaped { half_width: 2 }"), 2 / std::sqrt(2.0));
  // Readings 10, 12, 14: s = 2, u = 2/√3, ν = 2.
  EXPECT_DOUBLE_EQ(u("type_a { readings: [10, 12, 14] }"), 2 / std::sqrt(3.0));
  UncertaintyComponent readings;
  ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString("type_a { readings: [10, 12, 14] }", &readings));
  EXPECT_EQ(DegreesOfFreedom(readings), 2);
  UncertaintyComponent nothing;
  EXPECT_FALSE(StandardUncertainty(nothing).has_value());
}

TEST(UncertaintyBudget, RoundsToTwoSignificantDigits) {
  EXPECT_EQ(RoundSignificant(58.52, 2).first, 59);
  EXPECT_EQ(RoundSignificant(1.379, 2).first, 1.4);
  EXPECT_EQ(RoundSignificant(0.0145, 2).first, 0.015);  // half away from zero, as written
  EXPECT_EQ(RoundSignificant(9.96, 2).first, 10);
  EXPECT_EQ(RoundSignificant(9.96, 2).second, 0);
  EXPECT_EQ(RoundSignificant(0.0583, 2).second, -3);
}

TEST(Units, ConvertValuesAndDifferences) {
  EXPECT_DOUBLE_EQ(*ConvertValue(20, "°C", "K"), 293.15);
  EXPECT_DOUBLE_EQ(*ConvertDifference(0.1, "°C", "K"), 0.1);
  EXPECT_NEAR(*ConvertDifference(58.52, "mg", "g"), 0.05852, 1e-15);
  EXPECT_DOUBLE_EQ(*ConvertValue(1, "bar", "kPa"), 100);
  EXPECT_DOUBLE_EQ(*ConvertValue(1, "ug", "µg"), 1);
  EXPECT_FALSE(ConvertValue(1, "g", "m").has_value());
  EXPECT_FALSE(ConvertValue(1, "furlong", "m").has_value());
}

class W3 : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(config::ReadProtoFile(LABTRACE_PROCEDURES "/mpe-tables.textproto", tables_).ok());
    class_iii_ = FindMpeTable(tables_, "oiml-r76-class-III");
    ASSERT_NE(class_iii_, nullptr);
  }
  MpeTables tables_;
  const MpeTable* class_iii_ = nullptr;
};

TEST_F(W3, OimlR76ClassIIIBalanceMax30kgE10g) {
  struct Row {
    double load_g, verification_g, in_service_g;
  };
  for (const Row& row : {Row{5000, 5, 10}, Row{5010, 10, 20}, Row{20000, 10, 20}, Row{30000, 15, 30}}) {
    EXPECT_EQ(*BandMpe(*class_iii_, row.load_g, 10, VerificationStage::kVerification), row.verification_g)
        << row.load_g << " g";
    EXPECT_EQ(*BandMpe(*class_iii_, row.load_g, 10, VerificationStage::kInService), row.in_service_g)
        << row.load_g << " g";
  }
  EXPECT_FALSE(BandMpe(*class_iii_, 100001, 10, VerificationStage::kVerification).has_value());
}

TEST_F(W3, EveryOimlClassIsThere) {
  for (const char* name : {"oiml-r76-class-I", "oiml-r76-class-II", "oiml-r76-class-III", "oiml-r76-class-IIII"}) {
    EXPECT_NE(FindMpeTable(tables_, name), nullptr) << name;
  }
  // Class II at 5 000 e is the last load of the 0.5 e band (R76-1 table 6).
  EXPECT_EQ(*BandMpe(*FindMpeTable(tables_, "oiml-r76-class-II"), 5000, 1, VerificationStage::kVerification), 0.5);
}

// W4: tolerance ±10 g, u = 2 g, U = 4 g (k = 2), w = U; limits inclusive.
struct W4Row {
  double error_g;
  Statement simple, guarded, nonbinary;
  double p_above;
};
constexpr W4Row kW4[] = {
    {5, PASS, PASS, PASS, 0.0062},
    {6, PASS, PASS, PASS, 0.0228},
    {9, PASS, FAIL, CONDITIONAL_PASS, 0.3085},
    {10, PASS, FAIL, CONDITIONAL_PASS, 0.5000},
    {12, FAIL, FAIL, CONDITIONAL_FAIL, 0.8413},
    {15, FAIL, FAIL, FAIL, 0.9938},
};

TEST(Decision, W4_IlacG8DecisionTableRowByRow) {
  for (const W4Row& row : kW4) {
    SCOPED_TRACE(::testing::Message() << "measured error +" << row.error_g << " g");
    for (auto [spelling, expected] : {std::pair{"simple", row.simple}, std::pair{"guarded", row.guarded},
                                      std::pair{"nonbinary", row.nonbinary}}) {
      auto rule = ParseDecisionRule(spelling);
      ASSERT_TRUE(rule.has_value());
      auto decision = Decide(row.error_g, 2, 4, {-10.0, 10.0}, *rule);
      ASSERT_TRUE(decision.has_value()) << decision.error().message();
      EXPECT_EQ(decision->statement(), expected) << spelling;
      EXPECT_EQ(At(decision->probability_above_upper(), 4), row.p_above) << spelling;
    }
  }
}

TEST(Decision, GuardBandAndRisks) {
  auto guarded = Decide(9, 2, 4, {-10.0, 10.0}, *ParseDecisionRule("guarded"));
  EXPECT_EQ(guarded->guard_band(), 4);
  EXPECT_EQ(guarded->upper_acceptance_limit(), 6);
  EXPECT_EQ(guarded->lower_acceptance_limit(), -6);
  // Rejected while 69 % likely to conform: that is the false-reject risk of this statement.
  EXPECT_EQ(At(guarded->false_reject_probability(), 4), 0.6915);
  EXPECT_EQ(guarded->false_accept_probability(), 0);
  auto simple = Decide(9, 2, 4, {-10.0, 10.0}, *ParseDecisionRule("simple"));
  EXPECT_EQ(At(simple->false_accept_probability(), 4), 0.3085);
  // r = 0.5 puts the acceptance limit at 8.
  EXPECT_EQ(Decide(8, 2, 4, {-10.0, 10.0}, *ParseDecisionRule("guarded:0.5"))->statement(), PASS);
}

TEST(Decision, LimitsCanBeExclusive) {
  auto rule = *ParseDecisionRule("simple");
  rule.set_limits_inclusive(false);
  EXPECT_EQ(Decide(10, 2, 4, {-10.0, 10.0}, rule)->statement(), FAIL);
  rule.set_limits_inclusive(true);
  EXPECT_EQ(Decide(10, 2, 4, {-10.0, 10.0}, rule)->statement(), PASS);
}

TEST(Decision, RefusesWhatCannotBeDecided) {
  const auto rule = *ParseDecisionRule("guarded");
  EXPECT_FALSE(Decide(0, 2, 4, {}, rule).has_value());                // no limits
  EXPECT_FALSE(Decide(0, 0, 0, {-10.0, 10.0}, rule).has_value());     // no uncertainty
  EXPECT_FALSE(Decide(0, 6, 12, {-10.0, 10.0}, rule).has_value());    // U eats the tolerance
  EXPECT_FALSE(ParseDecisionRule("strict").has_value());
  EXPECT_FALSE(ParseDecisionRule("simple:2").has_value());
  EXPECT_FALSE(ParseDecisionRule("guarded:x").has_value());
}

}  // namespace
}  // namespace labtrace::metrology

namespace labtrace::metrology {
namespace {

TEST(Units, SmallDifferencesAreStatedInTheUnitACertificateUses) {
  EXPECT_EQ(UnitForDifference("kg", 0.001), "g");   // a kilogram scale read to 1 g
  EXPECT_EQ(UnitForDifference("kg", 0.0005), "mg");  // 0.5 g is 500 mg
  EXPECT_EQ(UnitForDifference("g", 0.00001), "µg");
  EXPECT_EQ(UnitForDifference("g", 2), "g");        // already ≥ 1
  EXPECT_EQ(UnitForDifference("°C", 0.01), "°C");   // offset scales stay as they are
  EXPECT_EQ(UnitForDifference("V", 0.000002), "µV");
}

}  // namespace
}  // namespace labtrace::metrology
