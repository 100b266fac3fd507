// Whether an instrument's latest readings were good, and the log line when that changes.
//
// A technician watching the log sees one line when an instrument stops giving good
// readings and one when it comes back, not one per poll. Tests wait for these lines.
// Acquisition keeps one per instrument behind a mutex, since readings arrive from bus
// worker threads and the io_context alike.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "labtrace/reading.pb.h"

namespace labtrace::acquisition {

class InstrumentHealth {
 public:
  explicit InstrumentHealth(std::string instrument) : instrument_(std::move(instrument)) {}

  // Looks at one poll's readings; logs "instrument X is now GOOD" or
  // "instrument X is now NOT GOOD (QUALITY: detail)" when the state changes.
  void Observe(const std::vector<Reading>& readings);
  bool good() const { return good_.value_or(false); }

 private:
  std::string instrument_;
  std::optional<bool> good_;
};

}  // namespace labtrace::acquisition
