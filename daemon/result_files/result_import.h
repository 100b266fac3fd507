// A result file made into readings: the instrument's profile reads the CSV (the pure
// codec in drivers/result_file), each row's time is placed in the profile's zone, and
// each result cell becomes a reading of its column's channel. The file's readings go to
// the store as one upload under the key "file:" + its SHA-256, so the same content is
// stored once however often it arrives, and every reading carries the file's hash as its
// provenance. Pure: bytes in, an upload or the first problem (line and column) out.
#pragma once

#include <string>
#include <string_view>

#include "labtrace/api.pb.h"
#include "labtrace/config.pb.h"
#include "labtrace/reading.pb.h"
#include "labtrace/status.h"
#include "result_file/csv_results.h"

namespace labtrace::result_files {

// The idempotency keys of result files; an upload may not use them (api/upload_rules.h).
inline constexpr std::string_view kResultFileKeyPrefix = "file:";
// A file larger than this is refused unread: it is no instrument's result file.
inline constexpr size_t kMaxResultFileBytes = 16 << 20;

// SHA-256 of `bytes`, 64 lowercase hex digits.
std::string Sha256Hex(std::string_view bytes);

// What the codec needs of a loaded profile (defaults filled in by LoadLab).
result_file::Layout LayoutOf(const config::ResultFileProfile& profile);

// The upload of the readings of result file `bytes` of `instrument` (which has a
// profile), keyed by `sha256`; or why the file is refused, starting "line L, column C:"
// when a place in it is to blame.
Result<api::UploadRequest> UploadOfResultFile(const config::Instrument& instrument, std::string_view bytes,
                                              std::string_view sha256);

// The provenance of a file's readings.
Provenance ImportedFrom(std::string_view file_name, std::string_view sha256);

}  // namespace labtrace::result_files
