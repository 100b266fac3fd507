// Part of offline verification (verifier.h): the runs by which a search by channel finds
// readings. A reading whose row and leaf are intact is still hidden from the API when no
// run of its instrument, whose channel set holds its channel, covers it; this walks
// reading_runs beside the readings, in sequence order, and says where that breaks.
// Used by the verifier's thread only, on its read-only connection.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "labtrace/status.h"
#include "store/sqlite.h"

namespace labtrace::store {

class ReadingRunsCheck {
 public:
  // Nothing to check (std::nullopt) in a store from before schema 4, which has no runs;
  // a store of schema 4 has runs without channel sets.
  static Result<std::optional<ReadingRunsCheck>> Open(Database& db);

  // What is wrong with the channel sets as a whole, or "".
  const std::string& sets_problem() const { return sets_problem_; }

  // Moves to the reading `sequence` of `instrument` on channel `channel_id` (ascending
  // sequences).
  Status Advance(int64_t sequence, std::string_view instrument, int64_t channel_id);
  // Whether a search by channel finds that reading; if not, why, the reading being
  // described as `description`.
  bool finds_current() const { return run_problem_.empty() && in_run_; }
  std::string Problem(std::string_view description) const;

  // After the last reading: a run that claims more readings than there are (a run added
  // there would also make the daemon's next run clash with it), or "" if none.
  Result<std::string> BeyondTheReadings();

 private:
  using ChannelSets = std::map<int64_t, std::vector<int64_t>>;

  explicit ReadingRunsCheck(Statement runs) : runs_(std::move(runs)) {}
  static Result<ChannelSets> LoadChannelSets(Database& db, std::string& problem);
  Status NextRun();
  // Whether the index reading_runs_by_channel_set, by which a search finds a set's runs,
  // holds the current run as the next of its set.
  Result<bool> IndexHoldsRun(int64_t set);

  Database* db_ = nullptr;
  Statement runs_;
  int64_t runs_read_ = 0;
  // Schema 5 on: each channel set's runs in the index, in sequence order, stepped beside
  // the table (prepared when a run of the set is first met).
  std::map<int64_t, Statement> indexed_runs_;
  bool has_run_ = false;
  int64_t run_first_ = 0, run_count_ = 0;
  std::string run_instrument_;
  std::optional<ChannelSets> sets_;                 // schema 5 on
  const std::vector<int64_t>* run_set_ = nullptr;  // the current run's channels, if known
  bool in_run_ = false;
  int64_t last_sequence_ = 0;
  std::string run_problem_;  // runs that overlap, found on the way
  std::string sets_problem_;
};

}  // namespace labtrace::store
