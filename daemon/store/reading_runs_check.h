// Part of offline verification (verifier.h): the runs by which a search by channel finds
// readings. A reading whose row and leaf are intact is still hidden from the API when no
// run of its instrument, whose channel set holds its channel, covers it; this walks
// reading_runs beside the readings, in sequence order, and says where that breaks.
// Used by the verifier's thread only; the runs come from a RunReader's thread.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "labtrace/status.h"
#include "store/run_reader.h"
#include "store/sqlite.h"

namespace labtrace::store {

class ReadingRunsCheck {
 public:
  // Nothing to check (std::nullopt) in a store from before schema 4, which has no runs;
  // a store of schema 4 has runs without channel sets. The runs are read on `runs_db`, a
  // second connection that reads the same snapshot as `db` (RunReader).
  static Result<std::optional<ReadingRunsCheck>> Open(Database& db, Database runs_db);

  // What is wrong with the channel sets as a whole, or "".
  const std::string& sets_problem() const { return sets_problem_; }

  // Moves to the reading `sequence` of `instrument` on channel `channel_id` (ascending
  // sequences).
  Status Advance(int64_t sequence, std::string_view instrument, int64_t channel_id);
  // Whether a search by channel finds that reading; if not, why, the reading being
  // described as `description`.
  bool finds_current() const { return run_ != nullptr && run_->problem.empty() && in_run_; }
  std::string Problem(std::string_view description) const;

  // After the last reading: a run that claims more readings than there are (a run added
  // there would also make the daemon's next run clash with it), or "" if none.
  Result<std::string> BeyondTheReadings();

 private:
  ReadingRunsCheck() = default;
  static Result<ChannelSets> LoadChannelSets(Database& db, std::string& problem);
  Status NextRun();

  // On the heap, so that the reader's thread keeps their address when the check moves.
  std::unique_ptr<ChannelSets> sets_;  // schema 5 on
  bool walks_index_ = false;
  std::unique_ptr<RunReader> reader_;
  const StoredRun* run_ = nullptr;  // the run at the front; nullptr after the last
  bool in_run_ = false;
  int64_t last_sequence_ = 0;
  std::string sets_problem_;
};

}  // namespace labtrace::store
