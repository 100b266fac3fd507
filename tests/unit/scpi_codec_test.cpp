// SCPI replies as ../shared/protocols.md gives them ("SCPI (IEEE 488.2) over RS-232").
#include <gtest/gtest.h>

#include "scpi/codec.h"

namespace labtrace::scpi {
namespace {

TEST(ScpiCodec, IdentificationHasFourFields) {
  auto identity = ParseIdentification("Keysight Technologies,34465A,MY60012345,A.03.01-02.40-03.01-00.52-03-01");
  ASSERT_TRUE(identity.has_value()) << identity.error().message();
  EXPECT_EQ(identity->manufacturer(), "Keysight Technologies");
  EXPECT_EQ(identity->model(), "34465A");
  EXPECT_EQ(identity->serial_number(), "MY60012345");
  EXPECT_EQ(identity->firmware(), "A.03.01-02.40-03.01-00.52-03-01");
  // "0" where the instrument has no serial number to tell.
  auto anonymous = ParseIdentification("FLUKE,8846A,0,08/02/10-11:53");
  ASSERT_TRUE(anonymous.has_value());
  EXPECT_EQ(anonymous->serial_number(), "");
  EXPECT_EQ(anonymous->firmware(), "08/02/10-11:53");
  for (const char* bad : {"FLUKE,8846A,1234", "FLUKE,8846A,1,2,3", ",8846A,1,2", "+1.09450000E-01", ""}) {
    EXPECT_FALSE(ParseIdentification(bad).has_value()) << bad;
  }
}

TEST(ScpiCodec, ErrorQueueEntries) {
  auto undefined = ParseErrorEntry("-113,\"Undefined header\"");
  ASSERT_TRUE(undefined.has_value());
  EXPECT_EQ(undefined->code, -113);
  EXPECT_EQ(undefined->message, "Undefined header");
  for (const char* empty : {"+0,\"No error\"", "0,\"No error\""}) {
    auto entry = ParseErrorEntry(empty);
    ASSERT_TRUE(entry.has_value()) << empty;
    EXPECT_EQ(entry->code, 0) << empty;
  }
  auto overflow = ParseErrorEntry("-350,\"Queue overflow\"");
  ASSERT_TRUE(overflow.has_value());
  EXPECT_EQ(overflow->code, -350);
  for (const char* bad : {"-113", "-113,Undefined header", "x,\"No error\"", "-1.5,\"x\"", "1,\""}) {
    EXPECT_FALSE(ParseErrorEntry(bad).has_value()) << bad;
  }
}

TEST(ScpiCodec, MeasurementKeepsItsPrintedDigits) {
  auto reading = ParseMeasurement("+1.09450000E-01");
  ASSERT_TRUE(reading.has_value()) << reading.error().message();
  EXPECT_EQ(reading->quality(), GOOD);
  EXPECT_DOUBLE_EQ(reading->value(), 0.1094500);
  EXPECT_EQ(reading->decimals(), 9) << "the last printed digit is 1E-9";
  auto plain = ParseMeasurement("-12.5");
  ASSERT_TRUE(plain.has_value());
  EXPECT_EQ(plain->value(), -12.5);
  EXPECT_EQ(plain->decimals(), 1);
}

TEST(ScpiCodec, OverloadAndNotANumberAreFlagsNeverValues) {
  for (const char* overload : {"9.9E37", "+9.90000000E+37", "-9.90000000E+37"}) {
    auto reading = ParseMeasurement(overload);
    ASSERT_TRUE(reading.has_value()) << overload;
    EXPECT_EQ(reading->quality(), OVERLOAD) << overload;
    EXPECT_EQ(reading->value(), 0) << overload;
  }
  for (const char* nan : {"9.91E37", "+9.91000000E+37"}) {
    auto reading = ParseMeasurement(nan);
    ASSERT_TRUE(reading.has_value()) << nan;
    EXPECT_EQ(reading->quality(), NOT_A_NUMBER) << nan;
    EXPECT_EQ(reading->value(), 0) << nan;
  }
}

// Found by fuzzing: "+9000000E+33" was a GOOD reading of 9E39. Beyond the code for
// infinity a number is no measurement, however it is printed.
TEST(ScpiCodec, NumbersBeyondTheInfinityCodeAreRefused) {
  for (const char* beyond : {"+9000000E+33", "1E38", "9.95E37", "-1.5E38", "9.905E37"}) {
    EXPECT_FALSE(ParseMeasurement(beyond).has_value()) << beyond;
  }
  auto largest = ParseMeasurement("9.8E37");
  ASSERT_TRUE(largest.has_value());
  EXPECT_EQ(largest->quality(), GOOD) << "below the code a number is still a value";
}

TEST(ScpiCodec, AnythingButOneNumberIsRefused) {
  for (const char* bad : {"+1.0E-01,+2.0E-01", "\"VOLT +1.00000E-01,+1.00000E-06\"", "1.0E", "1.0E-1234", "abc",
                          "", "1e400"}) {
    EXPECT_FALSE(ParseMeasurement(bad).has_value()) << bad;
  }
}

}  // namespace
}  // namespace labtrace::scpi
