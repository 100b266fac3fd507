// Net quantity of prepackaged goods under OIML R87:2016 (applied in Vietnam by Circular
// 21/2014/TT-BKHCN): the tolerable negative error, T1/T2 defectives and the lot's
// statement, with lots worked by hand.
#include <cmath>
#include <string>
#include <vector>

#include <google/protobuf/text_format.h>
#include <gtest/gtest.h>

#include "conformity/net_quantity.h"
#include "conformity/run_results.h"
#include "metrology/uncertainty.h"

namespace labtrace::conformity {
namespace {

TEST(NetQuantity, TolerableNegativeErrorFromR87Table1) {
  // R87 Table 1 (also NZ Weights and Measures Regulations 1999, Sch. 7A Table 2):
  // 0–50: 9 % of Qn; 50–100: 4.5 g; 100–200: 4.5 %; 200–300: 9 g; 300–500: 3 %;
  // 500–1000: 15 g; 1000–10 000: 1.5 %; 10 000–15 000: 150 g; 15 000–50 000: 1 %. A
  // percentage is rounded up to the next 0.1 g (Qn ≤ 1000 g) or whole g (above).
  struct Case {
    double qn;
    const char* unit;
    double t;
  };
  for (const Case& c : std::vector<Case>{
           {40, "g", 3.6},  // 9 % × 40 = 3.6
           {50, "g", 4.5},  // 9 % × 50 = 4.5, the bands meet
           {75, "g", 4.5},
           {150, "g", 6.8},  // 4.5 % × 150 = 6.75, rounded up
           {200, "g", 9},    // 4.5 % × 200
           {250, "mL", 9},
           {330, "g", 9.9},  // 3 % × 330
           {500, "g", 15},   // 3 % × 500
           {750, "mL", 15},
           {1.25, "kg", 0.019},  // 1.5 % × 1250 g = 18.75 → 19 g
           {2, "L", 0.030},      // 1.5 % × 2000 mL = 30 mL
           {12, "kg", 0.150},    // 150 g
           {20, "kg", 0.200},    // 1 % × 20 000 g
       }) {
    auto t = TolerableNegativeError(c.qn, c.unit);
    ASSERT_TRUE(t.has_value()) << c.qn << " " << c.unit << ": " << t.error().message();
    EXPECT_NEAR(*t, c.t, 1e-12) << c.qn << " " << c.unit;
  }
  EXPECT_FALSE(TolerableNegativeError(0, "g").has_value());
  EXPECT_FALSE(TolerableNegativeError(60, "kg").has_value());
  EXPECT_EQ(TolerableNegativeError(500, "mm").error().message(),
            "a net quantity is a mass or a volume; \"mm\" is a unit of length");
}

TEST(NetQuantity, SamplingPlansOfR87Table2) {
  // R87 Table 2: 50 packages → 3 with a T1 error allowed, λ = 0.379; 80 → 5, 0.295;
  // 125 → 7, 0.234. λ is t(0.995; n − 1)/√n: 2.680/√50, 2.640/√80, 2.616/√125.
  for (auto [n, c, lambda] : std::vector<std::tuple<uint32_t, uint32_t, double>>{
           {50, 3, 0.379}, {80, 5, 0.295}, {125, 7, 0.234}}) {
    auto plan = SamplingPlanFor(n);
    ASSERT_TRUE(plan.has_value());
    EXPECT_TRUE(plan->r87_table);
    EXPECT_EQ(plan->acceptance_number, c);
    EXPECT_EQ(plan->correction_factor, lambda);
    // The typed factor agrees with its definition to its three decimals.
    EXPECT_NEAR(*metrology::CoverageFactor(0.99, n - 1.0) / std::sqrt(double(n)), lambda, 0.0005)
        << n;
  }
  // Another size is no R87 plan: none with T1 allowed, λ from the same formula. For 5
  // packages t(0.995; 4) = 4.604 (Student's t tables), λ = 4.604/√5 = 2.059.
  auto five = SamplingPlanFor(5);
  ASSERT_TRUE(five.has_value());
  EXPECT_FALSE(five->r87_table);
  EXPECT_EQ(five->acceptance_number, 0u);
  EXPECT_NEAR(five->correction_factor, 2.059, 0.001);
  EXPECT_EQ(SamplingPlanFor(1)->correction_factor, 0);
}

config::TestMethod RiceBags() {
  config::TestMethod method;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(
      R"pb(
        id: "PP-DL-500G"
        version: 1
        standard: "OIML R87:2016; Thông tư 21/2014/TT-BKHCN"
        characteristic_vi: "Lượng tịnh"
        characteristic_en: "Net quantity"
        unit: "g"
        result_decimals: 1
        formula: "gross - tare"
        net_quantity { nominal_quantity: 500 }
        steps {
          name: "gross"
          unit: "g"
          instrument_kind: "balance"
          uncertainty {
            symbol: "cal"
            normal { expanded_uncertainty: 0.02 coverage_factor: 2 }
          }
        }
        steps {
          name: "tare"
          unit: "g"
          instrument_kind: "balance"
          uncertainty {
            symbol: "cal"
            normal { expanded_uncertainty: 0.02 coverage_factor: 2 }
          }
        }
      )pb",
      &method));
  return method;
}

// Packages with a 6.0 g bag: gross = content + 6.0.
std::vector<Capture> Packages(const std::vector<double>& contents) {
  std::vector<Capture> captures;
  for (size_t i = 0; i < contents.size(); ++i) {
    for (auto [step, grams] : {std::pair{"gross", contents[i] + 6.0}, std::pair{"tare", 6.0}}) {
      Capture capture;
      capture.set_step(step);
      capture.set_replicate(static_cast<uint32_t>(i + 1));
      capture.set_value(grams);
      capture.set_unit("g");
      captures.push_back(capture);
    }
  }
  return captures;
}

TEST(NetQuantity, ASmallSampleWithAT2DefectiveFails) {
  // Qn = 500 g, T = 15 g (3 % of 500 g): T1 below 485 g, T2 below 470 g.
  //   502.0 (+2.0), 498.5 (−1.5), 484.0 (−16.0: T1), 469.0 (−31.0: T1 and T2), 505.5 (+5.5)
  // T1: 2, T2: 1. Mean = 2459.0/5 = 491.8 g. Five packages is no R87 plan (c = 0), and a
  // T2 error fails any lot.
  config::TestMethod method = RiceBags();
  method.set_replicates(5);
  auto results = EvaluateRun(method, Packages({502.0, 498.5, 484.0, 469.0, 505.5}));
  ASSERT_TRUE(results.has_value()) << results.error().message();
  const TestResult& r = results->front();
  EXPECT_EQ(r.tolerable_negative_error(), 15);
  EXPECT_NEAR(r.value(), 491.8, 1e-9);
  ASSERT_EQ(r.packages_size(), 5);
  EXPECT_NEAR(r.packages(2).error(), -16.0, 1e-9);
  EXPECT_TRUE(r.packages(2).t1_defective());
  EXPECT_FALSE(r.packages(2).t2_defective());
  EXPECT_TRUE(r.packages(3).t1_defective());
  EXPECT_TRUE(r.packages(3).t2_defective());
  EXPECT_FALSE(r.packages(1).t1_defective());
  EXPECT_EQ(r.decision().statement(), metrology::FAIL);
  EXPECT_NE(r.note_en().find("Found 2 with a T1 error, 1 with a T2 error, mean 491.8 g"),
            std::string::npos)
      << r.note_en();
  EXPECT_NE(
      r.note_en().find("the packages fail (1 with a T2 error; 2 with a T1 error, more than 0"),
      std::string::npos)
      << r.note_en();
  EXPECT_NE(r.note_vi().find("trung bình 491,8 g"), std::string::npos) << r.note_vi();
}

TEST(NetQuantity, ShortByExactlyTIsNotADefective) {
  // R87: a T1 error is a deficiency greater than T. 485.0 g is 15.0 g short of 500 g:
  // not a T1 defective; 470.0 g is 2T short: a T1, not a T2 defective.
  config::TestMethod method = RiceBags();
  method.set_replicates(2);
  auto results = EvaluateRun(method, Packages({485.0, 470.0}));
  ASSERT_TRUE(results.has_value()) << results.error().message();
  EXPECT_FALSE(results->front().packages(0).t1_defective());
  EXPECT_TRUE(results->front().packages(1).t1_defective());
  EXPECT_FALSE(results->front().packages(1).t2_defective());
}

// 50 packages, R87's plan for a lot of 100–500: c = 3, λ = 0.379.
//   47 at 501.0 g and 3 at 484.5 g (error −15.5 g: T1, not T2).
//   mean = (47 × 501 + 3 × 484.5)/50 = 25000.5/50 = 500.01 g
//   Σ(x − x̄)² = 47 × 0.99² + 3 × 15.51² = 46.0647 + 721.6803 = 767.745
//   s = √(767.745/49) = 3.958316 g; Qn − 0.379·s = 500 − 1.500202 = 498.499798 g
// 3 T1 ≤ 3, no T2, 500.01 ≥ 498.50: the lot passes. With a fourth package at 484.5 g
// instead of 501.0 g, 4 T1 > 3: the lot fails.
TEST(NetQuantity, R87PlanForFiftyPackages) {
  config::TestMethod method = RiceBags();
  method.set_replicates(50);
  std::vector<double> contents(47, 501.0);
  contents.insert(contents.end(), 3, 484.5);
  auto passing = EvaluateRun(method, Packages(contents));
  ASSERT_TRUE(passing.has_value()) << passing.error().message();
  EXPECT_NEAR(passing->front().value(), 500.01, 1e-9);
  EXPECT_NEAR(passing->front().decision().lower_acceptance_limit(), 498.499798, 1e-6);
  EXPECT_EQ(passing->front().decision().statement(), metrology::PASS);
  EXPECT_NE(passing->front().note_en().find(
                "OIML R87 sampling plan for 50 packages: at most 3 with a T1 error"),
            std::string::npos);
  EXPECT_NE(passing->front().note_en().find("the lot passes"), std::string::npos)
      << passing->front().note_en();

  contents[0] = 484.5;
  auto failing = EvaluateRun(method, Packages(contents));
  ASSERT_TRUE(failing.has_value());
  EXPECT_EQ(failing->front().decision().statement(), metrology::FAIL);
  EXPECT_NE(failing->front().note_en().find("the lot fails (4 with a T1 error, more than 3)"),
            std::string::npos)
      << failing->front().note_en();
}

// 50 packages, 25 at 497.0 g and 25 at 499.0 g: none short by more than T, but
//   mean = 498.0 g, Σ(x − x̄)² = 50 × 1² = 50, s = √(50/49) = 1.010153 g,
//   Qn − 0.379·s = 500 − 0.382848 = 499.617152 g > 498.0 g: the average requirement fails.
TEST(NetQuantity, AShortAverageFailsTheLot) {
  config::TestMethod method = RiceBags();
  method.set_replicates(50);
  std::vector<double> contents(25, 497.0);
  contents.insert(contents.end(), 25, 499.0);
  auto results = EvaluateRun(method, Packages(contents));
  ASSERT_TRUE(results.has_value()) << results.error().message();
  const TestResult& r = results->front();
  EXPECT_NEAR(r.value(), 498.0, 1e-9);
  EXPECT_NEAR(r.decision().lower_acceptance_limit(), 499.617152, 1e-6);
  EXPECT_EQ(r.decision().statement(), metrology::FAIL);
  EXPECT_NE(r.note_en().find("the lot fails (mean content below 499.6 g)"), std::string::npos)
      << r.note_en();
  // The packages' spread is the product's: the budget of the mean holds the balance only,
  // u = √2 × 0.01 g (gross and tare, U = 0.02 g, k = 2, sensitivities +1 and −1).
  EXPECT_NEAR(r.budget().combined_standard_uncertainty(), 0.01 * std::sqrt(2.0), 1e-9);
}

}  // namespace
}  // namespace labtrace::conformity
