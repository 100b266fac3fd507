// Vectors of readings that the store gives back once it has committed them, for the
// drivers to make their next polls in. A cleared Reading keeps the memory of its strings
// (instrument, channel, unit, raw frame), so a poll made over an old one allocates
// nothing, and the store frees nothing: with 200 Modbus TCP devices, readings allocated
// on a bus worker and freed on the store's writer (glibc's costliest pattern) were about
// 8 % of the daemon's CPU.
//
// Thread-safe. A vector taken holds old readings: fill it with Reuse(), which clears each
// one before it is used again, and cut it to what was filled.
#pragma once

#include <cstddef>
#include <mutex>
#include <vector>

#include "labtrace/reading.pb.h"

namespace labtrace {

class ReadingBuffers {
 public:
  // Keeps at most `keep` vectors; more are freed.
  explicit ReadingBuffers(size_t keep = 4096) : keep_(keep) {}

  // A vector given back, or an empty one when none is.
  std::vector<Reading> Take() {
    std::lock_guard lock(mutex_);
    if (spare_.empty()) return {};
    std::vector<Reading> readings = std::move(spare_.back());
    spare_.pop_back();
    return readings;
  }

  void GiveBack(std::vector<Reading>&& readings) {
    if (readings.empty()) return;
    std::lock_guard lock(mutex_);
    if (spare_.size() < keep_) spare_.push_back(std::move(readings));
  }

  // The next reading of `readings`, of which `filled` are this use's: an old one cleared,
  // or a new one. Cut the vector to `filled` when done.
  static Reading& Reuse(std::vector<Reading>& readings, size_t& filled) {
    if (filled < readings.size()) {
      Reading& reading = readings[filled++];
      reading.Clear();
      return reading;
    }
    ++filled;
    return readings.emplace_back();
  }

 private:
  const size_t keep_;
  std::mutex mutex_;
  std::vector<std::vector<Reading>> spare_;
};

}  // namespace labtrace
