// libmodbus 3.1.6 waits in select(), which overflows for descriptors ≥ 1024. With more
// than 1024 descriptors open (a busy daemon), Modbus links must still work, their
// descriptors below 1024.
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <unistd.h>

#include <regex>
#include <vector>

#include <gtest/gtest.h>

#include "modbus/device.h"
#include "modbus/link.h"
#include "support/child_process.h"

namespace labtrace {
namespace {

using namespace std::chrono_literals;
using testing::ChildProcess;

// Opens /dev/null until descriptors beyond FD_SETSIZE are in use; closes them on exit.
class ManyOpenFiles {
 public:
  ManyOpenFiles() {
    rlimit limit{};
    getrlimit(RLIMIT_NOFILE, &limit);
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
    for (int i = 0; i < FD_SETSIZE + 100; ++i) {
      const int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
      if (fd < 0) break;
      fds_.push_back(fd);
    }
  }
  ~ManyOpenFiles() {
    for (int fd : fds_) close(fd);
  }
  bool beyond_fd_setsize() const { return !fds_.empty() && fds_.back() >= FD_SETSIZE; }

 private:
  std::vector<int> fds_;
};

config::RegisterMap CounterMap(config::RegisterTable table, uint32_t address) {
  config::RegisterMap map;
  map.set_name("one");
  auto* reg = map.add_registers();
  reg->set_name("value");
  reg->set_table(table);
  reg->set_address(address);
  reg->set_type(config::UINT16);
  reg->set_unit("1");
  return map;
}

TEST(ModbusDescriptors, LinksWorkBelowFdSetSizeWithMoreThan1024FilesOpen) {
  ChildProcess tcp_sim({LABTRACE_SIM_PATH, "modbus-tcp", "--port", "0"});
  auto listening = tcp_sim.WaitForLine(std::regex(R"(listening on 127\.0\.0\.1:(\d+))"), 15s);
  ASSERT_TRUE(listening) << tcp_sim.output();
  const std::string rtu_path = ::testing::TempDir() + "labtrace-descriptor-rtu";
  ChildProcess rtu_sim({LABTRACE_SIM_PATH, "modbus-rtu", "--link", rtu_path, "--baud", "115200", "--units", "7"});
  ASSERT_TRUE(rtu_sim.WaitForLine(std::regex("linked at"), 15s)) << rtu_sim.output();

  // Created while descriptors are few, as the daemon creates its buses at start.
  modbus::ModbusTcpLink tcp("127.0.0.1", static_cast<uint16_t>(std::stoi((*listening)[1])));
  modbus::ModbusRtuLink rtu({rtu_path, 115200, 'E', 1});
  ManyOpenFiles crowd;
  ASSERT_TRUE(crowd.beyond_fd_setsize()) << "could not open more than " << FD_SETSIZE << " files here";

  const auto setpoint_map = CounterMap(config::HOLDING, 0);
  auto setpoint = modbus::ModbusDevice::Create("climate", 1, setpoint_map, 0, 1000ms);
  ASSERT_TRUE(tcp.Connect().ok());
  const auto tcp_readings = setpoint->Poll(tcp);
  ASSERT_EQ(tcp_readings.size(), 1u);
  EXPECT_EQ(tcp_readings[0].quality(), GOOD) << tcp_readings[0].detail();
  EXPECT_EQ(tcp_readings[0].value(), 250);

  const auto counter_map = CounterMap(config::HOLDING, 100);
  auto counter = modbus::ModbusDevice::Create("transmitter", 7, counter_map, 0, 1000ms);
  ASSERT_TRUE(rtu.Connect().ok());
  const auto rtu_readings = counter->Poll(rtu);
  ASSERT_EQ(rtu_readings.size(), 1u);
  EXPECT_EQ(rtu_readings[0].quality(), GOOD) << rtu_readings[0].detail();
  EXPECT_EQ(rtu_readings[0].value(), 7100);

  // Reconnecting reuses the same low slot.
  tcp.Close();
  ASSERT_TRUE(tcp.Connect().ok());
  EXPECT_EQ(setpoint->Poll(tcp)[0].quality(), GOOD);
}

}  // namespace
}  // namespace labtrace
