// Result files: the CSV codec (drivers/result_file) and a file made into readings
// (daemon/result_files/result_import). Golden values come from the example file in
// lab-config/examples, read by hand: times in the lab's zone (UTC+7) made UTC by Python's
// calendar.timegm, the file's SHA-256 by sha256sum.
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "config/lab_config.h"
#include "result_file/csv_results.h"
#include "result_files/result_import.h"

namespace labtrace::result_files {
namespace {

using result_file::Layout;
using result_file::ParseResultFile;
using result_file::ParseTimestamp;

constexpr int64_t kS = 1'000'000'000;

std::string ReadExample() {
  std::ifstream file(std::string(LABTRACE_EXAMPLES) + "/moisture-results.csv", std::ios::binary);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

Layout Simple() {
  Layout layout;
  layout.timestamp_column = "time";
  layout.sample_id_column = "sample";
  layout.values = {{"value", "value", "g"}};
  return layout;
}

// The message a file is refused with, or "accepted".
std::string Refusal(std::string_view file, const Layout& layout = Simple()) {
  auto rows = ParseResultFile(file, layout);
  return rows ? "accepted" : rows.error().message();
}

class DemoMoisture : public ::testing::Test {
 protected:
  void SetUp() override {
    auto lab = config::LoadLab(LABTRACE_DEMO_LAB);
    ASSERT_TRUE(lab) << lab.error().message();
    lab_ = *lab;
    instrument_ = config::FindInstrumentConfig(lab_, "moisture-1");
    ASSERT_NE(instrument_, nullptr);
  }
  config::Lab lab_;
  const config::Instrument* instrument_ = nullptr;
};

TEST_F(DemoMoisture, TheExampleFileBecomesReadingsInUtcWithItsSamplesAndRows) {
  const std::string bytes = ReadExample();
  const std::string sha256 = Sha256Hex(bytes);
  EXPECT_EQ(sha256, "af23a4b6e773ec37dc208fd2fba886dbcff40728d3ba223b0e5896009a7a059d");
  auto upload = UploadOfResultFile(*instrument_, bytes, sha256);
  ASSERT_TRUE(upload) << upload.error().message();
  EXPECT_EQ(upload->idempotency_key(), "file:" + sha256);
  ASSERT_EQ(upload->readings_size(), 6) << "three rows of two results";
  const Reading& first = upload->readings(0);
  EXPECT_EQ(first.instrument(), "moisture-1");
  EXPECT_EQ(first.channel(), "moisture");
  EXPECT_EQ(first.unit(), "%");
  EXPECT_EQ(first.value(), 12.84);
  EXPECT_EQ(first.decimals(), 2);
  EXPECT_EQ(first.quality(), GOOD);
  EXPECT_EQ(first.sample_id(), "M-2026-0117");
  EXPECT_EQ(first.requested_at_ns(), 1795569245 * kS) << "08:14:05 in Hồ Chí Minh City is 01:14:05 UTC";
  EXPECT_EQ(first.raw_frame(), "25/11/2026 08:14:05;M-2026-0117;12,84;5,0021;");
  EXPECT_EQ(upload->readings(1).channel(), "initial_mass");
  EXPECT_EQ(upload->readings(1).value(), 5.0021);
  EXPECT_EQ(upload->readings(1).decimals(), 4);
  EXPECT_EQ(upload->readings(3).requested_at_ns(), 1795570307 * kS);
  EXPECT_EQ(upload->readings(3).value(), 5.0008);
  EXPECT_EQ(upload->readings(4).sample_id(), "M-2026-0118");
  EXPECT_EQ(upload->readings(5).requested_at_ns(), 1795572130 * kS);
  EXPECT_FALSE(first.has_provenance()) << "the store sets it, from ImportedFrom";
  const Provenance from = ImportedFrom("moisture-results.csv", sha256);
  EXPECT_EQ(from.source(), Provenance::IMPORTED);
  EXPECT_EQ(from.file_sha256(), sha256);
}

TEST_F(DemoMoisture, ABadCellRefusesTheWholeFileWithItsLineAndColumn) {
  std::string bytes = ReadExample();
  bytes.replace(bytes.find("12,79"), 5, "12,7x");
  auto upload = UploadOfResultFile(*instrument_, bytes, Sha256Hex(bytes));
  ASSERT_FALSE(upload);
  EXPECT_EQ(upload.error().message(),
            "line 3, column 33 (\"Độ ẩm (%)\"): \"12,7x\" is not a number");
}

TEST(ResultFileCodec, ColumnsAreFoundByNameAndQuotedFieldsKeepDelimiters) {
  auto rows = ParseResultFile("note,sample,value,time\n\"a, \"\"b\"\"\",M-1, -1.50 ,2026-02-28 23:05:00\r\n"
                              "\n,M-2,2e3,2024-02-29 00:00:00",
                              Simple());
  ASSERT_TRUE(rows) << rows.error().message();
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0].line, 2u);
  EXPECT_EQ((*rows)[0].values[0].value, -1.5);
  EXPECT_EQ((*rows)[0].values[0].decimals, 2);
  EXPECT_EQ((*rows)[0].sample_id, "M-1");
  EXPECT_EQ((*rows)[0].time.hour, 23u);
  EXPECT_EQ((*rows)[1].line, 4u) << "the empty line 3 is skipped";
  EXPECT_EQ((*rows)[1].values[0].value, 2000);
  EXPECT_EQ((*rows)[1].time.day, 29u);
}

TEST(ResultFileCodec, EachMistakeIsNamedWithItsPlace) {
  EXPECT_EQ(Refusal(""), "line 1: the file is empty; it needs a header and results");
  EXPECT_EQ(Refusal("time,value,sample\n"), "line 1: no results after the header");
  EXPECT_EQ(Refusal("time,value\n2026-11-25 08:14:05,1\n"),
            "line 1: the header has no column \"sample\" (it has \"time\", \"value\"); fix the profile or the file");
  EXPECT_EQ(Refusal("time,value,sample\n2026-11-25 08:14:05,1\n"),
            "line 2, column 1: 2 fields, but the header has 3; is a delimiter missing, or one too many?");
  EXPECT_EQ(Refusal("time,value,sample\n2026-11-25 08:14:05,,M\n"),
            "line 2, column 21 (\"value\"): is empty; every result cell needs a number");
  EXPECT_EQ(Refusal("time,value,sample\n2026-11-25 08:14:05,nan,M\n"),
            "line 2, column 21 (\"value\"): \"nan\" is not a number");
  EXPECT_EQ(Refusal("time,value,sample\n2025-02-29 08:14:05,1,M\n"),
            "line 2, column 1 (\"time\"): \"2025-02-29 08:14:05\" is not a date from 1970 on");
  EXPECT_EQ(Refusal("time,value,sample\n2026-11-25T08:14:05,1,M\n"),
            "line 2, column 1 (\"time\"): \"2026-11-25T08:14:05\" does not match \"%Y-%m-%d %H:%M:%S\" at character "
            "11: ' ' expected");
  EXPECT_EQ(Refusal("time,value,sample\n2026-11-25 08:14:05,1,\"M\n"),
            "line 2, column 23: a quoted field is not closed: add the closing \"");
  EXPECT_EQ(Refusal("time,value,sample\n2026-11-25 08:14:05,1,M\"1\n"),
            "line 2, column 24: a quote inside an unquoted field; quote the field and write the quote twice (\"\")");
  EXPECT_EQ(Refusal("time,value,sample\n2026-11-25 08:14:05,1,Mẫu\xff\n"),
            "line 2, column 26: byte 0xFF is not UTF-8; save the file as UTF-8");
  Layout comma = Simple();
  comma.delimiter = ';';
  comma.decimal_comma = true;
  EXPECT_EQ(Refusal("time;value;sample\n2026-11-25 08:14:05;1.5;M\n", comma),
            "line 2, column 21 (\"value\"): \"1.5\" has a decimal point, but this profile writes decimal commas "
            "(decimal_comma: true)");
}

TEST(ResultFileCodec, TimestampFormatsReadFractionsAndRefuseWhatIsNoTime) {
  auto t = ParseTimestamp("2026-11-25T08:14:05.25", "%Y-%m-%dT%H:%M:%S.%f");
  ASSERT_TRUE(t) << t.error().message();
  EXPECT_EQ(t->nanosecond, 250'000'000u);
  EXPECT_TRUE(ParseTimestamp("5/3/2026 7:05", "%d/%m/%Y %H:%M"));
  EXPECT_FALSE(ParseTimestamp("2026-11-25 25:00:00", "%Y-%m-%d %H:%M:%S"));
  EXPECT_FALSE(ParseTimestamp("2026-11-25 08:14:05 extra", "%Y-%m-%d %H:%M:%S"));
  EXPECT_TRUE(result_file::CheckTimestampFormat("%Y%m%d %H%M").ok());
  EXPECT_FALSE(result_file::CheckTimestampFormat("%Y-%m-%d").ok()) << "no hour";
  EXPECT_FALSE(result_file::CheckTimestampFormat("%Y-%m-%d %H:%M %Y").ok()) << "twice";
}

}  // namespace
}  // namespace labtrace::result_files
