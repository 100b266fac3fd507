// What the API and the CLI ask of the store: readings by sequence, grouped by calibration;
// the audit trail (readings by channel and time: reading_queries.cpp). Each query runs on a pooled read-only
// connection with its statements prepared once, so a query never blocks the writer.
#include <algorithm>
#include <limits>

#include <fmt/format.h>

#include "store/audit_row.h"
#include "store/reading_row.h"
#include "store/record_store.h"
#include "store/store_rows.h"

namespace labtrace::store {

namespace {

constexpr const char* kSelectReadingBySequence =
    "SELECT " LABTRACE_READING_COLUMNS " FROM readings r JOIN channels c ON c.channel_id = r.channel_id "
    "WHERE r.sequence = ?";
// ?7..?8: the range of entities that begin with a prefix ("reading:" up to "reading;").
constexpr const char* kSelectAudit =
    "SELECT " LABTRACE_AUDIT_COLUMNS " FROM audit_events "
    "WHERE event_id > ?1 AND time_ns >= ?2 AND time_ns < ?3 AND (?4 = '' OR actor = ?4) "
    "AND (?5 = '' OR action = ?5) AND (?6 = '' OR entity = ?6) AND (?7 = '' OR (entity >= ?7 AND entity < ?8)) "
    "ORDER BY event_id LIMIT ?9";
constexpr const char* kSelectReadingGroups =
    "SELECT c.instrument, c.channel, r.calibration_certificate, MIN(r.sequence), MAX(r.sequence), COUNT(*), "
    "MIN(r.requested_at_ns), MAX(r.requested_at_ns) FROM readings r JOIN channels c ON c.channel_id = r.channel_id "
    "WHERE r.requested_at_ns >= ? AND r.calibration_certificate <> '' "
    "GROUP BY c.instrument, c.channel, r.calibration_certificate ORDER BY c.instrument, c.channel, 4";

// The least string greater than every string that begins with `prefix`, or "" when there
// is none (a prefix of bytes 0xFF only).
std::string PastPrefix(std::string prefix) {
  while (!prefix.empty() && static_cast<unsigned char>(prefix.back()) == 0xFF) prefix.pop_back();
  if (!prefix.empty()) prefix.back() = static_cast<char>(static_cast<unsigned char>(prefix.back()) + 1);
  return prefix;
}
}  // namespace

Result<std::optional<Reading>> FindReading(Database& db, uint64_t sequence) {
  auto select = db.Cached(kSelectReadingBySequence);
  if (!select) return Error(select.error());
  (*select)->BindInt64(1, static_cast<int64_t>(sequence));
  auto row = (*select)->Step();
  if (!row) return Error(row.error());
  if (!*row) return std::optional<Reading>();
  return std::optional<Reading>(ReadingFromRow(**select));
}

Result<api::AuditResponse> RecordStore::QueryAudit(const std::string& entity, int64_t since_ns) const {
  api::AuditQuery query;
  query.set_entity(entity);
  query.set_since_ns(since_ns);
  return QueryAudit(query);
}

Result<api::AuditResponse> RecordStore::QueryAudit(const api::AuditQuery& query) const {
  const bool prefix = query.entity().ends_with('*');
  const std::string entity = prefix ? "" : query.entity();
  const std::string entity_prefix = prefix ? query.entity().substr(0, query.entity().size() - 1) : "";
  if (prefix && PastPrefix(entity_prefix).empty()) {
    return Error(InvalidArgument(fmt::format("entity={} matches everything: leave it out", query.entity())));
  }
  auto db = readers_.Acquire();
  if (!db) return Error(db.error());
  auto select = (*db)->Cached(kSelectAudit);
  if (!select) return Error(select.error());
  Statement& s = **select;
  s.BindInt64(1, static_cast<int64_t>(query.after_sequence()));
  s.BindInt64(2, query.since_ns());
  s.BindInt64(3, query.until_ns() != 0 ? query.until_ns() : std::numeric_limits<int64_t>::max());
  s.BindText(4, query.actor());
  s.BindText(5, query.action());
  s.BindText(6, entity);
  s.BindText(7, entity_prefix);
  s.BindText(8, PastPrefix(entity_prefix));
  s.BindInt64(9, static_cast<int64_t>(kMaxQueryRows) + 1);
  api::AuditResponse response;
  for (;;) {
    auto row = s.Step();
    if (!row) return Error(row.error());
    if (!*row) break;
    if (static_cast<size_t>(response.events_size()) == kMaxQueryRows) {
      response.set_truncated(true);
      break;
    }
    *response.add_events() = AuditEventFromRow(s);
  }
  return response;
}

Result<std::vector<api::AffectedReadings>> RecordStore::ReadingGroupsSince(int64_t since_ns) const {
  auto db = readers_.Acquire();
  if (!db) return Error(db.error());
  auto select = (*db)->Cached(kSelectReadingGroups);
  if (!select) return Error(select.error());
  (*select)->BindInt64(1, since_ns);
  std::vector<api::AffectedReadings> groups;
  for (;;) {
    auto row = (*select)->Step();
    if (!row) return Error(row.error());
    if (!*row) break;
    const Statement& r = **select;
    api::AffectedReadings& group = groups.emplace_back();
    group.set_instrument(r.ColumnText(0));
    group.set_channel(r.ColumnText(1));
    group.set_certificate(r.ColumnText(2));
    group.set_first_sequence(static_cast<uint64_t>(r.ColumnInt64(3)));
    group.set_last_sequence(static_cast<uint64_t>(r.ColumnInt64(4)));
    group.set_count(static_cast<uint64_t>(r.ColumnInt64(5)));
    group.set_first_at_ns(r.ColumnInt64(6));
    group.set_last_at_ns(r.ColumnInt64(7));
  }
  return groups;
}

Result<std::map<uint64_t, Reading>> RecordStore::ReadingsBySequence(const std::vector<uint64_t>& sequences) const {
  auto db = readers_.Acquire();
  if (!db) return Error(db.error());
  std::map<uint64_t, Reading> found;
  for (uint64_t sequence : sequences) {
    auto reading = FindReading(**db, sequence);
    if (!reading) return Error(reading.error());
    if (*reading) found[sequence] = std::move(**reading);
  }
  return found;
}

}  // namespace labtrace::store
