// The verifier writes each reading's leaf bytes straight from its row
// (StoredReadingRecordBytes); the writer hashed the protobuf serialisation of the canonical
// Reading. These tests hold the two equal: through the readings table as the writer fills
// it, and for rows only an altered store holds, against the protobuf path the verifier
// took before (decode the row into a Reading, canonicalise, serialise).
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "store/reading_row.h"
#include "store/record_bytes.h"
#include "store/schema.h"
#include "store/sqlite.h"

namespace labtrace::store {
namespace {

constexpr const char* kInstrument = "balance-xs205";
constexpr const char* kChannel = "mass";
constexpr const char* kSelectRows = "SELECT " LABTRACE_READING_ROW_COLUMNS " FROM readings r ORDER BY r.sequence";

class ReadingRecordBytesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = Database::Open(":memory:", Database::Mode::kReadWrite);
    ASSERT_TRUE(db.has_value()) << db.error().message();
    db_.emplace(std::move(*db));
    ASSERT_TRUE(Migrate(*db_).ok());
    ASSERT_TRUE(db_->Execute("INSERT INTO channels (channel_id, instrument, channel) VALUES (1, 'balance-xs205', "
                             "'mass')")
                    .ok());
    // Provenances as the writer keeps them (id 1..3), and one that is present but empty.
    Provenance polled, uploaded, imported;
    polled.set_source(Provenance::POLLED);
    polled.set_driver("mt-sics");
    polled.set_bus("balance-rs232");
    uploaded.set_source(Provenance::UPLOADED);
    uploaded.set_token_id("tok-7");
    uploaded.set_user("Nguyễn Văn An");
    imported.set_source(Provenance::IMPORTED);
    imported.set_file_sha256(std::string(64, 'a'));
    imported.set_file_name("moisture 2031-06-01.csv");
    for (const Provenance& p : {polled, uploaded, imported, Provenance()}) {
      const int64_t id = static_cast<int64_t>(provenances_.size()) + 1;
      auto insert = db_->Prepare("INSERT INTO provenances (provenance_id, record) VALUES (?, ?)");
      ASSERT_TRUE(insert.has_value());
      const std::string record = p.SerializeAsString();
      insert->BindInt64(1, id);
      insert->BindBlob(2, {reinterpret_cast<const uint8_t*>(record.data()), record.size()});
      ASSERT_TRUE(insert->Run().ok());
      provenances_.emplace(id, p);
      serialised_.emplace(id, record);
    }
  }

  // Stores `reading` as the writer does: canonical, numbered, bound by BindReading, with
  // provenance `provenance_id` (0: none).
  void Store(Reading reading, int64_t sequence, int64_t provenance_id = 0) {
    reading.set_sequence(static_cast<uint64_t>(sequence));
    reading.set_instrument(kInstrument);
    reading.set_channel(kChannel);
    if (provenance_id != 0) *reading.mutable_provenance() = provenances_.at(provenance_id);
    Canonicalize(reading);
    auto insert = db_->Prepare(ReadingInsertSql(1).c_str());
    ASSERT_TRUE(insert.has_value());
    BindReading(*insert, 0, 1, provenance_id, reading);
    ASSERT_TRUE(insert->Run().ok()) << reading.DebugString();
    written_.push_back(ReadingRecordBytes(reading));
  }

  // Each stored row's bytes by the new path, by the verifier's old protobuf path, and (for
  // rows the writer stored) as the writer hashed them; all must be equal.
  void ExpectBothPathsAgree() {
    auto rows = db_->Prepare(kSelectRows);
    ASSERT_TRUE(rows.has_value());
    size_t row = 0;
    std::string direct;
    Reading decoded;
    for (;;) {
      auto stepped = rows->Step();
      ASSERT_TRUE(stepped.has_value()) << stepped.error().message();
      if (!*stepped) break;
      const bool has_provenance = !rows->ColumnIsNull(kReadingRowProvenanceIdColumn);
      const int64_t provenance_id = rows->ColumnInt64(kReadingRowProvenanceIdColumn);
      StoredReadingRecordBytes(StoredReadingFromReadingsRow(*rows, kInstrument, kChannel,
                                                            has_provenance ? &serialised_.at(provenance_id) : nullptr),
                               direct);
      ReadingFromReadingsRow(*rows, kInstrument, kChannel, has_provenance ? &provenances_.at(provenance_id) : nullptr,
                             decoded);
      Canonicalize(decoded);
      EXPECT_EQ(direct, ReadingRecordBytes(decoded)) << "row " << row << ": " << decoded.DebugString();
      if (row < written_.size()) {
        EXPECT_EQ(direct, written_[row]) << "row " << row << ": " << decoded.DebugString();
      }
      ++row;
    }
    EXPECT_GT(row, 0u);
  }

  std::optional<Database> db_;
  std::vector<std::string> written_;
  std::map<int64_t, Provenance> provenances_;
  std::map<int64_t, std::string> serialised_;
};

Reading Polled(double value, Quality quality = GOOD) {
  Reading r;
  r.set_value(value);
  r.set_unit("g");
  r.set_quality(quality);
  r.set_requested_at_ns(1'795'590'001'000'000'000);
  r.set_raw_frame("S S     100.00012 g\r\n");
  r.set_decimals(5);
  return r;
}

TEST_F(ReadingRecordBytesTest, ReadingsOfEveryShapeGiveTheWritersBytes) {
  std::vector<Reading> readings;
  readings.push_back(Polled(100.00012));
  readings.push_back(Reading());  // every field at its default: only the sequence and names
  readings.push_back(Polled(0.0));
  readings.push_back(Polled(-0.0));
  readings.push_back(Polled(-273.15, UNSTABLE));
  readings.push_back(Polled(5e-324));  // the smallest subnormal
  readings.push_back(Polled(std::numeric_limits<double>::max()));
  readings.push_back(Polled(std::numeric_limits<double>::infinity()));
  readings.push_back(Polled(12.5, NO_REPLY));  // no value kept without a value's quality
  readings.push_back(Polled(12.5, CALIBRATION_EXPIRED));
  readings.push_back(Polled(12.5, static_cast<Quality>(42)));  // a quality this code does not know
  Reading flagged = Polled(0, DEVICE_ERROR);
  flagged.set_detail("Modbus exception 2 (illegal data address) at register 16");
  readings.push_back(flagged);
  Reading binary = Polled(21.75);
  binary.set_decimals(-1);  // ten bytes on the wire
  binary.set_raw_frame(std::string("\x01\x03\x04\x41\xae\x00\x00\x00\xff", 9));
  readings.push_back(binary);
  Reading correction = Polled(100.00009);
  correction.set_supersedes_sequence(7);
  readings.push_back(correction);
  Reading calibrated = Polled(19.998);
  calibrated.set_calibration_certificate("CAL-2031-0042");
  calibrated.set_calibration_due_date("2032-01-31");
  readings.push_back(calibrated);
  Reading text = Polled(3.0);  // a string field: the text, never a value
  text.set_text("XS205 DualRange");
  readings.push_back(text);
  Reading long_strings = Polled(1.0);
  long_strings.set_detail(std::string(200, 'd'));           // a two-byte length
  long_strings.set_raw_frame(std::string(20'000, '\xA5'));  // a three-byte length
  long_strings.set_unit("µS/cm");
  readings.push_back(long_strings);
  Reading early = Polled(1.0);
  early.set_requested_at_ns(-1);  // before 1970: a ten-byte varint
  readings.push_back(early);
  Reading sampled = Polled(0.5312);
  sampled.set_sample_id("S-2031-0612/3");
  readings.push_back(sampled);
  int64_t sequence = 1;
  for (const Reading& r : readings) Store(r, sequence++);
  for (int64_t provenance = 1; provenance <= 4; ++provenance) Store(Polled(7.5), sequence++, provenance);
  Store(Polled(2.0), int64_t{1} << 53);  // a sequence of eight varint bytes
  ExpectBothPathsAgree();
}

TEST_F(ReadingRecordBytesTest, RandomReadingsGiveTheWritersBytes) {
  std::mt19937_64 random(20261203);  // fixed: a failure replays
  auto chance = [&random](int in) { return random() % in == 0; };
  auto some_text = [&random](size_t most) {
    static constexpr std::string_view kPieces[] = {"a", "Z", "0", " ", "°", "µ", "Ω", "\xe2\x80\xaf", ",", "\n"};
    std::string text;
    for (size_t n = random() % (most + 1); n > 0; --n) text += kPieces[random() % std::size(kPieces)];
    return text;
  };
  int64_t sequence = 1;
  for (int i = 0; i < 3000; ++i) {
    Reading r;
    if (!chance(5)) r.set_value(std::ldexp(static_cast<double>(random() % 2'000'001) - 1e6, int(random() % 80) - 40));
    r.set_unit(chance(4) ? "" : some_text(4));
    r.set_quality(static_cast<Quality>(random() % 12));
    r.set_requested_at_ns(static_cast<int64_t>(random() >> (random() % 64)));
    std::string frame(random() % 300, '\0');
    for (char& c : frame) c = static_cast<char>(random());
    r.set_raw_frame(frame);
    if (chance(3)) r.set_detail(some_text(40));
    r.set_decimals(static_cast<int32_t>(random() % 12) - 1);
    if (chance(6) && sequence > 1) r.set_supersedes_sequence(1 + random() % static_cast<uint64_t>(sequence - 1));
    if (chance(3)) {
      r.set_calibration_certificate(some_text(20));
      r.set_calibration_due_date("2031-12-31");
    }
    if (chance(8)) r.set_text(some_text(30));
    if (chance(4)) r.set_sample_id(some_text(12));
    Store(r, sequence, static_cast<int64_t>(random() % 5));
    sequence += 1 + static_cast<int64_t>(random() % 1000);
  }
  ExpectBothPathsAgree();
}

// What only an altered store holds: values the writer never writes, in columns whose
// declared type SQLite does not enforce. Whatever they are, both paths must read them as
// the same bytes, so a verify that finds the old path's mismatch finds the new one's.
TEST_F(ReadingRecordBytesTest, RowsOnlyAnAlteredStoreHoldsReadAsTheOldPathReadThem) {
  ASSERT_TRUE(db_->Execute(R"sql(
    INSERT INTO readings (sequence, channel_id, value, unit, quality, requested_at_ns, raw_frame, detail,
                          decimals, supersedes, calibration_certificate, calibration_due_date, text, sample_id,
                          provenance_id) VALUES
      (1, 1, NULL, 'g', 1, 5, x'00', '', 5, NULL, '', '', '', '', NULL),
      (2, 1, '12.5', 'g', 1, 5, 'a frame as text', '', 5, NULL, '', '', '', x'53', 1),
      (3, 1, 'not a number', 'g', 8, 5, x'', '', 5, NULL, '', '', '', 12, 2),
      (4, 1, 1.0, 42, 4294967297, 5, x'01', 3.25, 4294967295, -3, '', '', '', '', 4),
      (5, 1, 2.0, 'g', -7, -5, x'02', '', -2147483649, 12.75, x'4142', '2031-01-01', '', '', NULL),
      (6, 1, 3.0, x'6700', 1, 5, 7, '', 5, 9223372036854775807, '', '', 0, '', 3),
      (7, 1, 4.0, 'g', '1', '5', x'03', '', '5', '2', '', '', '', '', NULL)
  )sql")
                  .ok());
  ExpectBothPathsAgree();
}

}  // namespace
}  // namespace labtrace::store
