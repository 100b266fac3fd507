// The generic line driver's pattern: named groups pick the value, unit and channel out
// of a printed line, and nothing else is ever taken for a value.
#include <gtest/gtest.h>

#include "line/pattern.h"
#include "text_link/printed_number.h"

namespace labtrace::line {
namespace {

TEST(LinePattern, NamedGroupsGiveValueUnitAndChannel) {
  auto pattern = LinePattern::Compile(R"((?<channel>T\d)=\s*(?<value>[-+]?[0-9.]+) (?<unit>°C))");
  ASSERT_TRUE(pattern.has_value()) << pattern.error().message();
  EXPECT_TRUE(pattern->has_unit());
  EXPECT_TRUE(pattern->has_channel());
  auto value = pattern->Read("T2=  23.45 °C");
  ASSERT_TRUE(value.has_value()) << value.error().message();
  EXPECT_EQ(value->value, 23.45);
  EXPECT_EQ(value->decimals, 2);
  EXPECT_EQ(value->unit, "°C");
  EXPECT_EQ(value->channel, "T2");
}

TEST(LinePattern, TheWholeLineMustMatch) {
  auto pattern = LinePattern::Compile(R"(pH (?<value>[0-9]+\.[0-9]+))");
  ASSERT_TRUE(pattern.has_value());
  EXPECT_TRUE(pattern->Read("pH 7.01").has_value());
  EXPECT_FALSE(pattern->Read("pH 7.01 (calibration due)").has_value()) << "a value inside a longer line is not read";
  EXPECT_FALSE(pattern->Read("pH ----").has_value());
  EXPECT_FALSE(pattern->has_unit());
}

TEST(LinePattern, TheValueMustBeAPlainNumber) {
  auto pattern = LinePattern::Compile(R"(W: (?<value>\S+) kg)");
  ASSERT_TRUE(pattern.has_value());
  EXPECT_EQ(pattern->Read("W: 1.5E+01 kg")->value, 15.0);
  for (const char* bad : {"W: 12,5 kg", "W: 1.2.3 kg", "W: --- kg", "W: nan kg", "W: 0x1F kg"}) {
    EXPECT_FALSE(pattern->Read(bad).has_value()) << bad;
  }
}

TEST(LinePattern, BadPatternsAreRefusedWithWhereAndWhy) {
  auto unbalanced = LinePattern::Compile("T=(?<value>[0-9.]+");
  ASSERT_FALSE(unbalanced.has_value());
  EXPECT_NE(unbalanced.error().message().find("does not compile at character"), std::string::npos);
  auto no_value = LinePattern::Compile(R"(T=(?<temperature>[0-9.]+))");
  ASSERT_FALSE(no_value.has_value());
  EXPECT_NE(no_value.error().message().find("(?<value>"), std::string::npos);
  EXPECT_TRUE(LinePattern::CompileFilter("-{3,}").has_value()) << "a skip pattern needs no groups";
}

TEST(LinePattern, CatastrophicBacktrackingEndsInAnErrorNotAHang) {
  auto pattern = LinePattern::Compile(R"((?<value>(1+)+)2)");
  ASSERT_TRUE(pattern.has_value());
  EXPECT_FALSE(pattern->Read(std::string(40, '1') + "3").has_value());
}

TEST(PrintedNumber, MessagesShowNoiseAsEscapes) {
  // Valid UTF-8 (°C) stays; control bytes, stray continuation bytes and cut sequences do not.
  EXPECT_EQ(text::Shown("a\x01" "b \xC2\xB0" "C"), "a\\x01" "b \xC2\xB0" "C");
  EXPECT_EQ(text::Shown("\xFF\x80x\xC2"), "\\xFF\\x80x\\xC2");
  EXPECT_EQ(text::Shown("T1= 23.45"), "T1= 23.45");
}

TEST(PrintedNumber, DecimalsCountTheExponent) {
  EXPECT_EQ(text::ParsePrintedNumber("+0100.020")->decimals, 3);
  EXPECT_EQ(text::ParsePrintedNumber("1.5E+01", text::Exponent::kAllowed)->decimals, 0);
  EXPECT_EQ(text::ParsePrintedNumber("1.25E-03", text::Exponent::kAllowed)->decimals, 5);
  EXPECT_FALSE(text::ParsePrintedNumber("1.5E+01").has_value()) << "exponents only where the protocol has them";
  for (const char* bad : {"", "+", ".", "1..2", " 1", "1 ", "1,5", "--1"}) {
    EXPECT_FALSE(text::ParsePrintedNumber(bad).has_value()) << bad;
  }
}

}  // namespace
}  // namespace labtrace::line
