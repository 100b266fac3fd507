// The writer's ids of channels and of channel sets: found in memory, else in the
// database, else created there. Every stored reading needs its channel's id, and every
// run its channel set's.
//
// Most runs are a poll of every register of an instrument, in the order of its map, the
// same channels as its last poll. So the directory remembers each instrument's last run:
// a reading whose channel is the one at its place in that run gets the id remembered
// there, and a run whose channel ids are that run's gets its set, without building a key
// or searching a table. A lookup per reading by "instrument, channel" was 3–4 % of the
// daemon's CPU with 200 ten-register Modbus TCP devices.
//
// What a batch creates is kept apart until the batch commits (Committed()); if it does
// not, Forget() drops it with everything remembered, since a rolled-back id may be given
// again to another channel. Writer thread only.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "labtrace/status.h"
#include "store/sqlite.h"

namespace labtrace::store {

class ChannelDirectory {
 public:
  // Starts a batch on the writer's connection, in its transaction.
  void Begin(Database& db) { db_ = &db; }

  // The id of `channel` of `instrument`; `place` is the reading's place in its run
  // (0 for the first reading of the run, 1 for the next...).
  Result<int64_t> ChannelId(const std::string& instrument, const std::string& channel, size_t place);

  // The id of the set of `channel_ids` (a run's, in reading order, repeats allowed).
  Result<int64_t> SetId(const std::string& instrument, std::span<const int64_t> channel_ids);

  // The batch committed: what it created is known from now on.
  void Committed();
  // The batch did not commit, or the connection was reopened: forget what it created and
  // every remembered run.
  void Forget();
  // Forget(), and what earlier batches created: for a connection opened again.
  void Clear();

 private:
  struct LastRun {
    std::vector<std::string> channels;  // by place in the run
    std::vector<int64_t> channel_ids;   // the same places' ids
    std::vector<int64_t> set_of;        // the channel ids `set_id` was found for, in reading order
    int64_t set_id = 0;
  };
  LastRun& RunOf(const std::string& instrument);
  Result<int64_t> FindOrCreateChannel(const std::string& instrument, const std::string& channel);
  Result<int64_t> FindOrCreateSet(std::span<const int64_t> channel_ids);

  Database* db_ = nullptr;
  // Ids by "<length of instrument>:<instrument><channel>", and sets by their ascending
  // channel ids ("3,4,9"): committed, and created by the batch under way.
  std::unordered_map<std::string, int64_t> channels_, new_channels_;
  std::unordered_map<std::string, int64_t> sets_, new_sets_;
  std::unordered_map<std::string, LastRun> last_runs_;  // by instrument
  const std::string* run_instrument_ = nullptr;  // the instrument of the run under way
  LastRun* run_ = nullptr;
  std::string key_;                 // reused: no allocation per lookup
  std::vector<int64_t> set_members_;  // reused
};

}  // namespace labtrace::store
