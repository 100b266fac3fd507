// Print lines as Sartorius SBI balances print them (../shared/protocols.md, "Sartorius
// SBI"): 16 characters, or 22 with an identifier, and the special displays.
#include <gtest/gtest.h>

#include "sbi/codec.h"

namespace labtrace::sbi {
namespace {

TEST(SbiCodec, SixteenCharacterLineOfProtocolsMd) {
  // "+   123.56 g  " and CR LF: sign, space, value in columns 3–10, space, unit in 12–14.
  auto line = ParseSbiLine("+   123.56 g  ");
  ASSERT_TRUE(line.has_value()) << line.error().message();
  EXPECT_EQ(line->kind, SbiLine::Kind::kWeight);
  EXPECT_EQ(line->value, 123.56);
  EXPECT_EQ(line->decimals, 2);
  EXPECT_EQ(line->unit, "g");
  EXPECT_TRUE(line->stable);
  EXPECT_EQ(line->identifier, "");
  const Reading reading = ToReading(*line, "g");
  EXPECT_EQ(reading.quality(), GOOD);
  EXPECT_EQ(reading.value(), 123.56);
  EXPECT_EQ(reading.decimals(), 2);
}

TEST(SbiCodec, TwentyTwoCharacterLineCarriesItsIdentifier) {
  auto line = ParseSbiLine("N     -   0.0123 mg ");
  ASSERT_TRUE(line.has_value()) << line.error().message();
  EXPECT_EQ(line->identifier, "N");
  EXPECT_DOUBLE_EQ(line->value, -0.0123);
  EXPECT_EQ(line->decimals, 4);
  EXPECT_EQ(line->unit, "mg");
  auto quantity = ParseSbiLine("Qnt   +      125 pcs");
  ASSERT_TRUE(quantity.has_value()) << quantity.error().message();
  EXPECT_EQ(quantity->identifier, "Qnt");
  EXPECT_EQ(quantity->value, 125);
  EXPECT_EQ(quantity->unit, "pcs");
}

TEST(SbiCodec, NoUnitMeansNotStable) {
  auto line = ParseSbiLine("+   123.57    ");
  ASSERT_TRUE(line.has_value()) << line.error().message();
  EXPECT_FALSE(line->stable);
  const Reading reading = ToReading(*line, "g");
  EXPECT_EQ(reading.quality(), UNSTABLE);
  EXPECT_EQ(reading.value(), 123.57);
  EXPECT_EQ(reading.unit(), "g") << "the balance's configured unit";
  EXPECT_EQ(ToReading(*line, "kg").unit(), "kg") << "a platform weighing in kg";
}

TEST(SbiCodec, SpecialDisplaysBecomeFlagsWithoutValues) {
  struct Case {
    const char* line;
    SbiLine::Kind kind;
    Quality quality;
  };
  for (const Case& c : {Case{"+        H    ", SbiLine::Kind::kOverload, OVERLOAD},
                        Case{"-        L    ", SbiLine::Kind::kUnderload, UNDERLOAD},
                        Case{"         C    ", SbiLine::Kind::kAdjusting, DEVICE_ERROR},
                        Case{"+   Err 54    ", SbiLine::Kind::kError, DEVICE_ERROR},
                        Case{"H", SbiLine::Kind::kOverload, OVERLOAD},
                        Case{"  Err 02", SbiLine::Kind::kError, DEVICE_ERROR}}) {
    SCOPED_TRACE(c.line);
    auto line = ParseSbiLine(c.line);
    ASSERT_TRUE(line.has_value()) << line.error().message();
    EXPECT_EQ(line->kind, c.kind);
    const Reading reading = ToReading(*line, "g");
    EXPECT_EQ(reading.quality(), c.quality);
    EXPECT_EQ(reading.value(), 0);
    EXPECT_FALSE(reading.detail().empty());
  }
  EXPECT_EQ(ParseSbiLine("+   Err 54    ")->error_code, 54);
}

TEST(SbiCodec, ShiftedCutOrNoisyLinesAreRefused) {
  for (const char* bad : {
           "x+   123.56 g  ",     // a noise byte before: every column shifted
           "+   123.56 g",        // cut short
           "+  123.56  g  ",      // value not right-aligned
           "+   12 3.5 g  ",      // a space inside the value
           "+   1,23.5 g  ",      // a comma
           "+   -23.56 g  ",      // a second sign inside the field
           "+   123.56   g",      // unit not left-aligned
           "+   123.5\x01 g  ",   // a control byte
           "12345+   123.56 g  ",  // 20 characters whose "identifier" is digits: noise
           "",
       }) {
    SCOPED_TRACE(bad);
    EXPECT_FALSE(ParseSbiLine(bad).has_value());
  }
}

}  // namespace
}  // namespace labtrace::sbi
