// One batch's readings on their way into the store: each is numbered, given its channel's
// id, canonicalised, hashed into the ledger as a leaf, and inserted; then the batch's runs
// are written. Lives for one commit, on the writer thread, inside its transaction.
//
// The writer numbers the readings itself (it is the only writer), and inserts up to
// kRowsPerInsert of them with one statement. An INSERT statement costs about as much to
// start and finish (its cursors opened and closed, the foreign-key check set up, the
// statement reset) as to write its row; with one reading a statement that was a third of
// SQLite's time in the Modbus TCP benchmark.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "labtrace/reading.pb.h"
#include "labtrace/status.h"
#include "store/channel_directory.h"
#include "store/merkle.h"
#include "store/sqlite.h"

namespace labtrace::store {

inline constexpr size_t kRowsPerInsert = 16;

class ReadingWriter {
 public:
  // The next reading gets the sequence after the store's last; leaves go onto `tree`.
  static Result<ReadingWriter> Start(Database& db, ChannelDirectory& channels, CompactTree& tree);

  // Numbers, canonicalises and hashes `reading`, and queues its row. Its strings are
  // bound without copying: it must stay alive and unchanged until Flush().
  Status Add(Reading& reading);
  // Inserts the queued rows. Call before anything reads the readings table.
  Status Flush();
  // Flush(), then writes the runs of every reading added: a run is readings of one
  // instrument with consecutive sequence numbers, found by its channel set.
  Status Finish();

  // The leaf hashes of the readings added, in order; the first one's sequence.
  const std::vector<Hash>& leaves() const { return leaves_; }
  int64_t first_sequence() const { return first_sequence_; }

 private:
  ReadingWriter(Database& db, ChannelDirectory& channels, CompactTree& tree, int64_t next_sequence)
      : db_(&db), channels_(&channels), tree_(&tree), first_sequence_(next_sequence), next_sequence_(next_sequence) {}

  struct Run {
    std::string instrument;
    int64_t first_sequence;
    int64_t count;
    size_t first_channel;  // its readings' channel ids: run_channels_[first_channel, + count)
  };
  struct QueuedRow {
    int64_t channel_id;
    int64_t provenance_id;  // 0: none
    const Reading* reading;
  };

  // The id of `reading`'s provenance, found or created in the provenances table; 0 when
  // it has none. A poll's readings share one, so the last one is remembered.
  Result<int64_t> ProvenanceId(const Reading& reading);

  Database* db_;
  ChannelDirectory* channels_;
  CompactTree* tree_;
  int64_t first_sequence_, next_sequence_;
  std::vector<Hash> leaves_;
  std::vector<Run> runs_;
  std::vector<int64_t> run_channels_;  // every reading's channel id, in order: no allocation per run
  std::vector<QueuedRow> queued_;
  // By row count: the connection's cached INSERT of that many rows, looked up when first
  // needed in the batch.
  std::array<std::optional<CachedStatement>, kRowsPerInsert + 1> inserts_;
  std::string record_bytes_;  // one buffer for every reading's leaf bytes
  // Provenances met in this batch, by their bytes. Kept for one batch only: an id the
  // batch created is gone if it rolls back.
  std::unordered_map<std::string, int64_t> provenance_ids_;
  Provenance last_provenance_;
  int64_t last_provenance_id_ = 0;
  std::string provenance_bytes_;
};

}  // namespace labtrace::store
