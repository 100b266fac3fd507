// A thin RAII layer over SQLite: a connection, prepared statements, transactions.
//
// Only the store uses it, and only the store issues PRAGMAs. SQL is written as
// constexpr literals with `?` placeholders; nothing is ever built from input.
// A Database is used by one thread at a time (the store gives each thread its own).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "labtrace/status.h"

struct sqlite3;
struct sqlite3_stmt;

namespace labtrace::store {

class Statement;

// The Status code for an SQLite result code: a full disk is kResourceExhausted, an I/O
// or locking error kUnavailable, corruption kDataLoss.
StatusCode CodeOf(int sqlite_code);

class Database {
 public:
  enum class Mode { kReadWrite, kReadOnly };

  // `vfs` names a registered SQLite VFS (tests inject faults with one); empty: the default.
  static Result<Database> Open(const std::string& path, Mode mode, const std::string& vfs = "");
  Database(Database&& other) noexcept : db_(other.db_) { other.db_ = nullptr; }
  Database& operator=(Database&& other) noexcept;
  ~Database();

  // Closes the connection now (before a new one is opened on the same file).
  void Close();

  // Runs SQL that returns no rows (schema, PRAGMAs, BEGIN/COMMIT).
  Status Execute(const char* sql);
  Result<Statement> Prepare(const char* sql);
  // The rowid of the last row inserted on this connection.
  int64_t LastInsertRowId() const;
  // The error text SQLite has for the last call, with the operation it concerned.
  Status Failure(std::string_view doing) const;
  sqlite3* handle() const { return db_; }

 private:
  explicit Database(sqlite3* db) : db_(db) {}
  sqlite3* db_ = nullptr;
};

class Statement {
 public:
  Statement(Statement&& other) noexcept : db_(other.db_), stmt_(other.stmt_) { other.stmt_ = nullptr; }
  Statement& operator=(Statement&&) = delete;
  ~Statement();

  // Binding indices are 1-based, as in SQLite.
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
  bool ColumnIsNull(int column) const;

 private:
  friend class Database;
  Statement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  sqlite3* db_;
  sqlite3_stmt* stmt_;
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
