// A Modbus link through libmodbus, TCP or RTU: send one request PDU, get the reply frame.
//
// Owned by exactly one worker thread: libmodbus contexts are not thread-safe. libmodbus
// blocks (in select()) while it reads a frame, so the worker waits for a reply itself, on
// descriptor(), and hands the link to libmodbus only once the reply is there. Reconnect
// and back-off belong to the scheduler, so libmodbus's own error recovery is off.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
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

  // Opens the link. A serial port opens at once; a TCP connection is only started, and
  // connecting() stays true until descriptor() turns writable and FinishConnect() is
  // called, so that a worker waiting on many links is never held by one unreachable host.
  virtual Status StartConnect() = 0;
  virtual Status FinishConnect() { return OkStatus(); }
  virtual bool connecting() const { return false; }
  // Both halves, waiting up to kConnectTimeout in between.
  Status Connect();
  virtual void Close() = 0;
  virtual bool connected() const = 0;
  virtual std::string where() const = 0;
  // What to wait on: writable once connected, readable when a reply arrives; -1 when closed.
  virtual int descriptor() const = 0;

  // One transaction in halves, so that one worker can wait on many links at once: Send
  // the request; once descriptor() is readable, Receive the reply; if `timeout` passes
  // first, Abandon the request.
  // Errors, of all three:
  //   kDeadlineExceeded  no reply within the timeout
  //   kUnavailable       not connected, or the connection broke
  //   kInvalidArgument   a reply that is not a well-formed answer to this request (a bad
  //                      CRC or header, another unit's reply)
  virtual Status Send(uint8_t unit_id, std::span<const uint8_t> request_pdu) = 0;
  // nullopt: no answer yet, look again shortly: part of the reply is here and the rest is
  // not (a link never blocks on a reply that is still arriving, unless its worker serves it
  // alone), or a late answer to an earlier request was dropped.
  virtual Result<std::optional<Frame>> Receive(uint8_t unit_id, std::chrono::milliseconds timeout) = 0;
  // Gives up waiting: makes sure a late reply cannot be taken for the next request, and
  // returns the kDeadlineExceeded error that says so.
  virtual Status Abandon(uint8_t unit_id, std::chrono::milliseconds timeout) = 0;
  // Send, wait, Receive (or Abandon): for tools and tests that poll one device.
  Result<Frame> Transact(uint8_t unit_id, std::span<const uint8_t> request_pdu, std::chrono::milliseconds timeout);

  // Sends `request_pdu` to unit 0, which every device on a serial line carries out and
  // none answers, then leaves the line quiet for `turnaround` so they can (Modbus over
  // Serial Line v1.02 §2.4.1). Modbus TCP has no broadcast: FailedPrecondition.
  virtual Status Broadcast(std::span<const uint8_t> request_pdu, std::chrono::milliseconds turnaround) = 0;
};

inline constexpr auto kConnectTimeout = std::chrono::seconds(3);
// How soon to look again at a reply that has only partly arrived.
inline constexpr auto kReplyRecheck = std::chrono::milliseconds(1);

// Modbus TCP. The link writes each request's MBAP header with a transaction id of its own
// (libmodbus 3.1.6 sends every raw request as transaction 0), so a late answer to an
// earlier request is told from this one's and dropped. After any error or timeout the
// connection is closed, so a confused device starts clean.
class ModbusTcpLink final : public ModbusLink {
 public:
  ModbusTcpLink(std::string host, uint16_t port);
  ~ModbusTcpLink() override;
  ModbusTcpLink(const ModbusTcpLink&) = delete;
  ModbusTcpLink& operator=(const ModbusTcpLink&) = delete;

  Status StartConnect() override;
  Status FinishConnect() override;
  bool connecting() const override { return connecting_; }
  void Close() override;
  bool connected() const override { return connected_; }
  std::string where() const override;
  int descriptor() const override { return connected_ || connecting_ ? slot_.fd() : -1; }
  Status Send(uint8_t unit_id, std::span<const uint8_t> request_pdu) override;
  Result<std::optional<Frame>> Receive(uint8_t unit_id, std::chrono::milliseconds timeout) override;
  Status Abandon(uint8_t unit_id, std::chrono::milliseconds timeout) override;
  Status Broadcast(std::span<const uint8_t> request_pdu, std::chrono::milliseconds turnaround) override;

 private:
  // Whether the whole reply is in the socket's buffer (or nothing will come), so that
  // libmodbus, which reads a frame to its end, does not wait in the middle of one.
  bool ReplyWhole() const;

  std::string host_;
  uint16_t port_;
  DescriptorSlot slot_;
  _modbus* ctx_ = nullptr;
  bool connecting_ = false;
  bool connected_ = false;
  // A reply to one of the 16 requests before this one is late and dropped; any other id
  // than this request's is a bad frame.
  static constexpr uint16_t kLateAnswerWindow = 16;
  uint16_t transaction_ = 0;          // the id of the last request sent (Send)
  uint16_t sent_on_connection_ = 0;   // requests sent since the connection was made, to 1 + the window
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

  Status StartConnect() override;
  void Close() override;
  bool connected() const override { return ctx_ != nullptr; }
  std::string where() const override;
  int descriptor() const override { return ctx_ != nullptr ? slot_.fd() : -1; }
  Status Send(uint8_t unit_id, std::span<const uint8_t> request_pdu) override;
  // Reads the reply as it arrives at the line's rate: a serial line has a worker of its own.
  Result<std::optional<Frame>> Receive(uint8_t unit_id, std::chrono::milliseconds timeout) override;
  Status Abandon(uint8_t unit_id, std::chrono::milliseconds timeout) override;
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
