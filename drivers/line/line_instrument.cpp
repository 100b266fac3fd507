#include "line/line_instrument.h"

#include <fmt/format.h>

#include "labtrace/clock.h"
#include "text_link/printed_number.h"

namespace labtrace::line {

namespace asio = boost::asio;

LineInstrument::LineInstrument(asio::any_io_executor executor, text::Endpoint endpoint, std::string instrument,
                               LineSettings settings, std::chrono::milliseconds timeout)
    : TextInstrument(std::move(executor), std::move(endpoint), std::move(instrument), {settings.channel}, timeout),
      settings_(std::move(settings)) {}

Reading LineInstrument::FromLine(const text::Line& line) const {
  Reading reading;
  reading.set_channel(settings_.channel);
  reading.set_unit(settings_.unit);
  reading.set_raw_frame(line.raw);
  reading.set_decimals(-1);
  auto value = settings_.pattern.Read(line.text);
  if (!value) {
    reading.set_quality(BAD_FRAME);
    reading.set_detail(value.error().message());
    return reading;
  }
  if (!value->channel.empty()) reading.set_channel(value->channel);
  if (!value->unit.empty()) {
    // A unit that differs from the configured one would store a number on the wrong scale.
    if (!settings_.unit.empty() && value->unit != settings_.unit) {
      reading.set_quality(BAD_FRAME);
      reading.set_detail(fmt::format("line \"{}\" is in {}, lab-config says {}", text::Shown(line.text),
                                     text::Shown(value->unit), settings_.unit));
      return reading;
    }
    reading.set_unit(value->unit);
  }
  reading.set_quality(GOOD);
  reading.set_value(value->value);
  reading.set_decimals(value->decimals);
  return reading;
}

bool LineInstrument::Ignored(const text::Line& line) const {
  return TextInstrument::Ignored(line) || (settings_.skip && settings_.skip->Matches(line.text));
}

asio::awaitable<std::vector<Reading>> LineInstrument::Poll() {
  if (pushed()) co_return co_await NextPrinted();
  const int64_t at = NowNs();
  link_.DropStaleInput();
  const Status sent = co_await link_.Send(settings_.command + "\r\n");
  if (!sent.ok()) {
    co_return FlagAll(DISCONNECTED, sent.message(), at);
  }
  const auto deadline = std::chrono::steady_clock::now() + timeout_;
  for (;;) {
    auto line = co_await link_.ReadLine(deadline);
    if (!line) co_return FlagAll(QualityOf(line.error()), line.error().message(), at);
    if (Ignored(*line)) continue;
    Reading reading = FromLine(*line);
    reading.set_requested_at_ns(at);
    co_return std::vector<Reading>{std::move(reading)};
  }
}

}  // namespace labtrace::line
