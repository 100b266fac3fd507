#include "store/reading_store.h"

#include <algorithm>
#include <filesystem>
#include <map>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sqlite3.h>

namespace labtrace::store {

namespace {

// Schema migrations, applied in order; PRAGMA user_version holds how many have run.
// A migration is never edited once released: a change is a new entry.
constexpr const char* kMigrations[] = {
    // 1: channels and readings. Readings are append-only, enforced by the engine too.
    R"sql(
CREATE TABLE channels (
  channel_id INTEGER PRIMARY KEY,
  instrument TEXT NOT NULL,
  channel TEXT NOT NULL,
  UNIQUE (instrument, channel)
);
CREATE TABLE readings (
  sequence INTEGER PRIMARY KEY,
  channel_id INTEGER NOT NULL REFERENCES channels (channel_id),
  value REAL,
  unit TEXT NOT NULL,
  quality INTEGER NOT NULL,
  requested_at_ns INTEGER NOT NULL,
  raw_frame BLOB NOT NULL,
  detail TEXT NOT NULL,
  decimals INTEGER NOT NULL
);
CREATE INDEX readings_by_channel ON readings (channel_id, sequence);
CREATE TRIGGER readings_are_append_only_update BEFORE UPDATE ON readings
  BEGIN SELECT RAISE(ABORT, 'readings are append-only'); END;
CREATE TRIGGER readings_are_append_only_delete BEFORE DELETE ON readings
  BEGIN SELECT RAISE(ABORT, 'readings are append-only'); END;
)sql",
};

constexpr const char* kInsertChannel =
    "INSERT INTO channels (instrument, channel) VALUES (?, ?) "
    "ON CONFLICT (instrument, channel) DO UPDATE SET instrument = excluded.instrument "
    "RETURNING channel_id";
constexpr const char* kInsertReading =
    "INSERT INTO readings (channel_id, value, unit, quality, requested_at_ns, raw_frame, detail, "
    "decimals) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING sequence";
constexpr const char* kSelectChannels =
    "SELECT channel_id, instrument, channel FROM channels "
    "WHERE (?1 = '' OR instrument = ?1) AND (?2 = '' OR channel = ?2) "
    "ORDER BY instrument, channel";
constexpr const char* kSelectOldestFirst =
    "SELECT sequence, value, unit, quality, requested_at_ns, raw_frame, detail, decimals "
    "FROM readings WHERE channel_id = ? AND requested_at_ns >= ? ORDER BY sequence LIMIT ?";
constexpr const char* kSelectNewestFirst =
    "SELECT sequence, value, unit, quality, requested_at_ns, raw_frame, detail, decimals "
    "FROM readings WHERE channel_id = ? AND requested_at_ns >= ? ORDER BY sequence DESC LIMIT ?";

Status Migrate(Database& db) {
  auto version_query = db.Prepare("PRAGMA user_version");
  if (!version_query) return version_query.error();
  auto row = version_query->Step();
  if (!row) return row.error();
  const int64_t version = version_query->ColumnInt64(0);
  const int64_t known = static_cast<int64_t>(std::size(kMigrations));
  if (version > known) {
    return FailedPrecondition(fmt::format(
        "database schema version {} is newer than this labtrace knows ({}); upgrade labtrace",
        version, known));
  }
  for (int64_t next = version; next < known; ++next) {
    Transaction transaction(db);
    if (Status s = transaction.Begin(); !s.ok()) return s;
    if (Status s = db.Execute(kMigrations[next]); !s.ok()) return s.Annotate(fmt::format("migration {}", next + 1));
    // PRAGMA takes no placeholders; the value is our own integer, not input.
    const std::string set_version = fmt::format("PRAGMA user_version = {}", next + 1);
    if (Status s = db.Execute(set_version.c_str()); !s.ok()) return s;
    if (Status s = transaction.Commit(); !s.ok()) return s;
  }
  return OkStatus();
}

Status Configure(Database& db) {
  // Defensive mode refuses writes that could corrupt the file (writable_schema and
  // friends); extension loading stays off, as it is by default.
  sqlite3_db_config(db.handle(), SQLITE_DBCONFIG_DEFENSIVE, 1, nullptr);
  for (const char* pragma : {"PRAGMA journal_mode = WAL", "PRAGMA synchronous = FULL",
                             "PRAGMA foreign_keys = ON"}) {
    auto statement = db.Prepare(pragma);
    if (!statement) return statement.error();
    if (auto row = statement->Step(); !row) return row.error();
  }
  return OkStatus();
}

}  // namespace

Result<std::unique_ptr<ReadingStore>> ReadingStore::Open(const std::string& data_dir) {
  std::error_code ec;
  std::filesystem::create_directories(data_dir, ec);
  if (ec) return Error(Unavailable(fmt::format("cannot create data directory {}: {}", data_dir, ec.message())));
  const std::string path = (std::filesystem::path(data_dir) / "labtrace.db").string();
  auto db = Database::Open(path, Database::Mode::kReadWrite);
  if (!db) return Error(db.error());
  if (Status s = Configure(*db); !s.ok()) return Error(s.Annotate(path));
  if (Status s = Migrate(*db); !s.ok()) return Error(s.Annotate(path));
  std::unique_ptr<ReadingStore> store(new ReadingStore(path, std::move(*db)));
  store->writer_ = std::thread([s = store.get()] { s->WriterLoop(); });
  return store;
}

ReadingStore::~ReadingStore() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (writer_.joinable()) writer_.join();
}

void ReadingStore::Append(std::vector<Reading> readings) {
  if (readings.empty()) return;
  {
    std::lock_guard lock(mutex_);
    for (Reading& reading : readings) pending_.push_back(std::move(reading));
    appended_ += readings.size();
  }
  wake_.notify_one();
}

void ReadingStore::Flush() {
  std::unique_lock lock(mutex_);
  const uint64_t target = appended_;
  wake_.notify_one();
  flushed_.wait(lock, [&] { return done_ >= target || stopping_; });
}

void ReadingStore::WriterLoop() {
  uint64_t last_sequence = 0;
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait(lock, [&] { return stopping_ || !pending_.empty(); });
    if (pending_.empty() && stopping_) break;
    // Group commit: let the window fill unless the batch is full or we are stopping.
    const auto close_at = std::chrono::steady_clock::now() + kCommitWindow;
    wake_.wait_until(lock, close_at, [&] { return stopping_ || pending_.size() >= kMaxBatch; });
    std::vector<Reading> batch;
    const size_t take = std::min(pending_.size(), kMaxBatch);
    batch.reserve(take);
    for (size_t i = 0; i < take; ++i) {
      batch.push_back(std::move(pending_.front()));
      pending_.pop_front();
    }
    lock.unlock();
    Status committed = CommitBatch(batch, last_sequence);
    lock.lock();
    if (!committed.ok()) {
      spdlog::error("store: cannot commit {} readings, will retry: {}", batch.size(), committed.message());
      for (auto it = batch.rbegin(); it != batch.rend(); ++it) pending_.push_front(std::move(*it));
      if (stopping_) break;
      wake_.wait_for(lock, std::chrono::seconds(1), [&] { return stopping_; });
      continue;
    }
    done_ += batch.size();
    flushed_.notify_all();
    if (on_commit_) on_commit_(batch.size(), last_sequence);
  }
  if (!pending_.empty()) {
    spdlog::error("store: {} readings could not be committed before shutdown", pending_.size());
  }
  flushed_.notify_all();
}

Result<int64_t> ReadingStore::ChannelId(const Reading& reading) {
  auto insert = db_.Prepare(kInsertChannel);
  if (!insert) return Error(insert.error());
  insert->BindText(1, reading.instrument());
  insert->BindText(2, reading.channel());
  auto row = insert->Step();
  if (!row) return Error(row.error());
  return insert->ColumnInt64(0);
}

Status ReadingStore::CommitBatch(std::vector<Reading>& batch, uint64_t& last_sequence) {
  Transaction transaction(db_);
  if (Status s = transaction.Begin(); !s.ok()) return s;
  auto insert = db_.Prepare(kInsertReading);
  if (!insert) return insert.error();
  std::map<std::pair<std::string, std::string>, int64_t> channel_ids;
  for (Reading& reading : batch) {
    auto key = std::pair(reading.instrument(), reading.channel());
    auto found = channel_ids.find(key);
    if (found == channel_ids.end()) {
      auto id = ChannelId(reading);
      if (!id) return id.error();
      found = channel_ids.emplace(std::move(key), *id).first;
    }
    insert->BindInt64(1, found->second);
    const bool has_value = reading.quality() == GOOD || reading.quality() == UNSTABLE;
    if (has_value) insert->BindDouble(2, reading.value()); else insert->BindNull(2);
    insert->BindText(3, reading.unit());
    insert->BindInt64(4, reading.quality());
    insert->BindInt64(5, reading.requested_at_ns());
    const std::string& raw = reading.raw_frame();
    insert->BindBlob(6, {reinterpret_cast<const uint8_t*>(raw.data()), raw.size()});
    insert->BindText(7, reading.detail());
    insert->BindInt64(8, reading.decimals());
    auto row = insert->Step();
    if (!row) return row.error();
    reading.set_sequence(static_cast<uint64_t>(insert->ColumnInt64(0)));
    insert->Reset();
    last_sequence = reading.sequence();
  }
  return transaction.Commit();
}

Result<api::ReadingsResponse> ReadingStore::Query(const api::ReadingsQuery& query) const {
  auto db = Database::Open(path_, Database::Mode::kReadOnly);
  if (!db) return Error(db.error());
  auto channels = db->Prepare(kSelectChannels);
  if (!channels) return Error(channels.error());
  channels->BindText(1, query.instrument());
  channels->BindText(2, query.channel());
  struct Channel {
    int64_t id;
    std::string instrument, channel;
  };
  std::vector<Channel> matching;
  for (;;) {
    auto row = channels->Step();
    if (!row) return Error(row.error());
    if (!*row) break;
    matching.push_back({channels->ColumnInt64(0), channels->ColumnText(1), channels->ColumnText(2)});
  }

  api::ReadingsResponse response;
  const bool newest = query.last() > 0;
  auto select = db->Prepare(newest ? kSelectNewestFirst : kSelectOldestFirst);
  if (!select) return Error(select.error());
  for (const Channel& channel : matching) {
    const size_t room = kMaxQueryRows - static_cast<size_t>(response.readings_size());
    const size_t want = newest ? std::min<size_t>(query.last(), room) : room;
    select->BindInt64(1, channel.id);
    select->BindInt64(2, query.since_ns());
    select->BindInt64(3, static_cast<int64_t>(want) + 1);  // one more tells us it was cut
    const int first = response.readings_size();
    size_t taken = 0;
    for (;;) {
      auto row = select->Step();
      if (!row) return Error(row.error());
      if (!*row) break;
      if (taken == want) {
        if (!newest || want < query.last()) response.set_truncated(true);
        break;
      }
      Reading* reading = response.add_readings();
      reading->set_sequence(static_cast<uint64_t>(select->ColumnInt64(0)));
      reading->set_instrument(channel.instrument);
      reading->set_channel(channel.channel);
      if (!select->ColumnIsNull(1)) reading->set_value(select->ColumnDouble(1));
      reading->set_unit(select->ColumnText(2));
      reading->set_quality(static_cast<Quality>(select->ColumnInt64(3)));
      reading->set_requested_at_ns(select->ColumnInt64(4));
      reading->set_raw_frame(select->ColumnBlob(5));
      reading->set_detail(select->ColumnText(6));
      reading->set_decimals(static_cast<int32_t>(select->ColumnInt64(7)));
      ++taken;
    }
    select->Reset();
    if (newest) {
      std::reverse(response.mutable_readings()->begin() + first, response.mutable_readings()->end());
    }
    if (static_cast<size_t>(response.readings_size()) >= kMaxQueryRows) {
      if (&channel != &matching.back()) response.set_truncated(true);
      break;
    }
  }
  return response;
}

}  // namespace labtrace::store
