// A thin RAII layer over SQLite: a connection, prepared statements, transactions.
//
// Only the store uses it, and only the store issues PRAGMAs. SQL is written as
// constexpr literals with `?` placeholders; nothing is ever built from input.
// A Database is used by one thread at a time (the store gives each thread its own).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>

#include "labtrace/status.h"

struct sqlite3;
struct sqlite3_stmt;

namespace labtrace::store {

class Statement;
class CachedStatement;

// The Status code for an SQLite result code: a full disk is kResourceExhausted, an I/O
// or locking error kUnavailable, corruption kDataLoss.
StatusCode CodeOf(int sqlite_code);

class Database {
 public:
  enum class Mode { kReadWrite, kReadOnly };

  // `vfs` names a registered SQLite VFS (tests inject faults with one); empty: the default.
  static Result<Database> Open(const std::string& path, Mode mode, const std::string& vfs = "");
  Database(Database&& other) noexcept;
  Database& operator=(Database&& other) noexcept;
  ~Database();

  // Closes the connection now (before a new one is opened on the same file), finalising
  // its cached statements first.
  void Close();

  // Runs SQL that returns no rows (schema, PRAGMAs, BEGIN/COMMIT).
  Status Execute(const char* sql);
  // A statement of one's own, finalised when it goes out of scope: for SQL that runs once.
  Result<Statement> Prepare(const char* sql);
  // The connection's one prepared statement for `sql`, prepared the first time and kept
  // for the connection's life: for what runs per batch or per query (preparing costs as
  // much as running a small statement). Reset, with its bindings cleared, when the handle
  // goes out of scope, so two handles to one SQL text must not be held at once: a caller
  // that needs several cursors of one SQL at once numbers them with `copy`.
  Result<CachedStatement> Cached(std::string_view sql, size_t copy = 0);
  // The rowid of the last row inserted on this connection.
  int64_t LastInsertRowId() const;
  // The error text SQLite has for the last call, with the operation it concerned.
  Status Failure(std::string_view doing) const;
  sqlite3* handle() const { return db_; }

 private:
  explicit Database(sqlite3* db);
  sqlite3* db_ = nullptr;
  // By SQL text; on the heap, so that a moved Database keeps the statements' addresses.
  std::unique_ptr<std::unordered_map<std::string, Statement>> cache_;
};

class Statement {
 public:
  Statement(Statement&& other) noexcept
      : db_(other.db_),
        stmt_(other.stmt_),
        bind_failure_(other.bind_failure_),
        bind_failure_index_(other.bind_failure_index_) {
    other.stmt_ = nullptr;
  }
  Statement& operator=(Statement&&) = delete;
  ~Statement();

  // Binding indices are 1-based, as in SQLite. A bind that SQLite refuses (an index out of
  // range, a value too big) is kept and returned by the next Step() or Run(), so no
  // statement runs with a parameter silently left NULL.
  void BindInt64(int index, int64_t value);
  void BindDouble(int index, double value);
  void BindText(int index, std::string_view value);
  void BindBlob(int index, std::span<const uint8_t> value);
  void BindNull(int index);
  // Without copying: the bytes must stay valid until the statement is reset. For the
  // ingest path, where every reading's strings outlive its insert.
  void BindTextUncopied(int index, std::string_view value);
  void BindBlobUncopied(int index, std::span<const uint8_t> value);

  // Advances to the next row: true with a row, false when done; errors as Status.
  Result<bool> Step();
  // Runs a statement that returns no rows, then resets it for reuse.
  Status Run();
  void Reset();

  int64_t ColumnInt64(int column) const;
  double ColumnDouble(int column) const;
  std::string ColumnText(int column) const;
  std::string ColumnBlob(int column) const;
  // The same without a copy: valid until the next Step(), Reset() or access to the column
  // as another type. For scans that read every row, like the verifier's.
  std::string_view ColumnTextView(int column) const;
  std::string_view ColumnBlobView(int column) const;
  bool ColumnIsNull(int column) const;
  // Whether the column's value is stored as an integer (SQL's typeof() = 'integer'). Only
  // meaningful before the column is read as another type, which may convert it.
  bool ColumnIsInteger(int column) const;

 private:
  friend class Database;
  Statement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  void Bound(int index, int rc);
  sqlite3* db_;
  sqlite3_stmt* stmt_;
  int bind_failure_ = 0;  // the first refused bind's SQLite code, until Reset()
  int bind_failure_index_ = 0;
};

// A handle to a connection's cached statement (Database::Cached); resets it when done.
class CachedStatement {
 public:
  explicit CachedStatement(Statement& statement) : statement_(&statement) {}
  CachedStatement(CachedStatement&& other) noexcept : statement_(other.statement_) { other.statement_ = nullptr; }
  CachedStatement& operator=(CachedStatement&&) = delete;
  ~CachedStatement() {
    if (statement_ != nullptr) statement_->Reset();
  }
  Statement* operator->() const { return statement_; }
  Statement& operator*() const { return *statement_; }

 private:
  Statement* statement_;
};

// BEGIN IMMEDIATE on construction; ROLLBACK on destruction unless Commit() succeeded.
class Transaction {
 public:
  explicit Transaction(Database& db) : db_(db) {}
  ~Transaction();
  Status Begin();
  Status Commit();

 private:
  Database& db_;
  bool open_ = false;
};

}  // namespace labtrace::store
