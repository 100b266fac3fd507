// Fuzzes the Modbus read-response parser (drivers/modbus/pdu), the client path that
// CVE-2023-26793 was found in for libmodbus (in its bit reading), and the write requests.
// The oracle is the byte layout of the Modbus Application Protocol (§6.1–6.4, §6.6,
// §6.12, §7), written out here apart from the codec:
//   - a response the parser accepts is the one the layout makes of its words (bits packed
//     eight to a byte, lowest first; registers big-endian), and its byte count matches
//     the count requested; an exception reply is two bytes and never carries words;
//   - a response made by the layout from any words is accepted and gives them back;
//   - a write request has the layout's bytes, its echo is accepted, and nothing but the
//     echo or an exception to it is.
// Input: byte 0 selects the function (01..04), byte 1 the count; the rest is the PDU.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "modbus/pdu.h"

namespace {

namespace modbus = labtrace::modbus;

std::vector<uint8_t> ResponseLayout(uint8_t function, std::span<const uint16_t> words) {
  std::vector<uint8_t> pdu{function, 0};
  if (modbus::IsBitFunction(function)) {
    pdu.resize(2 + (words.size() + 7) / 8);
    for (size_t i = 0; i < words.size(); ++i) pdu[2 + i / 8] |= static_cast<uint8_t>((words[i] & 1) << (i % 8));
  } else {
    for (const uint16_t word : words) {
      pdu.push_back(static_cast<uint8_t>(word >> 8));
      pdu.push_back(static_cast<uint8_t>(word));
    }
  }
  pdu[1] = static_cast<uint8_t>(pdu.size() - 2);
  return pdu;
}

void CheckParsedResponse(std::span<const uint8_t> pdu, uint8_t function, uint16_t count) {
  auto response = modbus::ParseReadResponse(pdu, function, count);
  if (!response) return;
  if (response->exception) {
    if (pdu.size() != 2 || pdu[0] != (function | 0x80) || response->exception->code != pdu[1] ||
        !response->words.empty()) {
      __builtin_trap();
    }
    return;
  }
  if (response->words.size() != count) __builtin_trap();
  const bool bits = modbus::IsBitFunction(function);
  if (bits && std::any_of(response->words.begin(), response->words.end(), [](uint16_t w) { return w > 1; })) {
    __builtin_trap();
  }
  std::vector<uint8_t> expected = ResponseLayout(function, response->words);
  // The bits after the last one asked for are padding (§6.1: "zero filled"); a device
  // that sets them is forgiven, so they are not compared.
  std::vector<uint8_t> received(pdu.begin(), pdu.end());
  if (bits && count % 8 != 0 && received.size() == expected.size()) {
    received.back() &= static_cast<uint8_t>((1u << (count % 8)) - 1);
  }
  if (received != expected) __builtin_trap();
}

void CheckLayoutParses(uint8_t function, std::span<const uint16_t> words) {
  std::vector<uint16_t> sent(words.begin(), words.end());
  if (modbus::IsBitFunction(function)) {
    for (auto& word : sent) word &= 1;
  }
  auto response = modbus::ParseReadResponse(ResponseLayout(function, sent), function, static_cast<uint16_t>(sent.size()));
  if (!response || response->exception || response->words != sent) __builtin_trap();
}

void CheckWrite(uint16_t address, std::span<const uint16_t> values, std::span<const uint8_t> reply) {
  const std::vector<uint8_t> request = modbus::EncodeWriteRequest(address, values);
  std::vector<uint8_t> expected{values.size() == 1 ? modbus::kWriteSingleRegister : modbus::kWriteMultipleRegisters,
                                static_cast<uint8_t>(address >> 8), static_cast<uint8_t>(address)};
  if (values.size() > 1) {
    expected.insert(expected.end(), {static_cast<uint8_t>(values.size() >> 8), static_cast<uint8_t>(values.size()),
                                     static_cast<uint8_t>(2 * values.size())});
  }
  for (const uint16_t value : values) expected.insert(expected.end(), {static_cast<uint8_t>(value >> 8), static_cast<uint8_t>(value)});
  if (request != expected) __builtin_trap();

  auto echo = modbus::ParseWriteResponse(std::span(request).first(5), request);
  if (!echo || echo->has_value()) __builtin_trap();
  auto answer = modbus::ParseWriteResponse(reply, request);
  if (!answer) return;
  const bool is_echo = reply.size() == 5 && std::equal(reply.begin(), reply.end(), request.begin());
  const bool is_exception = reply.size() == 2 && reply[0] == (request[0] | 0x80);
  if (answer->has_value() ? !is_exception || (*answer)->code != reply[1] : !is_echo) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const uint8_t function = static_cast<uint8_t>(1 + (data[0] & 3));
  const uint16_t count = static_cast<uint16_t>(
      1 + (modbus::IsBitFunction(function) ? (data[1] * 8u) % modbus::kMaxBitsPerRead
                                           : data[1] % modbus::kMaxRegistersPerRead));
  const std::span<const uint8_t> pdu(data + 2, size - 2);
  CheckParsedResponse(pdu, function, count);

  // The same bytes read as words (repeated to fill the count) for the encoding direction.
  if (pdu.empty()) return 0;
  std::vector<uint16_t> words(count);
  for (size_t i = 0; i < count; ++i) {
    words[i] = static_cast<uint16_t>(pdu[(2 * i) % pdu.size()] << 8 | pdu[(2 * i + 1) % pdu.size()]);
  }
  CheckLayoutParses(function, words);
  const size_t written = 1 + data[1] % modbus::kMaxRegistersPerWrite;
  CheckWrite(static_cast<uint16_t>(data[0] << 8 | data[1]), std::span(words).first(std::min(written, words.size())), pdu);
  return 0;
}
