// RFC 4180 fields and records (tools/cli/csv_text.h), against the RFC's own rules (§2):
// a field with a comma, a double quote or a line break is enclosed in double quotes, and
// a double quote inside it is escaped by another; records end in CRLF.
#include <gtest/gtest.h>

#include "cli/csv_text.h"

namespace labtrace::cli {
namespace {

TEST(CsvText, LeavesPlainFieldsAsTheyAre) {
  EXPECT_EQ(CsvField("balance-xs205"), "balance-xs205");
  EXPECT_EQ(CsvField("100.00012"), "100.00012");
  EXPECT_EQ(CsvField(""), "");
  EXPECT_EQ(CsvField("°C"), "°C");
}

TEST(CsvText, QuotesFieldsThatHoldSeparatorsQuotesOrLineBreaks) {
  EXPECT_EQ(CsvField("a,b"), "\"a,b\"");
  EXPECT_EQ(CsvField(R"(said "S D")"), R"("said ""S D""")");
  EXPECT_EQ(CsvField("line\r\nbreak"), "\"line\r\nbreak\"");
  EXPECT_EQ(CsvField("lf\nonly"), "\"lf\nonly\"");
  EXPECT_EQ(CsvField("\""), "\"\"\"\"");
}

TEST(CsvText, JoinsARecordWithCommasAndEndsItWithCrLf) {
  EXPECT_EQ(CsvRecord({"1", "pc \"7\"", "", "x,y"}), "1,\"pc \"\"7\"\"\",,\"x,y\"\r\n");
  EXPECT_EQ(CsvRecord({}), "\r\n");
}

}  // namespace
}  // namespace labtrace::cli
