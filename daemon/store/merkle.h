// The RFC 6962 / RFC 9162 Merkle tree over the store's records. Pure: hashes in, hashes out.
//
//   leaf hash  = SHA-256(0x00 ‖ record bytes)
//   node hash  = SHA-256(0x01 ‖ left ‖ right)
//   MTH(D[n])  splits at the largest power of two below n (RFC 9162 §2.1.1).
//
// The store keeps every leaf hash, so the root at any size, inclusion proofs and
// consistency proofs can be computed from them; the verifier recomputes the leaf hashes
// from the records themselves.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "labtrace/status.h"

namespace labtrace::store {

using Hash = std::array<uint8_t, 32>;

Hash Sha256(std::span<const uint8_t> bytes);
Hash LeafHash(std::span<const uint8_t> record);
Hash NodeHash(const Hash& left, const Hash& right);
Hash EmptyTreeHash();

std::string ToHex(const Hash& hash);
// Whether `stored` (a hash as a BLOB column holds it) is `hash`.
inline bool SameHash(const Hash& hash, std::string_view stored) {
  return stored == std::string_view(reinterpret_cast<const char*>(hash.data()), hash.size());
}
Result<Hash> HashFromHex(std::string_view hex);

// The link of the batch hash chain: SHA-256(previous ‖ batch_root ‖ tree size as u64 BE),
// the first batch's previous being 32 zero bytes.
Hash ChainHash(const Hash& previous, const Hash& batch_root, uint64_t tree_size);

// MTH over the leaves whose leaf hashes are given.
Hash RootOf(std::span<const Hash> leaf_hashes);

// The right edge of a growing tree: the roots of its perfect subtrees, largest first.
// Appending is O(log n) amortised; the root is O(log n). The store keeps one of these
// for the whole log, the verifier rebuilds one.
class CompactTree {
 public:
  CompactTree() = default;
  // Resumes a tree from its stored right edge; fails when the subtrees do not fit `size`.
  static Result<CompactTree> FromSubtrees(uint64_t size, std::vector<Hash> subtrees);
  const std::vector<Hash>& subtrees() const { return subtrees_; }

  void Append(const Hash& leaf_hash);
  Hash Root() const;
  uint64_t size() const { return size_; }

 private:
  std::vector<Hash> subtrees_;
  uint64_t size_ = 0;
};

// PATH(index, D[n]) of RFC 9162 §2.1.3.1.
Result<std::vector<Hash>> InclusionProof(uint64_t index, std::span<const Hash> leaf_hashes);
// PROOF(m, D[n]) of RFC 9162 §2.1.4.1.
Result<std::vector<Hash>> ConsistencyProof(uint64_t old_size, std::span<const Hash> leaf_hashes);

// RFC 9162 §2.1.3.2.
bool VerifyInclusion(uint64_t index, uint64_t tree_size, const Hash& leaf_hash,
                     std::span<const Hash> proof, const Hash& root);
// RFC 9162 §2.1.4.2.
bool VerifyConsistency(uint64_t old_size, uint64_t new_size, const Hash& old_root,
                       const Hash& new_root, std::span<const Hash> proof);

}  // namespace labtrace::store
