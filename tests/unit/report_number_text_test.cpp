// The report's number formatter: decimal comma on the Vietnamese side, point on the
// English side. Expected texts are written out by hand.
#include <gtest/gtest.h>

#include <cmath>

#include "report/number_text.h"

namespace labtrace::report {
namespace {

constexpr auto kVi = DecimalSign::kComma;
constexpr auto kEn = DecimalSign::kPoint;

TEST(ReportNumberText, ResultWithADecimalCommaInVietnameseAndAPointInEnglish) {
  EXPECT_EQ(FormatFixed(13.45, 2, kVi), "13,45");
  EXPECT_EQ(FormatFixed(13.45, 2, kEn), "13.45");
  EXPECT_EQ(FormatFixed(0.12, 2, kVi), "0,12");
  EXPECT_EQ(FormatFixed(0.1, 2, kVi), "0,10");  // U's second significant digit is kept
  EXPECT_EQ(FormatFixed(59, 0, kVi), "59");
}

TEST(ReportNumberText, HalvesRoundAwayFromZeroAsWritten) {
  // 0.145 and 2.675 are stored just below the half; printf's own rounding would give
  // 0.14 and 2.67.
  EXPECT_EQ(FormatFixed(0.145, 2, kEn), "0.15");
  EXPECT_EQ(FormatFixed(2.675, 2, kVi), "2,68");
  EXPECT_EQ(FormatFixed(2.5, 0, kEn), "3");
  EXPECT_EQ(FormatFixed(-2.5, 0, kEn), "-3");
  EXPECT_EQ(FormatFixed(13.444, 2, kVi), "13,44");
}

TEST(ReportNumberText, NegativeValuesAndNoNegativeZero) {
  EXPECT_EQ(FormatFixed(-12.5, 1, kEn), "-12.5");
  EXPECT_EQ(FormatFixed(-12.5, 1, kVi), "-12,5");
  EXPECT_EQ(FormatFixed(-0.004, 2, kVi), "0,00");
  EXPECT_EQ(FormatFixed(-0.0, 1, kEn), "0.0");
}

TEST(ReportNumberText, LongIntegerPartsAreGroupedByANarrowSpaceInBothLanguages) {
  // EA-4/02 S1: the 10 kg weight's conventional mass, 10 000.025 g.
  EXPECT_EQ(FormatFixed(10000.025, 3, kVi), "10\u202F000,025");
  EXPECT_EQ(FormatFixed(10000.025, 3, kEn), "10\u202F000.025");
  EXPECT_EQ(FormatFixed(1234567, 0, kEn), "1\u202F234\u202F567");
  EXPECT_EQ(FormatFixed(123456.5, 1, kVi), "123\u202F456,5");
  // Four digits stay together (ISO 80000-1 §7.3.1 allows it, and 1000,5 reads better).
  EXPECT_EQ(FormatFixed(1000.5, 1, kVi), "1000,5");
  EXPECT_EQ(FormatFixed(-20000, 0, kVi), "-20\u202F000");
}

TEST(ReportNumberText, SmallValuesKeepTheirLeadingZeros) {
  EXPECT_EQ(FormatFixed(0.0059, 4, kVi), "0,0059");
  EXPECT_EQ(FormatFixed(0.05, 1, kEn), "0.1");
  EXPECT_EQ(FormatFixed(0.04, 1, kEn), "0.0");
}

TEST(ReportNumberText, NotANumberPrintsAsADash) {
  EXPECT_EQ(FormatFixed(std::nan(""), 2, kVi), "—");
  EXPECT_EQ(FormatFixed(INFINITY, 2, kEn), "—");
}

TEST(ReportNumberText, TrimmedDropsTrailingZeros) {
  EXPECT_EQ(FormatTrimmed(14.0, 6, kVi), "14");
  EXPECT_EQ(FormatTrimmed(14.5, 6, kVi), "14,5");
  EXPECT_EQ(FormatTrimmed(2.0, 2, kEn), "2");
  // W2 (DOMAIN.md): t = 2.4288 for ν = 7 at 95.45 %, printed as k = 2.43.
  EXPECT_EQ(FormatTrimmed(2.4288, 2, kVi), "2,43");
  EXPECT_EQ(FormatTrimmed(2.4288, 2, kEn), "2.43");
  EXPECT_EQ(FormatTrimmed(-0.0001, 2, kEn), "0");
  EXPECT_EQ(FormatTrimmed(10000, 3, kVi), "10\u202F000");
}

TEST(ReportNumberText, DecimalsOfAnUncertaintyRoundedToTwoSignificantDigits) {
  EXPECT_EQ(DecimalsOfTwoDigitUncertainty(0.12), 2);
  EXPECT_EQ(DecimalsOfTwoDigitUncertainty(0.10), 2);  // an exact power of ten
  EXPECT_EQ(DecimalsOfTwoDigitUncertainty(1.4), 1);
  EXPECT_EQ(DecimalsOfTwoDigitUncertainty(1.0), 1);
  EXPECT_EQ(DecimalsOfTwoDigitUncertainty(59), 0);     // W1: U = 59 mg
  EXPECT_EQ(DecimalsOfTwoDigitUncertainty(0.059), 3);  // the same in g
  EXPECT_EQ(DecimalsOfTwoDigitUncertainty(10), 0);
  EXPECT_EQ(DecimalsOfTwoDigitUncertainty(0), 0);
}

}  // namespace
}  // namespace labtrace::report
