// How each instrument is doing: the log line when it changes between good and not good,
// and the counts behind GET /v1/health (last good read, flagged polls by class, I/O time).
//
// A technician watching the log sees one line when an instrument stops giving good
// readings and one when it comes back, not one per poll. Tests wait for these lines.
// Acquisition keeps one per instrument behind a mutex, since readings arrive from bus
// worker threads and the io_context alike.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "labtrace/api.pb.h"
#include "labtrace/reading.pb.h"

namespace labtrace::acquisition {

class InstrumentHealth {
 public:
  explicit InstrumentHealth(std::string instrument) : instrument_(std::move(instrument)) {
    status_.set_instrument(instrument_);
  }

  // Looks at one poll's readings, handed on at `now_ns`; logs "instrument X is now GOOD"
  // or "instrument X is now NOT GOOD (QUALITY: detail)" when the state changes.
  void Observe(const std::vector<Reading>& readings, int64_t now_ns);
  void Identified(const InstrumentIdentity& identity) { *status_.mutable_identity() = identity; }
  bool good() const { return good_.value_or(false); }
  const api::InstrumentStatus& status() const { return status_; }

 private:
  std::string instrument_;
  std::optional<bool> good_;
  api::InstrumentStatus status_;
  double io_ms_total_ = 0;
};

}  // namespace labtrace::acquisition
