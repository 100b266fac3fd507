#include "store/proofs.h"

#include <fmt/format.h>

#include "store/signing_key.h"
#include "store/sqlite.h"

namespace labtrace::store {

namespace {

constexpr const char* kLeafOfReading =
    "SELECT first_leaf + (?1 - first_record_id) FROM batches "
    "WHERE record_kind = 1 AND ?1 BETWEEN first_record_id AND first_record_id + leaf_count - 1";
constexpr const char* kLeafHashes = "SELECT leaf_hashes FROM batches ORDER BY batch_id";
constexpr const char* kCheckpointCovering =
    "SELECT tree_size, root_hash, time_ns, public_key, signature FROM checkpoints WHERE tree_size > ? "
    "ORDER BY checkpoint_id DESC LIMIT 1";

// Every leaf hash as stored, in leaf order. The proofs are checked against the signed
// roots, so a stored hash that was altered shows up as a proof that does not verify.
Result<std::vector<Hash>> LeafHashes(Database& db) {
  auto select = db.Prepare(kLeafHashes);
  if (!select) return Error(select.error());
  std::vector<Hash> leaves;
  for (;;) {
    auto row = select->Step();
    if (!row) return Error(row.error());
    if (!*row) break;
    const std::string blob = select->ColumnBlob(0);
    for (size_t i = 0; i + 32 <= blob.size(); i += 32) {
      Hash h;
      std::copy_n(blob.begin() + static_cast<long>(i), 32, h.begin());
      leaves.push_back(h);
    }
  }
  return leaves;
}

}  // namespace

Result<InclusionAnswer> ProveReadingInclusion(const std::string& db_path, uint64_t sequence) {
  auto db = Database::Open(db_path, Database::Mode::kReadOnly);
  if (!db) return Error(db.error());
  auto find = db->Prepare(kLeafOfReading);
  if (!find) return Error(find.error());
  find->BindInt64(1, static_cast<int64_t>(sequence));
  auto row = find->Step();
  if (!row) return Error(row.error());
  if (!*row) return Error(NotFound(fmt::format("reading {} is not in the ledger", sequence)));
  InclusionAnswer answer;
  answer.leaf_index = static_cast<uint64_t>(find->ColumnInt64(0));

  auto leaves = LeafHashes(*db);
  if (!leaves) return Error(leaves.error());
  answer.tree_size = leaves->size();
  auto checkpoint = db->Prepare(kCheckpointCovering);
  if (!checkpoint) return Error(checkpoint.error());
  checkpoint->BindInt64(1, static_cast<int64_t>(answer.leaf_index));
  auto signed_row = checkpoint->Step();
  if (!signed_row) return Error(signed_row.error());
  std::string signed_root;
  if (*signed_row) {
    Checkpoint c;
    c.set_tree_size(static_cast<uint64_t>(checkpoint->ColumnInt64(0)));
    c.set_root_hash(checkpoint->ColumnBlob(1));
    c.set_time_ns(checkpoint->ColumnInt64(2));
    c.set_public_key(checkpoint->ColumnBlob(3));
    c.set_signature(checkpoint->ColumnBlob(4));
    if (c.tree_size() <= leaves->size()) {
      answer.tree_size = c.tree_size();
      answer.root_is_signed = VerifyCheckpointSignature(c);
      signed_root = c.root_hash();
    }
  }
  const std::span<const Hash> tree(leaves->data(), answer.tree_size);
  answer.leaf_hash = (*leaves)[answer.leaf_index];
  auto proof = InclusionProof(answer.leaf_index, tree);
  if (!proof) return Error(proof.error());
  answer.proof = std::move(*proof);
  if (!signed_root.empty() && signed_root.size() == 32) {
    std::copy(signed_root.begin(), signed_root.end(), answer.root.begin());
  } else {
    answer.root = RootOf(tree);
  }
  answer.verified = VerifyInclusion(answer.leaf_index, answer.tree_size, answer.leaf_hash, answer.proof, answer.root);
  return answer;
}

Result<ConsistencyAnswer> ProveConsistency(const std::string& db_path, uint64_t old_size, uint64_t new_size) {
  auto db = Database::Open(db_path, Database::Mode::kReadOnly);
  if (!db) return Error(db.error());
  auto leaves = LeafHashes(*db);
  if (!leaves) return Error(leaves.error());
  if (old_size == 0 || old_size > new_size || new_size > leaves->size()) {
    return Error(InvalidArgument(fmt::format("sizes must satisfy 0 < from ≤ to ≤ {} (the log's size)", leaves->size())));
  }
  ConsistencyAnswer answer;
  answer.old_size = old_size;
  answer.new_size = new_size;
  const std::span<const Hash> all(leaves->data(), leaves->size());
  answer.old_root = RootOf(all.first(old_size));
  answer.new_root = RootOf(all.first(new_size));
  auto proof = ConsistencyProof(old_size, all.first(new_size));
  if (!proof) return Error(proof.error());
  answer.proof = std::move(*proof);
  answer.verified = VerifyConsistency(old_size, new_size, answer.old_root, answer.new_root, answer.proof);
  return answer;
}

}  // namespace labtrace::store
