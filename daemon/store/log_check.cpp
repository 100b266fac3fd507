#include "store/log_check.h"

#include <cstring>

#include <fmt/format.h>

namespace labtrace::store {

namespace {
// Two batches of 65 536 leaves is 4 MiB of leaf hashes: enough to keep the thread busy
// while the walk reads the next.
constexpr size_t kBatchesAhead = 2;
}  // namespace

LogCheck::LogCheck(const CheckpointCheck& checkpoints) : checkpoints_(checkpoints) {
  thread_ = std::thread([this] { GrowTree(); });
}

LogCheck::~LogCheck() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  changed_.notify_all();
  thread_.join();
}

void LogCheck::Add(Batch batch) {
  std::unique_lock lock(mutex_);
  changed_.wait(lock, [this] { return waiting_.size() < kBatchesAhead; });
  waiting_.push_back(std::move(batch));
  lock.unlock();
  changed_.notify_all();
}

std::string LogCheck::Finish() {
  std::unique_lock lock(mutex_);
  changed_.wait(lock, [this] { return waiting_.empty() && !checking_; });
  return problem_;
}

void LogCheck::GrowTree() {
  std::unique_lock lock(mutex_);
  for (;;) {
    changed_.wait(lock, [this] { return !waiting_.empty() || stop_; });
    if (stop_) return;
    Batch batch = std::move(waiting_.front());
    waiting_.pop_front();
    checking_ = true;
    lock.unlock();
    changed_.notify_all();
    // After a problem the rest is not checked: only the first is reported.
    if (problem_.empty()) {
      problem_ = Check(batch);
      if (!problem_.empty()) failed_.store(true, std::memory_order_relaxed);
    }
    lock.lock();
    checking_ = false;
    changed_.notify_all();
  }
}

std::string LogCheck::Check(const Batch& batch) {
  batch_leaves_.resize(batch.leaves);
  // A batch the walk found altered can arrive with no leaves; memcpy of nothing
  // from a null pointer is still undefined behaviour.
  if (batch.leaves > 0) std::memcpy(batch_leaves_.data(), batch.leaf_hashes.data(), 32 * batch.leaves);
  const uint64_t first_leaf = tree_.size();
  for (const Hash& leaf : batch_leaves_) {
    tree_.Append(leaf);
    if (std::string problem = checkpoints_.AtSize(tree_); !problem.empty()) return problem;
  }
  if (!batch.whole) return "";
  const Hash batch_root = RootOf(batch_leaves_);
  if (!SameHash(batch_root, batch.batch_root)) {
    return fmt::format("batch {} (leaves {}..{}) does not match its root: altered", batch.id, first_leaf,
                       tree_.size() - 1);
  }
  if (!SameHash(tree_.Root(), batch.tree_root)) {
    return fmt::format("the log's root after batch {} does not match: rewritten", batch.id);
  }
  chain_ = ChainHash(chain_, batch_root, tree_.size());
  if (!SameHash(chain_, batch.chain)) return fmt::format("the hash chain breaks at batch {}: rewritten", batch.id);
  return "";
}

}  // namespace labtrace::store
