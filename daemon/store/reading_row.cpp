#include "store/reading_row.h"

#include "store/record_bytes.h"

namespace labtrace::store {

namespace {

// The columns from value to sample_id, the same in both column lists, from column `first`.
void StoredValuesFromRow(const Statement& row, int first, StoredReading& stored) {
  stored.has_value = !row.ColumnIsNull(first);
  stored.value = stored.has_value ? row.ColumnDouble(first) : 0;
  stored.unit = row.ColumnTextView(first + 1);
  stored.quality = row.ColumnInt64(first + 2);
  stored.requested_at_ns = row.ColumnInt64(first + 3);
  stored.raw_frame = row.ColumnBlobView(first + 4);
  stored.detail = row.ColumnTextView(first + 5);
  stored.decimals = row.ColumnInt64(first + 6);
  stored.supersedes = row.ColumnInt64(first + 7);
  stored.calibration_certificate = row.ColumnTextView(first + 8);
  stored.calibration_due_date = row.ColumnTextView(first + 9);
  stored.text = row.ColumnTextView(first + 10);
  stored.sample_id = row.ColumnTextView(first + 11);
}

// Into `reading`, whose strings' capacity is reused; Clear() keeps their buffers. The
// provenance is the caller's to set.
void ReadingFromStored(const StoredReading& stored, Reading& reading) {
  reading.Clear();
  reading.set_sequence(static_cast<uint64_t>(stored.sequence));
  reading.mutable_instrument()->assign(stored.instrument);
  reading.mutable_channel()->assign(stored.channel);
  if (stored.has_value) reading.set_value(stored.value);
  reading.mutable_unit()->assign(stored.unit);
  reading.set_quality(static_cast<Quality>(stored.quality));
  reading.set_requested_at_ns(stored.requested_at_ns);
  reading.mutable_raw_frame()->assign(stored.raw_frame);
  reading.mutable_detail()->assign(stored.detail);
  reading.set_decimals(static_cast<int32_t>(stored.decimals));
  reading.set_supersedes_sequence(static_cast<uint64_t>(stored.supersedes));
  reading.mutable_calibration_certificate()->assign(stored.calibration_certificate);
  reading.mutable_calibration_due_date()->assign(stored.calibration_due_date);
  reading.mutable_text()->assign(stored.text);
  reading.mutable_sample_id()->assign(stored.sample_id);
}

}  // namespace

Reading ReadingFromRow(const Statement& row, int first) {
  StoredReading stored;
  stored.sequence = row.ColumnInt64(first + 0);
  stored.instrument = row.ColumnTextView(first + 1);
  stored.channel = row.ColumnTextView(first + 2);
  StoredValuesFromRow(row, first + 3, stored);
  Reading reading;
  ReadingFromStored(stored, reading);
  // The verifier compares the leaf, so a provenance record that does not parse is found
  // there; a query shows what it can.
  if (const int provenance = first + kReadingColumnCount - 1; !row.ColumnIsNull(provenance)) {
    const std::string_view bytes = row.ColumnBlobView(provenance);
    (void)reading.mutable_provenance()->ParseFromArray(bytes.data(), static_cast<int>(bytes.size()));
  }
  return reading;
}

StoredReading StoredReadingFromReadingsRow(const Statement& row, std::string_view instrument,
                                           std::string_view channel, const std::string* provenance) {
  StoredReading stored;
  stored.sequence = row.ColumnInt64(0);
  stored.instrument = instrument;
  stored.channel = channel;
  StoredValuesFromRow(row, 2, stored);
  stored.provenance = provenance;
  return stored;
}

void ReadingFromReadingsRow(const Statement& row, std::string_view instrument, std::string_view channel,
                            const Provenance* provenance, Reading& reading) {
  ReadingFromStored(StoredReadingFromReadingsRow(row, instrument, channel, nullptr), reading);
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
