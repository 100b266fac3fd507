#include <algorithm>
#include <cerrno>
#include <thread>

#include <fmt/format.h>
#include <modbus.h>
#include <sys/select.h>

#include "modbus/link.h"

namespace labtrace::modbus {

namespace {
constexpr size_t kRtuOverhead = 3;  // unit id before the PDU, CRC-16 after it
}  // namespace

ModbusRtuLink::ModbusRtuLink(SerialSettings settings) : settings_(std::move(settings)) {}

ModbusRtuLink::~ModbusRtuLink() {
  Close();
}

std::string ModbusRtuLink::where() const {
  return fmt::format("{} ({} 8{}{})", settings_.device, settings_.baud, settings_.parity, settings_.stop_bits);
}

Status ModbusRtuLink::StartConnect() {
  Close();
  ctx_ = modbus_new_rtu(settings_.device.c_str(), static_cast<int>(settings_.baud), settings_.parity, 8,
                        settings_.stop_bits);
  if (ctx_ == nullptr) return Unavailable(fmt::format("modbus rtu {}: {}", where(), modbus_strerror(errno)));
  modbus_set_error_recovery(ctx_, MODBUS_ERROR_RECOVERY_NONE);
  if (modbus_connect(ctx_) != 0) {
    const int err = errno;
    Close();
    return Unavailable(fmt::format("cannot open {}: {}", where(), modbus_strerror(err)));
  }
  // Into the reserved slot: libmodbus waits in select() (descriptor_slot.h).
  auto slot = slot_.Adopt(modbus_get_socket(ctx_));
  if (!slot) {
    modbus_set_socket(ctx_, -1);
    Close();
    return slot.error();
  }
  modbus_set_socket(ctx_, *slot);
  // A frame's bytes follow each other closely; USB adapters add a few ms of latency.
  modbus_set_byte_timeout(ctx_, 0, 50'000);
  // Instruments keep talking while nobody listens: start from a quiet line.
  DrainUntilQuiet();
  return OkStatus();
}

void ModbusRtuLink::DrainUntilQuiet() {
  if (ctx_ == nullptr) return;
  // Quiet = no byte for ten characters (at least 5 ms): the tail of a damaged or late
  // frame has then passed. Bounded, so a babbling device cannot hold the worker.
  const double char_s = (settings_.parity == 'N' ? 9.0 : 10.0) + settings_.stop_bits;
  const auto quiet_us = std::max<long>(5000, static_cast<long>(10 * char_s / settings_.baud * 1e6));
  const int fd = modbus_get_socket(ctx_);
  for (int round = 0; round < 50; ++round) {
    modbus_flush(ctx_);
    fd_set readable;
    FD_ZERO(&readable);
    FD_SET(fd, &readable);
    timeval wait{0, quiet_us};
    if (select(fd + 1, &readable, nullptr, nullptr, &wait) <= 0) return;
  }
}

void ModbusRtuLink::Close() {
  if (ctx_ != nullptr) {
    modbus_set_socket(ctx_, -1);  // the slot closes the port and stays reserved
    modbus_free(ctx_);
    ctx_ = nullptr;
  }
  slot_.Release();
}

Status ModbusRtuLink::Broadcast(std::span<const uint8_t> request_pdu, std::chrono::milliseconds turnaround) {
  if (ctx_ == nullptr) return Unavailable(fmt::format("{} is not open", where()));
  std::vector<uint8_t> request;
  request.push_back(0);  // unit 0: every device, no reply
  request.insert(request.end(), request_pdu.begin(), request_pdu.end());
  if (modbus_send_raw_request(ctx_, request.data(), static_cast<int>(request.size())) < 0) {
    const int err = errno;
    Close();
    return Unavailable(fmt::format("writing to {}: {}", where(), modbus_strerror(err)));
  }
  std::this_thread::sleep_for(turnaround);
  DrainUntilQuiet();  // a device that answered anyway must not answer the next request
  return OkStatus();
}

Status ModbusRtuLink::Send(uint8_t unit_id, std::span<const uint8_t> request_pdu) {
  if (ctx_ == nullptr) return Unavailable(fmt::format("{} is not open", where()));
  // libmodbus keeps only replies from the unit it is set to talk to.
  modbus_set_slave(ctx_, unit_id);
  std::vector<uint8_t> request;
  request.reserve(1 + request_pdu.size());
  request.push_back(unit_id);
  request.insert(request.end(), request_pdu.begin(), request_pdu.end());
  if (modbus_send_raw_request(ctx_, request.data(), static_cast<int>(request.size())) < 0) {
    const int err = errno;
    Close();  // the port itself failed (unplugged adapter): reopened by the scheduler
    return Unavailable(fmt::format("writing to {}: {}", where(), modbus_strerror(err)));
  }
  return OkStatus();
}

Status ModbusRtuLink::Abandon(uint8_t unit_id, std::chrono::milliseconds timeout) {
  // Drop whatever is left on the line so it cannot answer the next request.
  DrainUntilQuiet();
  return DeadlineExceeded(
      fmt::format("no reply from unit {} on {} within {} ms", unit_id, settings_.device, timeout.count()));
}

Result<std::optional<Frame>> ModbusRtuLink::Receive(uint8_t unit_id, std::chrono::milliseconds timeout) {
  if (ctx_ == nullptr) return Error(Unavailable(fmt::format("{} is not open", where())));
  SetResponseTimeout(ctx_, timeout);
  Frame frame;
  frame.adu.resize(MODBUS_RTU_MAX_ADU_LENGTH);
  const int length = modbus_receive_confirmation(ctx_, frame.adu.data());
  // Whatever went wrong, drop what is left on the line so it cannot answer the next request.
  auto fail = [this](Status status) -> Result<std::optional<Frame>> {
    DrainUntilQuiet();
    return Error(std::move(status));
  };
  if (length < 0) {
    const int err = errno;
    if (err == ETIMEDOUT) return Error(Abandon(unit_id, timeout));
    if (err >= MODBUS_ENOBASE) {
      return fail(InvalidArgument(fmt::format("bad reply from unit {} on {}: {}", unit_id, settings_.device,
                                              modbus_strerror(err))));
    }
    Close();
    return Error(Unavailable(fmt::format("{} failed: {}", where(), modbus_strerror(err))));
  }
  frame.adu.resize(static_cast<size_t>(length));
  if (frame.adu.size() < kRtuOverhead + 1) {
    return fail(InvalidArgument(fmt::format("reply of {} bytes from unit {} is too short", length, unit_id)));
  }
  if (frame.adu[0] != unit_id) {
    return fail(InvalidArgument(fmt::format("reply from unit {}, asked unit {}", frame.adu[0], unit_id)));
  }
  frame.pdu_offset = 1;
  frame.pdu_size = frame.adu.size() - kRtuOverhead;
  return std::optional<Frame>(std::move(frame));
}

}  // namespace labtrace::modbus
