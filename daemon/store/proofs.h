// Inclusion and consistency proofs from a store file, offline, for an auditor: that one
// reading is in the log a signed checkpoint vouches for, and that a later checkpoint's
// log extends an earlier one's without changing it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "labtrace/ledger.pb.h"
#include "labtrace/status.h"
#include "store/merkle.h"

namespace labtrace::store {

struct InclusionAnswer {
  uint64_t leaf_index = 0;
  uint64_t tree_size = 0;
  Hash leaf_hash{};
  std::vector<Hash> proof;
  Hash root{};
  bool root_is_signed = false;  // the root is that of a stored checkpoint, whose signature verified
  bool verified = false;        // VerifyInclusion(leaf, proof, root)
};

// Proves reading `sequence` is in the log at the size of the newest checkpoint that
// covers it (or at the log's current size when none does).
Result<InclusionAnswer> ProveReadingInclusion(const std::string& db_path, uint64_t sequence);

struct ConsistencyAnswer {
  uint64_t old_size = 0, new_size = 0;
  Hash old_root{}, new_root{};
  std::vector<Hash> proof;
  bool verified = false;
};

// Proves the log at `new_size` extends the log at `old_size` unchanged.
Result<ConsistencyAnswer> ProveConsistency(const std::string& db_path, uint64_t old_size, uint64_t new_size);

}  // namespace labtrace::store
