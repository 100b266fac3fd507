#include <gtest/gtest.h>
#include <google/protobuf/text_format.h>

#include "modbus/pdu.h"
#include "modbus/register_plan.h"

namespace labtrace::modbus {
namespace {

config::RegisterMap Map(const char* text) {
  config::RegisterMap map;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &map));
  return map;
}

TEST(RegisterPlan, AdjacentRegistersShareOneRead) {
  auto map = Map(R"pb(
    registers { name: "t" table: INPUT address: 0 type: FLOAT32 unit: "°C" }
    registers { name: "h" table: INPUT address: 2 type: FLOAT32 unit: "%RH" }
    registers { name: "sp" table: HOLDING address: 0 type: INT16 unit: "°C" }
  )pb");
  auto plan = PlanReads(map, 0);
  ASSERT_TRUE(plan.has_value());
  ASSERT_EQ(plan->size(), 2u);  // one per table
  EXPECT_EQ((*plan)[0].table, config::HOLDING);
  EXPECT_EQ((*plan)[1].table, config::INPUT);
  EXPECT_EQ((*plan)[1].address, 0);
  EXPECT_EQ((*plan)[1].count, 4);
  EXPECT_EQ((*plan)[1].registers, (std::vector<int>{0, 1}));
}

TEST(RegisterPlan, GapDecidesMerging) {
  auto map = Map(R"pb(
    registers { name: "a" table: HOLDING address: 10 type: INT16 unit: "1" }
    registers { name: "b" table: HOLDING address: 14 type: INT16 unit: "1" }
  )pb");
  EXPECT_EQ(PlanReads(map, 2)->size(), 2u);  // 3 registers between them
  auto merged = PlanReads(map, 3);
  ASSERT_EQ(merged->size(), 1u);
  EXPECT_EQ((*merged)[0].address, 10);
  EXPECT_EQ((*merged)[0].count, 5);
}

TEST(RegisterPlan, NoReadExceeds125Registers) {
  auto map = Map(R"pb(
    registers { name: "first" table: HOLDING address: 0 type: INT16 unit: "1" }
    registers { name: "last_fitting" table: HOLDING address: 124 type: INT16 unit: "1" }
    registers { name: "beyond" table: HOLDING address: 125 type: INT16 unit: "1" }
  )pb");
  auto plan = PlanReads(map, 200);
  ASSERT_EQ(plan->size(), 2u);
  EXPECT_EQ((*plan)[0].count, 125);
  EXPECT_EQ((*plan)[1].address, 125);
}

TEST(RegisterPlan, OneBasedNumberingShiftsToTheWire) {
  auto map = Map(R"pb(
    numbering: ONE_BASED
    registers { name: "a" table: HOLDING address: 1 type: INT16 unit: "1" }
  )pb");
  auto plan = PlanReads(map, 0);
  ASSERT_TRUE(plan.has_value());
  EXPECT_EQ((*plan)[0].address, 0);
  map.mutable_registers(0)->set_address(0);
  EXPECT_FALSE(PlanReads(map, 0).has_value());
}

TEST(RegisterPlan, DecodesScaledValuesAcrossAMergedRead) {
  auto map = Map(R"pb(
    registers { name: "sp" table: HOLDING address: 0 type: INT16 scale: 0.1 unit: "°C" }
    registers { name: "f" table: HOLDING address: 2 type: FLOAT32 word_order: CDAB unit: "1" }
  )pb");
  auto plan = PlanReads(map, 1);
  ASSERT_EQ(plan->size(), 1u);
  const std::vector<uint16_t> words{250, 0xAAAA, 0x0000, 0x3FC0};
  auto decoded = DecodeRead(map, (*plan)[0], words);
  ASSERT_EQ(decoded.size(), 2u);
  EXPECT_DOUBLE_EQ(*decoded[0].value, 25.0);
  EXPECT_EQ(*decoded[1].value, 1.5);
  EXPECT_EQ(RegisterDecimals(map.registers(0)), 1);
  EXPECT_EQ(RegisterDecimals(map.registers(1)), -1);
}

TEST(RegisterPlan, AStringTakesItsLengthAndMergesWithItsNeighbours) {
  auto map = Map(R"pb(
    registers { name: "t" table: HOLDING address: 0 type: INT16 unit: "1" }
    registers { name: "program" table: HOLDING address: 1 type: STRING length: 3 }
    registers { name: "after" table: HOLDING address: 4 type: INT16 unit: "1" }
  )pb");
  auto plan = PlanReads(map, 0);
  ASSERT_TRUE(plan.has_value()) << plan.error().message();
  ASSERT_EQ(plan->size(), 1u);
  EXPECT_EQ((*plan)[0].count, 5);
  const std::vector<uint16_t> words{7, 0x5354, 0x4550, 0x2031, 9};  // 7, "STEP 1", 9
  auto decoded = DecodeRead(map, (*plan)[0], words);
  ASSERT_EQ(decoded.size(), 3u);
  EXPECT_EQ(*decoded[0].value, 7);
  ASSERT_TRUE(decoded[1].value.has_value());
  EXPECT_EQ(decoded[1].text, "STEP 1");
  EXPECT_EQ(*decoded[2].value, 9);
}

TEST(RegisterPlan, NonFiniteFloatIsABadFrameNotAValue) {
  // A first version passed NaN through as a GOOD reading; SQLite then stored NULL and the
  // ledger saw an altered record.
  auto map = Map(R"pb(
    registers { name: "t" table: INPUT address: 0 type: FLOAT32 unit: "°C" }
    registers { name: "h" table: INPUT address: 2 type: FLOAT32 unit: "%RH" }
  )pb");
  auto plan = PlanReads(map, 0);
  const std::vector<uint16_t> words{0x7FC0, 0x0000, 0x7F80, 0x0000};  // NaN, +infinity (ABCD)
  auto decoded = DecodeRead(map, (*plan)[0], words);
  ASSERT_EQ(decoded.size(), 2u);
  ASSERT_FALSE(decoded[0].value.has_value());
  EXPECT_NE(decoded[0].value.error().message().find("NaN"), std::string::npos);
  EXPECT_FALSE(decoded[1].value.has_value());
}

}  // namespace
}  // namespace labtrace::modbus

namespace labtrace::modbus {
namespace {

TEST(RegisterPlan, BitFieldsShareTheirRegisterAndCoilsMergeUpTo2000) {
  auto map = Map(R"pb(
    registers { name: "door_open" table: HOLDING address: 7 type: BIT bit: 0 unit: "1" }
    registers { name: "alarm" table: HOLDING address: 7 type: BIT bit: 15 unit: "1" }
    registers { name: "heater" table: COIL address: 0 type: BIT unit: "1" }
    registers { name: "fan" table: COIL address: 1999 type: BIT unit: "1" }
    registers { name: "lamp" table: COIL address: 2000 type: BIT unit: "1" }
  )pb");
  auto plan = PlanReads(map, 2000);
  ASSERT_TRUE(plan.has_value());
  ASSERT_EQ(plan->size(), 3u);
  EXPECT_EQ((*plan)[0].table, config::HOLDING);
  EXPECT_EQ((*plan)[0].count, 1);
  EXPECT_EQ((*plan)[0].registers, (std::vector<int>{0, 1}));
  EXPECT_EQ((*plan)[1].table, config::COIL);
  EXPECT_EQ((*plan)[1].count, 2000);  // coils 0..1999 in one FC01 read
  EXPECT_EQ((*plan)[2].address, 2000);
  EXPECT_EQ(ReadFunction(config::COIL), kReadCoils);
  EXPECT_EQ(ReadFunction(config::DISCRETE_INPUT), kReadDiscreteInputs);

  const std::vector<uint16_t> word{0x8000};  // only bit 15 set
  const auto bits = DecodeRead(map, (*plan)[0], word);
  ASSERT_EQ(bits.size(), 2u);
  EXPECT_EQ(*bits[0].value, 0);  // door_open, bit 0
  EXPECT_EQ(*bits[1].value, 1);  // alarm, bit 15
}

}  // namespace
}  // namespace labtrace::modbus
