// Reading what a running labtraced stored, through its API, and waiting for it commit by
// commit ("store: committed" log lines), never by sleeping.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <ostream>
#include <regex>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "cli/http_client.h"
#include "labtrace/api.pb.h"
#include "support/child_process.h"
#include "support/labtrace_cli.h"

namespace labtrace::testing {

inline std::vector<Reading> StoredReadings(const std::string& server, const std::string& instrument,
                                           const std::string& channel) {
  auto reply = cli::HttpGet(server, fmt::format("/v1/readings?instrument={}&channel={}", instrument, channel));
  if (!reply || reply->status != 200) return {};
  auto response = ParseJson<api::ReadingsResponse>(reply->body);
  return {response.readings().begin(), response.readings().end()};
}

// Whether any of `readings` has one of `qualities`.
inline bool AnyOf(const std::vector<Reading>& readings, std::initializer_list<Quality> qualities) {
  return std::any_of(readings.begin(), readings.end(), [&](const Reading& r) {
    return std::find(qualities.begin(), qualities.end(), r.quality()) != qualities.end();
  });
}

// The first of `readings` with quality `q`, if any. A reading waited for is looked for,
// not taken as the last: one commit may hold later readings too.
inline std::optional<Reading> FirstOf(const std::vector<Reading>& readings, Quality q) {
  for (const Reading& r : readings) {
    if (r.quality() == q) return r;
  }
  return std::nullopt;
}

inline uint64_t LastSequence(const std::string& server, const std::string& instrument, const std::string& channel) {
  auto readings = StoredReadings(server, instrument, channel);
  return readings.empty() ? 0 : readings.back().sequence();
}

// How many polls a device under test got compared with a healthy control polled at the
// same period in the same daemon, counted by the daemon's request times over the window
// both series cover. A loaded machine slows both alike, so the ratio stays near 1 where
// a rate measured against the wall clock would not; a device that holds its neighbour's
// line or worker lowers only the neighbour's count. Each series is one channel's
// readings, one per poll, in the order stored.
struct PollCounts {
  size_t subject = 0, control = 0;
  int64_t from_ns = 0, to_ns = 0;  // the window counted
  double ratio() const { return control == 0 ? 0.0 : static_cast<double>(subject) / control; }
};

inline PollCounts CountPollsInOneWindow(const std::vector<Reading>& subject, const std::vector<Reading>& control,
                                        int64_t to_ns = INT64_MAX) {
  PollCounts counts;
  if (subject.empty() || control.empty()) return counts;
  counts.from_ns = std::max(subject.front().requested_at_ns(), control.front().requested_at_ns());
  counts.to_ns = std::min({subject.back().requested_at_ns(), control.back().requested_at_ns(), to_ns});
  const auto in_window = [&](const Reading& r) {
    return r.requested_at_ns() >= counts.from_ns && r.requested_at_ns() <= counts.to_ns;
  };
  counts.subject = std::count_if(subject.begin(), subject.end(), in_window);
  counts.control = std::count_if(control.begin(), control.end(), in_window);
  return counts;
}

inline std::ostream& operator<<(std::ostream& out, const PollCounts& counts) {
  return out << counts.subject << " polls against the control's " << counts.control << " over "
             << (counts.to_ns - counts.from_ns) / 1'000'000 << " ms (ratio " << counts.ratio() << ")";
}

// Waits until `instrument/channel` has readings after `after_sequence` that satisfy
// `done`, and returns those readings; fails the test after `deadline`.
template <typename Done>
std::vector<Reading> WaitForReadings(ChildProcess& daemon, const std::string& server, const std::string& instrument,
                                     const std::string& channel, uint64_t after_sequence, Done done,
                                     std::chrono::milliseconds deadline = std::chrono::seconds(20)) {
  const auto until = std::chrono::steady_clock::now() + deadline;
  while (std::chrono::steady_clock::now() < until) {
    const size_t mark = daemon.Mark();
    std::vector<Reading> after;
    for (Reading& r : StoredReadings(server, instrument, channel)) {
      if (r.sequence() > after_sequence) after.push_back(std::move(r));
    }
    if (done(after)) return after;
    if (!daemon.WaitForLine(std::regex("store: committed"), deadline, mark)) break;
  }
  ADD_FAILURE() << "waited in vain for readings of " << instrument << "/" << channel;
  return {};
}

}  // namespace labtrace::testing
