#include "store/reading_row.h"

#include "store/record_bytes.h"

namespace labtrace::store {

namespace {

// The columns from value to sample_id, the same in both column lists, from column `first`.
void ReadingValuesFromRow(const Statement& row, int first, Reading& reading) {
  if (!row.ColumnIsNull(first)) reading.set_value(row.ColumnDouble(first));
  reading.mutable_unit()->assign(row.ColumnTextView(first + 1));
  reading.set_quality(static_cast<Quality>(row.ColumnInt64(first + 2)));
  reading.set_requested_at_ns(row.ColumnInt64(first + 3));
  reading.mutable_raw_frame()->assign(row.ColumnBlobView(first + 4));
  reading.mutable_detail()->assign(row.ColumnTextView(first + 5));
  reading.set_decimals(static_cast<int32_t>(row.ColumnInt64(first + 6)));
  reading.set_supersedes_sequence(static_cast<uint64_t>(row.ColumnInt64(first + 7)));
  reading.mutable_calibration_certificate()->assign(row.ColumnTextView(first + 8));
  reading.mutable_calibration_due_date()->assign(row.ColumnTextView(first + 9));
  reading.mutable_text()->assign(row.ColumnTextView(first + 10));
  reading.mutable_sample_id()->assign(row.ColumnTextView(first + 11));
}

}  // namespace

Reading ReadingFromRow(const Statement& row, int first) {
  Reading reading;
  reading.set_sequence(static_cast<uint64_t>(row.ColumnInt64(first + 0)));
  reading.set_instrument(row.ColumnText(first + 1));
  reading.set_channel(row.ColumnText(first + 2));
  ReadingValuesFromRow(row, first + 3, reading);
  // The verifier compares the leaf, so a provenance record that does not parse is found
  // there; a query shows what it can.
  if (const int provenance = first + kReadingColumnCount - 1; !row.ColumnIsNull(provenance)) {
    const std::string_view bytes = row.ColumnBlobView(provenance);
    (void)reading.mutable_provenance()->ParseFromArray(bytes.data(), static_cast<int>(bytes.size()));
  }
  return reading;
}

void ReadingFromReadingsRow(const Statement& row, std::string_view instrument, std::string_view channel,
                            const Provenance* provenance, Reading& reading) {
  // Clear() keeps the strings' buffers: only the fields set below are left afterwards.
  reading.Clear();
  reading.set_sequence(static_cast<uint64_t>(row.ColumnInt64(0)));
  reading.mutable_instrument()->assign(instrument);
  reading.mutable_channel()->assign(channel);
  ReadingValuesFromRow(row, 2, reading);
  if (provenance != nullptr) *reading.mutable_provenance() = *provenance;
}

std::string ReadingInsertSql(size_t rows) {
  std::string sql =
      "INSERT INTO readings (sequence, channel_id, value, unit, quality, requested_at_ns, raw_frame, detail, "
      "decimals, supersedes, calibration_certificate, calibration_due_date, text, sample_id, provenance_id) VALUES ";
  for (size_t row = 0; row < rows; ++row) sql += row == 0 ? "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)" : ",(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)";
  return sql;
}

void BindReading(Statement& insert, size_t row, int64_t channel_id, int64_t provenance_id, const Reading& reading) {
  const int at = static_cast<int>(row) * kReadingInsertColumns;  // the column before this row's first
  insert.BindInt64(at + 1, static_cast<int64_t>(reading.sequence()));
  insert.BindInt64(at + 2, channel_id);
  if (QualityHasValue(reading.quality()) && reading.text().empty()) {
    insert.BindDouble(at + 3, reading.value());
  } else {
    insert.BindNull(at + 3);
  }
  insert.BindTextUncopied(at + 4, reading.unit());
  insert.BindInt64(at + 5, reading.quality());
  insert.BindInt64(at + 6, reading.requested_at_ns());
  const std::string& frame = reading.raw_frame();
  insert.BindBlobUncopied(at + 7, {reinterpret_cast<const uint8_t*>(frame.data()), frame.size()});
  insert.BindTextUncopied(at + 8, reading.detail());
  insert.BindInt64(at + 9, reading.decimals());
  if (reading.supersedes_sequence() != 0) {
    insert.BindInt64(at + 10, static_cast<int64_t>(reading.supersedes_sequence()));
  } else {
    insert.BindNull(at + 10);
  }
  insert.BindTextUncopied(at + 11, reading.calibration_certificate());
  insert.BindTextUncopied(at + 12, reading.calibration_due_date());
  insert.BindTextUncopied(at + 13, reading.text());
  insert.BindTextUncopied(at + 14, reading.sample_id());
  if (provenance_id != 0) {
    insert.BindInt64(at + 15, provenance_id);
  } else {
    insert.BindNull(at + 15);
  }
}

}  // namespace labtrace::store
