// One Modbus bus (a TCP connection or an RS-485 line) and the devices on it, and the
// worker threads that poll buses.
//
// libmodbus is not thread-safe, so every bus belongs to exactly one worker, which never
// shares its link. A bus is a state machine the worker steps: it sends a request, says
// what to wait for (its link readable, or a time), and takes the reply when it comes, so
// one worker can keep a transaction in flight on many buses at once. Each serial line has
// a worker of its own; every Modbus TCP bus shares one, since a thread per connection
// spent more CPU switching threads than polling (docs/BENCHMARKS.md).
//
// On one bus, devices are polled one transaction at a time, earliest due first, so no
// device starves its neighbours. A device that stops answering is backed off (its polls
// spaced out exponentially, up to kMaxDeviceBackoff), so its timeouts do not eat the
// line's time; while backed off it still records, at its period, that a reading was due
// and why there is none. A dead link is reopened with back-off likewise.
#pragma once

#include <atomic>
#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "labtrace/reading.pb.h"
#include "labtrace/reading_buffers.h"
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
  using Clock = std::chrono::steady_clock;
  struct Member {
    modbus::ModbusDevice device;
    std::chrono::milliseconds period;
  };
  // What the bus waits for before it is stepped again: `until`, or sooner `events` on
  // `descriptor` (when it is not -1).
  struct Wait {
    Clock::time_point until;
    int descriptor = -1;
    short events = 0;
  };

  // `buffers`: where polls are made, in readings the store gave back (may be null).
  ModbusBus(std::string name, std::unique_ptr<modbus::ModbusLink> link, std::vector<Member> members,
            ReadingSink sink, std::shared_ptr<ReadingBuffers> buffers = nullptr);
  ~ModbusBus();  // answers writes still queued

  const std::string& name() const { return name_; }
  // Thread-safe: queues a write, carried out before the bus's next poll; `done` runs on
  // the worker.
  void Write(RegisterWrite write, WriteDone done);

  // Worker thread only. Does what is due at `now`; `signalled`: what the last Wait asked
  // for happened on the descriptor.
  Wait Step(Clock::time_point now, bool signalled);
  // Worker thread only, when the worker stops: finishes the transaction in flight (within
  // its deadline), answers every queued write, closes the link.
  void Shut();
  // Set by the worker before it starts: wakes it to step its buses (a write is queued).
  void SetWake(std::function<void()> wake) { wake_ = std::move(wake); }
  const modbus::ModbusLink& link() const { return *link_; }
  size_t device_count() const { return devices_.size(); }

 private:
  struct Scheduled {
    Member member;
    Clock::time_point next_due;
    int silent_polls = 0;          // consecutive polls with no reply at all
    Clock::time_point retry_at{};  // while backed off: when it is asked again
  };
  struct Job {
    RegisterWrite write;
    WriteDone done;
  };
  enum class Phase { kIdle, kConnecting, kAwaitingReply };

  // Starts what is due (a write, a poll, a connection) or records why a due device is not
  // polled; returns the Wait when nothing is due yet.
  std::optional<Wait> StartNext(Clock::time_point now);
  // Steps the bus, waiting on its own, until nothing is in flight; starts nothing new.
  void Drain();
  void StartWrite(Job job, Clock::time_point now);
  // Opens the link when it is closed and its back-off has passed.
  enum class LinkState { kUp, kOpening, kDown };
  LinkState EnsureOpen(Clock::time_point now);
  // Sends the poll's next request, or ends the poll when it has none.
  void SendNext();
  // What became of the request in flight.
  void Finish(Result<modbus::Frame> reply);
  void EndPoll();
  void EndWrite(Result<modbus::Frame> reply);
  // Hands a device's readings on and moves its next poll on by its period.
  void Done(Scheduled& device, std::vector<Reading> readings);
  void Connected();
  void Down(const Status& why, Clock::time_point now);

  std::string name_;
  std::unique_ptr<modbus::ModbusLink> link_;
  std::vector<Scheduled> devices_;
  ReadingSink sink_;
  std::shared_ptr<ReadingBuffers> buffers_;
  std::function<void()> wake_;

  std::mutex mutex_;  // guards writes_ and shut_
  std::deque<Job> writes_;
  bool shut_ = false;

  // Worker thread only.
  Phase phase_ = Phase::kIdle;
  bool draining_ = false;
  Clock::time_point deadline_{};  // of the connection or reply waited for
  uint8_t unit_ = 0;              // of the request in flight
  std::chrono::milliseconds timeout_{};
  Scheduled* polled_ = nullptr;     // the device whose poll is in flight
  std::optional<modbus::DevicePoll> poll_;
  std::optional<Job> write_;        // the write in flight
  std::vector<uint8_t> write_request_;
  std::chrono::milliseconds reconnect_backoff_{250};
  Clock::time_point reconnect_at_{};
  std::string down_reason_ = "not connected yet";
};

// A thread that steps one or more buses, waiting on all their links at once (ppoll).
class ModbusWorker {
 public:
  explicit ModbusWorker(std::vector<std::unique_ptr<ModbusBus>> buses);
  ~ModbusWorker();  // stops and joins

  void Start();
  void Stop();
  // The bus named `name`, if this worker has it.
  ModbusBus* Find(std::string_view name);

 private:
  void Run();
  void Wake();

  std::vector<std::unique_ptr<ModbusBus>> buses_;
  int wake_fd_ = -1;  // an eventfd: a write was queued, or the worker is to stop
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace labtrace::acquisition
