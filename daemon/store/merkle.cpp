#include "store/merkle.h"

// SHA256_Init and friends are deprecated in OpenSSL 3 in favour of EVP, whose per-digest
// set-up costs more than hashing a 65-byte node (see below).
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>

#include <fmt/format.h>

namespace labtrace::store {

namespace {

uint64_t LargestPowerOfTwoBelow(uint64_t n) {  // n > 1
  uint64_t k = 1;
  while (k << 1 < n) k <<= 1;
  return k;
}

void Path(uint64_t m, std::span<const Hash> d, std::vector<Hash>& out) {
  if (d.size() <= 1) return;
  const uint64_t k = LargestPowerOfTwoBelow(d.size());
  if (m < k) {
    Path(m, d.subspan(0, k), out);
    out.push_back(RootOf(d.subspan(k)));
  } else {
    Path(m - k, d.subspan(k), out);
    out.push_back(RootOf(d.subspan(0, k)));
  }
}

void Subproof(uint64_t m, std::span<const Hash> d, bool complete, std::vector<Hash>& out) {
  const uint64_t n = d.size();
  if (m == n) {
    if (!complete) out.push_back(RootOf(d));
    return;
  }
  const uint64_t k = LargestPowerOfTwoBelow(n);
  if (m <= k) {
    Subproof(m, d.subspan(0, k), complete, out);
    out.push_back(RootOf(d.subspan(k)));
  } else {
    Subproof(m - k, d.subspan(k), false, out);
    out.push_back(RootOf(d.subspan(0, k)));
  }
}

}  // namespace

// SHA-256 from OpenSSL's libcrypto, which uses the CPU's SHA instructions: about three
// times libsodium's portable code here (docs/BENCHMARKS.md), and hashing is on the ingest
// path (three digests per reading: its leaf, the log, the batch's root). Signatures stay
// with libsodium. The low-level SHA256_* calls, not EVP: EVP_DigestInit/Update/Final
// dispatch through a provider on every digest, 380 ns a leaf against 265 ns here, and
// the one-shot SHA256() fetches the algorithm each call. Should a later OpenSSL drop
// them, EVP with one fetched digest and one context per thread is the fallback.
Hash Digest(std::initializer_list<std::span<const uint8_t>> parts) {
  SHA256_CTX context;
  SHA256_Init(&context);
  for (const auto& part : parts) SHA256_Update(&context, part.data(), part.size());
  Hash out;
  SHA256_Final(out.data(), &context);
  return out;
}

Hash Sha256(std::span<const uint8_t> bytes) { return Digest({bytes}); }

Hash LeafHash(std::span<const uint8_t> record) {
  static constexpr uint8_t kLeafPrefix[1] = {0x00};
  return Digest({kLeafPrefix, record});
}

Hash NodeHash(const Hash& left, const Hash& right) {
  static constexpr uint8_t kNodePrefix[1] = {0x01};
  return Digest({kNodePrefix, left, right});
}

Hash ChainHash(const Hash& previous, const Hash& batch_root, uint64_t tree_size) {
  uint8_t size_be[8];
  for (int i = 0; i < 8; ++i) size_be[i] = static_cast<uint8_t>(tree_size >> (56 - 8 * i));
  return Digest({previous, batch_root, size_be});
}

Hash EmptyTreeHash() {
  return Sha256({});
}

std::string ToHex(const Hash& hash) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(64);
  for (uint8_t b : hash) {
    hex += kDigits[b >> 4];
    hex += kDigits[b & 0xF];
  }
  return hex;
}

Result<Hash> HashFromHex(std::string_view hex) {
  if (hex.size() != 64) return Error(InvalidArgument(fmt::format("hash \"{}\" is not 64 hex digits", hex)));
  Hash out;
  for (size_t i = 0; i < 32; ++i) {
    auto nibble = [&](char c) -> int {
      if (c >= '0' && c <= '9') return c - '0';
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      if (c >= 'A' && c <= 'F') return c - 'A' + 10;
      return -1;
    };
    const int hi = nibble(hex[2 * i]), lo = nibble(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return Error(InvalidArgument(fmt::format("hash \"{}\" is not hex", hex)));
    out[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return out;
}

Hash RootOf(std::span<const Hash> d) {
  if (d.empty()) return EmptyTreeHash();
  if (d.size() == 1) return d[0];
  const uint64_t k = LargestPowerOfTwoBelow(d.size());
  return NodeHash(RootOf(d.subspan(0, k)), RootOf(d.subspan(k)));
}

Result<CompactTree> CompactTree::FromSubtrees(uint64_t size, std::vector<Hash> subtrees) {
  if (static_cast<size_t>(__builtin_popcountll(size)) != subtrees.size()) {
    return Error(DataLoss(fmt::format("{} subtree roots cannot describe a tree of {} leaves", subtrees.size(), size)));
  }
  CompactTree tree;
  tree.size_ = size;
  tree.subtrees_ = std::move(subtrees);
  return tree;
}

void CompactTree::Append(const Hash& leaf_hash) {
  Hash carry = leaf_hash;
  // Each set low bit of the old size is a perfect subtree of the same height to merge.
  for (uint64_t n = size_; n & 1; n >>= 1) {
    carry = NodeHash(subtrees_.back(), carry);
    subtrees_.pop_back();
  }
  subtrees_.push_back(carry);
  ++size_;
}

Hash CompactTree::Root() const {
  if (subtrees_.empty()) return EmptyTreeHash();
  Hash root = subtrees_.back();
  for (size_t i = subtrees_.size() - 1; i-- > 0;) root = NodeHash(subtrees_[i], root);
  return root;
}

Result<std::vector<Hash>> InclusionProof(uint64_t index, std::span<const Hash> leaf_hashes) {
  if (index >= leaf_hashes.size()) {
    return Error(InvalidArgument(fmt::format("leaf {} is not in a tree of {}", index, leaf_hashes.size())));
  }
  std::vector<Hash> path;
  Path(index, leaf_hashes, path);
  return path;
}

Result<std::vector<Hash>> ConsistencyProof(uint64_t old_size, std::span<const Hash> leaf_hashes) {
  if (old_size == 0 || old_size > leaf_hashes.size()) {
    return Error(InvalidArgument(fmt::format("no consistency proof from size {} to {}", old_size, leaf_hashes.size())));
  }
  std::vector<Hash> proof;
  Subproof(old_size, leaf_hashes, true, proof);
  return proof;
}

bool VerifyInclusion(uint64_t index, uint64_t tree_size, const Hash& leaf_hash,
                     std::span<const Hash> proof, const Hash& root) {
  if (index >= tree_size) return false;
  uint64_t fn = index, sn = tree_size - 1;
  Hash r = leaf_hash;
  for (const Hash& p : proof) {
    if (sn == 0) return false;
    if ((fn & 1) || fn == sn) {
      r = NodeHash(p, r);
      if (!(fn & 1)) {
        while (!(fn & 1) && fn != 0) {
          fn >>= 1;
          sn >>= 1;
        }
      }
    } else {
      r = NodeHash(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return sn == 0 && r == root;
}

bool VerifyConsistency(uint64_t old_size, uint64_t new_size, const Hash& old_root,
                       const Hash& new_root, std::span<const Hash> proof) {
  if (old_size == 0 || old_size > new_size) return false;
  if (old_size == new_size) return proof.empty() && old_root == new_root;
  std::vector<Hash> path(proof.begin(), proof.end());
  // A first tree that is a perfect subtree is its own first node (§2.1.4.2 step 1).
  if ((old_size & (old_size - 1)) == 0) path.insert(path.begin(), old_root);
  if (path.empty()) return false;
  uint64_t fn = old_size - 1, sn = new_size - 1;
  while (fn & 1) {
    fn >>= 1;
    sn >>= 1;
  }
  Hash fr = path[0], sr = path[0];
  for (size_t i = 1; i < path.size(); ++i) {
    const Hash& c = path[i];
    if (sn == 0) return false;
    if ((fn & 1) || fn == sn) {
      fr = NodeHash(c, fr);
      sr = NodeHash(c, sr);
      if (!(fn & 1)) {
        while (!(fn & 1) && fn != 0) {
          fn >>= 1;
          sn >>= 1;
        }
      }
    } else {
      sr = NodeHash(sr, c);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return fr == old_root && sr == new_root && sn == 0;
}

}  // namespace labtrace::store
