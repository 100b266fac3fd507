// Frames from the Modbus Application Protocol v1.1b3, §6.3 and §6.4 examples.
#include <vector>

#include <gtest/gtest.h>

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
