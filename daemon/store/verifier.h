// Offline verification of a store: recomputes every leaf hash from the records, the
// batch roots, the log's roots, the hash chain and the signed checkpoints, and compares
// them with what is stored and, optionally, with a checkpoint the auditor saved earlier.
// Needs no daemon; opens the file read-only.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "labtrace/ledger.pb.h"
#include "labtrace/status.h"
#include "store/merkle.h"

namespace labtrace::store {

struct VerifyOptions {
  std::optional<Checkpoint> saved_checkpoint;
  // Called now and then with (records checked, records in all).
  std::function<void(uint64_t, uint64_t)> progress;
};

struct VerifyReport {
  bool intact = false;
  uint64_t records = 0;
  uint64_t batches = 0;
  uint64_t checkpoints = 0;
  Hash root{};
  // The first thing that does not match, in words, naming the record; empty when intact.
  std::string problem;
};

// Errors only when the file cannot be read as a labtrace store at all; everything found
// wrong inside it is in the report.
Result<VerifyReport> VerifyStore(const std::string& db_path, const VerifyOptions& options);

// The newest checkpoint stored in `db_path`, for an auditor to keep.
Result<Checkpoint> LatestCheckpoint(const std::string& db_path);

}  // namespace labtrace::store
