// Interoperability with independent Modbus implementations (protocols.md): mbpoll, a
// Modbus master from Debian, reads our simulator. It decodes the floats with its own
// code, so a word-order mistake in the simulator shows as nonsense values here.
#include <regex>

#include <gtest/gtest.h>

#include "modbus/device.h"
#include "modbus/link.h"
#include "support/child_process.h"

namespace labtrace {
namespace {

using namespace std::chrono_literals;
using testing::ChildProcess;

std::vector<double> MbpollValues(const std::string& output) {
  std::vector<double> values;
  const std::regex line(R"(\[\d+\]:\s+(-?[0-9.eE+-]+))");
  for (auto it = std::sregex_iterator(output.begin(), output.end(), line); it != std::sregex_iterator(); ++it) {
    values.push_back(std::stod((*it)[1]));
  }
  return values;
}

TEST(ModbusInterop, MbpollReadsTheSimulatorsFloatsAndScaledInteger) {
  ChildProcess simulator({LABTRACE_SIM_PATH, "modbus-tcp", "--port", "0"});
  auto listening = simulator.WaitForLine(std::regex(R"(listening on 127\.0\.0\.1:(\d+))"), 15s);
  ASSERT_TRUE(listening) << simulator.output();
  const std::string port = (*listening)[1];

  // Input registers 0..3: two float32 in CDAB order, which mbpoll calls little-endian
  // word order (its default; -B would be ABCD). -0: addresses from 0; -1: poll once.
  ChildProcess floats({"/usr/bin/mbpoll", "-m", "tcp", "-a", "1", "-0", "-r", "0", "-c", "2", "-t", "3:float", "-1",
                       "-p", port, "127.0.0.1"});
  ASSERT_EQ(floats.WaitForExit(15s), 0) << floats.output();
  const auto values = MbpollValues(floats.output());
  ASSERT_EQ(values.size(), 2u) << floats.output();
  EXPECT_GT(values[0], 15.0) << "temperature, °C";
  EXPECT_LT(values[0], 35.0) << "temperature, °C";
  EXPECT_GT(values[1], 10.0) << "relative humidity, %RH";
  EXPECT_LT(values[1], 95.0) << "relative humidity, %RH";

  // Holding register 0: the set point, 250 counts of 0.1 °C.
  ChildProcess setpoint({"/usr/bin/mbpoll", "-m", "tcp", "-a", "1", "-0", "-r", "0", "-c", "1", "-t", "4", "-1",
                         "-p", port, "127.0.0.1"});
  ASSERT_EQ(setpoint.WaitForExit(15s), 0) << setpoint.output();
  EXPECT_EQ(MbpollValues(setpoint.output()), std::vector<double>{250}) << setpoint.output();

  // Read as big-endian word order, the same registers must not look like a climate.
  ChildProcess swapped({"/usr/bin/mbpoll", "-m", "tcp", "-a", "1", "-0", "-r", "0", "-c", "1", "-t", "3:float", "-B",
                        "-1", "-p", port, "127.0.0.1"});
  ASSERT_EQ(swapped.WaitForExit(15s), 0) << swapped.output();
  const auto wrong = MbpollValues(swapped.output());
  ASSERT_EQ(wrong.size(), 1u);
  EXPECT_FALSE(wrong[0] > 15.0 && wrong[0] < 35.0) << "word order must matter: " << swapped.output();
}

// The RTU simulator, read by mbpoll over its pseudo-terminal: mbpoll frames, checks the
// CRC and times the line with its own code. Unit 2 of three; unit 4 is not on the line.
TEST(ModbusInterop, MbpollReadsTheRtuSimulatorOverItsPseudoTerminal) {
  const std::string link = ::testing::TempDir() + "labtrace-interop-rtu";
  ChildProcess simulator({LABTRACE_SIM_PATH, "modbus-rtu", "--link", link, "--baud", "19200", "--units", "1-3"});
  ASSERT_TRUE(simulator.WaitForLine(std::regex("linked at"), 15s)) << simulator.output();
  ChildProcess counters({"/usr/bin/mbpoll", "-m", "rtu", "-b", "19200", "-P", "even", "-a", "2", "-0", "-r", "100",
                         "-c", "3", "-t", "4", "-1", link});
  ASSERT_EQ(counters.WaitForExit(15s), 0) << counters.output();
  EXPECT_EQ(MbpollValues(counters.output()), (std::vector<double>{2100, 2101, 2102})) << counters.output();
  ChildProcess temperature({"/usr/bin/mbpoll", "-m", "rtu", "-b", "19200", "-P", "even", "-a", "3", "-0", "-r", "0",
                            "-c", "1", "-t", "3:float", "-1", link});
  ASSERT_EQ(temperature.WaitForExit(15s), 0) << temperature.output();
  const auto value = MbpollValues(temperature.output());
  ASSERT_EQ(value.size(), 1u) << temperature.output();
  EXPECT_NEAR(value[0], 23.3, 1e-4);  // CDAB, which mbpoll reads by default
  ChildProcess absent({"/usr/bin/mbpoll", "-m", "rtu", "-b", "19200", "-P", "even", "-a", "4", "-0", "-r", "0", "-c",
                       "1", "-t", "4", "-1", "-o", "0.2", link});
  absent.WaitForExit(15s);
  EXPECT_TRUE(MbpollValues(absent.output()).empty()) << "unit 4 is not on the line: " << absent.output();
}

// Our client (libmodbus transport, our own codec) reads every type in every word order
// from pymodbus, which encoded them with its own BinaryPayloadBuilder
// (tests/interop/pymodbus_server.py; Debian's python3-pymodbus, zero_mode).
TEST(ModbusInterop, ClientReadsEveryTypeAndWordOrderFromPymodbus) {  // strings included
  ChildProcess server({"/usr/bin/python3", LABTRACE_INTEROP_DIR "/pymodbus_server.py"});
  auto listening = server.WaitForLine(std::regex(R"(pymodbus listening on 127\.0\.0\.1:(\d+))"), 30s);
  ASSERT_TRUE(listening) << server.output();

  struct Type {
    config::ValueType type;
    int registers;
    double value;
  };
  // The same values and order as the server's TYPES.
  const Type types[] = {
      {config::INT16, 1, -1234},
      {config::UINT16, 1, 54321},
      {config::INT32, 2, -123456789},
      {config::UINT32, 2, 3123456789.0},
      {config::INT64, 4, -1234567890123.0},
      {config::UINT64, 4, 9876543210987.0},
      {config::FLOAT32, 2, static_cast<double>(123.456f)},
      {config::FLOAT64, 4, -9876.54321},
  };
  const config::WordOrder orders[] = {config::ABCD, config::CDAB, config::BADC, config::DCBA};
  config::RegisterMap map;
  map.set_name("pymodbus-all-types");
  std::map<std::string, double> expected;
  uint32_t address = 0;
  for (const Type& type : types) {
    for (config::WordOrder order : orders) {
      config::Register* reg = map.add_registers();
      reg->set_name(config::ValueType_Name(type.type) + "_" + config::WordOrder_Name(order));
      reg->set_table(config::HOLDING);
      reg->set_address(address);
      reg->set_type(type.type);
      reg->set_word_order(order);
      reg->set_unit("1");
      expected[reg->name()] = type.value;
      address += static_cast<uint32_t>(type.registers);
    }
  }
  // Then the server's TEXT, in both byte orders of a string.
  for (config::WordOrder order : {config::ABCD, config::BADC}) {
    config::Register* reg = map.add_registers();
    reg->set_name("STRING_" + config::WordOrder_Name(order));
    reg->set_table(config::HOLDING);
    reg->set_address(address);
    reg->set_type(config::STRING);
    reg->set_length(7);
    reg->set_word_order(order);
    address += 7;
  }
  auto device = modbus::ModbusDevice::Create("pymodbus", 1, map, 0, 2000ms);
  ASSERT_TRUE(device.has_value()) << device.error().message();
  modbus::ModbusTcpLink link("127.0.0.1", static_cast<uint16_t>(std::stoi((*listening)[1])));
  ASSERT_TRUE(link.Connect().ok());
  const auto readings = device->Poll(link);
  ASSERT_EQ(readings.size(), expected.size() + 2);
  for (const Reading& reading : readings) {
    EXPECT_EQ(reading.quality(), GOOD) << reading.channel() << ": " << reading.detail();
    if (reading.channel().rfind("STRING_", 0) == 0) {
      EXPECT_EQ(reading.text(), "LT-2026 SN0042") << reading.channel();
    } else {
      EXPECT_EQ(reading.value(), expected[reading.channel()]) << reading.channel();
    }
  }
}

}  // namespace
}  // namespace labtrace
