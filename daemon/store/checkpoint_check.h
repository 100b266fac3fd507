// Part of offline verification (verifier.h): the store's signed checkpoints, and the one
// an auditor saved outside the lab. Each must carry a good signature by one key: the
// lab's key when it is pinned (VerifyOptions::trusted_key), otherwise the key of the saved
// checkpoint or of the first stored one. As the records are walked, the root at each
// checkpoint's size must be the checkpoint's. Used by the verifier's thread only.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "labtrace/ledger.pb.h"
#include "labtrace/status.h"
#include "store/merkle.h"
#include "store/sqlite.h"
#include "store/verifier.h"

namespace labtrace::store {

class CheckpointCheck {
 public:
  // Reads every stored checkpoint and checks its signature and signer; the first that
  // fails is put in `problem`. Errors when the store cannot be read, and when the saved
  // checkpoint is not one the lab signed (bad signature, or not the pinned key).
  static Result<CheckpointCheck> Load(Database& db, const VerifyOptions& options, std::string& problem);

  uint64_t count() const { return by_size_.size(); }
  // How many records the newest stored checkpoint covers; 0 when there is none.
  uint64_t signed_records() const { return by_size_.empty() ? 0 : by_size_.rbegin()->first; }
  // The key every checkpoint is signed by (32 bytes); empty when there is no checkpoint.
  const std::string& signer() const { return signer_; }

  // Once the walk has `tree.size()` leaves: a checkpoint of that size, stored or saved,
  // whose root is not the tree's, in words; or "".
  std::string AtSize(const CompactTree& tree) const;
  // After the walk over all `records`: a checkpoint that covers more records than there
  // are (the tail was cut), or no checkpoint when one is required; or "".
  std::string AfterWalk(uint64_t records) const;

 private:
  struct Stored {
    int64_t id;
    Checkpoint checkpoint;
  };

  explicit CheckpointCheck(const VerifyOptions& options) : options_(options) {}
  // Whose key a checkpoint must be signed by, for messages.
  std::string SignerName() const;

  const VerifyOptions& options_;
  std::multimap<uint64_t, Stored> by_size_;
  std::string signer_;
  int64_t signer_checkpoint_ = 0;  // the stored checkpoint whose key was taken; 0: none
};

}  // namespace labtrace::store
