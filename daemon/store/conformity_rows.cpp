// Conformity records in the store (issue 15): each version stored whole as its
// deterministic bytes, a leaf of the log, numbered in the lab's year when new, and
// refused when it was made from a version that is no longer the latest.
#include <functional>
#include <map>

#include <fmt/format.h>

#include "labtrace/clock.h"
#include "store/conformity_keys.h"
#include "store/record_bytes.h"
#include "store/record_store.h"
#include "store/store_rows.h"

namespace labtrace::store {

namespace {

constexpr const char* kInsertConformity =
    "INSERT INTO conformity_records (record_id, kind, key, version, parent, state, change_key, saved_at_ns, record) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)";
constexpr const char* kSelectNextConformityId = "SELECT COALESCE(MAX(record_id), 0) + 1 FROM conformity_records";
constexpr const char* kSelectByChangeKey = "SELECT record FROM conformity_records WHERE change_key = ?";
constexpr const char* kSelectLatestVersion =
    "SELECT COALESCE(MAX(version), 0) FROM conformity_records WHERE kind = ? AND key = ?";
constexpr const char* kCountNumbered =
    "SELECT COUNT(*) FROM conformity_records WHERE kind = ?1 AND version = 1 AND substr(key, 1, length(?2)) = ?2";
constexpr const char* kSelectVersion =
    "SELECT record FROM conformity_records WHERE kind = ?1 AND key = ?2 AND (?3 = 0 OR version = ?3) "
    "ORDER BY version DESC LIMIT 1";
constexpr const char* kSelectVersions =
    "SELECT record FROM conformity_records WHERE kind = ? AND key = ? ORDER BY version";
constexpr const char* kSelectLatestOfKind =
    "SELECT c.record FROM conformity_records c WHERE c.kind = ?1 AND (?2 = '' OR c.parent = ?2) "
    "AND c.version = (SELECT MAX(v.version) FROM conformity_records v WHERE v.kind = c.kind AND v.key = c.key) "
    "AND (?3 = '' OR c.state = ?3) ORDER BY c.key LIMIT ?4";

Result<ConformityRecord> ParseConformity(const Statement& row) {
  ConformityRecord record;
  if (!record.ParseFromString(row.ColumnBlob(0))) return Error(DataLoss("a stored conformity record does not parse"));
  return record;
}

Result<std::optional<ConformityRecord>> FindByChangeKey(Database& db, const std::string& change_key) {
  auto select = db.Cached(kSelectByChangeKey);
  if (!select) return Error(select.error());
  (*select)->BindText(1, change_key);
  auto rows = CollectRows<ConformityRecord>(**select, ParseConformity);
  if (!rows) return Error(rows.error());
  if (rows->empty()) return std::optional<ConformityRecord>();
  return std::optional<ConformityRecord>(std::move(rows->front()));
}

Result<int64_t> SelectNumber(Database& db, const char* sql, const std::function<void(Statement&)>& bind) {
  auto select = db.Cached(sql);
  if (!select) return Error(select.error());
  bind(**select);
  auto row = (*select)->Step();
  if (!row) return Error(row.error());
  const int64_t value = (*select)->ColumnInt64(0);
  (*select)->Reset();
  return value;
}

}  // namespace

void RecordStore::SaveConformity(ConformityChange change, ConformityDone done) {
  if (change.change_key.empty() || change.change_key.size() > 200) {
    return done(Error(InvalidArgument("change_key must be 1..200 characters; send the same key again to retry")));
  }
  if (KindOf(change.record).empty()) return done(Error(InvalidArgument("a conformity record of no kind")));
  if (KeyOf(change.record).empty() && change.year.size() != 4) {
    return done(Error(InvalidArgument("a new conformity record needs the lab's year for its number")));
  }
  if (!change.issued_pdf.empty()) {
    if (Status document = CheckIssuedDocument(change.record, change.issued_pdf); !document.ok()) {
      return done(Error(document));
    }
  }
  {
    std::lock_guard lock(mutex_);
    pending_conformity_.push_back({std::move(change), std::move(done)});
    ++handed_in_;
  }
  wake_.notify_one();
}

Status RecordStore::CommitConformity(Batch& batch, LedgerWriter& ledger, CompactTree& tree,
                                     std::vector<AuditEvent>& audit, Outcome& outcome) {
  if (batch.conformity.empty()) return OkStatus();
  auto first_record_id = SelectNumber(db_, kSelectNextConformityId, [](Statement&) {});
  if (!first_record_id) return first_record_id.error();
  int64_t record_id = *first_record_id;
  auto insert = db_.Cached(kInsertConformity);
  if (!insert) return insert.error();
  std::vector<Hash> leaves;
  std::map<std::string, ConformityRecord> in_batch;  // by change key
  std::map<std::string, uint64_t> versions;          // kind + " " + key: the latest in this batch
  std::map<std::string, int64_t> numbered;           // number prefix: the last ordinal given
  for (const PendingConformity& pending : batch.conformity) {
    const ConformityChange& change = pending.change;
    if (auto seen = in_batch.find(change.change_key); seen != in_batch.end()) {
      outcome.conformity.push_back(seen->second);
      continue;
    }
    auto stored = FindByChangeKey(db_, change.change_key);
    if (!stored) return stored.error();
    if (*stored) {  // committed before: the first answer again
      outcome.conformity.push_back(std::move(**stored));
      continue;
    }
    ConformityRecord record = change.record;
    const std::string kind(KindOf(record));
    std::string key = KeyOf(record);
    uint64_t version = 1;
    if (key.empty()) {
      const std::string prefix = NumberPrefix(kind, change.year);
      int64_t& last = numbered[prefix];
      if (last == 0) {
        auto count = SelectNumber(db_, kCountNumbered, [&](Statement& s) {
          s.BindText(1, kind);
          s.BindText(2, prefix);
        });
        if (!count) return count.error();
        last = *count;
      }
      key = NumberFor(kind, change.year, static_cast<uint64_t>(++last));
    } else {
      uint64_t& latest = versions[kind + " " + key];
      if (latest == 0) {
        auto stored_latest = SelectNumber(db_, kSelectLatestVersion, [&](Statement& s) {
          s.BindText(1, kind);
          s.BindText(2, key);
        });
        if (!stored_latest) return stored_latest.error();
        latest = static_cast<uint64_t>(*stored_latest);
      }
      if (latest == 0) {
        outcome.conformity.push_back(Error(NotFound(fmt::format("there is no {} {}", kind, key))));
        continue;
      }
      if (latest != change.based_on) {
        outcome.conformity.push_back(Error(Status(
            StatusCode::kFailedPrecondition, fmt::format("{} {} changed meanwhile: it is at version {}, the change was made "
                                              "from version {}; look at it again and redo the change",
                                              kind, key, latest, change.based_on))));
        continue;
      }
      version = latest + 1;
    }
    SetKeyAndVersion(record, key, version);
    if (!change.issued_pdf.empty()) {
      auto conflict = IssuedDocumentConflict(db_, record.test_report());
      if (!conflict) return conflict.error();
      if (!conflict->empty()) {
        outcome.conformity.push_back(Error(Status(StatusCode::kAlreadyExists, *conflict)));
        continue;
      }
    }
    versions[kind + " " + key] = version;
    const std::string bytes = ConformityRecordBytes(record);
    Statement& row = **insert;
    row.BindInt64(1, record_id++);
    row.BindText(2, kind);
    row.BindText(3, key);
    row.BindInt64(4, static_cast<int64_t>(version));
    row.BindText(5, ParentOf(record));
    row.BindText(6, StateOf(record));
    row.BindText(7, change.change_key);
    row.BindInt64(8, NowNs());
    row.BindBlob(9, {reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()});
    if (Status s = row.Run(); !s.ok()) return s;
    if (!change.issued_pdf.empty()) {
      if (Status s = InsertIssuedDocument(db_, record.test_report(), change.issued_pdf, NowNs()); !s.ok()) return s;
    }
    const Hash leaf = LeafHash({reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()});
    tree.Append(leaf);
    leaves.push_back(leaf);
    for (AuditEvent event : change.events) {
      if (event.entity().empty()) event.set_entity(fmt::format("{}:{}", kind, key));
      if (event.time_ns() == 0) event.set_time_ns(NowNs());
      audit.push_back(std::move(event));
    }
    in_batch[change.change_key] = record;
    outcome.conformity.push_back(std::move(record));
  }
  return leaves.empty() ? OkStatus() : ledger.AddBatch(RecordKind::kConformity, *first_record_id, leaves);
}

Status RecordStore::RecoverConformity(const Batch& batch, Outcome& outcome) {
  outcome.conformity.clear();
  for (const PendingConformity& pending : batch.conformity) {
    auto stored = FindByChangeKey(db_, pending.change.change_key);
    if (!stored) return stored.error();
    // A change refused inside the landed batch (stale, unknown) stored nothing: say so.
    if (!*stored) {
      outcome.conformity.push_back(Error(Status(
          StatusCode::kFailedPrecondition, "the change was not stored (it was refused, and its answer was lost to an I/O "
                                "error); look at the record again and redo the change")));
      continue;
    }
    outcome.conformity.push_back(std::move(**stored));
  }
  return OkStatus();
}

Result<std::optional<ConformityRecord>> RecordStore::FindConformity(std::string_view kind, const std::string& key,
                                                                    uint64_t version) const {
  auto db = readers_.Acquire();
  if (!db) return Error(db.error());
  auto select = (*db)->Cached(kSelectVersion);
  if (!select) return Error(select.error());
  (*select)->BindText(1, std::string(kind));
  (*select)->BindText(2, key);
  (*select)->BindInt64(3, static_cast<int64_t>(version));
  auto rows = CollectRows<ConformityRecord>(**select, ParseConformity);
  if (!rows) return Error(rows.error());
  if (rows->empty()) return std::optional<ConformityRecord>();
  return std::optional<ConformityRecord>(std::move(rows->front()));
}

Result<std::vector<ConformityRecord>> RecordStore::ListConformity(std::string_view kind, const std::string& parent,
                                                                  const std::string& state) const {
  auto db = readers_.Acquire();
  if (!db) return Error(db.error());
  auto select = (*db)->Cached(kSelectLatestOfKind);
  if (!select) return Error(select.error());
  (*select)->BindText(1, std::string(kind));
  (*select)->BindText(2, parent);
  (*select)->BindText(3, state);
  (*select)->BindInt64(4, static_cast<int64_t>(kMaxQueryRows));
  return CollectRows<ConformityRecord>(**select, ParseConformity);
}

Result<std::vector<ConformityRecord>> RecordStore::ConformityVersions(std::string_view kind,
                                                                      const std::string& key) const {
  auto db = readers_.Acquire();
  if (!db) return Error(db.error());
  auto select = (*db)->Cached(kSelectVersions);
  if (!select) return Error(select.error());
  (*select)->BindText(1, std::string(kind));
  (*select)->BindText(2, key);
  return CollectRows<ConformityRecord>(**select, ParseConformity);
}

}  // namespace labtrace::store
