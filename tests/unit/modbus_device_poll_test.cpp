// A poll made in readings the store gave back (ReadingBuffers) must carry nothing of
// their former use: not a value, a flag, a frame, a text, a calibration, a sequence.
#include <gtest/gtest.h>
#include <google/protobuf/text_format.h>

#include "labtrace/reading_buffers.h"
#include "modbus/device.h"

namespace labtrace::modbus {
namespace {

config::RegisterMap TwoRegisters() {
  config::RegisterMap map;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(R"pb(
    registers { name: "setpoint" table: HOLDING address: 0 type: INT16 unit: "°C" }
    registers { name: "offset" table: HOLDING address: 1 type: INT16 unit: "K" }
  )pb", &map));
  return map;
}

// Readings as the store gives them back: committed, each field filled.
std::vector<Reading> UsedReadings(size_t count) {
  std::vector<Reading> used(count);
  for (Reading& r : used) {
    r.set_sequence(99);
    r.set_instrument("an-earlier-instrument-with-a-long-name");
    r.set_channel("an-earlier-channel");
    r.set_value(123.5);
    r.set_unit("kg");
    r.set_quality(OVERLOAD);
    r.set_requested_at_ns(1);
    r.set_raw_frame(std::string(40, 'x'));
    r.set_detail("an earlier detail");
    r.set_decimals(4);
    r.set_supersedes_sequence(7);
    r.set_calibration_certificate("KD-2031-00001");
    r.set_calibration_due_date("2032-01-01");
    r.set_text("an earlier text");
  }
  return used;
}

TEST(ModbusDevicePoll, APollInGivenBackReadingsCarriesNothingOfTheirPast) {
  const config::RegisterMap map = TwoRegisters();
  auto device = ModbusDevice::Create("chamber-7", 1, map, 0);
  ASSERT_TRUE(device) << device.error().message();

  DevicePoll poll(*device, UsedReadings(5));  // more than this poll needs
  ASSERT_NE(poll.Next(), nullptr);
  poll.Sending(1000);
  // MBAP header, then FC 03 with 4 bytes: 42 and -2.
  Frame frame{{0x00, 0x01, 0x00, 0x00, 0x00, 0x07, 0x01, 0x03, 0x04, 0x00, 0x2A, 0xFF, 0xFE}, 7, 6};
  poll.Take(frame, true);
  ASSERT_EQ(poll.Next(), nullptr);
  const std::vector<Reading> readings = poll.TakeReadings();
  ASSERT_EQ(readings.size(), 2u) << "the extra given-back readings are cut off";
  Reading expected;
  expected.set_instrument("chamber-7");
  expected.set_channel("setpoint");
  expected.set_value(42);
  expected.set_unit("°C");
  expected.set_quality(GOOD);
  expected.set_requested_at_ns(1000);
  expected.set_raw_frame(std::string(frame.adu.begin(), frame.adu.end()));
  EXPECT_EQ(readings[0].DebugString(), expected.DebugString());
  expected.set_channel("offset");
  expected.set_value(-2);
  expected.set_unit("K");
  EXPECT_EQ(readings[1].DebugString(), expected.DebugString());
}

TEST(ModbusDevicePoll, AFlaggedPollInGivenBackReadingsHasNoFrameOrValue) {
  const config::RegisterMap map = TwoRegisters();
  auto device = ModbusDevice::Create("chamber-7", 1, map, 0);
  ASSERT_TRUE(device) << device.error().message();

  DevicePoll poll(*device, UsedReadings(1));  // fewer than this poll needs
  poll.Sending(2000);
  poll.Take(Error(DeadlineExceeded("no reply within 500 ms")), true);
  const std::vector<Reading> readings = poll.TakeReadings();
  ASSERT_EQ(readings.size(), 2u);
  for (const Reading& r : readings) {
    EXPECT_EQ(r.quality(), NO_REPLY);
    EXPECT_EQ(r.detail(), "no reply within 500 ms");
    EXPECT_EQ(r.value(), 0);
    EXPECT_TRUE(r.raw_frame().empty());
    EXPECT_TRUE(r.text().empty());
    EXPECT_TRUE(r.calibration_certificate().empty());
    EXPECT_EQ(r.sequence(), 0u);
    EXPECT_EQ(r.supersedes_sequence(), 0u);
    EXPECT_EQ(r.instrument(), "chamber-7");
  }
}

TEST(ReadingBuffers, GivesBackWhatItWasGivenUpToItsLimit) {
  ReadingBuffers buffers(1);
  EXPECT_TRUE(buffers.Take().empty()) << "nothing given back yet";
  buffers.GiveBack(UsedReadings(3));
  buffers.GiveBack(UsedReadings(4));  // over the limit: freed
  EXPECT_EQ(buffers.Take().size(), 3u);
  EXPECT_TRUE(buffers.Take().empty());
}

}  // namespace
}  // namespace labtrace::modbus
