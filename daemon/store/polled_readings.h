// The store's queue of polled readings, kept as they were handed in: one poll's readings
// at a time. A poll moves from the queue to a batch, and back when a commit fails, as one
// vector rather than reading by reading: two moves of each reading were 3 % of the
// daemon's CPU with 200 Modbus TCP devices.
#pragma once

#include <algorithm>
#include <cstddef>
#include <deque>
#include <vector>

#include "labtrace/reading.pb.h"

namespace labtrace::store {

class PolledReadings {
 public:
  size_t size() const { return count_; }  // readings, not polls
  bool empty() const { return count_ == 0; }

  void PushBack(std::vector<Reading> poll) {
    if (poll.empty()) return;
    count_ += poll.size();
    polls_.push_back(std::move(poll));
  }

  // The oldest poll; the queue must not be empty.
  std::vector<Reading> PopFront() {
    std::vector<Reading> poll = std::move(polls_.front());
    polls_.pop_front();
    count_ -= poll.size();
    return poll;
  }

  // Puts `earlier`, taken from the front, back at the front in its order.
  void PutBack(PolledReadings&& earlier) {
    for (auto it = earlier.polls_.rbegin(); it != earlier.polls_.rend(); ++it) {
      count_ += it->size();
      polls_.push_front(std::move(*it));
    }
    earlier.polls_.clear();
    earlier.count_ = 0;
  }

  // Drops the oldest readings, cutting into a poll if need be, until at most `limit` are
  // left; returns how many were dropped.
  size_t DropOldest(size_t limit) {
    size_t dropped = 0;
    while (count_ > limit) {
      std::vector<Reading>& oldest = polls_.front();
      const size_t n = std::min(oldest.size(), count_ - limit);
      oldest.erase(oldest.begin(), oldest.begin() + static_cast<std::ptrdiff_t>(n));
      count_ -= n;
      dropped += n;
      if (oldest.empty()) polls_.pop_front();
    }
    return dropped;
  }

  std::deque<std::vector<Reading>>& polls() { return polls_; }

 private:
  std::deque<std::vector<Reading>> polls_;
  size_t count_ = 0;
};

}  // namespace labtrace::store
