// Part of offline verification (verifier.h): the log's tree, grown on a thread of its own
// from batches whose every leaf the walk has already recomputed from its record and found
// equal to the stored leaf hash. Per leaf that is two more SHA-256 digests (the log's
// right edge, the batch's root) and a look for a checkpoint of that size: a quarter of
// the walk's own work, done here on the second core while the walk reads on.
//
// The walk (one thread) adds batches in ledger order; Finish() waits until all are
// checked. The destructor stops the thread and joins it.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "store/checkpoint_check.h"
#include "store/merkle.h"

namespace labtrace::store {

class LogCheck {
 public:
  struct Batch {
    int64_t id = 0;
    // Its first `leaves` leaf hashes are added to the log; the roots and the chain link
    // are checked only when that is all of them (`whole`). A batch in which the walk
    // found a problem is added up to that leaf, so that a checkpoint that fails before
    // it is named first, as a walk in one thread would.
    uint64_t leaves = 0;
    bool whole = false;
    std::string leaf_hashes, batch_root, tree_root, chain;
  };

  // `checkpoints` must outlive this.
  explicit LogCheck(const CheckpointCheck& checkpoints);
  LogCheck(const LogCheck&) = delete;
  LogCheck& operator=(const LogCheck&) = delete;
  ~LogCheck();

  // Waits while several batches are waiting already (each holds 32 bytes per leaf).
  void Add(Batch batch);
  // Whether a problem has been found (then later batches are not checked).
  bool failed() const { return failed_.load(std::memory_order_relaxed); }
  // Waits until every batch added is checked: the first problem, in words, or "".
  std::string Finish();
  // After Finish(): the log over every leaf added.
  const CompactTree& tree() const { return tree_; }

 private:
  void GrowTree();
  std::string Check(const Batch& batch);

  const CheckpointCheck& checkpoints_;
  // The thread's until Finish() returns.
  CompactTree tree_;
  Hash chain_{};
  std::vector<Hash> batch_leaves_;
  std::string problem_;

  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<Batch> waiting_;
  bool checking_ = false, stop_ = false;
  std::atomic<bool> failed_{false};
  std::thread thread_;
};

}  // namespace labtrace::store
