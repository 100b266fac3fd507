// Look-ups that more than one of the store's parts makes on a connection it holds: the
// writer's (inside a commit, or recovering one) or a reader's. Not for use outside
// daemon/store.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "labtrace/api.pb.h"
#include "labtrace/calibration.pb.h"
#include "labtrace/conformity.pb.h"
#include "labtrace/reading.pb.h"
#include "labtrace/status.h"
#include "store/sqlite.h"

namespace labtrace::store {

// Refuses an upload that cannot be stored, naming the field.
Status ValidateUpload(const api::UploadRequest& request);
// The receipt an upload with this idempotency key was given, if it was stored.
Result<std::optional<api::UploadReceipt>> FindUpload(Database& db, const std::string& idempotency_key);

// The calibration record stored under an idempotency key, or a certificate number.
Result<std::optional<CalibrationRecord>> FindCalibrationByKey(Database& db, const std::string& idempotency_key);
Result<std::optional<CalibrationRecord>> FindCalibrationByNumber(Database& db, const std::string& number);
api::CalibrationReceipt ReceiptOf(const CalibrationRecord& record, bool replayed);

// Every row `select` gives, each made into a T by `parse` (Result<T>(const Statement&)).
template <typename T, typename Parse>
Result<std::vector<T>> CollectRows(Statement& select, Parse parse) {
  std::vector<T> rows;
  for (;;) {
    auto row = select.Step();
    if (!row) return Error(row.error());
    if (!*row) return rows;
    auto value = parse(static_cast<const Statement&>(select));
    if (!value) return Error(value.error());
    rows.push_back(std::move(*value));
  }
}

// issued_documents.cpp. Ok when `pdf` may be kept as the document of `record`: an issued
// test report whose pdf_sha256 is the PDF's SHA-256.
Status CheckIssuedDocument(const ConformityRecord& record, const std::string& pdf);
// Why `report` cannot have its document kept (its number or code has one already), or "".
Result<std::string> IssuedDocumentConflict(Database& db, const TestReport& report);
// Keeps `pdf` as the document of `report` (checked by CheckIssuedDocument), in the
// writer's open transaction.
Status InsertIssuedDocument(Database& db, const TestReport& report, const std::string& pdf, int64_t stored_at_ns);

// Verify's check of the kept PDFs, once the walk has checked the records: "" when each
// PDF still has the SHA-256 that its report's issued version carries in the log.
Result<std::string> IssuedDocumentsProblem(Database& db);

// The reading with this sequence number, if there is one.
Result<std::optional<Reading>> FindReading(Database& db, uint64_t sequence);

}  // namespace labtrace::store
