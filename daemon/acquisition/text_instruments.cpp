#include "acquisition/text_instruments.h"

#include <algorithm>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fmt/format.h>

#include "config/lab_config.h"
#include "line/line_instrument.h"
#include "mtsics/balance.h"
#include "sbi/balance.h"
#include "scpi/meter.h"

namespace labtrace::acquisition {

namespace asio = boost::asio;

bool IsTextDriver(const std::string& driver) {
  return driver == "mt-sics" || driver == "sbi" || driver == "scpi" || driver == "line";
}

namespace {

text::Endpoint EndpointOf(const config::Bus& bus) {
  if (bus.has_tcp()) return text::TcpPort{bus.tcp().host(), static_cast<uint16_t>(bus.tcp().port())};
  const auto& serial = bus.serial();
  return text::SerialPort{serial.device(), serial.baud(), serial.parity().empty() ? 'N' : serial.parity()[0],
                          static_cast<int>(serial.stop_bits())};
}

}  // namespace

Result<std::shared_ptr<text::TextInstrument>> MakeTextInstrument(asio::any_io_executor executor,
                                                                 const config::Lab& lab,
                                                                 const config::Instrument& instrument) {
  const config::Bus* bus = config::FindBus(lab, instrument.bus());
  const text::Endpoint endpoint = EndpointOf(*bus);
  const std::chrono::milliseconds timeout(instrument.timeout_ms());
  const std::string& driver = instrument.driver();
  if (driver == "mt-sics") {
    mtsics::BalanceSettings settings{instrument.mt_sics().channel(), instrument.mt_sics().command(),
                                     instrument.mt_sics().mode() == config::PUSHED};
    return std::make_shared<mtsics::MtSicsBalance>(executor, endpoint, instrument.name(), std::move(settings), timeout);
  }
  if (driver == "sbi") {
    sbi::BalanceSettings settings{instrument.sbi().channel(), instrument.sbi().unit(),
                                  instrument.sbi().mode() == config::PUSHED};
    return std::make_shared<sbi::SbiBalance>(executor, endpoint, instrument.name(), std::move(settings), timeout);
  }
  if (driver == "scpi") {
    scpi::MeterSettings settings;
    settings.setup.assign(instrument.scpi().setup().begin(), instrument.scpi().setup().end());
    for (const auto& measurement : instrument.scpi().measurements()) {
      settings.measurements.push_back({measurement.channel(), measurement.query(), measurement.unit()});
    }
    return std::make_shared<scpi::ScpiMeter>(executor, endpoint, instrument.name(), std::move(settings), timeout);
  }
  if (driver == "line") {
    const auto& config = instrument.line();
    auto pattern = line::LinePattern::Compile(config.pattern());
    if (!pattern) return Error(pattern.error().Annotate(fmt::format("instrument {}", instrument.name())));
    std::optional<line::LinePattern> skip;
    if (!config.skip_pattern().empty()) {
      auto compiled = line::LinePattern::CompileFilter(config.skip_pattern());
      if (!compiled) return Error(compiled.error().Annotate(fmt::format("instrument {}", instrument.name())));
      skip = std::move(*compiled);
    }
    line::LineSettings settings{std::move(*pattern), std::move(skip), config.channel(), config.unit(), config.command()};
    return std::make_shared<line::LineInstrument>(executor, endpoint, instrument.name(), std::move(settings), timeout);
  }
  return Error(InvalidArgument(fmt::format("instrument {}: \"{}\" is not a text driver", instrument.name(), driver)));
}

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
