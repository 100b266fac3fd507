// Part of offline verification (verifier.h): the records of one kind (readings, audit
// events, calibration records), in id order, each as the bytes its leaf hash covers, for
// the verifier to walk beside the batches. Used by the verifier's thread only, on its
// read-only connection.
#pragma once

#include <cstdint>
#include <optional>
#include <unordered_map>
#include <string>

#include "labtrace/status.h"
#include "store/reading_runs_check.h"
#include "store/record_bytes.h"
#include "store/sqlite.h"

namespace labtrace::store {

class RecordCursor {
 public:
  // Readings have their runs read on `runs_db`, a second connection that reads the same
  // snapshot as `db` (ReadingRunsCheck); the other kinds need none.
  static Result<RecordCursor> Open(Database& db, RecordKind kind, std::optional<Database> runs_db = std::nullopt);

  const char* noun() const;
  bool has_row() const { return has_row_; }
  // Readings only: what is wrong with the channel sets as a whole, or "".
  std::string sets_problem() const { return runs_ ? runs_->sets_problem() : std::string(); }
  int64_t id() const { return id_; }
  Status Next();

  // The bytes the current record's leaf hash covers; valid until the next call.
  const std::string& Bytes();
  // What is wrong with the current row on its own, naming it, or "".
  std::string Problem() const;
  // The current record in words, for messages: "balance-xs205/mass, requested …".
  std::string Description() const;

  // After the last record: the problem with runs beyond the readings, or "".
  Result<std::string> RunsBeyondTheRecords();

 private:
  struct Channel {
    std::string instrument, channel;
  };

  RecordCursor(RecordKind kind, Statement statement) : kind_(kind), statement_(std::move(statement)) {}
  Status LoadChannels(Database& db);
  Status LoadProvenances(Database& db);

  RecordKind kind_;
  Statement statement_;
  bool has_row_ = false;
  int64_t id_ = 0;  // the current row's, read once: the walk asks for it several times
  // Readings only: every channel, loaded once (channels are few, readings many), and the
  // current reading's, or nullptr when its channel row is missing.
  std::unordered_map<int64_t, Channel> channels_;
  const Channel* channel_ = nullptr;
  // Readings only: every provenance, loaded once (a bus's or a file's readings share one),
  // serialised, and the current reading's: nullptr when it has none, or when its row is
  // missing.
  std::unordered_map<int64_t, std::string> provenances_;
  const std::string* provenance_ = nullptr;
  bool provenance_missing_ = false;
  std::optional<ReadingRunsCheck> runs_;  // readings from schema 4 on
  std::string bytes_;  // its capacity reused from record to record
};

}  // namespace labtrace::store
