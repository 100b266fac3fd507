#include "sbi/balance.h"

#include "labtrace/clock.h"
#include "sbi/codec.h"
#include "text_link/printed_number.h"

namespace labtrace::sbi {

namespace asio = boost::asio;

SbiBalance::SbiBalance(asio::any_io_executor executor, text::Endpoint endpoint, std::string instrument,
                       BalanceSettings settings, std::chrono::milliseconds timeout)
    : TextInstrument(std::move(executor), std::move(endpoint), std::move(instrument), {settings.channel}, timeout),
      settings_(std::move(settings)) {}

asio::awaitable<void> SbiBalance::Identify() {
  // The answers carry no tag, so a line that parses as a print line is a weight the
  // balance printed meanwhile (kept when pushed), and the first other line is the answer.
  // Each command has one deadline: a balance that prints on and never answers (older
  // models lack ESC x) is not waited for beyond it.
  std::string answers[3];
  const std::string_view commands[3] = {kAskModel, kAskSerialNumber, kAskSoftwareVersion};
  for (int i = 0; i < 3 && link_.is_open(); ++i) {
    if (!settings_.pushed) link_.DropStaleInput();
    const Status sent = co_await link_.Send(std::string(commands[i]));
    if (!sent.ok()) break;
    const auto deadline = std::chrono::steady_clock::now() + timeout_;
    for (;;) {
      auto line = co_await link_.ReadLine(deadline);
      if (!line) break;
      if (ParseSbiLine(line->text)) {
        if (settings_.pushed && printed_.size() < kMaxPrintedWhileIdentifying) printed_.push_back(std::move(*line));
        continue;
      }
      const size_t start = line->text.find_first_not_of(' ');
      if (start != std::string::npos && text::IsPrintableAscii(line->text)) {
        answers[i] = line->text.substr(start, line->text.find_last_not_of(' ') + 1 - start);
      }
      break;
    }
  }
  SetIdentity("Sartorius", answers[0], answers[1], answers[2]);
}

Reading SbiBalance::FromLine(const text::Line& line) const {
  auto parsed = ParseSbiLine(line.text);
  Reading reading = parsed ? ToReading(*parsed, settings_.unit) : Flagged(BAD_FRAME, parsed.error().message());
  if (reading.unit().empty()) reading.set_unit(settings_.unit);
  reading.set_raw_frame(line.raw);
  reading.set_channel(settings_.channel);
  return reading;
}

asio::awaitable<std::vector<Reading>> SbiBalance::Poll() {
  if (settings_.pushed) co_return co_await NextPrinted();
  const int64_t at = NowNs();
  auto line = co_await link_.Transact(std::string(kPrint), timeout_);
  if (!line) co_return FlagAll(QualityOf(line.error()), line.error().message(), at);
  Reading reading = FromLine(*line);
  reading.set_requested_at_ns(at);
  co_return std::vector<Reading>{std::move(reading)};
}

}  // namespace labtrace::sbi
