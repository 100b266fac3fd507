#include "acquisition/text_instruments.h"

#include <algorithm>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace labtrace::acquisition {

namespace asio = boost::asio;

asio::awaitable<void> RunTextInstrument(std::shared_ptr<text::TextInstrument> instrument,
                                        std::chrono::milliseconds period, ReadingSink sink, IdentitySink identified) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  auto next = std::chrono::steady_clock::now();
  auto backoff = period;
  std::string last_identity;
  for (;;) {
    std::vector<Reading> readings = co_await instrument->Read();
    // Stopping cancels the read under way: that is no news about the instrument.
    const auto state = co_await asio::this_coro::cancellation_state;
    if (state.cancelled() != asio::cancellation_type::none) co_return;
    if (const std::string said = instrument->identity().SerializeAsString(); !said.empty() && said != last_identity) {
      last_identity = said;
      identified(instrument->instrument(), instrument->identity());
    }
    const bool reachable = readings.empty() || readings.front().quality() != DISCONNECTED;
    if (!readings.empty()) sink(std::move(readings));
    backoff = reachable ? period : std::min<std::chrono::milliseconds>(backoff * 2, kMaxReconnectBackoff);
    if (instrument->pushed() && reachable) continue;  // listens again at once
    next += reachable ? period : backoff;
    const auto now = std::chrono::steady_clock::now();
    if (next < now) next = now + (reachable ? period : backoff);
    timer.expires_at(next);
    co_await timer.async_wait(asio::use_awaitable);
  }
}

}  // namespace labtrace::acquisition
