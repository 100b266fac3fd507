#include "acquisition/instrument_health.h"

#include <algorithm>

#include <spdlog/spdlog.h>

namespace labtrace::acquisition {

void InstrumentHealth::Observe(const std::vector<Reading>& readings, int64_t now_ns) {
  if (readings.empty()) return;
  const Reading* first_bad = nullptr;
  for (const Reading& reading : readings) {
    if (reading.quality() != GOOD) {
      first_bad = &reading;
      break;
    }
  }
  const bool good = first_bad == nullptr;
  status_.set_polls(status_.polls() + 1);
  const double io_ms = std::max<int64_t>(0, now_ns - readings.front().requested_at_ns()) / 1e6;
  io_ms_total_ += io_ms;
  status_.set_io_ms_mean(io_ms_total_ / static_cast<double>(status_.polls()));
  status_.set_io_ms_max(std::max(status_.io_ms_max(), io_ms));
  status_.set_good(good);
  if (good) {
    status_.set_good_polls(status_.good_polls() + 1);
    status_.set_last_good_at_ns(readings.front().requested_at_ns());
  } else {
    ++(*status_.mutable_flagged_polls())[Quality_Name(first_bad->quality())];
    status_.set_last_problem(first_bad->detail());
  }
  if (good_ == good) return;
  good_ = good;
  if (good) {
    spdlog::info("instrument {} is now GOOD", instrument_);
  } else {
    spdlog::warn("instrument {} is now NOT GOOD ({}: {})", instrument_,
                 Quality_Name(first_bad->quality()), first_bad->detail());
  }
}

}  // namespace labtrace::acquisition
