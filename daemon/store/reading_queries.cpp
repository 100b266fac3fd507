// GET /v1/readings in the store: readings by instrument, channel, time and sequence, the
// current version of each unless every version is asked for, a page at a time.
//
// An answer is ordered by instrument, channel, then sequence, and holds at most
// kMaxQueryRows readings. A full page ends with a cursor (the last channel and sequence
// answered) from which the next page goes on, so a client can read any number of readings
// without the daemon holding more than one page. Runs on a pooled read-only connection.
#include <sodium.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <limits>

#include <fmt/format.h>

#include "store/reading_row.h"
#include "store/record_store.h"
#include "store/store_rows.h"

namespace labtrace::store {

namespace {

constexpr const char* kSelectChannels =
    "SELECT channel_id, instrument, channel FROM channels "
    "WHERE (?1 = '' OR instrument = ?1) AND (?2 = '' OR channel = ?2) "
    "ORDER BY instrument, channel";
// The channel sets that hold a channel: a search visits their runs only.
constexpr const char* kSelectSetsOfChannel = "SELECT set_id FROM channel_set_members WHERE channel_id = ? ORDER BY set_id";
// A channel's readings in the runs of one of its sets: the runs in order, and in each run
// the rows of the channel. Runs do not overlap, so the order of (run, sequence) is the
// order of sequence, and SQLite needs no sort to stop at the limit. The runs searched
// start at the one holding ?5 (found through the set's index), so a later page does not
// walk the runs of the pages before it. ?6 = 1 leaves out versions a correction superseded
// (readings_superseded, a partial index holding only corrections).
#define LABTRACE_CHANNEL_READINGS                                                                          \
  "SELECT " LABTRACE_READING_COLUMNS " FROM reading_runs u "                                              \
  "JOIN readings r ON r.sequence >= u.first_sequence AND r.sequence < u.first_sequence + u.count "        \
  "JOIN channels c ON c.channel_id = r.channel_id "                                                       \
  "WHERE u.channel_set = ?1 AND r.channel_id = ?2 AND r.requested_at_ns >= ?3 AND r.requested_at_ns < ?4 " \
  "AND r.sequence > ?5 "                                                                                  \
  "AND u.first_sequence >= COALESCE((SELECT MAX(first_sequence) FROM reading_runs "                       \
  "                                  WHERE channel_set = ?1 AND first_sequence <= ?5), 0) "               \
  "AND (?6 = 0 OR NOT EXISTS (SELECT 1 FROM readings s WHERE s.supersedes = r.sequence)) "
constexpr const char* kSelectOldestFirst = LABTRACE_CHANNEL_READINGS "ORDER BY u.first_sequence, r.sequence LIMIT ?7";
constexpr const char* kSelectNewestFirst =
    LABTRACE_CHANNEL_READINGS "ORDER BY u.first_sequence DESC, r.sequence DESC LIMIT ?7";
#undef LABTRACE_CHANNEL_READINGS

struct Channel {
  int64_t id;
  std::string instrument, channel;
};

// What a scan of one channel keeps.
struct ChannelFilter {
  int64_t since_ns = 0;
  int64_t until_ns = std::numeric_limits<int64_t>::max();  // exclusive
  uint64_t after_sequence = 0;
  bool current_only = true;
};

Result<std::vector<Channel>> ChannelsMatching(Database& db, const api::ReadingsQuery& query) {
  auto select = db.Cached(kSelectChannels);
  if (!select) return Error(select.error());
  (*select)->BindText(1, query.instrument());
  (*select)->BindText(2, query.channel());
  return CollectRows<Channel>(**select, [](const Statement& row) -> Result<Channel> {
    return Channel{row.ColumnInt64(0), row.ColumnText(1), row.ColumnText(2)};
  });
}

// Visits up to `limit` readings of `channel` that pass `filter`, oldest first (or newest
// first), each as a row of LABTRACE_READING_COLUMNS. A channel whose readings lie in runs
// of several channel sets has a cursor per set, merged by sequence, so that no more rows
// are read than visited.
Status ScanChannel(Database& db, int64_t channel_id, const ChannelFilter& filter, bool newest_first, size_t limit,
                   const std::function<void(const Statement&)>& visit) {
  std::vector<int64_t> sets;
  {
    auto select_sets = db.Cached(kSelectSetsOfChannel);
    if (!select_sets) return select_sets.error();
    (*select_sets)->BindInt64(1, channel_id);
    auto found = CollectRows<int64_t>(**select_sets, [](const Statement& row) -> Result<int64_t> {
      return row.ColumnInt64(0);
    });
    if (!found) return found.error();
    sets = std::move(*found);
  }
  struct SetCursor {
    CachedStatement statement;
    bool has_row;
  };
  std::vector<SetCursor> cursors;
  cursors.reserve(sets.size());
  for (size_t i = 0; i < sets.size(); ++i) {
    auto select = db.Cached(newest_first ? kSelectNewestFirst : kSelectOldestFirst, i);
    if (!select) return select.error();
    Statement& s = **select;
    s.BindInt64(1, sets[i]);
    s.BindInt64(2, channel_id);
    s.BindInt64(3, filter.since_ns);
    s.BindInt64(4, filter.until_ns);
    s.BindInt64(5, static_cast<int64_t>(filter.after_sequence));
    s.BindInt64(6, filter.current_only ? 1 : 0);
    s.BindInt64(7, static_cast<int64_t>(std::min<size_t>(limit, std::numeric_limits<int64_t>::max())));
    auto first = s.Step();
    if (!first) return first.error();
    cursors.push_back({std::move(*select), *first});
  }
  for (size_t visited = 0; visited < limit; ++visited) {
    SetCursor* next = nullptr;  // the cursor whose row comes first in the scan's order
    for (SetCursor& cursor : cursors) {
      if (!cursor.has_row) continue;
      const int64_t sequence = cursor.statement->ColumnInt64(0);
      if (next == nullptr || (newest_first ? sequence > next->statement->ColumnInt64(0)
                                           : sequence < next->statement->ColumnInt64(0))) {
        next = &cursor;
      }
    }
    if (next == nullptr) break;
    visit(*next->statement);
    auto row = next->statement->Step();
    if (!row) return row.error();
    next->has_row = *row;
  }
  return OkStatus();
}

// The sequence of the oldest of the newest `last` readings of a channel that pass
// `filter`, or 0 when it has none.
Result<uint64_t> OldestOfNewest(Database& db, int64_t channel_id, const ChannelFilter& filter, uint32_t last) {
  uint64_t oldest = 0;
  Status scanned = ScanChannel(db, channel_id, filter, /*newest_first=*/true, last, [&](const Statement& row) {
    oldest = static_cast<uint64_t>(row.ColumnInt64(0));
  });
  if (!scanned.ok()) return Error(scanned);
  return oldest;
}

std::string EncodeCursor(const Reading& last) {
  api::ReadingsCursor cursor;
  cursor.set_instrument(last.instrument());
  cursor.set_channel(last.channel());
  cursor.set_sequence(last.sequence());
  const std::string bytes = cursor.SerializeAsString();
  constexpr int kVariant = sodium_base64_VARIANT_URLSAFE_NO_PADDING;
  std::string text(sodium_base64_ENCODED_LEN(bytes.size(), kVariant), '\0');
  sodium_bin2base64(text.data(), text.size(), reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(),
                    kVariant);
  text.resize(text.find('\0'));
  return text;
}

Result<api::ReadingsCursor> DecodeCursor(const std::string& text) {
  std::string bytes(text.size(), '\0');
  size_t length = 0;
  api::ReadingsCursor cursor;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(bytes.data()), bytes.size(), text.data(), text.size(),
                        nullptr, &length, nullptr, sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
      !cursor.ParseFromArray(bytes.data(), static_cast<int>(length)) || cursor.sequence() == 0) {
    return Error(InvalidArgument(fmt::format(
        "cursor \"{}\" is not one this daemon gave; pass next_cursor from the page before, unchanged", text)));
  }
  return cursor;
}

}  // namespace

Result<api::ReadingsResponse> RecordStore::Query(const api::ReadingsQuery& query) const {
  std::optional<api::ReadingsCursor> cursor;
  if (!query.cursor().empty()) {
    auto decoded = DecodeCursor(query.cursor());
    if (!decoded) return Error(decoded.error());
    cursor = std::move(*decoded);
  }
  if (query.until_ns() != 0 && query.until_ns() <= query.since_ns()) {
    return Error(InvalidArgument(fmt::format("until_ns {} is not after since_ns {}: no reading can match",
                                             query.until_ns(), query.since_ns())));
  }
  auto db = readers_.Acquire();
  if (!db) return Error(db.error());
  auto matching = ChannelsMatching(**db, query);
  if (!matching) return Error(matching.error());

  ChannelFilter filter;
  filter.since_ns = query.since_ns();
  if (query.until_ns() != 0) filter.until_ns = query.until_ns();
  filter.after_sequence = query.after_sequence();
  filter.current_only = !query.all_versions();

  api::ReadingsResponse response;
  for (const Channel& channel : *matching) {
    ChannelFilter page = filter;
    if (cursor) {
      // Channels before the cursor's were answered on earlier pages; its own, up to it.
      const auto position = std::tie(channel.instrument, channel.channel);
      const auto resume = std::tie(cursor->instrument(), cursor->channel());
      if (position < resume) continue;
      if (position == resume) page.after_sequence = std::max(page.after_sequence, cursor->sequence());
    }
    if (query.last() > 0) {
      // The newest N are the readings from the N-th newest on, whichever page they fall in.
      auto oldest = OldestOfNewest(**db, channel.id, filter, query.last());
      if (!oldest) return Error(oldest.error());
      if (*oldest == 0) continue;
      page.after_sequence = std::max(page.after_sequence, *oldest - 1);
    }
    const size_t room = kMaxQueryRows - static_cast<size_t>(response.readings_size());
    // One row more than there is room for says whether the page is cut here.
    size_t seen = 0;
    Status scanned = ScanChannel(**db, channel.id, page, /*newest_first=*/false, room + 1, [&](const Statement& row) {
      if (++seen <= room) *response.add_readings() = ReadingFromRow(row);
    });
    if (!scanned.ok()) return Error(scanned);
    if (seen > room) {
      response.set_truncated(true);
      // A page cut between two channels ends on the last reading of the earlier one.
      response.set_next_cursor(EncodeCursor(response.readings(response.readings_size() - 1)));
      break;
    }
  }
  return response;
}

}  // namespace labtrace::store
