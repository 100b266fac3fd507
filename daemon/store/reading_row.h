// The one mapping between a Reading and the readings table (joined with channels). Every
// query that reads readings back selects LABTRACE_READING_COLUMNS and decodes them with
// ReadingFromRow; the insert binds them with BindReading. A column is added here, once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "labtrace/reading.pb.h"
#include "store/record_bytes.h"
#include "store/sqlite.h"

namespace labtrace::store {

// A macro so that it can be pasted into constexpr SQL literals; 14 columns, `r` being
// readings and `c` channels.
#define LABTRACE_READING_COLUMNS                                                                   \
  "r.sequence, c.instrument, c.channel, r.value, r.unit, r.quality, r.requested_at_ns, r.raw_frame, " \
  "r.detail, r.decimals, r.supersedes, r.calibration_certificate, r.calibration_due_date, r.text"
inline constexpr int kReadingColumnCount = 14;

// Decodes LABTRACE_READING_COLUMNS starting at column `first`.
Reading ReadingFromRow(const Statement& row, int first = 0);

// The readings table alone, 13 columns, its channel by id: for a scan of every reading,
// where a join to channels per row costs more than a lookup in a map loaded once.
#define LABTRACE_READING_ROW_COLUMNS                                                              \
  "r.sequence, r.channel_id, r.value, r.unit, r.quality, r.requested_at_ns, r.raw_frame, r.detail, " \
  "r.decimals, r.supersedes, r.calibration_certificate, r.calibration_due_date, r.text"
inline constexpr int kReadingRowChannelIdColumn = 1;

// Decodes LABTRACE_READING_ROW_COLUMNS into `reading`, whose strings' capacity is reused,
// the channel being `instrument`/`channel`.
void ReadingFromReadingsRow(const Statement& row, std::string_view instrument, std::string_view channel,
                            Reading& reading);
// The same without a Reading: the row's values, its strings viewed in place (valid until
// the row's next Step()), for StoredReadingRecordBytes.
StoredReading StoredReadingFromReadingsRow(const Statement& row, std::string_view instrument,
                                           std::string_view channel);

// The INSERT of `rows` readings with one statement; each row binds, in order: sequence,
// channel_id, value, unit, quality, requested_at_ns, raw_frame, detail, decimals,
// supersedes, calibration_certificate, calibration_due_date, text.
std::string ReadingInsertSql(size_t rows);
inline constexpr int kReadingInsertColumns = 13;

// Binds a canonical reading, sequence included, as row `row` (from 0) of a
// ReadingInsertSql statement, without copying its strings: the reading must outlive the
// statement's next reset.
void BindReading(Statement& insert, size_t row, int64_t channel_id, const Reading& reading);

}  // namespace labtrace::store
