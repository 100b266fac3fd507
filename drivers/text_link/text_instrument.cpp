#include "text_link/text_instrument.h"

#include <spdlog/spdlog.h>

#include "labtrace/clock.h"

namespace labtrace::text {

namespace asio = boost::asio;

TextInstrument::TextInstrument(asio::any_io_executor executor, Endpoint endpoint, std::string instrument,
                               std::vector<std::string> channels, std::chrono::milliseconds timeout)
    : link_(std::move(executor), std::move(endpoint)),
      instrument_(std::move(instrument)),
      channels_(std::move(channels)),
      timeout_(timeout) {}

asio::awaitable<std::vector<Reading>> TextInstrument::Read() {
  if (!link_.is_open()) {
    const int64_t at = NowNs();
    const Status opened = co_await link_.Open(timeout_);
    if (!opened.ok()) {
      co_return FlagAll(DISCONNECTED, opened.message(), at);
    }
    identity_.Clear();
    co_await Identify();
    if (!link_.is_open()) co_return FlagAll(DISCONNECTED, "lost the link while identifying the instrument", at);
    spdlog::info("instrument {}: connected on {}", instrument_, link_.where());
  }
  std::vector<Reading> readings = co_await Poll();
  for (Reading& reading : readings) reading.set_instrument(instrument_);
  co_return readings;
}

asio::awaitable<std::vector<Reading>> TextInstrument::NextPrinted() {
  for (;;) {
    if (printed_.empty()) {
      auto line = co_await link_.ReadLine(std::chrono::seconds(1));
      if (!line && line.error().code() == StatusCode::kDeadlineExceeded) co_return std::vector<Reading>{};
      if (!line) co_return FlagAll(QualityOf(line.error()), line.error().message(), NowNs());
      printed_.push_back(std::move(*line));
    }
    const Line line = std::move(printed_.front());
    printed_.pop_front();
    if (Ignored(line)) continue;
    Reading reading = FromLine(line);
    reading.set_requested_at_ns(line.received_at_ns);
    co_return std::vector<Reading>{std::move(reading)};
  }
}

bool TextInstrument::Ignored(const Line& line) const {
  return line.text.find_first_not_of(' ') == std::string::npos;
}

Reading TextInstrument::FromLine(const Line& line) const {
  Reading reading = Flagged(BAD_FRAME, "this driver does not read printed lines");
  reading.set_raw_frame(line.raw);
  return reading;
}

void TextInstrument::SetIdentity(std::string manufacturer, std::string model, std::string serial_number,
                                 std::string firmware) {
  if (model.empty() && serial_number.empty() && firmware.empty()) return;  // it did not say
  identity_.set_manufacturer(std::move(manufacturer));
  identity_.set_model(std::move(model));
  identity_.set_serial_number(std::move(serial_number));
  identity_.set_firmware(std::move(firmware));
}

Reading TextInstrument::Flagged(Quality quality, std::string detail) {
  Reading reading;
  reading.set_quality(quality);
  reading.set_detail(std::move(detail));
  reading.set_decimals(-1);
  return reading;
}

std::vector<Reading> TextInstrument::FlagAll(Quality quality, const std::string& detail, int64_t requested_at_ns) const {
  std::vector<Reading> readings;
  for (const std::string& channel : channels_) {
    Reading& reading = readings.emplace_back(Flagged(quality, detail));
    reading.set_instrument(instrument_);
    reading.set_channel(channel);
    reading.set_requested_at_ns(requested_at_ns);
  }
  return readings;
}

Quality TextInstrument::QualityOf(const Status& failure) {
  switch (failure.code()) {
    case StatusCode::kDeadlineExceeded: return NO_REPLY;
    case StatusCode::kInvalidArgument: return BAD_FRAME;
    default: return DISCONNECTED;
  }
}

}  // namespace labtrace::text
