// The PDFs of issued test reports (schema 10): each kept whole, once, in the commit that
// stores the issued version of its report, in a table the engine keeps append-only. The
// report's version in the log carries the PDF's SHA-256, so a PDF changed here is found
// by verify, and a PDF handed to a customer can be checked against the record.
#include <fmt/format.h>
#include <sodium.h>

#include "store/record_store.h"
#include "store/store_rows.h"

namespace labtrace::store {

namespace {

constexpr const char* kInsertDocument =
    "INSERT INTO issued_documents (number, version, verification_code, sha256, pdf, stored_at_ns) "
    "VALUES (?, ?, ?, ?, ?, ?)";
constexpr const char* kSelectConflict =
    "SELECT number, verification_code FROM issued_documents WHERE number = ?1 OR verification_code "
    "= ?2 "
    "ORDER BY number";
constexpr const char* kSelectDocument =
    "SELECT number, version, verification_code, sha256, pdf, stored_at_ns FROM issued_documents "
    "WHERE number = ?";
constexpr const char* kSelectNumberByCode =
    "SELECT number FROM issued_documents WHERE verification_code = ?";
constexpr const char* kHasDocuments =
    "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'issued_documents'";
constexpr const char* kSelectDocumentsWithReports =
    "SELECT d.number, d.version, d.sha256, d.pdf, c.record FROM issued_documents d LEFT JOIN "
    "conformity_records c "
    "ON c.kind = 'test_report' AND c.key = d.number AND c.version = d.version ORDER BY d.number";

std::string Sha256(std::string_view bytes) {
  std::string hash(crypto_hash_sha256_BYTES, '\0');
  crypto_hash_sha256(reinterpret_cast<unsigned char*>(hash.data()),
                     reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
  return hash;
}

std::string Hex(std::string_view bytes) {
  std::string hex;
  for (unsigned char b : bytes) hex += fmt::format("{:02x}", b);
  return hex;
}

std::span<const uint8_t> Bytes(const std::string& bytes) {
  return {reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()};
}

}  // namespace

Status CheckIssuedDocument(const ConformityRecord& record, const std::string& pdf) {
  if (!record.has_test_report() || record.test_report().state() != REPORT_STATE_ISSUED) {
    return InvalidArgument("only an issued test report has a document kept with it");
  }
  if (!pdf.starts_with("%PDF-")) return InvalidArgument("the issued document is not a PDF");
  if (record.test_report().pdf_sha256() != Sha256(pdf)) {
    return InvalidArgument(
        "the report's pdf_sha256 is not the SHA-256 of the PDF handed in with it");
  }
  return OkStatus();
}

Result<std::string> IssuedDocumentConflict(Database& db, const TestReport& report) {
  auto select = db.Cached(kSelectConflict);
  if (!select) return Error(select.error());
  (*select)->BindText(1, report.number());
  (*select)->BindText(2, report.verification_code());
  auto row = (*select)->Step();
  if (!row) return Error(row.error());
  if (!*row) return std::string();
  const std::string number = (*select)->ColumnText(0);
  return number == report.number() ? fmt::format(
                                         "{} was issued already, with its PDF; an issued report is "
                                         "changed by amending it",
                                         number)
                                   : fmt::format("verification code {} is printed on {} already",
                                                 report.verification_code(), number);
}

Status InsertIssuedDocument(Database& db, const TestReport& report, const std::string& pdf,
                            int64_t stored_at_ns) {
  auto insert = db.Cached(kInsertDocument);
  if (!insert) return insert.error();
  Statement& row = **insert;
  row.BindText(1, report.number());
  row.BindInt64(2, static_cast<int64_t>(report.version()));
  row.BindText(3, report.verification_code());
  row.BindBlob(4, Bytes(report.pdf_sha256()));
  row.BindBlob(5, Bytes(pdf));
  row.BindInt64(6, stored_at_ns);
  return row.Run();
}

Result<std::optional<IssuedDocument>> RecordStore::FindIssuedDocument(
    const std::string& number) const {
  auto db = readers_.Acquire();
  if (!db) return Error(db.error());
  auto select = (*db)->Cached(kSelectDocument);
  if (!select) return Error(select.error());
  (*select)->BindText(1, number);
  auto rows =
      CollectRows<IssuedDocument>(**select, [](const Statement& row) -> Result<IssuedDocument> {
        IssuedDocument document;
        document.number = row.ColumnText(0);
        document.version = static_cast<uint64_t>(row.ColumnInt64(1));
        document.verification_code = row.ColumnText(2);
        document.sha256 = row.ColumnBlob(3);
        document.pdf = row.ColumnBlob(4);
        document.stored_at_ns = row.ColumnInt64(5);
        return document;
      });
  if (!rows) return Error(rows.error());
  if (rows->empty()) return std::optional<IssuedDocument>();
  return std::optional<IssuedDocument>(std::move(rows->front()));
}

Result<std::optional<std::string>> RecordStore::FindIssuedReportByCode(
    const std::string& code) const {
  auto db = readers_.Acquire();
  if (!db) return Error(db.error());
  auto select = (*db)->Cached(kSelectNumberByCode);
  if (!select) return Error(select.error());
  (*select)->BindText(1, code);
  auto rows = CollectRows<std::string>(
      **select, [](const Statement& row) -> Result<std::string> { return row.ColumnText(0); });
  if (!rows) return Error(rows.error());
  if (rows->empty()) return std::optional<std::string>();
  return std::optional<std::string>(std::move(rows->front()));
}

Result<std::string> IssuedDocumentsProblem(Database& db) {
  auto has = db.Prepare(kHasDocuments);
  if (!has) return Error(has.error());
  if (auto row = has->Step(); !row) return Error(row.error());
  if (has->ColumnInt64(0) == 0) return std::string();  // a store from before schema 10
  auto select = db.Prepare(kSelectDocumentsWithReports);
  if (!select) return Error(select.error());
  for (;;) {
    auto row = select->Step();
    if (!row) return Error(row.error());
    if (!*row) return std::string();
    const std::string number = select->ColumnText(0);
    const int64_t version = select->ColumnInt64(1);
    const std::string_view kept_hash = select->ColumnBlobView(2);
    const std::string pdf_hash = Sha256(select->ColumnBlobView(3));
    ConformityRecord record;
    if (select->ColumnBlobView(4).empty() || !record.ParseFromString(select->ColumnBlob(4))) {
      return fmt::format("the issued PDF of {} names version {}, which the store does not hold",
                         number, version);
    }
    const std::string& issued_hash = record.test_report().pdf_sha256();
    if (pdf_hash != issued_hash || kept_hash != issued_hash) {
      return fmt::format(
          "the issued PDF of {} has SHA-256 {}, but version {} of the report, in the log, was "
          "issued with {}: the PDF "
          "kept was changed after it was issued",
          number, Hex(pdf_hash), version, Hex(issued_hash));
    }
  }
}

}  // namespace labtrace::store
