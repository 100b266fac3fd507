#include "mtsics/balance.h"

#include "labtrace/clock.h"
#include "mtsics/codec.h"

namespace labtrace::mtsics {

namespace asio = boost::asio;

namespace {

// The first field of a line: the command a reply answers ("S", "I2") or a general error.
std::string ReplyCommand(const std::string& text) {
  const size_t start = text.find_first_not_of(' ');
  if (start == std::string::npos) return {};
  return text.substr(start, text.find(' ', start) - start);
}

bool IsGeneralError(const std::string& command) { return command == "ES" || command == "ET" || command == "EL"; }

}  // namespace

MtSicsBalance::MtSicsBalance(asio::any_io_executor executor, text::Endpoint endpoint, std::string instrument,
                             BalanceSettings settings, std::chrono::milliseconds timeout)
    : TextInstrument(std::move(executor), std::move(endpoint), std::move(instrument), {settings.channel}, timeout),
      settings_(std::move(settings)) {}

asio::awaitable<Result<text::Line>> MtSicsBalance::Ask(const std::string& command, const std::string& reply_command) {
  // Polled, anything waiting is stale. Pushed, it may be a printed weight: keep reading.
  if (!settings_.pushed) link_.DropStaleInput();
  const Status sent = co_await link_.Send(command + "\r\n");
  if (!sent.ok()) co_return Error(sent);
  const auto deadline = std::chrono::steady_clock::now() + timeout_;
  for (;;) {
    auto line = co_await link_.ReadLine(deadline);
    if (!line) co_return line;
    // A line that is no MT-SICS reply at all is noise: the caller flags it as a bad frame.
    // A reply to another command is stale (late, or printed) and is not the answer.
    if (!ParseSicsLine(line->text)) co_return line;
    const std::string answered = ReplyCommand(line->text);
    if (answered == reply_command || IsGeneralError(answered)) co_return line;
    if (settings_.pushed && answered == "S" && printed_.size() < kMaxPrintedWhileIdentifying) {
      printed_.push_back(std::move(*line));
    }
  }
}

asio::awaitable<void> MtSicsBalance::Identify() {
  // I2: model and capacity, I3: software version, I4: serial number (MT-SICS level 0).
  std::string parts[3];
  const char* commands[3] = {"I2", "I3", "I4"};
  for (int i = 0; i < 3 && link_.is_open(); ++i) {
    auto line = co_await Ask(commands[i], commands[i]);
    if (!line) continue;
    auto reply = ParseSicsLine(line->text);
    if (reply && reply->kind == SicsReply::Kind::kIdentification) parts[i] = reply->text;
  }
  SetIdentity("Mettler Toledo", parts[0], parts[2], parts[1]);
}

Reading MtSicsBalance::FromLine(const text::Line& line) const {
  auto reply = ParseSicsLine(line.text);
  Reading reading = reply ? ToReading(*reply) : Flagged(BAD_FRAME, reply.error().message());
  reading.set_raw_frame(line.raw);
  reading.set_channel(settings_.channel);
  if (reading.unit().empty()) reading.set_unit("g");
  return reading;
}

asio::awaitable<std::vector<Reading>> MtSicsBalance::Poll() {
  if (settings_.pushed) co_return co_await NextPrinted();
  const int64_t at = NowNs();
  // Weighing commands (S, SI) are answered by "S …" lines.
  auto line = co_await Ask(settings_.command, settings_.command.substr(0, 1));
  if (!line) co_return FlagAll(QualityOf(line.error()), line.error().message(), at);
  Reading reading = FromLine(*line);
  reading.set_requested_at_ns(at);
  co_return std::vector<Reading>{std::move(reading)};
}

}  // namespace labtrace::mtsics
