#include "mtsics/balance.h"

#include <fmt/format.h>

#include "mtsics/codec.h"

namespace labtrace::mtsics {

namespace asio = boost::asio;

namespace {
int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}
}  // namespace

MtSicsBalance::MtSicsBalance(asio::any_io_executor executor, BalanceSettings settings,
                             std::string device, unsigned baud)
    : settings_(std::move(settings)), line_(std::move(executor), std::move(device), baud) {}

asio::awaitable<void> MtSicsBalance::Identify() {
  // I2: model and capacity, I3: software version, I4: serial number (MT-SICS level 0).
  std::string parts[3];
  const char* commands[3] = {"I2", "I3", "I4"};
  for (int i = 0; i < 3; ++i) {
    auto line = co_await line_.Transact(commands[i], settings_.timeout);
    if (!line) continue;
    auto reply = ParseSicsLine(line->text);
    if (reply && reply->kind == SicsReply::Kind::kIdentification) parts[i] = reply->text;
  }
  identification_ = fmt::format("{}, software {}, serial number {}", parts[0], parts[1], parts[2]);
}

asio::awaitable<Reading> MtSicsBalance::Weigh() {
  Reading reading;
  if (!line_.is_open()) {
    const int64_t at = NowNs();
    if (Status opened = line_.Open(); !opened.ok()) {
      reading.set_quality(DISCONNECTED);
      reading.set_detail(opened.message());
      reading.set_requested_at_ns(at);
    } else {
      co_await Identify();
    }
  }
  if (line_.is_open()) {
    const int64_t at = NowNs();
    auto line = co_await line_.Transact(settings_.command, settings_.timeout);
    if (!line) {
      reading.set_quality(line.error().code() == StatusCode::kDeadlineExceeded ? NO_REPLY
                                                                                 : DISCONNECTED);
      reading.set_detail(line.error().message());
    } else if (auto reply = ParseSicsLine(line->text); !reply) {
      reading.set_quality(BAD_FRAME);
      reading.set_detail(reply.error().message());
    } else {
      reading = ToReading(*reply);
    }
    if (line) reading.set_raw_frame(line->raw);
    reading.set_requested_at_ns(at);
  }
  reading.set_instrument(settings_.instrument);
  reading.set_channel(settings_.channel);
  if (reading.unit().empty()) reading.set_unit("g");
  co_return reading;
}

}  // namespace labtrace::mtsics
