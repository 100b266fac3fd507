#include "modbus/pdu.h"

#include <algorithm>

#include <fmt/format.h>

namespace labtrace::modbus {

std::string ExceptionName(uint8_t code) {
  // Modbus Application Protocol v1.1b3, §7, table of exception codes.
  switch (code) {
    case 1: return "exception 1 (illegal function)";
    case 2: return "exception 2 (illegal data address; check 0/1-based numbering)";
    case 3: return "exception 3 (illegal data value)";
    case 4: return "exception 4 (server device failure)";
    case 5: return "exception 5 (acknowledge)";
    case 6: return "exception 6 (server device busy)";
    case 8: return "exception 8 (memory parity error)";
    case 10: return "exception 10 (gateway path unavailable)";
    case 11: return "exception 11 (gateway target failed to respond)";
    default: return fmt::format("exception {}", code);
  }
}

bool IsBitFunction(uint8_t function) { return function == kReadCoils || function == kReadDiscreteInputs; }

std::vector<uint8_t> EncodeReadRequest(uint8_t function, uint16_t address, uint16_t count) {
  return {function, static_cast<uint8_t>(address >> 8), static_cast<uint8_t>(address & 0xFF),
          static_cast<uint8_t>(count >> 8), static_cast<uint8_t>(count & 0xFF)};
}

Result<ReadResponse> ParseReadResponse(std::span<const uint8_t> pdu, uint8_t function,
                                       uint16_t count) {
  if (pdu.empty()) return Error(InvalidArgument("empty response"));
  if (pdu[0] == (function | 0x80)) {
    if (pdu.size() != 2) {
      return Error(InvalidArgument(fmt::format("exception reply of {} bytes, expected 2", pdu.size())));
    }
    return ReadResponse{{}, ExceptionReply{pdu[1]}};
  }
  if (pdu[0] != function) {
    return Error(InvalidArgument(
        fmt::format("reply to function {:#04x} has function {:#04x}", function, pdu[0])));
  }
  if (pdu.size() < 2) return Error(InvalidArgument("reply has no byte count"));
  const bool bits = IsBitFunction(function);
  // §6.1: coils and inputs are packed eight to a byte, the first in the lowest bit.
  const size_t expected_bytes = bits ? (count + 7u) / 8u : 2u * count;
  if (pdu[1] != expected_bytes) {
    return Error(InvalidArgument(fmt::format("byte count {} for {} {}, expected {}", pdu[1], count,
                                             bits ? "bits" : "registers", expected_bytes)));
  }
  if (pdu.size() != 2 + expected_bytes) {
    return Error(InvalidArgument(
        fmt::format("reply is {} bytes, byte count says {}", pdu.size(), 2 + expected_bytes)));
  }
  ReadResponse response;
  response.words.reserve(count);
  if (bits) {
    for (size_t i = 0; i < count; ++i) response.words.push_back((pdu[2 + i / 8] >> (i % 8)) & 1);
    return response;
  }
  for (size_t i = 0; i < count; ++i) {
    response.words.push_back(static_cast<uint16_t>(pdu[2 + 2 * i] << 8 | pdu[3 + 2 * i]));
  }
  return response;
}

std::vector<uint8_t> EncodeWriteRequest(uint16_t address, std::span<const uint16_t> values) {
  std::vector<uint8_t> pdu;
  const auto put16 = [&pdu](uint16_t word) {
    pdu.push_back(static_cast<uint8_t>(word >> 8));
    pdu.push_back(static_cast<uint8_t>(word & 0xFF));
  };
  if (values.size() == 1) {
    pdu.push_back(kWriteSingleRegister);
    put16(address);
    put16(values[0]);
    return pdu;
  }
  pdu.push_back(kWriteMultipleRegisters);
  put16(address);
  put16(static_cast<uint16_t>(values.size()));
  pdu.push_back(static_cast<uint8_t>(2 * values.size()));
  for (uint16_t value : values) put16(value);
  return pdu;
}

Result<std::optional<ExceptionReply>> ParseWriteResponse(std::span<const uint8_t> pdu,
                                                         std::span<const uint8_t> request_pdu) {
  if (pdu.size() == 2 && !request_pdu.empty() && pdu[0] == (request_pdu[0] | 0x80)) {
    return std::optional<ExceptionReply>(ExceptionReply{pdu[1]});
  }
  if (request_pdu.size() < 5 || pdu.size() != 5 || !std::equal(pdu.begin(), pdu.end(), request_pdu.begin())) {
    return Error(InvalidArgument("the reply does not echo the write request"));
  }
  return std::optional<ExceptionReply>();
}

}  // namespace labtrace::modbus
