#include "scpi/meter.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include "labtrace/clock.h"
#include "scpi/codec.h"

namespace labtrace::scpi {

namespace asio = boost::asio;

namespace {

std::vector<std::string> ChannelsOf(const MeterSettings& settings) {
  std::vector<std::string> channels;
  for (const Measurement& measurement : settings.measurements) channels.push_back(measurement.channel);
  return channels;
}

}  // namespace

ScpiMeter::ScpiMeter(asio::any_io_executor executor, text::Endpoint endpoint, std::string instrument,
                     MeterSettings settings, std::chrono::milliseconds timeout)
    : TextInstrument(std::move(executor), std::move(endpoint), std::move(instrument), ChannelsOf(settings), timeout),
      settings_(std::move(settings)) {}

asio::awaitable<std::vector<std::string>> ScpiMeter::DrainErrors(const char* when) {
  std::vector<std::string> errors;
  for (int i = 0; i < kMaxErrorsDrained && link_.is_open(); ++i) {
    auto line = co_await link_.Transact("SYST:ERR?\n", timeout_);
    if (!line) {
      spdlog::warn("instrument {}: no answer to SYST:ERR? {} ({})", instrument_, when, line.error().message());
      errors.push_back(fmt::format("no answer to SYST:ERR?: {}", line.error().message()));
      co_return errors;
    }
    auto entry = ParseErrorEntry(line->text);
    if (!entry) {
      spdlog::warn("instrument {}: {}", instrument_, entry.error().message());
      errors.push_back(entry.error().message());
      co_return errors;
    }
    if (entry->code == 0) co_return errors;
    spdlog::warn("instrument {}: SCPI error {},\"{}\" {}", instrument_, entry->code, entry->message, when);
    errors.push_back(fmt::format("{},\"{}\"", entry->code, entry->message));
  }
  spdlog::warn("instrument {}: error queue still not empty after {} entries", instrument_, kMaxErrorsDrained);
  co_return errors;
}

asio::awaitable<void> ScpiMeter::Identify() {
  // Whatever the queue held from before is not this session's: log it and start clean.
  (void)co_await DrainErrors("left from before the connect");
  auto line = co_await link_.Transact("*IDN?\n", timeout_);
  if (!line) {
    spdlog::warn("instrument {}: no answer to *IDN? ({})", instrument_, line.error().message());
  } else if (auto identity = ParseIdentification(line->text); !identity) {
    spdlog::warn("instrument {}: {}", instrument_, identity.error().message());
  } else {
    identity_ = std::move(*identity);
  }
  if (settings_.setup.empty() || !link_.is_open()) co_return;
  for (const std::string& command : settings_.setup) {
    const Status sent = co_await link_.Send(command + "\n");
    if (!sent.ok()) co_return;
  }
  // Setup commands have no reply: *OPC? answers "1" once they have all been carried out.
  auto done = co_await link_.Transact("*OPC?\n", timeout_);
  if (!done || done->text != "1") {
    spdlog::warn("instrument {}: setup not confirmed by *OPC? ({})", instrument_,
                 done ? "\"" + done->text + "\"" : done.error().message());
  }
  (void)co_await DrainErrors("after the setup commands; check `scpi.setup` in lab-config");
}

asio::awaitable<bool> ScpiMeter::Resynchronise() {
  // *OPC? is answered "1" after everything before it: the late replies come first and
  // are dropped, and the next query's reply is then its own.
  link_.DropStaleInput();
  const Status sent = co_await link_.Send("*OPC?\n");
  if (!sent.ok()) co_return false;
  const auto deadline = std::chrono::steady_clock::now() + 2 * timeout_;
  for (;;) {
    auto line = co_await link_.ReadLine(deadline);
    if (!line) co_return false;
    if (line->text == "1") co_return true;
    spdlog::info("instrument {}: dropped a late reply \"{}\"", instrument_, line->text);
  }
}

asio::awaitable<std::vector<Reading>> ScpiMeter::Poll() {
  std::vector<Reading> readings;
  std::string lost_step;  // the query after which replies can no longer be trusted to match
  for (const Measurement& measurement : settings_.measurements) {
    const int64_t at = NowNs();
    Reading reading;
    if (!lost_step.empty()) {
      reading = Flagged(NO_REPLY, fmt::format("not asked: {} was not answered in step", lost_step));
    } else {
      auto line = co_await link_.Transact(measurement.query + "\n", timeout_);
      if (!line) {
        reading = Flagged(QualityOf(line.error()), line.error().message());
      } else {
        auto parsed = ParseMeasurement(line->text);
        reading = parsed ? std::move(*parsed) : Flagged(BAD_FRAME, parsed.error().message());
        reading.set_raw_frame(line->raw);
      }
      // A reply that came late, or garbled, may be followed by one that belongs to this
      // query: no later query of this poll is sent until the instrument is back in step.
      if (reading.quality() == NO_REPLY || reading.quality() == BAD_FRAME) lost_step = measurement.query;
    }
    reading.set_channel(measurement.channel);
    reading.set_unit(measurement.unit);
    reading.set_requested_at_ns(at);
    readings.push_back(std::move(reading));
    if (!link_.is_open()) break;
  }
  if (!link_.is_open()) {
    // The link went down mid-poll: the channels not asked are flagged too.
    for (size_t i = readings.size(); i < settings_.measurements.size(); ++i) {
      Reading& reading = readings.emplace_back(FlagAll(DISCONNECTED, "link lost during the poll", NowNs())[i]);
      reading.set_unit(settings_.measurements[i].unit);
    }
    co_return readings;
  }
  if (!lost_step.empty()) {
    const bool in_step = co_await Resynchronise();
    if (!in_step) {
      spdlog::warn("instrument {}: not back in step after {}; reconnecting", instrument_, lost_step);
      link_.Close();
      co_return readings;
    }
  }
  // An error the instrument queued during this poll means it did not measure as asked:
  // none of the poll's values is kept as good.
  const auto errors = co_await DrainErrors("during a poll");
  if (!errors.empty()) {
    const std::string detail = fmt::format("the instrument reported {} during this poll", fmt::join(errors, "; "));
    for (Reading& reading : readings) {
      if (reading.quality() != GOOD) continue;
      reading.set_quality(DEVICE_ERROR);
      reading.clear_value();
      reading.set_detail(detail);
    }
  }
  co_return readings;
}

}  // namespace labtrace::scpi
