// Read-only connections to the store's file, kept open between queries so that a query
// neither opens the file nor prepares its statements again (each cost more than a small
// query). Safe from any thread: a connection is lent to one caller at a time.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "labtrace/status.h"
#include "store/sqlite.h"

namespace labtrace::store {

class ReaderPool {
 public:
  // A connection lent out; it goes back to the pool when the lease ends.
  class Lease {
   public:
    Lease(const ReaderPool* pool, std::unique_ptr<Database> db) : pool_(pool), db_(std::move(db)) {}
    Lease(Lease&&) noexcept = default;
    Lease& operator=(Lease&&) = delete;
    ~Lease();
    Database& operator*() const { return *db_; }
    Database* operator->() const { return db_.get(); }

   private:
    const ReaderPool* pool_;
    std::unique_ptr<Database> db_;
  };

  // `vfs`: as for Database::Open.
  ReaderPool(std::string path, std::string vfs) : path_(std::move(path)), vfs_(std::move(vfs)) {}

  // An idle connection, or a new one.
  Result<Lease> Acquire() const;

 private:
  // More queries at once than this open connections of their own, closed afterwards.
  static constexpr size_t kMaxIdle = 4;

  std::string path_, vfs_;
  mutable std::mutex mutex_;
  mutable std::vector<std::unique_ptr<Database>> idle_;
};

}  // namespace labtrace::store
