// Modbus application PDUs for the reads labtrace makes: function 03 (holding registers)
// and 04 (input registers). Pure; no I/O.
//
// References: Modbus Application Protocol v1.1b3, §6.3 (FC03), §6.4 (FC04), §7
// (exception responses).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "labtrace/status.h"

namespace labtrace::modbus {

inline constexpr uint8_t kReadCoils = 0x01;
inline constexpr uint8_t kReadDiscreteInputs = 0x02;
inline constexpr uint8_t kReadHoldingRegisters = 0x03;
inline constexpr uint8_t kReadInputRegisters = 0x04;
// §6.3: quantity of registers 1..125 (0x7D); §6.1, §6.2: quantity of bits 1..2000.
inline constexpr uint16_t kMaxRegistersPerRead = 125;
inline constexpr uint16_t kMaxBitsPerRead = 2000;

bool IsBitFunction(uint8_t function);

// Writes (§6.6 function 06, one register; §6.12 function 16, 1..123 registers).
inline constexpr uint8_t kWriteSingleRegister = 0x06;
inline constexpr uint8_t kWriteMultipleRegisters = 0x10;
inline constexpr uint16_t kMaxRegistersPerWrite = 123;

// An exception reply from the device (function | 0x80, code). Kept apart from other
// errors so the scheduler can retry code 6 (server device busy).
struct ExceptionReply {
  uint8_t code = 0;
};
inline constexpr uint8_t kServerDeviceBusy = 6;
std::string ExceptionName(uint8_t code);

// Request PDU: function, starting address (big-endian), quantity (big-endian).
std::vector<uint8_t> EncodeReadRequest(uint8_t function, uint16_t address, uint16_t count);

// Request PDU of a register write: function 06 for one value, 16 for several (at most
// kMaxRegistersPerWrite; the caller checks).
std::vector<uint8_t> EncodeWriteRequest(uint16_t address, std::span<const uint16_t> values);

// Checks the reply to a write request: the echo of its first five bytes (function,
// address, and the value (06) or quantity (16)), or an exception (returned, not an
// error). Anything else is a bad frame.
Result<std::optional<ExceptionReply>> ParseWriteResponse(std::span<const uint8_t> pdu,
                                                         std::span<const uint8_t> request_pdu);

// What a read response PDU held: register words, or the device's exception.
struct ReadResponse {
  std::vector<uint16_t> words;          // empty when `exception` is set; one per bit for 01/02
  std::optional<ExceptionReply> exception;
};

// Parses a response PDU (function code first, no unit id, no CRC/MBAP) to the request
// (function, count). Any mismatch of function or byte count is a bad frame. For coils and
// discrete inputs (01, 02) each bit becomes one word, 0 or 1, in address order.
Result<ReadResponse> ParseReadResponse(std::span<const uint8_t> pdu, uint8_t function,
                                       uint16_t count);

}  // namespace labtrace::modbus
