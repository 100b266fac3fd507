// A Modbus link through libmodbus, TCP or RTU: send one request PDU, get the reply frame.
//
// Owned by exactly one bus worker thread: libmodbus contexts are not thread-safe and
// every call blocks (in select()) for up to the timeout. Reconnect and back-off belong
// to the scheduler, so libmodbus's own error recovery is off.
#pragma once

#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "labtrace/status.h"
#include "modbus/descriptor_slot.h"

struct _modbus;

namespace labtrace::modbus {

// A reply exactly as it came off the wire, and where its PDU sits inside it.
struct Frame {
  std::vector<uint8_t> adu;
  size_t pdu_offset = 0;
  size_t pdu_size = 0;
  std::span<const uint8_t> pdu() const { return {adu.data() + pdu_offset, pdu_size}; }
};

class ModbusLink {
 public:
  virtual ~ModbusLink() = default;
  virtual Status Connect() = 0;
  virtual void Close() = 0;
  virtual bool connected() const = 0;
  virtual std::string where() const = 0;

  // Sends `request_pdu` to `unit_id` and returns its reply, waiting at most `timeout`.
  // Errors:
  //   kDeadlineExceeded  no reply within the timeout
  //   kUnavailable       not connected, or the connection broke
  //   kInvalidArgument   a reply that is not a well-formed answer to this request (a bad
  //                      CRC or header, another unit's reply)
  virtual Result<Frame> Transact(uint8_t unit_id, std::span<const uint8_t> request_pdu,
                                 std::chrono::milliseconds timeout) = 0;
  // Sends `request_pdu` to unit 0, which every device on a serial line carries out and
  // none answers, then leaves the line quiet for `turnaround` so they can (Modbus over
  // Serial Line v1.02 §2.4.1). Modbus TCP has no broadcast: FailedPrecondition.
  virtual Status Broadcast(std::span<const uint8_t> request_pdu, std::chrono::milliseconds turnaround) = 0;
};

// Modbus TCP. After any error the connection is closed: a late reply would otherwise be
// read as the answer to the next request (libmodbus 3.1.6 does not expose the
// transaction id it sent).
class ModbusTcpLink final : public ModbusLink {
 public:
  ModbusTcpLink(std::string host, uint16_t port);
  ~ModbusTcpLink() override;
  ModbusTcpLink(const ModbusTcpLink&) = delete;
  ModbusTcpLink& operator=(const ModbusTcpLink&) = delete;

  Status Connect() override;
  void Close() override;
  bool connected() const override { return connected_; }
  std::string where() const override;
  Result<Frame> Transact(uint8_t unit_id, std::span<const uint8_t> request_pdu,
                         std::chrono::milliseconds timeout) override;
  Status Broadcast(std::span<const uint8_t> request_pdu, std::chrono::milliseconds turnaround) override;

 private:
  std::string host_;
  uint16_t port_;
  DescriptorSlot slot_;
  _modbus* ctx_ = nullptr;
  bool connected_ = false;
  static constexpr uint16_t kRawRequestTransaction = 0;
};

struct SerialSettings {
  std::string device;
  uint32_t baud = 9600;
  char parity = 'E';  // 'N', 'E' or 'O'
  int stop_bits = 1;
};

// Modbus RTU on a serial line shared by several devices. The port stays open across
// errors (closing it would cut every neighbour off); after a timeout or a bad frame the
// input is drained, so a late reply is never taken for the next one.
class ModbusRtuLink final : public ModbusLink {
 public:
  explicit ModbusRtuLink(SerialSettings settings);
  ~ModbusRtuLink() override;
  ModbusRtuLink(const ModbusRtuLink&) = delete;
  ModbusRtuLink& operator=(const ModbusRtuLink&) = delete;

  Status Connect() override;
  void Close() override;
  bool connected() const override { return ctx_ != nullptr; }
  std::string where() const override;
  Result<Frame> Transact(uint8_t unit_id, std::span<const uint8_t> request_pdu,
                         std::chrono::milliseconds timeout) override;
  Status Broadcast(std::span<const uint8_t> request_pdu, std::chrono::milliseconds turnaround) override;

 private:
  // Drains the input until the line has been silent for a while.
  void DrainUntilQuiet();

  SerialSettings settings_;
  DescriptorSlot slot_;
  _modbus* ctx_ = nullptr;
};

// Sets a libmodbus context's response timeout (both links, before each request).
void SetResponseTimeout(_modbus* ctx, std::chrono::milliseconds timeout);

}  // namespace labtrace::modbus
