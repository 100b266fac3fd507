#include "acquisition/modbus_bus.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "labtrace/clock.h"
#include "modbus/pdu.h"

namespace labtrace::acquisition {

ModbusBus::ModbusBus(std::string name, std::unique_ptr<modbus::ModbusLink> link, std::vector<Member> members,
                     ReadingSink sink, std::shared_ptr<ReadingBuffers> buffers)
    : name_(std::move(name)), link_(std::move(link)), sink_(std::move(sink)), buffers_(std::move(buffers)) {
  const auto now = Clock::now();
  for (Member& member : members) devices_.push_back({std::move(member), now});
  reconnect_at_ = now;
}

ModbusBus::~ModbusBus() {
  Shut();
}

void ModbusBus::Write(RegisterWrite write, WriteDone done) {
  {
    std::lock_guard lock(mutex_);
    if (!shut_) {
      writes_.push_back({std::move(write), std::move(done)});
      if (wake_) wake_();
      return;
    }
  }
  done(Error(Unavailable(fmt::format("bus {} is stopping", name_))));
}

void ModbusBus::Drain() {
  draining_ = true;  // StartNext starts nothing more
  if (phase_ == Phase::kConnecting) {
    link_->Close();
    phase_ = Phase::kIdle;
  }
  bool signalled = false;
  while (phase_ == Phase::kAwaitingReply) {
    const Wait wait = Step(Clock::now(), signalled);
    if (phase_ != Phase::kAwaitingReply) break;
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(wait.until - Clock::now());
    pollfd ready{wait.descriptor, wait.events, 0};
    signalled = wait.descriptor >= 0 && left.count() > 0 && poll(&ready, 1, static_cast<int>(left.count())) > 0;
    if (wait.descriptor < 0 && left.count() > 0) std::this_thread::sleep_for(left);
  }
}

void ModbusBus::Shut() {
  // What is in flight is finished first, within its deadline, as a blocking worker would:
  // a write that was sent may have been carried out, and its answer must say which; a
  // poll's readings are recorded.
  Drain();
  std::deque<Job> left;
  {
    std::lock_guard lock(mutex_);
    shut_ = true;
    left.swap(writes_);
  }
  link_->Close();
  // Answered, not dropped silently (outside the lock: a callback may be anything).
  for (Job& job : left) job.done(Error(Unavailable(fmt::format("bus {} is stopping", name_))));
}

ModbusBus::Wait ModbusBus::Step(Clock::time_point now, bool signalled) {
  for (;;) {
    switch (phase_) {
      case Phase::kConnecting:
        if (signalled) {
          signalled = false;
          if (Status done = link_->FinishConnect(); done.ok()) {
            Connected();
          } else {
            Down(done, now);
          }
        } else if (now >= deadline_) {
          link_->Close();
          Down(Unavailable(fmt::format("cannot connect to {}: no answer within {} s", link_->where(),
                                       modbus::kConnectTimeout.count())),
               now);
        } else {
          return {deadline_, link_->descriptor(), POLLOUT};
        }
        break;
      case Phase::kAwaitingReply:
        if (signalled) {
          signalled = false;
          auto reply = link_->Receive(unit_, timeout_);
          if (reply && !*reply) return {std::min(deadline_, Clock::now() + modbus::kReplyRecheck)};  // rest on its way
          Finish(reply ? Result<modbus::Frame>(std::move(**reply)) : Result<modbus::Frame>(Error(reply.error())));
        } else if (now >= deadline_) {
          Finish(Error(link_->Abandon(unit_, timeout_)));
        } else {
          return {deadline_, link_->descriptor(), POLLIN};
        }
        break;
      case Phase::kIdle:
        if (auto wait = StartNext(Clock::now())) return *wait;
        break;
    }
    now = Clock::now();
  }
}

ModbusBus::LinkState ModbusBus::EnsureOpen(Clock::time_point now) {
  if (link_->connected()) return LinkState::kUp;
  if (now >= reconnect_at_) {
    if (Status started = link_->StartConnect(); !started.ok()) {
      Down(started, now);
    } else if (link_->connecting()) {
      phase_ = Phase::kConnecting;
      deadline_ = now + modbus::kConnectTimeout;
      return LinkState::kOpening;
    } else {
      Connected();
    }
  }
  return link_->connected() ? LinkState::kUp : LinkState::kDown;
}

std::optional<ModbusBus::Wait> ModbusBus::StartNext(Clock::time_point now) {
  if (draining_) return Wait{now + std::chrono::hours(1)};
  // A queued write goes first: someone is waiting for its answer.
  std::optional<Job> job;
  {
    std::lock_guard lock(mutex_);
    if (!writes_.empty()) {
      job = std::move(writes_.front());
      writes_.pop_front();
    }
  }
  if (job) {
    StartWrite(std::move(*job), now);
    return std::nullopt;
  }
  if (devices_.empty()) return Wait{now + std::chrono::hours(1)};
  // Earliest due first; ties go to the device earliest in the list, and a device goes
  // to the back of the queue once polled, so no device starves its neighbours.
  auto next = std::min_element(devices_.begin(), devices_.end(),
                               [](const Scheduled& a, const Scheduled& b) { return a.next_due < b.next_due; });
  if (next->next_due > now) return Wait{next->next_due};
  const modbus::ModbusDevice& device = next->member.device;
  switch (EnsureOpen(now)) {
    case LinkState::kOpening: return std::nullopt;
    case LinkState::kDown: Done(*next, device.Unreadable(DISCONNECTED, down_reason_, NowNs())); return std::nullopt;
    case LinkState::kUp: break;
  }
  if (next->silent_polls > 0 && now < next->retry_at) {
    // Backed off: the line's time goes to the devices that answer.
    Done(*next, device.Unreadable(
                    NO_REPLY,
                    fmt::format("not asked: silent for {} poll(s), asked again in {} ms", next->silent_polls,
                                std::chrono::duration_cast<std::chrono::milliseconds>(next->retry_at - now).count()),
                    NowNs()));
    return std::nullopt;
  }
  polled_ = &*next;
  poll_.emplace(device, buffers_ ? buffers_->Take() : std::vector<Reading>{});
  unit_ = device.unit_id();
  timeout_ = device.timeout();
  SendNext();
  return std::nullopt;
}

void ModbusBus::StartWrite(Job job, Clock::time_point now) {
  switch (EnsureOpen(now)) {
    case LinkState::kOpening: {
      std::lock_guard lock(mutex_);
      writes_.push_front(std::move(job));  // its turn again once connected
      return;
    }
    case LinkState::kDown:
      job.done(Error(Unavailable(fmt::format("bus {} is down: {}", name_, down_reason_))));
      return;
    case LinkState::kUp: break;
  }
  const RegisterWrite& write = job.write;
  write_request_ = modbus::EncodeWriteRequest(write.address, write.values);
  if (write.unit_id == 0) {
    const Status sent = link_->Broadcast(write_request_, write.timeout);
    if (sent.ok()) {
      spdlog::info("bus {}: wrote {} register(s) at {} to every unit (broadcast)", name_, write.values.size(),
                   write.address);
    }
    job.done(sent.ok() ? Result<std::string>("sent to every unit (broadcast: no reply)") : Error(sent));
    return;
  }
  unit_ = write.unit_id;
  timeout_ = write.timeout;
  if (Status sent = link_->Send(unit_, write_request_); !sent.ok()) {
    reconnect_at_ = Clock::now();
    job.done(Error(sent));
    return;
  }
  write_ = std::move(job);
  phase_ = Phase::kAwaitingReply;
  deadline_ = Clock::now() + timeout_;
}

void ModbusBus::SendNext() {
  while (const std::vector<uint8_t>* request = poll_->Next()) {
    poll_->Sending(NowNs());
    Status sent = link_->Send(unit_, *request);
    if (sent.ok()) {
      phase_ = Phase::kAwaitingReply;
      deadline_ = Clock::now() + timeout_;
      return;
    }
    poll_->Take(Error(std::move(sent)), link_->connected());
  }
  EndPoll();
}

void ModbusBus::Finish(Result<modbus::Frame> reply) {
  phase_ = Phase::kIdle;
  if (write_) return EndWrite(std::move(reply));
  poll_->Take(std::move(reply), link_->connected());
  SendNext();
}

void ModbusBus::EndPoll() {
  Scheduled& device = *polled_;
  std::vector<Reading> readings = poll_->TakeReadings();
  poll_.reset();
  polled_ = nullptr;
  if (!link_->connected()) reconnect_at_ = Clock::now();  // lost mid-poll: reopen at once
  const bool silent = std::all_of(readings.begin(), readings.end(),
                                  [](const Reading& r) { return r.quality() == NO_REPLY; });
  if (!silent) {
    if (device.silent_polls > 0) spdlog::info("bus {}: {} answers again", name_, device.member.device.instrument());
    device.silent_polls = 0;
  } else {
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
  }
  Done(device, std::move(readings));
}

void ModbusBus::EndWrite(Result<modbus::Frame> frame) {
  Job job = std::move(*write_);
  write_.reset();
  if (!link_->connected()) reconnect_at_ = Clock::now();
  if (!frame) return job.done(Error(frame.error()));
  const std::string target = fmt::format("unit {}", job.write.unit_id);
  auto reply = modbus::ParseWriteResponse(frame->pdu(), write_request_);
  if (!reply) {
    job.done(Error(reply.error().Annotate(fmt::format("{} on bus {}", target, name_))));
  } else if (*reply) {
    job.done(Error(FailedPrecondition(
        fmt::format("{} on bus {} refused the write: {}", target, name_, modbus::ExceptionName((*reply)->code)))));
  } else {
    spdlog::info("bus {}: wrote {} register(s) at {} to {}", name_, job.write.values.size(), job.write.address,
                 target);
    job.done(Result<std::string>("written"));
  }
}

void ModbusBus::Done(Scheduled& device, std::vector<Reading> readings) {
  sink_(std::move(readings));
  // Keep the period's phase. A poll delayed by less than a period (a neighbour's timeout)
  // is made up at once, so the device keeps its rate; after a longer stall it starts
  // again from now rather than burst.
  const auto now = Clock::now();
  device.next_due += device.member.period;
  if (device.next_due + device.member.period < now) device.next_due = now + device.member.period;
}

void ModbusBus::Connected() {
  spdlog::info("bus {}: connected to {}", name_, link_->where());
  reconnect_backoff_ = std::chrono::milliseconds(250);
  phase_ = Phase::kIdle;
}

void ModbusBus::Down(const Status& why, Clock::time_point now) {
  down_reason_ = why.message();
  reconnect_at_ = now + reconnect_backoff_;
  reconnect_backoff_ = std::min<std::chrono::milliseconds>(reconnect_backoff_ * 2, kMaxReconnectBackoff);
  phase_ = Phase::kIdle;
}

ModbusWorker::ModbusWorker(std::vector<std::unique_ptr<ModbusBus>> buses)
    : buses_(std::move(buses)), wake_fd_(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
  for (auto& bus : buses_) bus->SetWake([this] { Wake(); });
}

ModbusWorker::~ModbusWorker() {
  Stop();
  buses_.clear();
  if (wake_fd_ >= 0) close(wake_fd_);
}

void ModbusWorker::Start() {
  thread_ = std::thread([this] { Run(); });
}

void ModbusWorker::Stop() {
  stopping_ = true;
  Wake();
  if (thread_.joinable()) thread_.join();
}

void ModbusWorker::Wake() {
  const uint64_t one = 1;
  [[maybe_unused]] ssize_t written = write(wake_fd_, &one, sizeof one);
}

ModbusBus* ModbusWorker::Find(std::string_view name) {
  for (auto& bus : buses_) {
    if (bus->name() == name) return bus.get();
  }
  return nullptr;
}

void ModbusWorker::Run() {
  using Clock = ModbusBus::Clock;
  for (const auto& bus : buses_) {
    spdlog::info("bus {}: polling {} device(s) at {}", bus->name(), bus->device_count(), bus->link().where());
  }
  const size_t n = buses_.size();
  std::vector<ModbusBus::Wait> waits(n, ModbusBus::Wait{Clock::time_point::min()});
  std::vector<char> signalled(n, 0);
  std::vector<pollfd> descriptors;
  std::vector<size_t> owners;  // the bus of each descriptor after the first (the wake-up)
  bool woken = true;
  while (!stopping_) {
    const auto now = Clock::now();
    for (size_t i = 0; i < n; ++i) {
      if (woken || signalled[i] || waits[i].until <= now) {
        waits[i] = buses_[i]->Step(now, signalled[i] != 0);
        signalled[i] = 0;
      }
    }
    woken = false;
    descriptors.assign(1, pollfd{wake_fd_, POLLIN, 0});
    owners.clear();
    auto earliest = now + std::chrono::seconds(1);
    for (size_t i = 0; i < n; ++i) {
      earliest = std::min(earliest, waits[i].until);
      if (waits[i].descriptor < 0) continue;
      descriptors.push_back({waits[i].descriptor, waits[i].events, 0});
      owners.push_back(i);
    }
    const auto left = std::max<Clock::duration>(earliest - Clock::now(), Clock::duration::zero());
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(left).count();
    const timespec wait{static_cast<time_t>(ns / 1'000'000'000), static_cast<long>(ns % 1'000'000'000)};
    const int ready = ppoll(descriptors.data(), descriptors.size(), &wait, nullptr);
    if (ready < 0 && errno != EINTR) {
      // Not expected (ENOMEM): say so, and do not spin.
      spdlog::error("modbus worker: ppoll: {}", std::strerror(errno));
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    if (ready <= 0) continue;
    if (descriptors[0].revents != 0) {
      uint64_t count = 0;
      [[maybe_unused]] ssize_t got = read(wake_fd_, &count, sizeof count);
      woken = true;
    }
    for (size_t k = 1; k < descriptors.size(); ++k) {
      if (descriptors[k].revents != 0) signalled[owners[k - 1]] = 1;
    }
  }
  for (auto& bus : buses_) bus->Shut();
}

}  // namespace labtrace::acquisition
