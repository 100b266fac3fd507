#include "store/sqlite.h"

#include <fmt/format.h>
#include <sqlite3.h>

namespace labtrace::store {

StatusCode CodeOf(int sqlite_code) {
  switch (sqlite_code & 0xFF) {
    case SQLITE_FULL: return StatusCode::kResourceExhausted;
    case SQLITE_IOERR:
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_CANTOPEN: return StatusCode::kUnavailable;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB: return StatusCode::kDataLoss;
    case SQLITE_CONSTRAINT: return StatusCode::kFailedPrecondition;
    default: return StatusCode::kInternal;
  }
}

Result<Database> Database::Open(const std::string& path, Mode mode, const std::string& vfs) {
  // SQLite's memory statistics take a global mutex on every allocation it makes, and
  // labtrace never reads them. Only possible before SQLite's first use in the process
  // (otherwise this call is refused, harmlessly).
  static const bool no_memory_statistics = sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0) == SQLITE_OK;
  (void)no_memory_statistics;
  sqlite3* db = nullptr;
  const int flags = (mode == Mode::kReadOnly ? SQLITE_OPEN_READONLY
                                             : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) |
                    SQLITE_OPEN_NOMUTEX;
  const int rc = sqlite3_open_v2(path.c_str(), &db, flags, vfs.empty() ? nullptr : vfs.c_str());
  if (rc != SQLITE_OK) {
    std::string message = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close(db);
    return Error(Status(CodeOf(rc), fmt::format("opening database {}: {}", path, message)));
  }
  sqlite3_extended_result_codes(db, 1);
  // A busy reader or writer waits rather than failing at once.
  sqlite3_busy_timeout(db, 5000);
  return Database(db);
}

Database::Database(sqlite3* db) : db_(db), cache_(std::make_unique<std::unordered_map<std::string, Statement>>()) {}

Database::Database(Database&& other) noexcept : db_(other.db_), cache_(std::move(other.cache_)) {
  other.db_ = nullptr;
}

Database& Database::operator=(Database&& other) noexcept {
  if (this != &other) {
    Close();
    db_ = other.db_;
    cache_ = std::move(other.cache_);
    other.db_ = nullptr;
  }
  return *this;
}

Database::~Database() {
  Close();
}

void Database::Close() {
  cache_.reset();  // finalised before the connection closes, or it could not
  sqlite3_close(db_);
  db_ = nullptr;
}

Status Database::Failure(std::string_view doing) const {
  const int code = sqlite3_extended_errcode(db_);
  return Status(CodeOf(code), fmt::format("{}: {}", doing, sqlite3_errmsg(db_)));
}

Status Database::Execute(const char* sql) {
  if (sqlite3_exec(db_, sql, nullptr, nullptr, nullptr) != SQLITE_OK) return Failure(sql);
  return OkStatus();
}

Result<Statement> Database::Prepare(const char* sql) {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr) != SQLITE_OK) {
    return Error(Failure(fmt::format("preparing \"{}\"", sql)));
  }
  return Statement(db_, stmt);
}

Result<CachedStatement> Database::Cached(std::string_view sql, size_t copy) {
  if (!cache_) cache_ = std::make_unique<std::unordered_map<std::string, Statement>>();
  std::string key(sql);
  if (copy > 0) {  // no SQL text holds a NUL, so "SQL\0n" names no other statement
    key.push_back('\0');
    key.append(std::to_string(copy));
  }
  auto found = cache_->find(key);
  if (found == cache_->end()) {
    auto prepared = Prepare(std::string(sql).c_str());
    if (!prepared) return Error(prepared.error());
    found = cache_->emplace(std::move(key), std::move(*prepared)).first;
  }
  return CachedStatement(found->second);
}

int64_t Database::LastInsertRowId() const {
  return sqlite3_last_insert_rowid(db_);
}

Statement::~Statement() {
  sqlite3_finalize(stmt_);
}

void Statement::Bound(int index, int rc) {
  if (rc != SQLITE_OK && bind_failure_ == SQLITE_OK) {
    bind_failure_ = rc;
    bind_failure_index_ = index;
  }
}

void Statement::BindInt64(int index, int64_t value) { Bound(index, sqlite3_bind_int64(stmt_, index, value)); }
void Statement::BindDouble(int index, double value) { Bound(index, sqlite3_bind_double(stmt_, index, value)); }
void Statement::BindText(int index, std::string_view value) {
  Bound(index, sqlite3_bind_text64(stmt_, index, value.data(), value.size(), SQLITE_TRANSIENT, SQLITE_UTF8));
}
void Statement::BindBlob(int index, std::span<const uint8_t> value) {
  // A zero-length blob must still be a blob, not NULL.
  Bound(index, sqlite3_bind_blob64(stmt_, index, value.empty() ? "" : static_cast<const void*>(value.data()),
                                   value.size(), SQLITE_TRANSIENT));
}
void Statement::BindNull(int index) { Bound(index, sqlite3_bind_null(stmt_, index)); }
void Statement::BindTextUncopied(int index, std::string_view value) {
  Bound(index, sqlite3_bind_text64(stmt_, index, value.data(), value.size(), SQLITE_STATIC, SQLITE_UTF8));
}
void Statement::BindBlobUncopied(int index, std::span<const uint8_t> value) {
  Bound(index, sqlite3_bind_blob64(stmt_, index, value.empty() ? "" : static_cast<const void*>(value.data()),
                                   value.size(), SQLITE_STATIC));
}

Result<bool> Statement::Step() {
  if (bind_failure_ != SQLITE_OK) {
    // Too big is the value's fault; an index out of range is a bug in the SQL's caller.
    Status refused(bind_failure_ == SQLITE_TOOBIG ? StatusCode::kInvalidArgument : CodeOf(bind_failure_),
                   fmt::format("binding parameter {}: {} (in \"{}\")", bind_failure_index_,
                               sqlite3_errstr(bind_failure_), sqlite3_sql(stmt_)));
    Reset();
    return Error(std::move(refused));
  }
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  const StatusCode code = CodeOf(rc);
  std::string message = fmt::format("{} (in \"{}\")", sqlite3_errmsg(db_), sqlite3_sql(stmt_));
  sqlite3_reset(stmt_);
  return Error(Status(code, std::move(message)));
}

Status Statement::Run() {
  auto stepped = Step();
  Reset();
  if (!stepped) return stepped.error();
  return OkStatus();
}

void Statement::Reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  bind_failure_ = SQLITE_OK;
  bind_failure_index_ = 0;
}

int64_t Statement::ColumnInt64(int column) const { return sqlite3_column_int64(stmt_, column); }
double Statement::ColumnDouble(int column) const { return sqlite3_column_double(stmt_, column); }
std::string Statement::ColumnText(int column) const {
  const auto* text = sqlite3_column_text(stmt_, column);
  return text ? std::string(reinterpret_cast<const char*>(text),
                            static_cast<size_t>(sqlite3_column_bytes(stmt_, column)))
              : std::string();
}
std::string Statement::ColumnBlob(int column) const {
  const void* blob = sqlite3_column_blob(stmt_, column);
  return blob ? std::string(static_cast<const char*>(blob),
                            static_cast<size_t>(sqlite3_column_bytes(stmt_, column)))
              : std::string();
}
std::string_view Statement::ColumnTextView(int column) const {
  const auto* text = sqlite3_column_text(stmt_, column);
  return text ? std::string_view(reinterpret_cast<const char*>(text), static_cast<size_t>(sqlite3_column_bytes(stmt_, column)))
              : std::string_view();
}
std::string_view Statement::ColumnBlobView(int column) const {
  const void* blob = sqlite3_column_blob(stmt_, column);
  return blob ? std::string_view(static_cast<const char*>(blob), static_cast<size_t>(sqlite3_column_bytes(stmt_, column)))
              : std::string_view();
}
bool Statement::ColumnIsNull(int column) const {
  return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}
bool Statement::ColumnIsInteger(int column) const {
  return sqlite3_column_type(stmt_, column) == SQLITE_INTEGER;
}

Transaction::~Transaction() {
  if (open_) (void)db_.Execute("ROLLBACK");
}

Status Transaction::Begin() {
  Status status = db_.Execute("BEGIN IMMEDIATE");
  open_ = status.ok();
  return status;
}

Status Transaction::Commit() {
  Status status = db_.Execute("COMMIT");
  if (status.ok()) open_ = false;
  return status;
}

}  // namespace labtrace::store
