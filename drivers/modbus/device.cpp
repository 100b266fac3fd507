#include "modbus/device.h"

#include <chrono>

#include "labtrace/clock.h"
#include "modbus/pdu.h"

namespace labtrace::modbus {

Quality QualityOf(const Status& status) {
  switch (status.code()) {
    case StatusCode::kOk: return GOOD;
    case StatusCode::kDeadlineExceeded: return NO_REPLY;
    case StatusCode::kUnavailable: return DISCONNECTED;
    default: return BAD_FRAME;
  }
}

namespace {
// Into the reading's own string, whose memory a reused reading keeps; set_raw_frame()
// would build a temporary string first.
void SetRawFrame(Reading& reading, const Frame& frame) {
  reading.mutable_raw_frame()->assign(reinterpret_cast<const char*>(frame.adu.data()), frame.adu.size());
}
}  // namespace

Result<ModbusDevice> ModbusDevice::Create(std::string instrument, uint8_t unit_id,
                                          const config::RegisterMap& map, uint32_t max_gap,
                                          std::chrono::milliseconds timeout, uint32_t retries) {
  auto plan = PlanReads(map, max_gap);
  if (!plan) return Error(plan.error());
  return ModbusDevice(std::move(instrument), unit_id, map, std::move(*plan), timeout, retries);
}

Reading& ModbusDevice::AddBase(std::vector<Reading>& readings, size_t& filled, int register_index,
                               int64_t requested_at_ns) const {
  const auto& reg = map_->registers(register_index);
  Reading& reading = ReadingBuffers::Reuse(readings, filled);
  reading.set_instrument(instrument_);
  reading.set_channel(reg.name());
  reading.set_unit(reg.unit());
  reading.set_requested_at_ns(requested_at_ns);
  reading.set_decimals(RegisterDecimals(reg));
  return reading;
}

std::vector<Reading> ModbusDevice::Poll(ModbusLink& link) const {
  DevicePoll poll(*this);
  while (const std::vector<uint8_t>* request = poll.Next()) {
    poll.Sending(NowNs());
    poll.Take(link.Transact(unit_id_, *request, timeout_), link.connected());
  }
  return poll.TakeReadings();
}

void DevicePoll::Advance() {
  attempt_ = 0;
  done_ = ++read_ == device_->plan_.size();
}

void DevicePoll::Flag(size_t read, Quality quality, const std::string& detail, const Frame* frame) {
  for (int index : device_->plan_[read].registers) {
    Reading& reading = device_->AddBase(readings_, filled_, index, requested_at_ns_);
    reading.set_quality(quality);
    reading.set_detail(detail);
    if (frame != nullptr) SetRawFrame(reading, *frame);
  }
}

void DevicePoll::Take(Result<Frame> frame, bool connected) {
  const ModbusDevice& device = *device_;
  const PlannedRead& read = device.plan_[read_];
  const uint8_t function = ReadFunction(read.table);
  Result<ReadResponse> response = Error(Internal("not parsed"));
  Status failure;
  if (!frame) {
    failure = frame.error();
  } else {
    response = ParseReadResponse(frame->pdu(), function, read.count);
    if (!response) {
      failure = response.error();
    } else if (response->exception) {
      failure = Status(StatusCode::kFailedPrecondition, ExceptionName(response->exception->code));
    }
  }
  if (failure.ok()) {
    for (const DecodedRegister& decoded : DecodeRead(*device.map_, read, response->words)) {
      Reading& reading = device.AddBase(readings_, filled_, decoded.register_index, requested_at_ns_);
      SetRawFrame(reading, *frame);
      if (decoded.value) {
        reading.set_quality(GOOD);
        reading.set_value(*decoded.value);
        // Only string fields have text; setting an empty one would still allocate.
        if (!decoded.text.empty()) reading.set_text(decoded.text);
      } else {
        reading.set_quality(BAD_FRAME);
        reading.set_detail(decoded.value.error().message());
      }
    }
    Advance();
    return;
  }
  const bool busy = failure.code() == StatusCode::kFailedPrecondition && response && response->exception &&
                    response->exception->code == kServerDeviceBusy;
  const bool damaged = failure.code() == StatusCode::kInvalidArgument;
  if ((busy || damaged) && connected && attempt_ < device.retries_) {
    ++attempt_;  // sent again
    return;
  }
  const Quality quality = failure.code() == StatusCode::kFailedPrecondition ? DEVICE_ERROR : QualityOf(failure);
  Flag(read_, quality, failure.message(), frame ? &*frame : nullptr);
  // A broken connection fails every later request of this poll the same way; a device
  // that did not answer is not asked again in this poll, so a dead device costs its line
  // one timeout, not one per request.
  if (!connected || quality == NO_REPLY) {
    const std::string why =
        connected ? "not asked: the device did not answer this poll's previous request" : failure.message();
    for (size_t rest = read_ + 1; rest < device.plan_.size(); ++rest) Flag(rest, quality, why, nullptr);
    done_ = true;
    return;
  }
  Advance();
}

std::vector<Reading> ModbusDevice::Unreadable(Quality quality, const std::string& detail,
                                              int64_t requested_at_ns) const {
  std::vector<Reading> readings;
  readings.reserve(readings_per_poll_);
  size_t filled = 0;
  for (const PlannedRead& read : plan_) {
    for (int index : read.registers) {
      Reading& reading = AddBase(readings, filled, index, requested_at_ns);
      reading.set_quality(quality);
      reading.set_detail(detail);
    }
  }
  return readings;
}

}  // namespace labtrace::modbus
