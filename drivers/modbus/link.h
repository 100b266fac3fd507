// A Modbus TCP connection through libmodbus: send one request PDU, get the reply frame.
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

struct _modbus;

namespace labtrace::modbus {

// A reply exactly as it came off the wire, and where its PDU sits inside it.
struct Frame {
  std::vector<uint8_t> adu;
  size_t pdu_offset = 0;
  size_t pdu_size = 0;
  std::span<const uint8_t> pdu() const { return {adu.data() + pdu_offset, pdu_size}; }
};

class ModbusTcpLink {
 public:
  ModbusTcpLink(std::string host, uint16_t port, std::chrono::milliseconds timeout);
  ~ModbusTcpLink();
  ModbusTcpLink(const ModbusTcpLink&) = delete;
  ModbusTcpLink& operator=(const ModbusTcpLink&) = delete;

  Status Connect();
  void Close();
  bool connected() const { return connected_; }
  std::string where() const;

  // Sends `request_pdu` to `unit_id` and returns its reply. Errors:
  //   kDeadlineExceeded  no reply within the timeout
  //   kUnavailable       not connected, or the connection broke
  //   kInvalidArgument   a reply that is not a well-formed answer to this request
  // After any error the connection is closed: on TCP a late reply would otherwise be
  // read as the answer to the next request.
  Result<Frame> Transact(uint8_t unit_id, std::span<const uint8_t> request_pdu);

 private:
  std::string host_;
  uint16_t port_;
  std::chrono::milliseconds timeout_;
  _modbus* ctx_ = nullptr;
  bool connected_ = false;
};

}  // namespace labtrace::modbus
