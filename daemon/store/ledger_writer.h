// The ledger's side of one commit: the batch rows that chain each batch's Merkle root to
// the one before, the audit events (each a leaf of the log), and the signed checkpoint.
// A LedgerWriter lives for one commit, on the writer thread, inside its transaction; it
// works on a copy of the ledger's state, which the store keeps only once the commit has
// succeeded.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "labtrace/ledger.pb.h"
#include "labtrace/status.h"
#include "store/merkle.h"
#include "store/record_bytes.h"
#include "store/signing_key.h"
#include "store/sqlite.h"

namespace labtrace::store {

// The log's right edge and the chain's head, as of the last committed batch.
struct LedgerState {
  CompactTree tree;
  Hash chain{};
};

// The state the last batch row left (an empty ledger for a new store).
Result<LedgerState> LoadLedgerState(Database& db);

class LedgerWriter {
 public:
  // `next` starts as the committed state and takes every leaf of the commit.
  static Result<LedgerWriter> Start(Database& db, LedgerState& next, std::string_view batch_uuid);

  // The id the next batch row gets (an upload names the batch it came in).
  int64_t next_batch_id() const { return next_batch_id_; }
  // Records a batch row for `leaves`, which are the last ones appended to the tree.
  Status AddBatch(RecordKind kind, int64_t first_record_id, const std::vector<Hash>& leaves);
  // Inserts the events, giving each its sequence, appends their leaves and their batch row.
  Status AddAuditEvents(std::vector<AuditEvent>& events);
  // Signs the log's root as it will stand after this commit, and stores the checkpoint.
  Status SignCheckpoint(const SigningKey& key);

 private:
  LedgerWriter(Database& db, LedgerState& next, std::string_view batch_uuid, int64_t next_batch_id)
      : db_(&db), next_(&next), batch_uuid_(batch_uuid), next_batch_id_(next_batch_id) {}

  Database* db_;
  LedgerState* next_;
  std::string_view batch_uuid_;
  int64_t next_batch_id_;
  std::string leaf_hashes_, frontier_;  // reused buffers for a batch row's blobs
};

}  // namespace labtrace::store
