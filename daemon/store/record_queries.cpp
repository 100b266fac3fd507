// What the API and the CLI ask of the store: readings by channel and time, by sequence,
// grouped by calibration; the audit trail. Each query runs on a pooled read-only
// connection with its statements prepared once, so a query never blocks the writer.
#include <algorithm>

#include "store/audit_row.h"
#include "store/reading_row.h"
#include "store/record_store.h"
#include "store/store_rows.h"

namespace labtrace::store {

namespace {

constexpr const char* kSelectReadingBySequence =
    "SELECT " LABTRACE_READING_COLUMNS " FROM readings r JOIN channels c ON c.channel_id = r.channel_id "
    "WHERE r.sequence = ?";
constexpr const char* kSelectAudit =
    "SELECT " LABTRACE_AUDIT_COLUMNS " FROM audit_events "
    "WHERE (?1 = '' OR entity = ?1) AND time_ns >= ?2 ORDER BY event_id LIMIT ?3";
constexpr const char* kSelectReadingGroups =
    "SELECT c.instrument, c.channel, r.calibration_certificate, MIN(r.sequence), MAX(r.sequence), COUNT(*), "
    "MIN(r.requested_at_ns), MAX(r.requested_at_ns) FROM readings r JOIN channels c ON c.channel_id = r.channel_id "
    "WHERE r.requested_at_ns >= ? AND r.calibration_certificate <> '' "
    "GROUP BY c.instrument, c.channel, r.calibration_certificate ORDER BY c.instrument, c.channel, 4";
constexpr const char* kSelectChannels =
    "SELECT channel_id, instrument, channel FROM channels "
    "WHERE (?1 = '' OR instrument = ?1) AND (?2 = '' OR channel = ?2) "
    "ORDER BY instrument, channel";
// The channel sets that hold a channel: a search visits their runs only.
constexpr const char* kSelectSetsOfChannel = "SELECT set_id FROM channel_set_members WHERE channel_id = ? ORDER BY set_id";
// A channel's readings in the runs of one of its sets: the runs in order, and in each run
// the rows of the channel. Runs do not overlap, so the order of (run, sequence) is the
// order of sequence, and SQLite needs no sort to stop at the limit.
#define LABTRACE_CHANNEL_READINGS                                                                          \
  "SELECT " LABTRACE_READING_COLUMNS " FROM reading_runs u "                                              \
  "JOIN readings r ON r.sequence >= u.first_sequence AND r.sequence < u.first_sequence + u.count "        \
  "JOIN channels c ON c.channel_id = r.channel_id "                                                       \
  "WHERE u.channel_set = ?1 AND r.channel_id = ?2 AND r.requested_at_ns >= ?3 "
constexpr const char* kSelectOldestFirst = LABTRACE_CHANNEL_READINGS "ORDER BY u.first_sequence, r.sequence LIMIT ?4";
constexpr const char* kSelectNewestFirst =
    LABTRACE_CHANNEL_READINGS "ORDER BY u.first_sequence DESC, r.sequence DESC LIMIT ?4";
#undef LABTRACE_CHANNEL_READINGS

struct Channel {
  int64_t id;
  std::string instrument, channel;
};

Result<std::vector<Channel>> ChannelsMatching(Database& db, const api::ReadingsQuery& query) {
  auto select = db.Cached(kSelectChannels);
  if (!select) return Error(select.error());
  (*select)->BindText(1, query.instrument());
  (*select)->BindText(2, query.channel());
  std::vector<Channel> matching;
  for (;;) {
    auto row = (*select)->Step();
    if (!row) return Error(row.error());
    if (!*row) break;
    matching.push_back({(*select)->ColumnInt64(0), (*select)->ColumnText(1), (*select)->ColumnText(2)});
  }
  return matching;
}

// Up to `want` readings of one channel, oldest first: the first ones since the query's
// time, or the newest ones. `cut` says when more were there.
Status ReadingsOfChannel(Database& db, const Channel& channel, const api::ReadingsQuery& query, size_t want,
                         std::vector<Reading>& found, bool& cut) {
  const bool newest = query.last() > 0;
  std::vector<int64_t> sets;
  {
    auto select_sets = db.Cached(kSelectSetsOfChannel);
    if (!select_sets) return select_sets.error();
    (*select_sets)->BindInt64(1, channel.id);
    for (;;) {
      auto row = (*select_sets)->Step();
      if (!row) return row.error();
      if (!*row) break;
      sets.push_back((*select_sets)->ColumnInt64(0));
    }
  }
  // One cursor per channel set that holds the channel, each giving the channel's readings
  // in the answer's order; merged by sequence, so no more rows are read than answered.
  struct SetCursor {
    CachedStatement statement;
    bool has_row;
  };
  std::vector<SetCursor> cursors;
  cursors.reserve(sets.size());
  for (size_t i = 0; i < sets.size(); ++i) {
    auto select = db.Cached(newest ? kSelectNewestFirst : kSelectOldestFirst, i);
    if (!select) return select.error();
    (*select)->BindInt64(1, sets[i]);
    (*select)->BindInt64(2, channel.id);
    (*select)->BindInt64(3, query.since_ns());
    (*select)->BindInt64(4, static_cast<int64_t>(want) + 1);  // one more tells us it was cut
    auto first = (*select)->Step();
    if (!first) return first.error();
    cursors.push_back({std::move(*select), *first});
  }
  found.clear();
  cut = false;
  for (;;) {
    SetCursor* next = nullptr;  // the cursor whose row comes first in the answer's order
    for (SetCursor& cursor : cursors) {
      if (!cursor.has_row) continue;
      const int64_t sequence = cursor.statement->ColumnInt64(0);
      if (next == nullptr ||
          (newest ? sequence > next->statement->ColumnInt64(0) : sequence < next->statement->ColumnInt64(0))) {
        next = &cursor;
      }
    }
    if (next == nullptr) break;
    if (found.size() == want) {
      cut = true;
      break;
    }
    found.push_back(ReadingFromRow(*next->statement));
    auto row = next->statement->Step();
    if (!row) return row.error();
    next->has_row = *row;
  }
  // Newest first was only the way to find the last ones: the answer is oldest first.
  if (newest) std::reverse(found.begin(), found.end());
  return OkStatus();
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

Result<api::ReadingsResponse> RecordStore::Query(const api::ReadingsQuery& query) const {
  auto db = readers_.Acquire();
  if (!db) return Error(db.error());
  auto matching = ChannelsMatching(**db, query);
  if (!matching) return Error(matching.error());
  api::ReadingsResponse response;
  const bool newest = query.last() > 0;
  std::vector<Reading> found;
  for (const Channel& channel : *matching) {
    const size_t room = kMaxQueryRows - static_cast<size_t>(response.readings_size());
    const size_t want = newest ? std::min<size_t>(query.last(), room) : room;
    bool cut = false;
    if (Status s = ReadingsOfChannel(**db, channel, query, want, found, cut); !s.ok()) return Error(s);
    // The last N of a channel are cut only when the answer's room, not N, stopped them.
    if (cut && (!newest || want < query.last())) response.set_truncated(true);
    for (Reading& reading : found) *response.add_readings() = std::move(reading);
    if (static_cast<size_t>(response.readings_size()) >= kMaxQueryRows) {
      if (&channel != &matching->back()) response.set_truncated(true);
      break;
    }
  }
  return response;
}

Result<api::AuditResponse> RecordStore::QueryAudit(const std::string& entity, int64_t since_ns) const {
  auto db = readers_.Acquire();
  if (!db) return Error(db.error());
  auto select = (*db)->Cached(kSelectAudit);
  if (!select) return Error(select.error());
  (*select)->BindText(1, entity);
  (*select)->BindInt64(2, since_ns);
  (*select)->BindInt64(3, static_cast<int64_t>(kMaxQueryRows) + 1);
  api::AuditResponse response;
  for (;;) {
    auto row = (*select)->Step();
    if (!row) return Error(row.error());
    if (!*row) break;
    if (static_cast<size_t>(response.events_size()) == kMaxQueryRows) {
      response.set_truncated(true);
      break;
    }
    *response.add_events() = AuditEventFromRow(**select);
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
