#include "store/ledger_writer.h"

#include "labtrace/clock.h"
#include "store/record_bytes.h"

namespace labtrace::store {

namespace {

constexpr const char* kSelectLastBatch =
    "SELECT batch_id, first_leaf, leaf_count, chain_hash, frontier FROM batches "
    "ORDER BY batch_id DESC LIMIT 1";
constexpr const char* kInsertBatch =
    "INSERT INTO batches (batch_id, batch_uuid, first_leaf, leaf_count, record_kind, first_record_id, "
    "leaf_hashes, batch_root, tree_root, chain_hash, frontier, committed_at_ns) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
constexpr const char* kInsertAuditEvent =
    "INSERT INTO audit_events (time_ns, actor, action, entity, old_value, new_value, reason) "
    "VALUES (?, ?, ?, ?, ?, ?, ?)";
constexpr const char* kInsertCheckpoint =
    "INSERT INTO checkpoints (tree_size, root_hash, time_ns, public_key, signature) VALUES (?, ?, ?, ?, ?)";

std::span<const uint8_t> Bytes(std::string_view s) { return {reinterpret_cast<const uint8_t*>(s.data()), s.size()}; }
std::span<const uint8_t> Bytes(const Hash& h) { return {h.data(), h.size()}; }

}  // namespace

Result<LedgerState> LoadLedgerState(Database& db) {
  auto last = db.Cached(kSelectLastBatch);
  if (!last) return Error(last.error());
  auto row = (*last)->Step();
  if (!row) return Error(row.error());
  LedgerState state;
  if (!*row) return state;
  const uint64_t size = static_cast<uint64_t>((*last)->ColumnInt64(1) + (*last)->ColumnInt64(2));
  const std::string chain = (*last)->ColumnBlob(3), frontier = (*last)->ColumnBlob(4);
  if (chain.size() != 32 || frontier.size() % 32 != 0) {
    return Error(DataLoss("the last batch's chain or frontier is malformed"));
  }
  std::vector<Hash> subtrees(frontier.size() / 32);
  for (size_t i = 0; i < subtrees.size(); ++i) std::copy_n(frontier.begin() + 32 * i, 32, subtrees[i].begin());
  auto tree = CompactTree::FromSubtrees(size, std::move(subtrees));
  if (!tree) return Error(tree.error());
  state.tree = std::move(*tree);
  std::copy(chain.begin(), chain.end(), state.chain.begin());
  return state;
}

Result<LedgerWriter> LedgerWriter::Start(Database& db, LedgerState& next, std::string_view batch_uuid) {
  auto last = db.Cached(kSelectLastBatch);
  if (!last) return Error(last.error());
  auto row = (*last)->Step();
  if (!row) return Error(row.error());
  return LedgerWriter(db, next, batch_uuid, *row ? (*last)->ColumnInt64(0) + 1 : 1);
}

Status LedgerWriter::AddBatch(RecordKind kind, int64_t first_record_id, const std::vector<Hash>& leaves) {
  const Hash batch_root = RootOf(leaves);
  leaf_hashes_.clear();
  for (const Hash& h : leaves) leaf_hashes_.append(reinterpret_cast<const char*>(h.data()), h.size());
  next_->chain = ChainHash(next_->chain, batch_root, next_->tree.size());
  frontier_.clear();
  for (const Hash& h : next_->tree.subtrees()) frontier_.append(reinterpret_cast<const char*>(h.data()), h.size());
  auto insert = db_->Cached(kInsertBatch);
  if (!insert) return insert.error();
  Statement& row = **insert;
  row.BindInt64(1, next_batch_id_++);
  row.BindBlob(2, Bytes(batch_uuid_));
  row.BindInt64(3, static_cast<int64_t>(next_->tree.size() - leaves.size()));
  row.BindInt64(4, static_cast<int64_t>(leaves.size()));
  row.BindInt64(5, static_cast<int>(kind));
  row.BindInt64(6, first_record_id);
  row.BindBlob(7, Bytes(leaf_hashes_));
  row.BindBlob(8, Bytes(batch_root));
  row.BindBlob(9, Bytes(next_->tree.Root()));
  row.BindBlob(10, Bytes(next_->chain));
  row.BindBlob(11, Bytes(frontier_));
  row.BindInt64(12, NowNs());
  return row.Run();
}

Status LedgerWriter::AddAuditEvents(std::vector<AuditEvent>& events) {
  if (events.empty()) return OkStatus();
  auto insert = db_->Cached(kInsertAuditEvent);
  if (!insert) return insert.error();
  std::vector<Hash> leaves;
  leaves.reserve(events.size());
  for (AuditEvent& event : events) {
    Statement& row = **insert;
    row.BindInt64(1, event.time_ns());
    row.BindText(2, event.actor());
    row.BindText(3, event.action());
    row.BindText(4, event.entity());
    row.BindText(5, event.old_value());
    row.BindText(6, event.new_value());
    row.BindText(7, event.reason());
    if (Status s = row.Run(); !s.ok()) return s;
    event.set_sequence(static_cast<uint64_t>(db_->LastInsertRowId()));
    const Hash leaf = LeafHash(Bytes(AuditEventRecordBytes(event)));
    next_->tree.Append(leaf);
    leaves.push_back(leaf);
  }
  return AddBatch(RecordKind::kAuditEvent, static_cast<int64_t>(events.front().sequence()), leaves);
}

Status LedgerWriter::SignCheckpoint(const SigningKey& key) {
  if (next_->tree.size() == 0) return OkStatus();  // nothing to vouch for yet
  Checkpoint checkpoint;
  const Hash root = next_->tree.Root();
  checkpoint.set_tree_size(next_->tree.size());
  checkpoint.set_root_hash(root.data(), root.size());
  checkpoint.set_time_ns(NowNs());
  checkpoint.set_public_key(key.public_key().data(), key.public_key().size());
  checkpoint.set_signature(key.Sign(CheckpointText(checkpoint)));
  auto insert = db_->Cached(kInsertCheckpoint);
  if (!insert) return insert.error();
  Statement& row = **insert;
  row.BindInt64(1, static_cast<int64_t>(checkpoint.tree_size()));
  row.BindBlob(2, Bytes(checkpoint.root_hash()));
  row.BindInt64(3, checkpoint.time_ns());
  row.BindBlob(4, Bytes(checkpoint.public_key()));
  row.BindBlob(5, Bytes(checkpoint.signature()));
  return row.Run();
}

}  // namespace labtrace::store
