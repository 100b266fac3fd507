#include "store/reading_row.h"

#include "store/record_bytes.h"

namespace labtrace::store {

Reading ReadingFromRow(const Statement& row, int first) {
  Reading reading;
  reading.set_sequence(static_cast<uint64_t>(row.ColumnInt64(first + 0)));
  reading.set_instrument(row.ColumnText(first + 1));
  reading.set_channel(row.ColumnText(first + 2));
  if (!row.ColumnIsNull(first + 3)) reading.set_value(row.ColumnDouble(first + 3));
  reading.set_unit(row.ColumnText(first + 4));
  reading.set_quality(static_cast<Quality>(row.ColumnInt64(first + 5)));
  reading.set_requested_at_ns(row.ColumnInt64(first + 6));
  reading.set_raw_frame(row.ColumnBlob(first + 7));
  reading.set_detail(row.ColumnText(first + 8));
  reading.set_decimals(static_cast<int32_t>(row.ColumnInt64(first + 9)));
  reading.set_supersedes_sequence(static_cast<uint64_t>(row.ColumnInt64(first + 10)));
  reading.set_calibration_certificate(row.ColumnText(first + 11));
  reading.set_calibration_due_date(row.ColumnText(first + 12));
  reading.set_text(row.ColumnText(first + 13));
  return reading;
}

void BindReading(Statement& insert, int64_t channel_id, const Reading& reading) {
  insert.BindInt64(1, channel_id);
  if (QualityHasValue(reading.quality()) && reading.text().empty()) {
    insert.BindDouble(2, reading.value());
  } else {
    insert.BindNull(2);
  }
  insert.BindTextUncopied(3, reading.unit());
  insert.BindInt64(4, reading.quality());
  insert.BindInt64(5, reading.requested_at_ns());
  const std::string& frame = reading.raw_frame();
  insert.BindBlobUncopied(6, {reinterpret_cast<const uint8_t*>(frame.data()), frame.size()});
  insert.BindTextUncopied(7, reading.detail());
  insert.BindInt64(8, reading.decimals());
  if (reading.supersedes_sequence() != 0) {
    insert.BindInt64(9, static_cast<int64_t>(reading.supersedes_sequence()));
  } else {
    insert.BindNull(9);
  }
  insert.BindTextUncopied(10, reading.calibration_certificate());
  insert.BindTextUncopied(11, reading.calibration_due_date());
  insert.BindTextUncopied(12, reading.text());
}

}  // namespace labtrace::store
