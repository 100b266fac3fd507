// One Modbus TCP bus and the devices on it, polled by the worker thread that owns the
// libmodbus connection.
//
// libmodbus blocks and is not thread-safe, so the bus has exactly one thread, which
// never shares its link. Devices are polled one transaction at a time, earliest due
// first; a dead connection is retried with exponential back-off while each device still
// records, at its period, that its reading was due and why it has no value.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "labtrace/reading.pb.h"
#include "modbus/device.h"
#include "modbus/link.h"

namespace labtrace::acquisition {

using ReadingSink = std::function<void(std::vector<Reading>)>;

inline constexpr auto kMaxReconnectBackoff = std::chrono::seconds(5);

class ModbusBus {
 public:
  struct Member {
    modbus::ModbusDevice device;
    std::chrono::milliseconds period;
  };

  ModbusBus(std::string name, std::string host, uint16_t port, std::chrono::milliseconds timeout,
            std::vector<Member> members, ReadingSink sink);
  ~ModbusBus();  // stops and joins

  void Start();
  void Stop();

 private:
  using Clock = std::chrono::steady_clock;
  struct Scheduled {
    Member member;
    Clock::time_point next_due;
  };
  void Run();
  bool WaitUntil(Clock::time_point when);  // false when stopping

  std::string name_;
  modbus::ModbusTcpLink link_;
  std::vector<Scheduled> devices_;
  ReadingSink sink_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread worker_;
};

}  // namespace labtrace::acquisition
