#include "api/live_readings.h"

#include <algorithm>

#include <fmt/format.h>

namespace labtrace::api {

Result<std::shared_ptr<LiveReadings::Subscription>> LiveReadings::Subscribe(std::string instrument,
                                                                           std::string channel,
                                                                           std::function<void()> wake) {
  auto subscription = std::make_shared<Subscription>();
  subscription->instrument = std::move(instrument);
  subscription->channel = std::move(channel);
  subscription->wake = std::move(wake);
  std::lock_guard lock(mutex_);
  if (subscriptions_.size() >= kMaxSubscribers) {
    return Error(Unavailable(fmt::format(
        "{} live streams are open, the most this daemon serves; close one, or ask GET /v1/readings?after_sequence=N "
        "from time to time instead",
        kMaxSubscribers)));
  }
  subscriptions_.push_back(subscription);
  count_ = subscriptions_.size();
  return subscription;
}

void LiveReadings::Unsubscribe(const std::shared_ptr<Subscription>& subscription) {
  std::lock_guard lock(mutex_);
  std::erase(subscriptions_, subscription);
  count_ = subscriptions_.size();
}

std::vector<Reading> LiveReadings::Take(Subscription& subscription, bool& overflowed) {
  std::lock_guard lock(mutex_);
  std::vector<Reading> taken;
  taken.swap(subscription.queued);
  subscription.woken = false;
  overflowed = subscription.overflowed;
  return taken;
}

void LiveReadings::Publish(const std::vector<const Reading*>& readings) {
  if (count_ == 0) return;
  std::lock_guard lock(mutex_);
  for (const std::shared_ptr<Subscription>& subscription : subscriptions_) {
    Subscription& s = *subscription;
    if (s.overflowed) continue;
    for (const Reading* reading : readings) {
      if (!s.instrument.empty() && reading->instrument() != s.instrument) continue;
      if (!s.channel.empty() && reading->channel() != s.channel) continue;
      if (s.queued.size() >= kQueueLimit) {
        // Fallen behind: what is queued is dropped with the subscriber, not kept growing.
        s.overflowed = true;
        std::vector<Reading>().swap(s.queued);
        break;
      }
      s.queued.push_back(*reading);
    }
    if ((s.overflowed || !s.queued.empty()) && !s.woken) {
      s.woken = true;
      s.wake();
    }
  }
}

}  // namespace labtrace::api
