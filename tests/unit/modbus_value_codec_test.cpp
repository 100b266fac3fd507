// Vectors from ../shared/protocols.md ("Data types and word order") and from the
// definition there: an order names the bytes as they appear on the wire, A the most
// significant. The words below are written out by hand, never produced by the codec.
#include <cmath>
#include <cstdint>
#include <vector>

#include <gtest/gtest.h>

#include "modbus/value_codec.h"

namespace labtrace::modbus {
namespace {

using config::ValueType;
using config::WordOrder;

double Decode(std::vector<uint16_t> words, ValueType type, WordOrder order) {
  auto value = DecodeValue(words, type, order);
  EXPECT_TRUE(value.has_value()) << (value ? "" : value.error().message());
  return value.value_or(std::nan(""));
}

TEST(ModbusValueCodec, PublishedFloatVectors) {
  EXPECT_EQ(Decode({0x3FC0, 0x0000}, config::FLOAT32, config::ABCD), 1.5);
  EXPECT_EQ(Decode({0x0000, 0x3FC0}, config::FLOAT32, config::CDAB), 1.5);
  EXPECT_EQ(Decode({0x47F1, 0x2000}, config::FLOAT32, config::ABCD), 123456.0);
}

TEST(ModbusValueCodec, Float32InEveryOrder) {
  // 123456.0f = 0x47F12000: A=47 B=F1 C=20 D=00.
  EXPECT_EQ(Decode({0x47F1, 0x2000}, config::FLOAT32, config::ABCD), 123456.0);
  EXPECT_EQ(Decode({0x2000, 0x47F1}, config::FLOAT32, config::CDAB), 123456.0);
  EXPECT_EQ(Decode({0xF147, 0x0020}, config::FLOAT32, config::BADC), 123456.0);
  EXPECT_EQ(Decode({0x0020, 0xF147}, config::FLOAT32, config::DCBA), 123456.0);
}

TEST(ModbusValueCodec, Int32AndUint32InEveryOrder) {
  // 0x12345678 = 305419896; 0xFFFFFFFE = -2 as int32, 4294967294 as uint32.
  EXPECT_EQ(Decode({0x1234, 0x5678}, config::INT32, config::ABCD), 305419896);
  EXPECT_EQ(Decode({0x5678, 0x1234}, config::INT32, config::CDAB), 305419896);
  EXPECT_EQ(Decode({0x3412, 0x7856}, config::INT32, config::BADC), 305419896);
  EXPECT_EQ(Decode({0x7856, 0x3412}, config::INT32, config::DCBA), 305419896);
  EXPECT_EQ(Decode({0xFFFF, 0xFFFE}, config::INT32, config::ABCD), -2);
  EXPECT_EQ(Decode({0xFFFE, 0xFFFF}, config::INT32, config::CDAB), -2);
  EXPECT_EQ(Decode({0xFFFF, 0xFFFE}, config::UINT32, config::ABCD), 4294967294.0);
}

TEST(ModbusValueCodec, SixteenBitValues) {
  EXPECT_EQ(Decode({0xFFFF}, config::INT16, config::ABCD), -1);
  EXPECT_EQ(Decode({0xFFFF}, config::UINT16, config::ABCD), 65535);
  EXPECT_EQ(Decode({0x00FA}, config::INT16, config::WORD_ORDER_UNSPECIFIED), 250);
  // A byte-swapping device (BADC/DCBA) sends 250 = 0x00FA as FA 00.
  EXPECT_EQ(Decode({0xFA00}, config::INT16, config::BADC), 250);
}

TEST(ModbusValueCodec, SixtyFourBitValues) {
  // 1.5 as IEEE-754 double is 0x3FF8000000000000.
  EXPECT_EQ(Decode({0x3FF8, 0, 0, 0}, config::FLOAT64, config::ABCD), 1.5);
  EXPECT_EQ(Decode({0, 0, 0, 0x3FF8}, config::FLOAT64, config::CDAB), 1.5);
  EXPECT_EQ(Decode({0xF83F, 0, 0, 0}, config::FLOAT64, config::BADC), 1.5);
  EXPECT_EQ(Decode({0, 0, 0, 0xF83F}, config::FLOAT64, config::DCBA), 1.5);
  // 0x0102030405060708 = 72623859790382856.
  EXPECT_EQ(Decode({0x0102, 0x0304, 0x0506, 0x0708}, config::INT64, config::ABCD), 72623859790382856.0);
  EXPECT_EQ(Decode({0x0708, 0x0506, 0x0304, 0x0102}, config::INT64, config::CDAB), 72623859790382856.0);
  EXPECT_EQ(Decode({0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF}, config::INT64, config::ABCD), -1);
  EXPECT_EQ(Decode({0, 0, 0, 7}, config::UINT64, config::ABCD), 7);
}

TEST(ModbusValueCodec, WrongRegisterCountIsAnError) {
  const std::vector<uint16_t> one{0x3FC0};
  auto value = DecodeValue(one, config::FLOAT32, config::ABCD);
  ASSERT_FALSE(value.has_value());
  EXPECT_NE(value.error().message().find("needs 2 registers"), std::string::npos);
  EXPECT_FALSE(DecodeValue(one, config::VALUE_TYPE_UNSPECIFIED, config::ABCD).has_value());
}

TEST(ModbusValueCodec, StringsInBothByteOrders) {
  // "LT-2026" in four registers, padded with a NUL: 'L' = 0x4C, 'T' = 0x54, …
  const std::vector<uint16_t> abcd{0x4C54, 0x2D32, 0x3032, 0x3600};
  EXPECT_EQ(*DecodeText(abcd, config::ABCD), "LT-2026");
  EXPECT_EQ(*DecodeText(abcd, config::WORD_ORDER_UNSPECIFIED), "LT-2026");
  const std::vector<uint16_t> badc{0x544C, 0x322D, 0x3230, 0x0036};
  EXPECT_EQ(*DecodeText(badc, config::BADC), "LT-2026");
  // Space padding is dropped; everything after the first NUL is not part of the text.
  EXPECT_EQ(*DecodeText(std::vector<uint16_t>{0x4142, 0x2020}, config::ABCD), "AB");
  EXPECT_EQ(*DecodeText(std::vector<uint16_t>{0x4100, 0x4243}, config::ABCD), "A");
  EXPECT_EQ(*DecodeText(std::vector<uint16_t>{0x0000}, config::ABCD), "");
  // Not text: a control or 8-bit byte.
  EXPECT_FALSE(DecodeText(std::vector<uint16_t>{0x4101}, config::ABCD).has_value());
  EXPECT_FALSE(DecodeText(std::vector<uint16_t>{0xC341}, config::ABCD).has_value());
}

// Writes: the words of a value, by hand from IEEE 754 and two's complement (1.5 is
// 0x3FC00000; 305419896 is 0x12345678; -2 is 0xFFFFFFFE), in each word order.
TEST(ModbusValueCodec, EncodesValuesForAWriteInEveryWordOrder) {
  using Words = std::vector<uint16_t>;
  EXPECT_EQ(*EncodeValue(250, config::INT16, config::WORD_ORDER_UNSPECIFIED), Words{250});
  EXPECT_EQ(*EncodeValue(-1, config::INT16, config::ABCD), Words{0xFFFF});
  EXPECT_EQ(*EncodeValue(65535, config::UINT16, config::ABCD), Words{0xFFFF});
  EXPECT_EQ(*EncodeValue(1.5, config::FLOAT32, config::ABCD), (Words{0x3FC0, 0x0000}));
  EXPECT_EQ(*EncodeValue(1.5, config::FLOAT32, config::CDAB), (Words{0x0000, 0x3FC0}));
  EXPECT_EQ(*EncodeValue(305419896, config::INT32, config::ABCD), (Words{0x1234, 0x5678}));
  EXPECT_EQ(*EncodeValue(305419896, config::INT32, config::CDAB), (Words{0x5678, 0x1234}));
  EXPECT_EQ(*EncodeValue(305419896, config::UINT32, config::BADC), (Words{0x3412, 0x7856}));
  EXPECT_EQ(*EncodeValue(305419896, config::UINT32, config::DCBA), (Words{0x7856, 0x3412}));
  EXPECT_EQ(*EncodeValue(-2, config::INT32, config::CDAB), (Words{0xFFFE, 0xFFFF}));
  EXPECT_EQ(*EncodeValue(1.5, config::FLOAT64, config::ABCD), (Words{0x3FF8, 0, 0, 0}));
  // And back: every order, through the decoder.
  for (auto order : {config::ABCD, config::BADC, config::CDAB, config::DCBA}) {
    EXPECT_EQ(*DecodeValue(*EncodeValue(-123456, config::INT32, order), config::INT32, order), -123456);
    EXPECT_EQ(*DecodeValue(*EncodeValue(23.5, config::FLOAT32, order), config::FLOAT32, order), 23.5);
  }
}

TEST(ModbusValueCodec, RefusesAValueTheRegisterCannotHold) {
  EXPECT_FALSE(EncodeValue(65536, config::UINT16, config::ABCD).has_value());
  EXPECT_FALSE(EncodeValue(-1, config::UINT32, config::ABCD).has_value());
  EXPECT_FALSE(EncodeValue(32768, config::INT16, config::ABCD).has_value());
  EXPECT_TRUE(EncodeValue(-32768, config::INT16, config::ABCD).has_value());
  const auto fraction = EncodeValue(250.5, config::INT16, config::ABCD);
  ASSERT_FALSE(fraction.has_value());
  EXPECT_NE(fraction.error().message().find("not a whole number"), std::string::npos);
  EXPECT_FALSE(EncodeValue(std::nan(""), config::FLOAT32, config::ABCD).has_value());
  EXPECT_FALSE(EncodeValue(1e39, config::FLOAT32, config::ABCD).has_value());
  EXPECT_FALSE(EncodeValue(1, config::BIT, config::ABCD).has_value());
  EXPECT_FALSE(EncodeValue(1, config::STRING, config::ABCD).has_value());
}

}  // namespace
}  // namespace labtrace::modbus
