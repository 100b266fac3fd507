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

// A macro so that it can be pasted into constexpr SQL literals; 16 columns, `r` being
// readings and `c` channels. The provenance is looked up by its id in the column list
// itself, so that every query selecting these needs no join of its own.
#define LABTRACE_READING_COLUMNS                                                                   \
  "r.sequence, c.instrument, c.channel, r.value, r.unit, r.quality, r.requested_at_ns, r.raw_frame, " \
  "r.detail, r.decimals, r.supersedes, r.calibration_certificate, r.calibration_due_date, r.text, "   \
  "r.sample_id, (SELECT p.record FROM provenances p WHERE p.provenance_id = r.provenance_id)"
inline constexpr int kReadingColumnCount = 16;

// Decodes LABTRACE_READING_COLUMNS starting at column `first`.
Reading ReadingFromRow(const Statement& row, int first = 0);

// The readings table alone, 15 columns, its channel and provenance by id: for a scan of
// every reading, where a join per row costs more than a lookup in a map loaded once.
#define LABTRACE_READING_ROW_COLUMNS_UP_TO_TEXT                                                   \
  "r.sequence, r.channel_id, r.value, r.unit, r.quality, r.requested_at_ns, r.raw_frame, r.detail, " \
  "r.decimals, r.supersedes, r.calibration_certificate, r.calibration_due_date, r.text"
#define LABTRACE_READING_ROW_COLUMNS LABTRACE_READING_ROW_COLUMNS_UP_TO_TEXT ", r.sample_id, r.provenance_id"
// The same of a store from before schema 7 (an archive, which verify reads as it is): no
// sample, no provenance.
#define LABTRACE_READING_ROW_COLUMNS_BEFORE_SCHEMA_7 LABTRACE_READING_ROW_COLUMNS_UP_TO_TEXT ", '', NULL"
inline constexpr int kReadingRowChannelIdColumn = 1;
inline constexpr int kReadingRowProvenanceIdColumn = 14;  // NULL: stored before schema 7
inline constexpr int kReadingRowColumnCount = 15;

// Decodes LABTRACE_READING_ROW_COLUMNS into `reading`, whose strings' capacity is reused,
// the channel being `instrument`/`channel` and the provenance `provenance` (nullptr: none).
void ReadingFromReadingsRow(const Statement& row, std::string_view instrument, std::string_view channel,
                            const Provenance* provenance, Reading& reading);
// The same without a Reading: the row's values, its strings viewed in place (valid until
// the row's next Step()), for StoredReadingRecordBytes. `provenance` is the reading's
// provenance serialised (Provenance::SerializeAsString), or nullptr when it has none.
StoredReading StoredReadingFromReadingsRow(const Statement& row, std::string_view instrument,
                                           std::string_view channel, const std::string* provenance);

// The INSERT of `rows` readings with one statement; each row binds, in order: sequence,
// channel_id, value, unit, quality, requested_at_ns, raw_frame, detail, decimals,
// supersedes, calibration_certificate, calibration_due_date, text, sample_id,
// provenance_id.
std::string ReadingInsertSql(size_t rows);
inline constexpr int kReadingInsertColumns = 15;

// Binds a canonical reading, sequence included, as row `row` (from 0) of a
// ReadingInsertSql statement, without copying its strings: the reading must outlive the
// statement's next reset. `provenance_id` 0: the reading has none.
void BindReading(Statement& insert, size_t row, int64_t channel_id, int64_t provenance_id, const Reading& reading);

}  // namespace labtrace::store
