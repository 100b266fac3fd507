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
#include "labtrace/reading_buffers.h"
#include "labtrace/status.h"
#include "modbus/link.h"
#include "modbus/pdu.h"
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
  uint8_t unit_id() const { return unit_id_; }
  std::chrono::milliseconds timeout() const { return timeout_; }

 private:
  friend class DevicePoll;
  ModbusDevice(std::string instrument, uint8_t unit_id, const config::RegisterMap& map,
               std::vector<PlannedRead> plan, std::chrono::milliseconds timeout, uint32_t retries)
      : instrument_(std::move(instrument)),
        unit_id_(unit_id),
        map_(&map),
        plan_(std::move(plan)),
        timeout_(timeout),
        retries_(retries) {
    for (const PlannedRead& read : plan_) {
      requests_.push_back(EncodeReadRequest(ReadFunction(read.table), read.address, read.count));
      readings_per_poll_ += read.registers.size();
    }
  }

  // The next reading of `readings` (ReadingBuffers::Reuse), for register
  // `register_index`, with what every reading of it carries.
  Reading& AddBase(std::vector<Reading>& readings, size_t& filled, int register_index,
                   int64_t requested_at_ns) const;

  std::string instrument_;
  uint8_t unit_id_;
  const config::RegisterMap* map_;
  std::vector<PlannedRead> plan_;
  std::vector<std::vector<uint8_t>> requests_;  // the request PDU of each planned read
  std::chrono::milliseconds timeout_;
  uint32_t retries_;
  size_t readings_per_poll_ = 0;
};

// One poll of a device, request by request: which request to send next, and what each
// reply (or its absence) makes of it. ModbusDevice::Poll runs one on a blocking link; a
// bus worker keeps one in flight on each of its buses.
class DevicePoll {
 public:
  // `buffer`: readings to make this poll's in (ReadingBuffers), or none.
  explicit DevicePoll(const ModbusDevice& device, std::vector<Reading> buffer = {})
      : device_(&device), done_(device.plan_.empty()), readings_(std::move(buffer)) {
    // Every register yields one reading: no growth, and no reading moved on the way.
    readings_.reserve(device.readings_per_poll_);
  }
  // The request PDU to send now, or nullptr when the poll is over.
  const std::vector<uint8_t>* Next() const { return done_ ? nullptr : &device_->requests_[read_]; }
  // Called as Next() is sent: its readings carry this time.
  void Sending(int64_t requested_at_ns) { requested_at_ns_ = requested_at_ns; }
  // What became of Next(): its reply frame, or why there is none; `connected`: whether the
  // link is still up. A request answered "busy" (exception 6) or with a damaged frame
  // stays Next(), up to the device's retries.
  void Take(Result<Frame> frame, bool connected);
  const ModbusDevice& device() const { return *device_; }
  std::vector<Reading> TakeReadings() {
    readings_.resize(filled_);  // a reused buffer may have held more
    return std::move(readings_);
  }

 private:
  // Flags every register of planned read `read`.
  void Flag(size_t read, Quality quality, const std::string& detail, const Frame* frame);
  void Advance();

  const ModbusDevice* device_;
  size_t read_ = 0;  // the planned read in flight
  uint32_t attempt_ = 0;
  int64_t requested_at_ns_ = 0;
  bool done_ = false;
  std::vector<Reading> readings_;
  size_t filled_ = 0;  // readings_[0, filled_) are this poll's
};

// Maps a link or codec error to the quality flag a reading carries.
Quality QualityOf(const Status& status);

}  // namespace labtrace::modbus
