// The store's front: opening it, and handing records in from any thread. The writer's
// side is in writer_loop.cpp; see record_store.h for the parts.
#include "store/record_store.h"

#include <filesystem>

#include <fmt/format.h>

#include "labtrace/clock.h"
#include "store/schema.h"

namespace labtrace::store {

namespace {
constexpr const char* kSelectLastConfiguration =
    "SELECT new_value FROM audit_events WHERE action IN ('configure', 'start') AND entity = 'lab-config' "
    "ORDER BY event_id DESC LIMIT 1";
}  // namespace

Result<std::unique_ptr<RecordStore>> RecordStore::Open(const std::string& data_dir, StoreOptions options,
                                                       StoreTestHooks hooks) {
  std::error_code ec;
  std::filesystem::create_directories(data_dir, ec);
  if (ec) return Error(Unavailable(fmt::format("cannot create data directory {}: {}", data_dir, ec.message())));
  auto lock = DataDirLock::Take(data_dir);
  if (!lock) return Error(lock.error());
  const std::string path = (std::filesystem::path(data_dir) / kFileName).string();
  const std::string key_path = options.signing_key_path.empty() ? KeyPathIn(data_dir) : options.signing_key_path;
  auto key = SigningKey::LoadOrCreate(key_path);
  if (!key) return Error(key.error());
  auto db = Database::Open(path, Database::Mode::kReadWrite, hooks.vfs);
  if (!db) return Error(db.error());
  if (Status s = ConfigureWriter(*db, hooks.exclusive_locking, hooks.synchronous_off); !s.ok()) {
    return Error(s.Annotate(path));
  }
  if (Status s = Migrate(*db); !s.ok()) return Error(s.Annotate(path));
  auto ledger = LoadLedgerState(*db);
  if (!ledger) return Error(ledger.error().Annotate(path));
  std::unique_ptr<RecordStore> store(
      new RecordStore(std::move(*lock), path, std::move(options), std::move(hooks), std::move(*key), std::move(*db)));
  store->ledger_ = std::move(*ledger);
  store->last_checkpoint_ = std::chrono::steady_clock::now();
  store->writer_ = std::thread([s = store.get()] { s->WriterLoop(); });
  return store;
}

RecordStore::~RecordStore() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    checkpoint_requested_ = true;  // a final checkpoint of what the store holds at shutdown
  }
  wake_.notify_all();
  room_.notify_all();
  if (writer_.joinable()) writer_.join();
}

void RecordStore::Append(std::vector<Reading> readings) {
  if (readings.empty()) return;
  {
    std::unique_lock lock(mutex_);
    auto room = [&] {
      return failing_ || stopping_ || pending_readings_.size() + readings.size() <= options_.max_queued_readings ||
             pending_readings_.empty();
    };
    if (!room()) {
      ++producers_waiting_;  // the writer commits without waiting out the poll window
      wake_.notify_one();
      room_.wait(lock, room);
      --producers_waiting_;
    }
    const bool was_empty = pending_readings_.empty();
    handed_in_ += readings.size();
    pending_readings_.PushBack(std::move(readings));
    DropOverflow();
    // The writer needs waking only to start a commit window or to end one early on a full
    // batch; waking it for every poll of 200 devices cost a context switch each.
    if (!was_empty && pending_readings_.size() < kMaxBatch) return;
  }
  wake_.notify_one();
}

void RecordStore::DropOverflow() {
  // Only reached with room to spare unless the disk is refusing writes.
  if (!failing_) return;
  const size_t dropped = pending_readings_.DropOldest(options_.max_queued_readings);
  dropped_readings_ += dropped;
  done_ += dropped;
}

void RecordStore::RecordAudit(AuditEvent event) {
  if (event.time_ns() == 0) event.set_time_ns(NowNs());
  {
    std::lock_guard lock(mutex_);
    pending_audit_.push_back(std::move(event));
    ++handed_in_;
  }
  wake_.notify_one();
}

Status RecordStore::RecordConfiguration(const std::string& config_path, const std::string& config_digest) {
  auto db = readers_.Acquire();
  if (!db) return db.error();
  auto last = (*db)->Cached(kSelectLastConfiguration);
  if (!last) return last.error();
  auto row = (*last)->Step();
  if (!row) return row.error();
  const std::string previous = *row ? (*last)->ColumnText(0) : "";
  AuditEvent event;
  event.set_actor("labtraced");
  event.set_entity("lab-config");
  event.set_old_value(previous);
  event.set_new_value(config_digest);
  const bool changed = previous != config_digest;
  event.set_action(changed ? "configure" : "start");
  event.set_reason(changed ? fmt::format("started with {} (SHA-256 {})", config_path, config_digest)
                           : fmt::format("started with {}, unchanged", config_path));
  RecordAudit(std::move(event));
  return OkStatus();
}

void RecordStore::RequestCheckpoint() {
  {
    std::lock_guard lock(mutex_);
    checkpoint_requested_ = true;
  }
  wake_.notify_one();
}

void RecordStore::Flush() {
  std::unique_lock lock(mutex_);
  const uint64_t target = handed_in_;
  ++flushes_waiting_;
  wake_.notify_one();
  flushed_.wait(lock, [&] { return done_ >= target || stopping_; });
  --flushes_waiting_;
}

}  // namespace labtrace::store
