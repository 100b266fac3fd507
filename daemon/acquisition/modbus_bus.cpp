#include "acquisition/modbus_bus.h"

#include <algorithm>

#include <spdlog/spdlog.h>

namespace labtrace::acquisition {

namespace {
int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}
}  // namespace

ModbusBus::ModbusBus(std::string name, std::string host, uint16_t port,
                     std::chrono::milliseconds timeout, std::vector<Member> members,
                     ReadingSink sink)
    : name_(std::move(name)), link_(std::move(host), port, timeout), sink_(std::move(sink)) {
  const auto now = Clock::now();
  for (Member& member : members) devices_.push_back({std::move(member), now});
}

ModbusBus::~ModbusBus() {
  Stop();
}

void ModbusBus::Start() {
  worker_ = std::thread([this] { Run(); });
}

void ModbusBus::Stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (worker_.joinable()) worker_.join();
}

bool ModbusBus::WaitUntil(Clock::time_point when) {
  std::unique_lock lock(mutex_);
  return !wake_.wait_until(lock, when, [this] { return stopping_; });
}

void ModbusBus::Run() {
  spdlog::info("bus {}: polling {} device(s) at {}", name_, devices_.size(), link_.where());
  auto backoff = std::chrono::milliseconds(250);
  Clock::time_point reconnect_at = Clock::now();
  std::string down_reason;
  while (!devices_.empty()) {
    // Earliest due first; ties go to the device earliest in the list, and a device goes
    // to the back of the queue once polled, so no device starves its neighbours.
    auto next = std::min_element(devices_.begin(), devices_.end(),
                                 [](const Scheduled& a, const Scheduled& b) { return a.next_due < b.next_due; });
    if (!WaitUntil(next->next_due)) break;
    const auto now = Clock::now();
    std::vector<Reading> readings;
    if (!link_.connected() && now >= reconnect_at) {
      if (Status connected = link_.Connect(); connected.ok()) {
        spdlog::info("bus {}: connected to {}", name_, link_.where());
        backoff = std::chrono::milliseconds(250);
      } else {
        down_reason = connected.message();
        reconnect_at = now + backoff;
        backoff = std::min<std::chrono::milliseconds>(backoff * 2, kMaxReconnectBackoff);
      }
    }
    if (link_.connected()) {
      readings = next->member.device.Poll(link_);
      if (!link_.connected()) reconnect_at = Clock::now();  // lost mid-poll: retry at once
    } else {
      readings = next->member.device.Unreadable(DISCONNECTED, down_reason, NowNs());
    }
    sink_(std::move(readings));
    // Keep the period's phase; after a stall, start again from now rather than burst.
    next->next_due += next->member.period;
    if (next->next_due < Clock::now()) next->next_due = Clock::now() + next->member.period;
  }
  link_.Close();
}

}  // namespace labtrace::acquisition
