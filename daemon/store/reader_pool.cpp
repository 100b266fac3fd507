#include "store/reader_pool.h"

namespace labtrace::store {

ReaderPool::Lease::~Lease() {
  if (!db_) return;
  std::lock_guard lock(pool_->mutex_);
  if (pool_->idle_.size() < kMaxIdle) pool_->idle_.push_back(std::move(db_));
}

Result<ReaderPool::Lease> ReaderPool::Acquire() const {
  {
    std::lock_guard lock(mutex_);
    if (!idle_.empty()) {
      std::unique_ptr<Database> db = std::move(idle_.back());
      idle_.pop_back();
      return Lease(this, std::move(db));
    }
  }
  auto db = Database::Open(path_, Database::Mode::kReadOnly, vfs_);
  if (!db) return Error(db.error());
  return Lease(this, std::make_unique<Database>(std::move(*db)));
}

}  // namespace labtrace::store
