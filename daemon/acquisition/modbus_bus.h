// One Modbus bus (a TCP connection or an RS-485 line) and the devices on it, polled by
// the worker thread that owns the libmodbus link.
//
// libmodbus blocks and is not thread-safe, so the bus has exactly one thread, which
// never shares its link. Devices are polled one transaction at a time, earliest due
// first, so no device starves its neighbours. A device that stops answering is backed
// off (its polls spaced out exponentially, up to kMaxDeviceBackoff), so its timeouts do
// not eat the line's time; while backed off it still records, at its period, that a
// reading was due and why there is none. A dead link is reopened with back-off likewise.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "labtrace/reading.pb.h"
#include "modbus/device.h"
#include "modbus/link.h"

namespace labtrace::acquisition {

using ReadingSink = std::function<void(std::vector<Reading>)>;

inline constexpr auto kMaxReconnectBackoff = std::chrono::seconds(5);
inline constexpr auto kMaxDeviceBackoff = std::chrono::seconds(30);

// A write of holding registers (function 06 or 16) asked for through the API.
struct RegisterWrite {
  uint8_t unit_id = 0;  // 0: broadcast to every device on a serial line
  uint16_t address = 0;  // on the wire, 0-based
  std::vector<uint16_t> values;
  std::chrono::milliseconds timeout{500};  // for a broadcast: the line's turnaround delay
};
// Told on the bus's worker thread how a write ended: "written", "sent to every unit
// (broadcast; no reply)", or why not.
using WriteDone = std::function<void(Result<std::string>)>;

class ModbusBus {
 public:
  struct Member {
    modbus::ModbusDevice device;
    std::chrono::milliseconds period;
  };

  ModbusBus(std::string name, std::unique_ptr<modbus::ModbusLink> link, std::vector<Member> members,
            ReadingSink sink);
  ~ModbusBus();  // stops and joins

  void Start();
  void Stop();
  // Thread-safe: queues a write, carried out by the worker before its next poll.
  void Write(RegisterWrite write, WriteDone done);
  const std::string& name() const { return name_; }

 private:
  using Clock = std::chrono::steady_clock;
  struct Scheduled {
    Member member;
    Clock::time_point next_due;
    int silent_polls = 0;             // consecutive polls with no reply at all
    Clock::time_point retry_at{};     // while backed off: when it is asked again
  };
  void Run();
  bool WaitUntil(Clock::time_point when);  // false when stopping
  // Polls one device (or records why it is not polled) and returns its readings.
  std::vector<Reading> Serve(Scheduled& device, Clock::time_point now);
  // Opens the link when it is closed and its back-off has passed; false while it is down.
  bool EnsureConnected(Clock::time_point now);
  // Carries out the queued writes (worker thread).
  void RunWrites();

  std::string name_;
  std::unique_ptr<modbus::ModbusLink> link_;
  std::vector<Scheduled> devices_;
  ReadingSink sink_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::deque<std::pair<RegisterWrite, WriteDone>> writes_;
  std::thread worker_;
  // The link's state, worker thread only.
  std::chrono::milliseconds reconnect_backoff_{250};
  Clock::time_point reconnect_at_{};
  std::string down_reason_;
};

}  // namespace labtrace::acquisition
