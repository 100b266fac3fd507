#include "acquisition/modbus_bus.h"

#include <algorithm>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "labtrace/clock.h"
#include "modbus/pdu.h"

namespace labtrace::acquisition {


ModbusBus::ModbusBus(std::string name, std::unique_ptr<modbus::ModbusLink> link, std::vector<Member> members,
                     ReadingSink sink)
    : name_(std::move(name)), link_(std::move(link)), sink_(std::move(sink)) {
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
  wake_.wait_until(lock, when, [this] { return stopping_ || !writes_.empty(); });
  return !stopping_;
}

void ModbusBus::Write(RegisterWrite write, WriteDone done) {
  {
    std::lock_guard lock(mutex_);
    if (!stopping_) {
      writes_.emplace_back(std::move(write), std::move(done));
      wake_.notify_all();
      return;
    }
  }
  done(Error(Unavailable(fmt::format("bus {} is stopping", name_))));
}

void ModbusBus::RunWrites() {
  for (;;) {
    std::pair<RegisterWrite, WriteDone> job;
    {
      std::lock_guard lock(mutex_);
      if (writes_.empty()) return;
      job = std::move(writes_.front());
      writes_.pop_front();
    }
    const RegisterWrite& write = job.first;
    const auto target = write.unit_id == 0 ? std::string("every unit") : fmt::format("unit {}", write.unit_id);
    if (!EnsureConnected(Clock::now())) {
      job.second(Error(Unavailable(fmt::format("bus {} is down: {}", name_, down_reason_))));
      continue;
    }
    const std::vector<uint8_t> request = modbus::EncodeWriteRequest(write.address, write.values);
    if (write.unit_id == 0) {
      const Status sent = link_->Broadcast(request, write.timeout);
      if (sent.ok()) spdlog::info("bus {}: wrote {} register(s) at {} to every unit (broadcast)", name_, write.values.size(), write.address);
      job.second(sent.ok() ? Result<std::string>("sent to every unit (broadcast: no reply)") : Error(sent));
      continue;
    }
    auto frame = link_->Transact(write.unit_id, request, write.timeout);
    if (!frame) {
      job.second(Error(frame.error()));
      continue;
    }
    auto reply = modbus::ParseWriteResponse(frame->pdu(), request);
    if (!reply) {
      job.second(Error(reply.error().Annotate(fmt::format("{} on bus {}", target, name_))));
    } else if (*reply) {
      job.second(Error(FailedPrecondition(
          fmt::format("{} on bus {} refused the write: {}", target, name_, modbus::ExceptionName((*reply)->code)))));
    } else {
      spdlog::info("bus {}: wrote {} register(s) at {} to {}", name_, write.values.size(), write.address, target);
      job.second(Result<std::string>("written"));
    }
  }
}

bool ModbusBus::EnsureConnected(Clock::time_point now) {
  if (!link_->connected() && now >= reconnect_at_) {
    if (Status connected = link_->Connect(); connected.ok()) {
      spdlog::info("bus {}: connected to {}", name_, link_->where());
      reconnect_backoff_ = std::chrono::milliseconds(250);
    } else {
      down_reason_ = connected.message();
      reconnect_at_ = now + reconnect_backoff_;
      reconnect_backoff_ = std::min<std::chrono::milliseconds>(reconnect_backoff_ * 2, kMaxReconnectBackoff);
    }
  }
  return link_->connected();
}

std::vector<Reading> ModbusBus::Serve(Scheduled& device, Clock::time_point now) {
  if (!EnsureConnected(now)) return device.member.device.Unreadable(DISCONNECTED, down_reason_, NowNs());
  if (device.silent_polls > 0 && now < device.retry_at) {
    // Backed off: the line's time goes to the devices that answer.
    return device.member.device.Unreadable(
        NO_REPLY,
        fmt::format("not asked: silent for {} poll(s), asked again in {} ms", device.silent_polls,
                    std::chrono::duration_cast<std::chrono::milliseconds>(device.retry_at - now).count()),
        NowNs());
  }
  std::vector<Reading> readings = device.member.device.Poll(*link_);
  if (!link_->connected()) reconnect_at_ = Clock::now();  // lost mid-poll: reopen at once
  const bool silent = std::all_of(readings.begin(), readings.end(),
                                  [](const Reading& r) { return r.quality() == NO_REPLY; });
  if (!silent) {
    if (device.silent_polls > 0) spdlog::info("bus {}: {} answers again", name_, device.member.device.instrument());
    device.silent_polls = 0;
    return readings;
  }
  ++device.silent_polls;
  // One period (at least 250 ms), then two, four, … up to kMaxDeviceBackoff between attempts.
  const auto base = std::max<Clock::duration>(device.member.period, std::chrono::milliseconds(250));
  const auto backoff = std::min<Clock::duration>(base * (1LL << std::min(device.silent_polls - 1, 20)),
                                                 kMaxDeviceBackoff);
  device.retry_at = Clock::now() + backoff;
  if (device.silent_polls == 2) {
    spdlog::warn("bus {}: {} does not answer; backing it off so its neighbours keep their rate", name_,
                 device.member.device.instrument());
  }
  return readings;
}

void ModbusBus::Run() {
  spdlog::info("bus {}: polling {} device(s) at {}", name_, devices_.size(), link_->where());
  reconnect_at_ = Clock::now();
  while (!devices_.empty()) {
    // Earliest due first; ties go to the device earliest in the list, and a device goes
    // to the back of the queue once polled, so no device starves its neighbours.
    auto next = std::min_element(devices_.begin(), devices_.end(),
                                 [](const Scheduled& a, const Scheduled& b) { return a.next_due < b.next_due; });
    if (!WaitUntil(next->next_due)) break;
    RunWrites();
    if (Clock::now() < next->next_due) continue;  // woken for a write: the poll is not due yet
    sink_(Serve(*next, Clock::now()));
    // Keep the period's phase. A poll delayed by less than a period (a neighbour's
    // timeout) is made up at once, so the device keeps its rate; after a longer stall it
    // starts again from now rather than burst.
    next->next_due += next->member.period;
    if (next->next_due + next->member.period < Clock::now()) next->next_due = Clock::now() + next->member.period;
  }
  // Writes still queued when the bus stops are answered, not dropped silently (outside the
  // lock: a callback may be anything).
  std::deque<std::pair<RegisterWrite, WriteDone>> left;
  {
    std::lock_guard lock(mutex_);
    left.swap(writes_);
  }
  for (auto& [write, done] : left) done(Error(Unavailable(fmt::format("bus {} is stopping", name_))));
  link_->Close();
}

}  // namespace labtrace::acquisition
