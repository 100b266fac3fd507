// A test method's formula: parsing (with the column and what was expected), evaluation,
// the text it prints back, and sensitivity coefficients against the partial derivatives
// of the moisture formula worked by hand.
#include <cmath>
#include <string>

#include <gtest/gtest.h>

#include "conformity/formula.h"

namespace labtrace::conformity {
namespace {

Formula Parse(std::string_view text) {
  auto formula = ParseFormula(text);
  EXPECT_TRUE(formula.has_value()) << text << ": " << formula.error().message();
  return formula ? *formula : Formula();
}

std::string ParseError(std::string_view text) {
  auto formula = ParseFormula(text);
  EXPECT_FALSE(formula.has_value()) << text << " parsed as " << formula->Text();
  return formula ? "" : formula.error().message();
}

TEST(ConformityFormula, EvaluatesWithPrecedenceAndLeftToRight) {
  const StepValues none;
  EXPECT_EQ(*Parse("1 + 2 * 3").Evaluate(none), 7);
  EXPECT_EQ(*Parse("(1 + 2) * 3").Evaluate(none), 9);
  EXPECT_EQ(*Parse("10 - 4 - 3").Evaluate(none), 3);  // (10 − 4) − 3, not 10 − (4 − 3)
  EXPECT_EQ(*Parse("24 / 4 / 2").Evaluate(none), 3);
  EXPECT_EQ(*Parse("-2 * 3").Evaluate(none), -6);
  EXPECT_EQ(*Parse("2 * -3").Evaluate(none), -6);
  EXPECT_EQ(*Parse("5 - -2").Evaluate(none), 7);
  EXPECT_EQ(*Parse("--4").Evaluate(none), 4);
  EXPECT_EQ(*Parse("\t0.25 *4").Evaluate(none), 1);
  EXPECT_EQ(*Parse("1.5").Evaluate(none), 1.5);
}

TEST(ConformityFormula, MoistureOfOneDetermination) {
  // ISO 712 / TCVN 9706: w = (m_wet − m_dry) / (m_wet − m_dish) × 100.
  // 0.6739 g lost from 5.0067 g of rice: 0.6739 / 5.0067 × 100 = 13.459963… %.
  const Formula moisture = Parse("(wet - dry) / (wet - dish) * 100");
  auto w = moisture.Evaluate({{"dish", 25.1234}, {"wet", 30.1301}, {"dry", 29.4562}});
  ASSERT_TRUE(w.has_value()) << w.error().message();
  EXPECT_NEAR(*w, 13.4599636487, 1e-9);
  EXPECT_EQ(moisture.Names(), (std::vector<std::string>{"wet", "dry", "dish"}));
  EXPECT_EQ(moisture.Text(), "(wet - dry) / (wet - dish) * 100");
}

TEST(ConformityFormula, NamesComeOnceInTheOrderWritten) {
  EXPECT_EQ(Parse("a * (b + a) - c_2 / b").Names(), (std::vector<std::string>{"a", "b", "c_2"}));
  EXPECT_TRUE(Parse("3 * 4").Names().empty());
}

TEST(ConformityFormula, EvaluationErrorsNameWhatIsWrong) {
  const Formula f = Parse("(wet - dry) / (wet - dish) * 100");
  auto unknown = f.Evaluate({{"wet", 30}, {"dish", 25}});
  ASSERT_FALSE(unknown.has_value());
  EXPECT_EQ(unknown.error().message(), "the formula uses \"dry\", which has no value");

  auto zero = f.Evaluate({{"wet", 25}, {"dry", 24}, {"dish", 25}});
  ASSERT_FALSE(zero.has_value());
  EXPECT_EQ(zero.error().message(), "division by zero: wet - dish is 0");

  auto huge = Parse("x * x").Evaluate({{"x", 1e200}});
  ASSERT_FALSE(huge.has_value());
  EXPECT_EQ(huge.error().message(), "x * x is too large to compute");

  auto nan = Parse("x").Evaluate({{"x", std::nan("")}});
  ASSERT_FALSE(nan.has_value());
  EXPECT_NE(nan.error().message().find("not a finite number"), std::string::npos);
}

TEST(ConformityFormula, ParseErrorsGiveTheColumnAndWhatWasExpected) {
  EXPECT_EQ(ParseError(""), "the formula is empty");
  EXPECT_EQ(ParseError("   "), "the formula is empty");
  EXPECT_EQ(ParseError("wet - * dry"),
            "column 7: expected a number, a step name or \"(\", found \"*\"");
  EXPECT_EQ(
      ParseError("(wet - dry"),
      "column 11: expected \")\" to close the \"(\" of column 1, found the end of the formula");
  EXPECT_EQ(ParseError("wet dry"),
            "column 5: expected an operator (+ - * /) or the end of the formula, found \"d\"");
  EXPECT_EQ(ParseError("2x"),
            "column 2: expected an operator (+ - * /) or the end of the formula, found \"x\"");
  EXPECT_EQ(ParseError("wet - dry)"),
            "column 10: expected an operator (+ - * /) or the end of the formula, found \")\"");
  EXPECT_EQ(ParseError("wet -"),
            "column 6: expected a number, a step name or \"(\", found the end of the formula");
  EXPECT_EQ(ParseError("5."),
            "column 3: expected a digit after the decimal point, found the end of the formula");
  EXPECT_EQ(ParseError("1e3"),
            "column 2: expected an operator (+ - * /) or the end of the formula, found \"e\"");
  // The mistakes a Vietnamese user makes first: a decimal comma, a leading point.
  EXPECT_EQ(ParseError("x * 0,5"),
            "column 6: expected an operator (+ - * /) or the end of the formula, found \",\" (a "
            "formula writes decimals with \".\": 0.5)");
  EXPECT_EQ(ParseError("x * .5"),
            "column 5: expected a number, a step name or \"(\" (a number starts with a digit: 0.5, "
            "not .5), found \".\"");
  // Columns count characters, not bytes: "×" is two bytes of UTF-8 and one character.
  EXPECT_EQ(ParseError("m × 2"),
            "column 3: expected an operator (+ - * /) or the end of the formula, found \"×\"");
  EXPECT_EQ(ParseError("m\x01"),
            "column 2: expected an operator (+ - * /) or the end of the formula, found byte 0x01");
}

TEST(ConformityFormula, DeepNestingIsRefusedNotACrash) {
  EXPECT_TRUE(ParseFormula(std::string(100, '(') + "1" + std::string(100, ')')).has_value());
  EXPECT_EQ(ParseError(std::string(5000, '(') + "1"),
            "column 102: parentheses and minus signs nest more than 100 deep");
  EXPECT_EQ(ParseError(std::string(5000, '-') + "1"),
            "column 102: parentheses and minus signs nest more than 100 deep");
  // A long flat chain is not nesting: it is evaluated in one loop.
  std::string chain = "1";
  for (int i = 0; i < 20000; ++i) chain += " + 1";
  EXPECT_EQ(*Parse(chain).Evaluate({}), 20001);
}

TEST(ConformityFormula, TextReadsBackToTheSameFormula) {
  for (const char* text :
       {"(wet - dry) / (wet - dish) * 100", "-(a - b) - -c", "0.1 + 2.50 * x / (y - 3)",
        "a - (b - c)", "a / (b / c)", "1000000000000000000000 * 0.000001"}) {
    const Formula first = Parse(text);
    const Formula again = Parse(first.Text());
    EXPECT_EQ(again.Text(), first.Text()) << text;
    const StepValues values{{"wet", 30.1}, {"dry", 29.4}, {"dish", 25.1}, {"a", 1.5},
                            {"b", -2.25},  {"c", 7},      {"x", 0.3},     {"y", 8}};
    EXPECT_EQ(*again.Evaluate(values), *first.Evaluate(values)) << text;
  }
  EXPECT_EQ(Parse("a - (b - c)").Text(), "a - (b - c)");
  EXPECT_EQ(Parse("(a - b) - c").Text(), "a - b - c");
  EXPECT_EQ(Parse("a / (b * c)").Text(), "a / (b * c)");
  EXPECT_EQ(Parse("(a + b) * -(c)").Text(), "(a + b) * -c");
  EXPECT_EQ(Parse("-(-x)").Text(), "--x");
  EXPECT_EQ(Parse("-(a * b)").Text(), "-(a * b)");
  EXPECT_EQ(Parse("((1))+2.50").Text(), "1 + 2.5");
}

// ISO 712 moisture w = 100·(W − D)/(W − d), d the dish, W dish + sample before drying, D
// after. Its partial derivatives, by the quotient rule, worked by hand:
//   ∂w/∂d = 100·(W − D)/(W − d)²
//   ∂w/∂W = 100·[(W − d) − (W − D)]/(W − d)² = 100·(D − d)/(W − d)²
//   ∂w/∂D = −100/(W − d)
// At d = 25.1234 g, W = 30.1301 g, D = 29.4562 g: W − d = 5.0067 g, (W − d)² =
// 25.06704489 g², W − D = 0.6739 g, D − d = 4.3328 g, so
//   ∂w/∂d = 67.39/25.06704489 = 2.688390 %/g
//   ∂w/∂W = 433.28/25.06704489 = 17.284846 %/g
//   ∂w/∂D = −100/5.0067 = −19.973236 %/g
// and they sum to 0: an offset common to all three weighings cancels.
TEST(ConformityFormula, SensitivitiesOfTheMoistureFormulaAreItsPartialDerivatives) {
  const Formula moisture = Parse("(wet - dry) / (wet - dish) * 100");
  const StepValues at{{"dish", 25.1234}, {"wet", 30.1301}, {"dry", 29.4562}};
  auto c_dish = SensitivityCoefficient(moisture, at, "dish");
  auto c_wet = SensitivityCoefficient(moisture, at, "wet");
  auto c_dry = SensitivityCoefficient(moisture, at, "dry");
  ASSERT_TRUE(c_dish && c_wet && c_dry);
  EXPECT_NEAR(*c_dish, 2.688390, 2.688390 * 1e-6);
  EXPECT_NEAR(*c_wet, 17.284846, 17.284846 * 1e-6);
  EXPECT_NEAR(*c_dry, -19.973236, 19.973236 * 1e-6);
  EXPECT_NEAR(*c_dish + *c_wet + *c_dry, 0, 1e-6);

  // A name the formula does not use has no effect; one with no value is an error.
  const StepValues with_extra{{"dish", 25.1234}, {"wet", 30.1301}, {"dry", 29.4562}, {"oven", 131}};
  EXPECT_EQ(*SensitivityCoefficient(moisture, with_extra, "oven"), 0);
  EXPECT_FALSE(SensitivityCoefficient(moisture, at, "oven").has_value());
  // At zero the step is absolute: ∂(3·x²)/∂x at x = 0 is 0, ∂(x + 5)/∂x is 1.
  EXPECT_NEAR(*SensitivityCoefficient(Parse("3 * x * x"), {{"x", 0}}, "x"), 0, 1e-9);
  EXPECT_NEAR(*SensitivityCoefficient(Parse("x + 5"), {{"x", 0}}, "x"), 1, 1e-9);
}

}  // namespace
}  // namespace labtrace::conformity
