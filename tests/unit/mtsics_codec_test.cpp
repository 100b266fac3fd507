// Reply lines as MT-SICS prints them (../shared/protocols.md, "Mettler Toledo MT-SICS").
#include <gtest/gtest.h>

#include "mtsics/codec.h"

namespace labtrace::mtsics {
namespace {

TEST(MtSicsCodec, StableWeightKeepsItsDecimals) {
  auto reply = ParseSicsLine("S S     100.00 g");
  ASSERT_TRUE(reply.has_value()) << reply.error().message();
  EXPECT_EQ(reply->kind, SicsReply::Kind::kWeight);
  EXPECT_TRUE(reply->stable);
  EXPECT_EQ(reply->value, 100.00);
  EXPECT_EQ(reply->decimals, 2);
  EXPECT_EQ(reply->unit, "g");
  const Reading reading = ToReading(*reply);
  EXPECT_EQ(reading.quality(), GOOD);
  EXPECT_EQ(reading.value(), 100.0);
}

TEST(MtSicsCodec, PaddingOfAnyWidthParsesTheSame) {
  for (const char* line : {"S S 100.00 g", "S S          100.00 g", "S  S   100.00   g"}) {
    auto reply = ParseSicsLine(line);
    ASSERT_TRUE(reply.has_value()) << line;
    EXPECT_EQ(reply->value, 100.0) << line;
  }
}

TEST(MtSicsCodec, DynamicAndNegativeWeights) {
  auto reply = ParseSicsLine("S D      -0.0123 g");
  ASSERT_TRUE(reply.has_value());
  EXPECT_FALSE(reply->stable);
  EXPECT_DOUBLE_EQ(reply->value, -0.0123);
  EXPECT_EQ(reply->decimals, 4);
  EXPECT_EQ(ToReading(*reply).quality(), UNSTABLE);
}

TEST(MtSicsCodec, ErrorRepliesBecomeQualityFlags) {
  struct Case {
    const char* line;
    Quality quality;
  };
  for (const Case& c : {Case{"S I", DEVICE_ERROR}, Case{"S +", OVERLOAD}, Case{"S -", UNDERLOAD},
                        Case{"ES", DEVICE_ERROR}, Case{"ET", DEVICE_ERROR}, Case{"EL", DEVICE_ERROR},
                        Case{"SI L", DEVICE_ERROR}}) {
    auto reply = ParseSicsLine(c.line);
    ASSERT_TRUE(reply.has_value()) << c.line;
    const Reading reading = ToReading(*reply);
    EXPECT_EQ(reading.quality(), c.quality) << c.line;
    EXPECT_FALSE(reading.detail().empty()) << c.line;
  }
}

TEST(MtSicsCodec, IdentificationReplies) {
  auto reply = ParseSicsLine("I2 A \"XS205DU 220 g\"");
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->kind, SicsReply::Kind::kIdentification);
  EXPECT_EQ(reply->text, "XS205DU 220 g");
  EXPECT_EQ(ParseSicsLine("I4 A \"B312345678\"")->text, "B312345678");
}

TEST(MtSicsCodec, NeverTakesAValueFromALineThatDoesNotParseWhole) {
  for (const char* line : {"", "S", "S S", "S S 100.00", "S S 10O.00 g", "S X 100.00 g",
                           "S S 100.00 g extra", "\x13S S 100.00 g", "Q S 1.0 g", "S S . g",
                           "S S 1.2.3 g", "I2 A XS205", "S S 100.\xff g"}) {
    EXPECT_FALSE(ParseSicsLine(line).has_value()) << "accepted \"" << line << "\"";
  }
}

// Found by fuzzing: "S S .00 \"I2 I" was a weight in the unit `"I2 I`, a quoted field
// (which may hold spaces) taken as the unit.
TEST(MtSicsCodec, AUnitIsABareWord) {
  for (const char* line : {"S S .00 \"I2 I", "S S 100.00 \"g\"", "S D 1.0 \"XS205DU 220 g\"", "S S 1.0 g\""}) {
    EXPECT_FALSE(ParseSicsLine(line).has_value()) << "accepted \"" << line << "\"";
  }
}

}  // namespace
}  // namespace labtrace::mtsics
