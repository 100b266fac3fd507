// One Modbus device on a bus: turns a poll into Readings, one per register of its map.
//
// Knows the device's register map and plan; borrows the bus's link for each poll. Runs
// on the bus worker thread that owns the link.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "labtrace/config.pb.h"
#include "labtrace/reading.pb.h"
#include "labtrace/status.h"
#include "modbus/link.h"
#include "modbus/register_plan.h"

namespace labtrace::modbus {

class ModbusDevice {
 public:
  // `map` must outlive the device (it lives in the loaded Lab).
  static Result<ModbusDevice> Create(std::string instrument, uint8_t unit_id,
                                     const config::RegisterMap& map, uint32_t max_gap,
                                     std::chrono::milliseconds timeout = std::chrono::milliseconds(500),
                                     uint32_t retries = 1);

  // Reads every planned request once. Each register yields one Reading, good or flagged
  // with why not; readings of one request share its raw reply frame. A request answered
  // "busy" (exception 6) or with a damaged frame is sent again, up to `retries` times; a
  // request with no reply is not (the next poll is the retry, and the scheduler backs a
  // silent device off).
  std::vector<Reading> Poll(ModbusLink& link) const;

  // Readings flagged `quality` for every register, for when the bus cannot even be
  // reached: the record shows that a reading was due and why there is no value.
  std::vector<Reading> Unreadable(Quality quality, const std::string& detail,
                                  int64_t requested_at_ns) const;

  const std::string& instrument() const { return instrument_; }

 private:
  ModbusDevice(std::string instrument, uint8_t unit_id, const config::RegisterMap& map,
               std::vector<PlannedRead> plan, std::chrono::milliseconds timeout, uint32_t retries)
      : instrument_(std::move(instrument)),
        unit_id_(unit_id),
        map_(&map),
        plan_(std::move(plan)),
        timeout_(timeout),
        retries_(retries) {}

  Reading Base(int register_index, int64_t requested_at_ns) const;

  std::string instrument_;
  uint8_t unit_id_;
  const config::RegisterMap* map_;
  std::vector<PlannedRead> plan_;
  std::chrono::milliseconds timeout_;
  uint32_t retries_;
};

// Maps a link or codec error to the quality flag a reading carries.
Quality QualityOf(const Status& status);

}  // namespace labtrace::modbus
