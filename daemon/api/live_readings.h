// The live readings behind GET /v1/readings/stream: the store's writer publishes the
// readings of each commit once they are durable, and each subscriber (an SSE client)
// gets those its filter matches in a queue of its own.
//
// Publish runs on the store's writer thread, so it only copies matching readings into
// bounded queues and never waits for a client: a subscriber that falls kQueueLimit
// readings behind is cut off (its queue emptied, `overflowed` set) and told so by its
// own coroutine, while the store and the poll loop go on at their pace. Subscribe,
// Unsubscribe and Take run on the io_context; `wake` runs on the writer thread and must
// only post. Thread-safe; owned jointly by the daemon's main, the store's callback and
// each stream.
#pragma once

#include <atomic>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "labtrace/reading.pb.h"
#include "labtrace/status.h"

namespace labtrace::api {

class LiveReadings {
 public:
  // How far a subscriber may fall behind before it is cut off: at 100 readings a second,
  // 100 s of readings; a console that reads its socket keeps up with far more.
  static constexpr size_t kQueueLimit = 10'000;
  // Streams at once: each costs the writer a filter check per reading published.
  static constexpr size_t kMaxSubscribers = 64;

  struct Subscription {
    std::string instrument, channel;  // empty: every one
    std::function<void()> wake;       // the queue was empty and is not, or it overflowed
    // Guarded by LiveReadings::mutex_.
    std::vector<Reading> queued;
    bool woken = false;  // `wake` was called and Take has not run since
    bool overflowed = false;
  };

  // Unavailable when kMaxSubscribers streams are open.
  Result<std::shared_ptr<Subscription>> Subscribe(std::string instrument, std::string channel,
                                                  std::function<void()> wake);
  void Unsubscribe(const std::shared_ptr<Subscription>& subscription);
  // Moves out what is queued for `subscription`; says whether it fell behind and was cut off.
  std::vector<Reading> Take(Subscription& subscription, bool& overflowed);

  // On the store's writer thread, with the readings of one commit in sequence order.
  void Publish(const std::vector<const Reading*>& readings);

 private:
  std::mutex mutex_;
  std::vector<std::shared_ptr<Subscription>> subscriptions_;
  std::atomic<size_t> count_{0};  // lets Publish skip the lock when nobody listens
};

}  // namespace labtrace::api
