// A run's results from its captures, against figures worked by hand from the standards'
// formulas, each with its source beside it. Nothing here is taken from the code's output.
#include <cmath>
#include <string>
#include <vector>

#include <google/protobuf/text_format.h>
#include <gtest/gtest.h>

#include "conformity/run_results.h"

namespace labtrace::conformity {
namespace {

config::TestMethod Method(const std::string& text) {
  config::TestMethod method;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &method)) << text;
  return method;
}

// Moisture of white rice by oven drying, ISO 712:2009 (TCVN 9706:2013): three weighings
// on the analytical balance, w = (m_wet − m_dry)/(m_wet − m_dish) × 100; two
// determinations whose difference must not exceed r = 0.15 g/100 g; white rice at most
// 14.0 % (TCVN 11888:2017). Each weighing: the balance's calibration, U = 0.1 mg (k = 2),
// and its resolution d = 0.01 mg (half-width 0.005 mg, rectangular).
constexpr char kMoisture[] = R"pb(
  id: "PP-DA-GAO"
  version: 1
  standard: "TCVN 9706:2013 (ISO 712:2009)"
  characteristic_vi: "Độ ẩm"
  characteristic_en: "Moisture"
  unit: "%"
  formula: "(wet - dry) / (wet - dish) * 100"
  replicates: 2
  repeatability_limit: 0.15
  upper_limit: 14.0
  result_decimals: 2
  decision_rule { kind: SIMPLE_ACCEPTANCE limits_inclusive: true }
  steps {
    name: "dish"
    unit: "g"
    instrument_kind: "balance"
    channel: "mass"
    uncertainty {
      symbol: "cal"
      uncertainty_unit: "mg"
      normal { expanded_uncertainty: 0.1 coverage_factor: 2 }
    }
    uncertainty {
      symbol: "res"
      uncertainty_unit: "mg"
      rectangular { half_width: 0.005 }
    }
  }
  steps {
    name: "wet"
    unit: "g"
    instrument_kind: "balance"
    channel: "mass"
    uncertainty {
      symbol: "cal"
      uncertainty_unit: "mg"
      normal { expanded_uncertainty: 0.1 coverage_factor: 2 }
    }
    uncertainty {
      symbol: "res"
      uncertainty_unit: "mg"
      rectangular { half_width: 0.005 }
    }
  }
  steps {
    name: "dry"
    unit: "g"
    instrument_kind: "balance"
    channel: "mass"
    uncertainty {
      symbol: "cal"
      uncertainty_unit: "mg"
      normal { expanded_uncertainty: 0.1 coverage_factor: 2 }
    }
    uncertainty {
      symbol: "res"
      uncertainty_unit: "mg"
      rectangular { half_width: 0.005 }
    }
  }
)pb";

Capture Weighing(const std::string& step, uint32_t replicate, double grams) {
  Capture capture;
  capture.set_step(step);
  capture.set_replicate(replicate);
  capture.set_value(grams);
  capture.set_unit("g");
  return capture;
}

// Determination 1: dish 25.1234 g, wet 30.1301 g, dry 29.4562 g.
//   sample 30.1301 − 25.1234 = 5.0067 g, loss 30.1301 − 29.4562 = 0.6739 g,
//   w1 = 0.6739/5.0067 × 100 = 13.4599636 %.
// Determination 2: dish 24.9876 g, wet 29.9912 g, dry 29.3186 g.
//   sample 5.0036 g, loss 0.6726 g, w2 = 0.6726/5.0036 × 100 = 13.4423215 %.
// |w1 − w2| = 0.0176421 % ≤ r = 0.15 %; mean (13.4599636 + 13.4423215)/2 = 13.4511426 %.
// Type A of the mean: s = |w1 − w2|/√2, s/√2 = |w1 − w2|/2 = 0.0088211 %, ν = 1.
std::vector<Capture> TwoDeterminations() {
  return {Weighing("dish", 1, 25.1234), Weighing("wet", 1, 30.1301), Weighing("dry", 1, 29.4562),
          Weighing("dish", 2, 24.9876), Weighing("wet", 2, 29.9912), Weighing("dry", 2, 29.3186)};
}

TEST(ConformityRun, MoistureOfRiceTwoDeterminationsWorkedByHand) {
  auto results = EvaluateRun(Method(kMoisture), TwoDeterminations());
  ASSERT_TRUE(results.has_value()) << results.error().message();
  ASSERT_EQ(results->size(), 1u);
  const TestResult& r = results->front();
  EXPECT_EQ(r.characteristic_en(), "Moisture");
  EXPECT_EQ(r.unit(), "%");
  ASSERT_EQ(r.determinations_size(), 2);
  EXPECT_NEAR(r.determinations(0), 13.4599636, 1e-7);
  EXPECT_NEAR(r.determinations(1), 13.4423215, 1e-7);
  EXPECT_NEAR(r.value(), 13.4511426, 1e-7);
  // The first row carries the mean and its Type A.
  const auto& type_a = r.budget().contributions(0);
  EXPECT_EQ(type_a.symbol(), "repeatability");
  EXPECT_NEAR(type_a.estimate(), 13.4511426, 1e-7);
  EXPECT_NEAR(type_a.standard_uncertainty(), 0.0088211, 1e-7);
  EXPECT_EQ(type_a.degrees_of_freedom(), 1);
  EXPECT_NEAR(r.budget().estimate(), 13.4511426, 1e-7);
  // Then two rows per weighing step (calibration, resolution), in g.
  ASSERT_EQ(r.budget().contributions_size(), 7);
  EXPECT_EQ(r.budget().contributions(1).symbol(), "dish: cal");
  EXPECT_EQ(r.budget().contributions(1).unit(), "g");
  EXPECT_NEAR(r.budget().contributions(1).standard_uncertainty(), 0.00005, 1e-12);  // 0.1 mg / 2
  // 13.45 % is below 14.0 %: a pass under simple acceptance; the determinations agree.
  ASSERT_TRUE(r.has_upper_limit());
  EXPECT_EQ(r.upper_limit(), 14.0);
  EXPECT_EQ(r.decision().statement(), metrology::PASS);
  EXPECT_TRUE(r.note_en().empty()) << r.note_en();
}

// One determination (replicates: 1) of determination 1 above, so every figure of the
// budget can be worked by hand. The sensitivities at d = 25.1234, W = 30.1301, D = 29.4562
// (conformity_formula_test.cpp works them): c_dish = 2.688390, c_wet = 17.284846, c_dry =
// −19.973236 %/g. Each weighing: u² = (0.05 mg)² + (0.005 mg/√3)² = 2.5·10⁻⁹ g² +
// 8.333·10⁻¹² g² = 2.508333·10⁻⁹ g². Σc² = 7.227442 + 298.765886 + 398.930151 =
// 704.923480 (%/g)², so u_c = √(704.923480 × 2.508333·10⁻⁹) = 0.00132973 %. Every ν is
// infinite: k = 2.00 at 95.45 %, U = 0.0026595 %.
TEST(ConformityRun, MoistureBudgetOfOneDeterminationWorkedByHand) {
  config::TestMethod method = Method(kMoisture);
  method.set_replicates(1);
  auto results = EvaluateRun(method, {Weighing("dish", 1, 25.1234), Weighing("wet", 1, 30.1301),
                                      Weighing("dry", 1, 29.4562)});
  ASSERT_TRUE(results.has_value()) << results.error().message();
  const auto& budget = results->front().budget();
  ASSERT_EQ(budget.contributions_size(), 7);
  EXPECT_EQ(budget.contributions(0).symbol(), "determination");
  EXPECT_EQ(budget.contributions(0).standard_uncertainty(), 0);
  EXPECT_NEAR(budget.contributions(1).sensitivity(), 2.688390, 1e-5);    // dish: cal
  EXPECT_NEAR(budget.contributions(3).sensitivity(), 17.284846, 1e-5);   // wet: cal
  EXPECT_NEAR(budget.contributions(5).sensitivity(), -19.973236, 1e-5);  // dry: cal
  EXPECT_NEAR(budget.contributions(2).standard_uncertainty(), 0.005 / std::sqrt(3.0) / 1000, 1e-12);
  EXPECT_NEAR(budget.combined_standard_uncertainty(), 0.00132973, 1e-8);
  EXPECT_NEAR(budget.coverage_factor(), 2.00, 0.005);
  EXPECT_NEAR(budget.expanded_uncertainty(), 0.0026595, 2e-7);
  EXPECT_NEAR(results->front().value(), 13.4599636, 1e-7);
}

TEST(ConformityRun, DeterminationsBeyondTheRepeatabilityLimitCannotPass) {
  // Determination 2's dry weighing 0.0100 g lighter: loss 0.6826 g, w2 = 0.6826/5.0036 ×
  // 100 = 13.6421776 %; |w1 − w2| = 0.1822140 % > r = 0.15 %. The mean, 13.551 %, is
  // below 14.0 %, but the determinations say nothing together: the statement is FAIL,
  // with a note asking for them to be repeated.
  std::vector<Capture> captures = TwoDeterminations();
  captures.push_back(Weighing("dry", 2, 29.3086));  // a re-capture: the later one counts
  auto results = EvaluateRun(Method(kMoisture), captures);
  ASSERT_TRUE(results.has_value()) << results.error().message();
  const TestResult& r = results->front();
  EXPECT_NEAR(r.determinations(1), 13.6421776, 1e-7);
  EXPECT_EQ(r.decision().statement(), metrology::FAIL);
  EXPECT_EQ(r.note_en(),
            "The determinations differ by 0.182 %, more than the method's repeatability limit r = "
            "0.150 %: the sample cannot be judged from them. Repeat the determinations.");
  EXPECT_EQ(r.note_vi(),
            "Chênh lệch giữa các lần xác định là 0,182 %, lớn hơn giới hạn lặp lại r = 0,150 % của "
            "phương pháp: không thể kết luận về mẫu. Cần xác định lại.");
}

TEST(ConformityRun, MoistureAboveTheLimitFails) {
  // Determination 1 dried to 29.4062 g: loss 0.7239 g, w = 0.7239/5.0067 × 100 =
  // 14.4586254 % > 14.0 %.
  config::TestMethod method = Method(kMoisture);
  method.set_replicates(1);
  auto results = EvaluateRun(method, {Weighing("dish", 1, 25.1234), Weighing("wet", 1, 30.1301),
                                      Weighing("dry", 1, 29.4062)});
  ASSERT_TRUE(results.has_value()) << results.error().message();
  EXPECT_NEAR(results->front().value(), 14.4586254, 1e-7);
  EXPECT_EQ(results->front().decision().statement(), metrology::FAIL);
}

TEST(ConformityRun, MissingAndStrayCapturesAreNamed) {
  std::vector<Capture> captures = TwoDeterminations();
  captures.erase(captures.begin() + 5);  // determination 2's dry
  auto missing = EvaluateRun(Method(kMoisture), captures);
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().message(),
            "test method PP-DA-GAO version 1: no capture of step \"dry\" for determination 2");

  auto none = EvaluateRun(Method(kMoisture), {});
  ASSERT_FALSE(none.has_value());
  EXPECT_EQ(none.error().message(),
            "test method PP-DA-GAO version 1: no capture of step \"dish\" for determination 1 (6 "
            "captures missing in all)");

  captures = TwoDeterminations();
  captures.push_back(Weighing("lid", 1, 3.2));
  auto stray = EvaluateRun(Method(kMoisture), captures);
  ASSERT_FALSE(stray.has_value());
  EXPECT_EQ(stray.error().message(),
            "test method PP-DA-GAO version 1: a capture names step \"lid\", which the method does "
            "not have (dish, wet, dry)");

  captures = TwoDeterminations();
  captures.push_back(Weighing("dish", 3, 25.0));
  auto third = EvaluateRun(Method(kMoisture), captures);
  ASSERT_FALSE(third.has_value());
  EXPECT_EQ(third.error().message(),
            "test method PP-DA-GAO version 1: a capture of step \"dish\" is for determination 3; "
            "the method has 1 to 2");

  captures = TwoDeterminations();
  captures[1].set_value(25.1234);  // wet = dish: no sample on the dish
  auto empty_dish = EvaluateRun(Method(kMoisture), captures);
  ASSERT_FALSE(empty_dish.has_value());
  EXPECT_EQ(empty_dish.error().message(),
            "test method PP-DA-GAO version 1: determination 1: division by zero: wet - dish is 0");
}

TEST(ConformityRun, CapturesInAnotherUnitAreConverted) {
  std::vector<Capture> captures = TwoDeterminations();
  captures[0].set_value(25123.4);
  captures[0].set_unit("mg");
  auto results = EvaluateRun(Method(kMoisture), captures);
  ASSERT_TRUE(results.has_value()) << results.error().message();
  EXPECT_NEAR(results->front().determinations(0), 13.4599636, 1e-7);

  captures[0].set_unit("°C");
  auto wrong = EvaluateRun(Method(kMoisture), captures);
  ASSERT_FALSE(wrong.has_value());
  EXPECT_NE(wrong.error().message().find(
                "step \"dish\", determination 1: captured in °C, the step is in g"),
            std::string::npos)
      << wrong.error().message();
}

}  // namespace
}  // namespace labtrace::conformity
