#include "acquisition/instrument_health.h"

#include <spdlog/spdlog.h>

namespace labtrace::acquisition {

void InstrumentHealth::Observe(const std::vector<Reading>& readings) {
  if (readings.empty()) return;
  const Reading* first_bad = nullptr;
  for (const Reading& reading : readings) {
    if (reading.quality() != GOOD) {
      first_bad = &reading;
      break;
    }
  }
  const bool good = first_bad == nullptr;
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
