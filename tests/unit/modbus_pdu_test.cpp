// Frames from the Modbus Application Protocol v1.1b3, §6.3 and §6.4 examples.
#include <vector>

#include <gtest/gtest.h>

#include "modbus/link.h"
#include "modbus/pdu.h"

namespace labtrace::modbus {
namespace {

TEST(ModbusPdu, EncodesTheSpecExampleRequest) {
  // §6.3: read holding registers 108..110 → 03 00 6B 00 03.
  EXPECT_EQ(EncodeReadRequest(0x03, 0x006B, 3), (std::vector<uint8_t>{0x03, 0x00, 0x6B, 0x00, 0x03}));
}

TEST(ModbusPdu, ParsesTheSpecExampleResponse) {
  // §6.3: 03 06 02 2B 00 00 00 64 → 555, 0, 100.
  const std::vector<uint8_t> pdu{0x03, 0x06, 0x02, 0x2B, 0x00, 0x00, 0x00, 0x64};
  auto response = ParseReadResponse(pdu, 0x03, 3);
  ASSERT_TRUE(response.has_value()) << response.error().message();
  EXPECT_FALSE(response->exception.has_value());
  EXPECT_EQ(response->words, (std::vector<uint16_t>{555, 0, 100}));
}

TEST(ModbusPdu, ExceptionReplyCarriesItsCode) {
  const std::vector<uint8_t> pdu{0x84, 0x02};
  auto response = ParseReadResponse(pdu, 0x04, 1);
  ASSERT_TRUE(response.has_value());
  ASSERT_TRUE(response->exception.has_value());
  EXPECT_EQ(response->exception->code, 2);
  EXPECT_NE(ExceptionName(6).find("busy"), std::string::npos);
}

TEST(ModbusPdu, RejectsMalformedReplies) {
  const std::vector<std::vector<uint8_t>> bad{
      {},                              // nothing
      {0x04, 0x02, 0x00, 0x01},        // answers function 04, asked 03
      {0x03, 0x04, 0x00, 0x01},        // byte count 4 for one register
      {0x03, 0x02, 0x00},              // shorter than its byte count
      {0x03, 0x02, 0x00, 0x01, 0xFF},  // longer than its byte count
      {0x83},                          // exception without its code
      {0x03},                          // no byte count
  };
  for (const auto& pdu : bad) {
    EXPECT_FALSE(ParseReadResponse(pdu, 0x03, 1).has_value()) << "accepted a frame of " << pdu.size() << " bytes";
  }
}

}  // namespace
}  // namespace labtrace::modbus

namespace labtrace::modbus {
namespace {

// Modbus Application Protocol v1.1b3 §6.1: read coils 20–38 (19 coils); the response
// bytes CD 6B 05 hold coils 27…20, 35…28 and 38…36, each byte's lowest bit first.
TEST(ModbusPdu, ParsesTheSpecExampleCoilResponse) {
  const std::vector<uint8_t> pdu{0x01, 0x03, 0xCD, 0x6B, 0x05};
  auto response = ParseReadResponse(pdu, kReadCoils, 19);
  ASSERT_TRUE(response) << response.error().message();
  const std::vector<uint16_t> expected{1, 0, 1, 1, 0, 0, 1, 1,   // 0xCD: coils 20..27
                                       1, 1, 0, 1, 0, 1, 1, 0,   // 0x6B: coils 28..35
                                       1, 0, 1};                 // 0x05: coils 36..38
  EXPECT_EQ(response->words, expected);
}

// §6.2: read discrete inputs 197–218 (22 inputs); response AC DB 35.
TEST(ModbusPdu, ParsesTheSpecExampleDiscreteInputResponse) {
  const std::vector<uint8_t> pdu{0x02, 0x03, 0xAC, 0xDB, 0x35};
  auto response = ParseReadResponse(pdu, kReadDiscreteInputs, 22);
  ASSERT_TRUE(response) << response.error().message();
  ASSERT_EQ(response->words.size(), 22u);
  EXPECT_EQ(response->words[0], 0);   // input 197: bit 0 of 0xAC
  EXPECT_EQ(response->words[2], 1);   // input 199
  EXPECT_EQ(response->words[7], 1);   // input 204: bit 7 of 0xAC
  EXPECT_EQ(response->words[8], 1);   // input 205: bit 0 of 0xDB
  EXPECT_EQ(response->words[21], 1);  // input 218: bit 5 of 0x35 (0011 0101), "third from the left"
  EXPECT_EQ(response->words[20], 1);  // input 217: bit 4 of 0x35
  // A byte count that does not fit the number of bits asked is a bad frame.
  EXPECT_FALSE(ParseReadResponse(std::vector<uint8_t>{0x02, 0x02, 0xAC, 0xDB}, kReadDiscreteInputs, 22));
}

TEST(ModbusPdu, WriteRequestsAndTheirEchoesFromTheSpec) {
  // §6.6: write register 2 (address 0x0001) to 0x0003 → 06 00 01 00 03, echoed whole.
  const std::vector<uint16_t> one{0x0003};
  const auto single = EncodeWriteRequest(0x0001, one);
  EXPECT_EQ(single, (std::vector<uint8_t>{0x06, 0x00, 0x01, 0x00, 0x03}));
  auto echoed = ParseWriteResponse(single, single);
  ASSERT_TRUE(echoed.has_value());
  EXPECT_FALSE(echoed->has_value()) << "no exception";
  // §6.12: write registers 2–3 (address 0x0001) to 0x000A 0x0102 → 10 00 01 00 02 04 00 0A 01 02;
  // the response is 10 00 01 00 02.
  const std::vector<uint16_t> two{0x000A, 0x0102};
  const auto multiple = EncodeWriteRequest(0x0001, two);
  EXPECT_EQ(multiple, (std::vector<uint8_t>{0x10, 0x00, 0x01, 0x00, 0x02, 0x04, 0x00, 0x0A, 0x01, 0x02}));
  const std::vector<uint8_t> response{0x10, 0x00, 0x01, 0x00, 0x02};
  EXPECT_TRUE(ParseWriteResponse(response, multiple).has_value());
  // An exception, and replies that do not echo the request.
  const std::vector<uint8_t> refused{0x90, 0x02};
  auto exception = ParseWriteResponse(refused, multiple);
  ASSERT_TRUE(exception.has_value());
  ASSERT_TRUE(exception->has_value());
  EXPECT_EQ((*exception)->code, 2);
  const std::vector<uint8_t> wrong_value{0x06, 0x00, 0x01, 0x00, 0x04};
  EXPECT_FALSE(ParseWriteResponse(wrong_value, single).has_value());
  const std::vector<uint8_t> short_reply{0x10, 0x00, 0x01};
  EXPECT_FALSE(ParseWriteResponse(short_reply, multiple).has_value());
}

TEST(ModbusLinks, TcpHasNoBroadcast) {
  ModbusTcpLink link("127.0.0.1", 1);
  const std::vector<uint8_t> request{0x06, 0x00, 0x01, 0x00, 0x03};
  const Status sent = link.Broadcast(request, std::chrono::milliseconds(100));
  EXPECT_EQ(sent.code(), StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace labtrace::modbus
