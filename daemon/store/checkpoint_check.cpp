#include "store/checkpoint_check.h"

#include <fmt/format.h>

#include "store/signing_key.h"
#include "store/utc_time.h"

namespace labtrace::store {

namespace {

constexpr const char* kSelectCheckpoints =
    "SELECT checkpoint_id, tree_size, root_hash, time_ns, public_key, signature FROM checkpoints "
    "ORDER BY checkpoint_id";

}  // namespace

Result<CheckpointCheck> CheckpointCheck::Load(Database& db, const VerifyOptions& options, std::string& problem) {
  CheckpointCheck check(options);
  const std::optional<Checkpoint>& saved = options.saved_checkpoint;
  if (saved && !VerifyCheckpointSignature(*saved)) {
    return Error(InvalidArgument("the saved checkpoint's signature does not verify; it is not a labtrace checkpoint"));
  }
  if (options.trusted_key) {
    check.signer_ = *options.trusted_key;
    if (saved && saved->public_key() != check.signer_) {
      return Error(InvalidArgument(fmt::format(
          "the saved checkpoint is signed by key {}, not the lab's key {}: it was not made by the lab's daemon; "
          "export a checkpoint from the lab's own store (labtrace checkpoint export)",
          PublicKeyText(saved->public_key()), PublicKeyText(check.signer_))));
    }
  } else if (saved) {
    check.signer_ = saved->public_key();
  }

  auto select = db.Prepare(kSelectCheckpoints);
  if (!select) return Error(select.error());
  for (;;) {
    auto row = select->Step();
    if (!row) return Error(row.error());
    if (!*row) break;
    Stored stored{select->ColumnInt64(0), {}};
    Checkpoint& c = stored.checkpoint;
    c.set_tree_size(static_cast<uint64_t>(select->ColumnInt64(1)));
    c.set_root_hash(select->ColumnBlob(2));
    c.set_time_ns(select->ColumnInt64(3));
    c.set_public_key(select->ColumnBlob(4));
    c.set_signature(select->ColumnBlob(5));
    const std::string named = fmt::format("checkpoint {} (size {}, {})", stored.id, c.tree_size(), FormatUtcTime(c.time_ns()));
    if (!VerifyCheckpointSignature(c)) {
      problem = named + " has a signature that does not verify: altered";
      return check;
    }
    if (check.signer_.empty()) {
      check.signer_ = c.public_key();
      check.signer_checkpoint_ = stored.id;
    }
    if (c.public_key() != check.signer_) {
      problem = fmt::format("{} is signed by key {}, not {}{}", named, PublicKeyText(c.public_key()), check.SignerName(),
                            options.trusted_key ? ": re-signed outside the lab, or the daemon's key was replaced"
                                                : "");
      return check;
    }
    check.by_size_.emplace(c.tree_size(), std::move(stored));
  }
  return check;
}

std::string CheckpointCheck::SignerName() const {
  const std::string key = PublicKeyText(signer_);
  if (options_.trusted_key) return fmt::format("the lab's key {}", key);
  if (signer_checkpoint_ == 0) return fmt::format("the saved checkpoint's key {}", key);
  return fmt::format("checkpoint {}'s key {}", signer_checkpoint_, key);
}

std::string CheckpointCheck::AtSize(const CompactTree& tree) const {
  const uint64_t size = tree.size();
  const auto [first, last] = by_size_.equal_range(size);
  const std::optional<Checkpoint>& saved = options_.saved_checkpoint;
  const bool saved_here = saved && saved->tree_size() == size;
  if (first == last && !saved_here) return "";
  const Hash root = tree.Root();
  for (auto it = first; it != last; ++it) {
    if (!SameHash(root, it->second.checkpoint.root_hash())) {
      return fmt::format("checkpoint {} (size {}, {}) does not match the records: altered or rewritten", it->second.id,
                         size, FormatUtcTime(it->second.checkpoint.time_ns()));
    }
  }
  if (saved_here && !SameHash(root, saved->root_hash())) {
    return fmt::format("the store's first {} records do not match the saved checkpoint of {}: rewritten", size,
                       FormatUtcTime(saved->time_ns()));
  }
  return "";
}

std::string CheckpointCheck::AfterWalk(uint64_t records) const {
  if (!by_size_.empty() && by_size_.rbegin()->first > records) {
    const Stored& newest = by_size_.rbegin()->second;
    return fmt::format("checkpoint {} of {} covers {} records, but the store holds {}: the tail was truncated",
                       newest.id, FormatUtcTime(newest.checkpoint.time_ns()), newest.checkpoint.tree_size(), records);
  }
  const std::optional<Checkpoint>& saved = options_.saved_checkpoint;
  if (saved && saved->tree_size() > records) {
    return fmt::format("the saved checkpoint of {} covers {} records, but the store holds {}: the tail was truncated",
                       FormatUtcTime(saved->time_ns()), saved->tree_size(), records);
  }
  if (by_size_.empty() && options_.require_checkpoint) {
    return fmt::format("the store holds no signed checkpoint{}: they were deleted, or the daemon never made one, so "
                       "nothing in it is vouched for by the lab's key; run verify with --checkpoint and a checkpoint "
                       "kept outside the lab",
                       options_.trusted_key ? fmt::format(" (the lab's key {} is pinned)", PublicKeyText(signer_)) : "");
  }
  return "";
}

}  // namespace labtrace::store
