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
  // The lab's Ed25519 public key (32 bytes), pinned outside the store: a checkpoint,
  // stored or saved, signed by any other key is refused. Without it, the key of the saved
  // checkpoint or of the first stored one is taken, and whoever can write the store can
  // re-sign it all with a key of their own.
  std::optional<std::string> trusted_key;
  // A store with no checkpoint at all is not intact (the CLI's default with a pinned key).
  bool require_checkpoint = false;
  // Called now and then with (records checked, records in all).
  std::function<void(uint64_t, uint64_t)> progress;
};

struct VerifyReport {
  bool intact = false;
  uint64_t records = 0;
  uint64_t batches = 0;
  uint64_t checkpoints = 0;
  // How many of the records the newest stored checkpoint covers, and the key that signed
  // the checkpoints (32 bytes; empty when there is none).
  uint64_t signed_records = 0;
  std::string signer;
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
