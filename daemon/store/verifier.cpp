#include "store/verifier.h"

#include <map>
#include <vector>

#include <fmt/format.h>

#include "store/record_bytes.h"
#include "store/signing_key.h"
#include "store/sqlite.h"

namespace labtrace::store {

namespace {

constexpr const char* kSelectLedger =
    "SELECT l.leaf_index, l.record_kind, l.record_id, l.leaf_hash, r.sequence, c.instrument, c.channel, "
    "r.value, r.unit, r.quality, r.requested_at_ns, r.raw_frame, r.detail, r.decimals "
    "FROM ledger l "
    "LEFT JOIN readings r ON l.record_kind = 1 AND r.sequence = l.record_id "
    "LEFT JOIN channels c ON c.channel_id = r.channel_id "
    "ORDER BY l.leaf_index";
constexpr const char* kSelectBatches =
    "SELECT batch_id, first_leaf, leaf_count, batch_root, tree_root, chain_hash FROM batches ORDER BY batch_id";
constexpr const char* kSelectCheckpoints =
    "SELECT checkpoint_id, tree_size, root_hash, time_ns, public_key, signature FROM checkpoints "
    "ORDER BY checkpoint_id";
constexpr const char* kSelectUnledgeredReading =
    "SELECT r.sequence FROM readings r "
    "LEFT JOIN ledger l ON l.record_kind = 1 AND l.record_id = r.sequence "
    "WHERE l.leaf_index IS NULL ORDER BY r.sequence LIMIT 1";

struct StoredBatch {
  int64_t id;
  uint64_t first_leaf, leaf_count;
  std::string batch_root, tree_root, chain;
};

struct StoredCheckpoint {
  int64_t id;
  Checkpoint checkpoint;
};

std::string AsString(const Hash& h) { return std::string(reinterpret_cast<const char*>(h.data()), h.size()); }

std::string FormatTime(int64_t ns) {
  const std::time_t t = static_cast<std::time_t>(ns / 1'000'000'000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                     tm.tm_min, tm.tm_sec);
}

Hash ChainHash(const Hash& previous, const Hash& batch_root, uint64_t tree_size) {
  uint8_t buffer[72];
  std::copy(previous.begin(), previous.end(), buffer);
  std::copy(batch_root.begin(), batch_root.end(), buffer + 32);
  for (int i = 0; i < 8; ++i) buffer[64 + i] = static_cast<uint8_t>(tree_size >> (56 - 8 * i));
  return Sha256({buffer, sizeof buffer});
}

}  // namespace

Result<Checkpoint> LatestCheckpoint(const std::string& db_path) {
  auto db = Database::Open(db_path, Database::Mode::kReadOnly);
  if (!db) return Error(db.error());
  auto select = db->Prepare(
      "SELECT tree_size, root_hash, time_ns, public_key, signature FROM checkpoints "
      "ORDER BY checkpoint_id DESC LIMIT 1");
  if (!select) return Error(select.error());
  auto row = select->Step();
  if (!row) return Error(row.error());
  if (!*row) return Error(NotFound(fmt::format("{} holds no checkpoint yet", db_path)));
  Checkpoint c;
  c.set_tree_size(static_cast<uint64_t>(select->ColumnInt64(0)));
  c.set_root_hash(select->ColumnBlob(1));
  c.set_time_ns(select->ColumnInt64(2));
  c.set_public_key(select->ColumnBlob(3));
  c.set_signature(select->ColumnBlob(4));
  return c;
}

Result<VerifyReport> VerifyStore(const std::string& db_path, const VerifyOptions& options) {
  auto db = Database::Open(db_path, Database::Mode::kReadOnly);
  if (!db) return Error(db.error());
  VerifyReport report;
  auto fail = [&report](std::string problem) -> Result<VerifyReport> {
    report.intact = false;
    report.problem = std::move(problem);
    return report;
  };

  {
    auto check = db->Prepare("PRAGMA integrity_check");
    if (!check) return Error(check.error().Annotate(fmt::format("{} is not a labtrace store", db_path)));
    auto row = check->Step();
    if (!row) return Error(row.error());
    if (*row && check->ColumnText(0) != "ok") return fail("SQLite integrity check failed: " + check->ColumnText(0));
  }

  std::vector<StoredBatch> batches;
  {
    auto select = db->Prepare(kSelectBatches);
    if (!select) return Error(select.error().Annotate(fmt::format("{} is not a labtrace store", db_path)));
    for (;;) {
      auto row = select->Step();
      if (!row) return Error(row.error());
      if (!*row) break;
      batches.push_back({select->ColumnInt64(0), static_cast<uint64_t>(select->ColumnInt64(1)),
                         static_cast<uint64_t>(select->ColumnInt64(2)), select->ColumnBlob(3), select->ColumnBlob(4),
                         select->ColumnBlob(5)});
    }
  }
  report.batches = batches.size();
  uint64_t expected_first = 0;
  for (const StoredBatch& batch : batches) {
    if (batch.first_leaf != expected_first) {
      return fail(fmt::format("batch {} starts at leaf {}, expected {}: batches were removed or rewritten", batch.id,
                              batch.first_leaf, expected_first));
    }
    expected_first += batch.leaf_count;
  }

  std::multimap<uint64_t, StoredCheckpoint> checkpoints_by_size;
  std::string public_key = options.saved_checkpoint ? options.saved_checkpoint->public_key() : std::string();
  {
    auto select = db->Prepare(kSelectCheckpoints);
    if (!select) return Error(select.error());
    for (;;) {
      auto row = select->Step();
      if (!row) return Error(row.error());
      if (!*row) break;
      StoredCheckpoint stored{select->ColumnInt64(0), {}};
      stored.checkpoint.set_tree_size(static_cast<uint64_t>(select->ColumnInt64(1)));
      stored.checkpoint.set_root_hash(select->ColumnBlob(2));
      stored.checkpoint.set_time_ns(select->ColumnInt64(3));
      stored.checkpoint.set_public_key(select->ColumnBlob(4));
      stored.checkpoint.set_signature(select->ColumnBlob(5));
      if (!VerifyCheckpointSignature(stored.checkpoint)) {
        return fail(fmt::format("checkpoint {} (size {}, {}) has a signature that does not verify: altered",
                                stored.id, stored.checkpoint.tree_size(), FormatTime(stored.checkpoint.time_ns())));
      }
      if (public_key.empty()) public_key = stored.checkpoint.public_key();
      if (stored.checkpoint.public_key() != public_key) {
        return fail(fmt::format("checkpoint {} is signed by a different key than {}", stored.id,
                                options.saved_checkpoint ? "the saved checkpoint" : "checkpoint 1"));
      }
      checkpoints_by_size.emplace(stored.checkpoint.tree_size(), std::move(stored));
    }
  }
  report.checkpoints = checkpoints_by_size.size();
  if (options.saved_checkpoint && !VerifyCheckpointSignature(*options.saved_checkpoint)) {
    return Error(InvalidArgument("the saved checkpoint's signature does not verify; it is not a labtrace checkpoint"));
  }

  uint64_t total = 0;
  {
    auto count = db->Prepare("SELECT COUNT(*) FROM ledger");
    if (!count) return Error(count.error());
    if (auto row = count->Step(); !row) return Error(row.error());
    total = static_cast<uint64_t>(count->ColumnInt64(0));
  }

  auto select = db->Prepare(kSelectLedger);
  if (!select) return Error(select.error());
  CompactTree tree;
  Hash chain{};
  size_t batch_index = 0;
  std::vector<Hash> batch_leaves;
  const uint64_t progress_step = std::max<uint64_t>(1, total / 100);
  for (uint64_t index = 0;; ++index) {
    auto row = select->Step();
    if (!row) return Error(row.error());
    if (!*row) break;
    if (static_cast<uint64_t>(select->ColumnInt64(0)) != index) {
      return fail(fmt::format("leaf {} is missing from the ledger: deleted", index));
    }
    const int64_t record_id = select->ColumnInt64(2);
    if (select->ColumnInt64(1) != static_cast<int>(RecordKind::kReading)) {
      return fail(fmt::format("leaf {} names an unknown record kind {}", index, select->ColumnInt64(1)));
    }
    if (select->ColumnIsNull(4)) return fail(fmt::format("reading {} (leaf {}) is missing: deleted", record_id, index));
    if (select->ColumnIsNull(5)) {
      return fail(fmt::format("reading {} (leaf {}) names a channel that is missing: deleted", record_id, index));
    }
    Reading reading;
    reading.set_sequence(static_cast<uint64_t>(select->ColumnInt64(4)));
    reading.set_instrument(select->ColumnText(5));
    reading.set_channel(select->ColumnText(6));
    if (!select->ColumnIsNull(7)) reading.set_value(select->ColumnDouble(7));
    reading.set_unit(select->ColumnText(8));
    reading.set_quality(static_cast<Quality>(select->ColumnInt64(9)));
    reading.set_requested_at_ns(select->ColumnInt64(10));
    reading.set_raw_frame(select->ColumnBlob(11));
    reading.set_detail(select->ColumnText(12));
    reading.set_decimals(static_cast<int32_t>(select->ColumnInt64(13)));
    const std::string bytes = ReadingRecordBytes(CanonicalReading(reading));
    const Hash leaf = LeafHash({reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()});
    if (AsString(leaf) != select->ColumnBlob(3)) {
      return fail(fmt::format("reading {} ({}/{}, requested {}) does not match its leaf hash: altered after commit",
                              record_id, reading.instrument(), reading.channel(), FormatTime(reading.requested_at_ns())));
    }
    tree.Append(leaf);
    batch_leaves.push_back(leaf);
    const uint64_t size = tree.size();

    if (batch_index < batches.size() && size == batches[batch_index].first_leaf + batches[batch_index].leaf_count) {
      const StoredBatch& batch = batches[batch_index];
      if (AsString(RootOf(batch_leaves)) != batch.batch_root) {
        return fail(fmt::format("batch {} (leaves {}..{}) does not match its root: its ledger was altered", batch.id,
                                batch.first_leaf, size - 1));
      }
      if (AsString(tree.Root()) != batch.tree_root) {
        return fail(fmt::format("the log's root after batch {} does not match: rewritten", batch.id));
      }
      chain = ChainHash(chain, RootOf(batch_leaves), size);
      if (AsString(chain) != batch.chain) {
        return fail(fmt::format("the hash chain breaks at batch {}: rewritten", batch.id));
      }
      batch_leaves.clear();
      ++batch_index;
    } else if (batch_index >= batches.size()) {
      return fail(fmt::format("leaf {} (reading {}) belongs to no batch: added outside labtrace", index, record_id));
    }
    const auto [first, last] = checkpoints_by_size.equal_range(size);
    for (auto it = first; it != last; ++it) {
      if (AsString(tree.Root()) != it->second.checkpoint.root_hash()) {
        return fail(fmt::format("checkpoint {} (size {}, {}) does not match the records: altered or rewritten",
                                it->second.id, size, FormatTime(it->second.checkpoint.time_ns())));
      }
    }
    if (options.saved_checkpoint && size == options.saved_checkpoint->tree_size() &&
        AsString(tree.Root()) != options.saved_checkpoint->root_hash()) {
      return fail(fmt::format("the store's first {} records do not match the saved checkpoint of {}: rewritten", size,
                              FormatTime(options.saved_checkpoint->time_ns())));
    }
    if (options.progress && (size % progress_step == 0 || size == total)) options.progress(size, total);
  }
  report.records = tree.size();
  report.root = tree.Root();

  if (batch_index < batches.size()) {
    const StoredBatch& batch = batches[batch_index];
    return fail(fmt::format("batch {} expects leaves {}..{}, but the ledger ends at {}: deleted", batch.id,
                            batch.first_leaf, batch.first_leaf + batch.leaf_count - 1, report.records));
  }
  if (!checkpoints_by_size.empty() && checkpoints_by_size.rbegin()->first > report.records) {
    const auto& newest = checkpoints_by_size.rbegin()->second;
    return fail(fmt::format("checkpoint {} of {} covers {} records, but the store holds {}: the tail was truncated",
                            newest.id, FormatTime(newest.checkpoint.time_ns()), newest.checkpoint.tree_size(),
                            report.records));
  }
  if (options.saved_checkpoint && options.saved_checkpoint->tree_size() > report.records) {
    return fail(fmt::format("the saved checkpoint of {} covers {} records, but the store holds {}: the tail was truncated",
                            FormatTime(options.saved_checkpoint->time_ns()), options.saved_checkpoint->tree_size(),
                            report.records));
  }
  {
    auto unledgered = db->Prepare(kSelectUnledgeredReading);
    if (!unledgered) return Error(unledgered.error());
    auto row = unledgered->Step();
    if (!row) return Error(row.error());
    if (*row) {
      return fail(fmt::format("reading {} is not in the ledger: added outside labtrace", unledgered->ColumnInt64(0)));
    }
  }
  report.intact = true;
  return report;
}

}  // namespace labtrace::store
