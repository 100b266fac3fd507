// Interoperability with independent Modbus implementations (protocols.md): mbpoll, a
// Modbus master from Debian, reads our simulator. It decodes the floats with its own
// code, so a word-order mistake in the simulator shows as nonsense values here.
#include <regex>

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace labtrace
