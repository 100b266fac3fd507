#include "store/verifier.h"

#include <cstring>
#include <map>
#include <vector>

#include <fmt/format.h>

#include "store/reading_row.h"
#include "store/record_bytes.h"
#include "store/signing_key.h"
#include "store/sqlite.h"

namespace labtrace::store {

namespace {

// The reading's columns, then whether its channel row is missing.
constexpr const char* kSelectReadings =
    "SELECT " LABTRACE_READING_COLUMNS ", c.channel_id IS NULL "
    "FROM readings r LEFT JOIN channels c ON c.channel_id = r.channel_id ORDER BY r.sequence";
constexpr const char* kSelectAuditEvents =
    "SELECT event_id, time_ns, actor, action, entity, old_value, new_value, reason FROM audit_events "
    "ORDER BY event_id";
constexpr const char* kSelectBatches =
    "SELECT batch_id, first_leaf, leaf_count, record_kind, first_record_id, leaf_hashes, batch_root, tree_root, "
    "chain_hash FROM batches ORDER BY batch_id";
constexpr const char* kSelectCheckpoints =
    "SELECT checkpoint_id, tree_size, root_hash, time_ns, public_key, signature FROM checkpoints "
    "ORDER BY checkpoint_id";
struct StoredBatch {
  int64_t id;
  uint64_t first_leaf, leaf_count;
  int64_t record_kind, first_record_id;
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
    auto count = db->Prepare("SELECT COALESCE(SUM(leaf_count), 0) FROM batches");
    if (!count) return Error(count.error().Annotate(fmt::format("{} is not a labtrace store", db_path)));
    if (auto row = count->Step(); !row) return Error(row.error());
    total = static_cast<uint64_t>(count->ColumnInt64(0));
  }

  // Batches and readings are walked side by side, both in order: batch b covers readings
  // first_record_id .. first_record_id + leaf_count - 1, which are leaves first_leaf …
  auto batches = db->Prepare(kSelectBatches);
  if (!batches) return Error(batches.error());
  auto readings = db->Prepare(kSelectReadings);
  if (!readings) return Error(readings.error());
  auto next_reading = [&readings]() -> Result<bool> { return readings->Step(); };
  auto have_reading = next_reading();
  if (!have_reading) return Error(have_reading.error());
  auto events = db->Prepare(kSelectAuditEvents);
  if (!events) return Error(events.error());
  auto have_event = events->Step();
  if (!have_event) return Error(have_event.error());

  CompactTree tree;
  Hash chain{};
  std::vector<Hash> batch_leaves;
  const uint64_t progress_step = std::max<uint64_t>(1, total / 100);
  for (;;) {
    auto row = batches->Step();
    if (!row) return Error(row.error());
    if (!*row) break;
    const StoredBatch batch{batches->ColumnInt64(0),
                            static_cast<uint64_t>(batches->ColumnInt64(1)),
                            static_cast<uint64_t>(batches->ColumnInt64(2)),
                            batches->ColumnInt64(3),
                            batches->ColumnInt64(4),
                            batches->ColumnBlob(6),
                            batches->ColumnBlob(7),
                            batches->ColumnBlob(8)};
    const std::string leaf_hashes = batches->ColumnBlob(5);
    ++report.batches;
    if (batch.first_leaf != tree.size()) {
      return fail(fmt::format("batch {} starts at leaf {}, expected {}: batches were removed or rewritten", batch.id,
                              batch.first_leaf, tree.size()));
    }
    const bool of_readings = batch.record_kind == static_cast<int>(RecordKind::kReading);
    if (!of_readings && batch.record_kind != static_cast<int>(RecordKind::kAuditEvent)) {
      return fail(fmt::format("batch {} names an unknown record kind {}", batch.id, batch.record_kind));
    }
    if (leaf_hashes.size() != 32 * batch.leaf_count) {
      return fail(fmt::format("batch {} holds {} bytes of leaf hashes for {} leaves: altered", batch.id,
                              leaf_hashes.size(), batch.leaf_count));
    }
    batch_leaves.clear();
    for (uint64_t j = 0; j < batch.leaf_count; ++j) {
      const int64_t expected = batch.first_record_id + static_cast<int64_t>(j);
      const uint64_t leaf_index = batch.first_leaf + j;
      Hash leaf;
      if (of_readings) {
        if (!*have_reading || readings->ColumnInt64(0) > expected) {
          return fail(fmt::format("reading {} (leaf {}) is missing: deleted", expected, leaf_index));
        }
        if (readings->ColumnInt64(0) < expected) {
          return fail(fmt::format("reading {} is not in the ledger: added outside labtrace", readings->ColumnInt64(0)));
        }
        if (readings->ColumnInt64(kReadingColumnCount) != 0) {
          return fail(fmt::format("reading {} (leaf {}) names a channel that is missing: deleted", expected, leaf_index));
        }
        const Reading reading = ReadingFromRow(*readings);
        const std::string bytes = ReadingRecordBytes(CanonicalReading(reading));
        leaf = LeafHash({reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()});
        if (std::memcmp(leaf.data(), leaf_hashes.data() + 32 * j, 32) != 0) {
          return fail(fmt::format("reading {} ({}/{}, requested {}) does not match its leaf hash: altered after commit",
                                  expected, reading.instrument(), reading.channel(),
                                  FormatTime(reading.requested_at_ns())));
        }
        have_reading = next_reading();
        if (!have_reading) return Error(have_reading.error());
      } else {
        if (!*have_event || events->ColumnInt64(0) > expected) {
          return fail(fmt::format("audit event {} (leaf {}) is missing: deleted", expected, leaf_index));
        }
        if (events->ColumnInt64(0) < expected) {
          return fail(fmt::format("audit event {} is not in the ledger: added outside labtrace", events->ColumnInt64(0)));
        }
        AuditEvent event;
        event.set_sequence(static_cast<uint64_t>(expected));
        event.set_time_ns(events->ColumnInt64(1));
        event.set_actor(events->ColumnText(2));
        event.set_action(events->ColumnText(3));
        event.set_entity(events->ColumnText(4));
        event.set_old_value(events->ColumnText(5));
        event.set_new_value(events->ColumnText(6));
        event.set_reason(events->ColumnText(7));
        const std::string bytes = AuditEventRecordBytes(event);
        leaf = LeafHash({reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()});
        if (std::memcmp(leaf.data(), leaf_hashes.data() + 32 * j, 32) != 0) {
          return fail(fmt::format("audit event {} ({} {} by {}) does not match its leaf hash: altered after commit",
                                  expected, event.action(), event.entity(), event.actor()));
        }
        have_event = events->Step();
        if (!have_event) return Error(have_event.error());
      }
      tree.Append(leaf);
      batch_leaves.push_back(leaf);

      const uint64_t size = tree.size();
      const auto [first, last] = checkpoints_by_size.equal_range(size);
      for (auto it = first; it != last; ++it) {
        if (AsString(tree.Root()) != it->second.checkpoint.root_hash()) {
          return fail(fmt::format("checkpoint {} (size {}, {}) does not match the records: altered or rewritten",
                                  it->second.id, size, FormatTime(it->second.checkpoint.time_ns())));
        }
      }
      if (options.saved_checkpoint && size == options.saved_checkpoint->tree_size() &&
          AsString(tree.Root()) != options.saved_checkpoint->root_hash()) {
        return fail(fmt::format("the store's first {} records do not match the saved checkpoint of {}: rewritten",
                                size, FormatTime(options.saved_checkpoint->time_ns())));
      }
      if (options.progress && (size % progress_step == 0 || size == total)) options.progress(size, total);
    }
    const Hash batch_root = RootOf(batch_leaves);
    if (AsString(batch_root) != batch.batch_root) {
      return fail(fmt::format("batch {} (leaves {}..{}) does not match its root: altered", batch.id, batch.first_leaf,
                              tree.size() - 1));
    }
    if (AsString(tree.Root()) != batch.tree_root) {
      return fail(fmt::format("the log's root after batch {} does not match: rewritten", batch.id));
    }
    chain = ChainHash(chain, batch_root, tree.size());
    if (AsString(chain) != batch.chain) return fail(fmt::format("the hash chain breaks at batch {}: rewritten", batch.id));
  }
  if (*have_reading) {
    return fail(fmt::format("reading {} is not in the ledger: added outside labtrace", readings->ColumnInt64(0)));
  }
  if (*have_event) {
    return fail(fmt::format("audit event {} is not in the ledger: added outside labtrace", events->ColumnInt64(0)));
  }
  report.records = tree.size();
  report.root = tree.Root();

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
  report.intact = true;
  return report;
}

}  // namespace labtrace::store
