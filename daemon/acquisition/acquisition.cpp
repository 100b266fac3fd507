#include "acquisition/acquisition.h"

#include <algorithm>
#include <map>
#include <mutex>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "config/lab_config.h"
#include "mtsics/balance.h"

namespace labtrace::acquisition {

namespace asio = boost::asio;

namespace {

// Polls one balance at its period for as long as the coroutine is not cancelled. A
// balance that cannot be reached is retried with back-off, and every attempt is
// recorded as a reading flagged with why there is no value.
asio::awaitable<void> PollBalance(std::shared_ptr<mtsics::MtSicsBalance> balance,
                                  std::chrono::milliseconds period, ReadingSink sink,
                                  std::string instrument) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  auto next = std::chrono::steady_clock::now();
  auto backoff = period;
  std::string identified;
  for (;;) {
    Reading reading = co_await balance->Weigh();
    if (!balance->identification().empty() && balance->identification() != identified) {
      identified = balance->identification();
      spdlog::info("instrument {}: balance identifies as {}", instrument, identified);
    }
    const bool reachable = reading.quality() != DISCONNECTED;
    sink({std::move(reading)});
    backoff = reachable ? period : std::min<std::chrono::milliseconds>(backoff * 2, kMaxReconnectBackoff);
    next += reachable ? period : backoff;
    const auto now = std::chrono::steady_clock::now();
    if (next < now) next = now + (reachable ? period : backoff);
    timer.expires_at(next);
    co_await timer.async_wait(asio::use_awaitable);
  }
}

}  // namespace

namespace {

// Stamps every reading with its instrument's calibration, and refuses (flags, without a
// value) a reading taken after the calibration's due date unless an override was approved.
// The check is made at capture, reading by reading, so an instrument that expires while
// the daemon runs is caught the moment it does.
ReadingSink StampCalibration(const config::Lab& lab, ReadingSink inner) {
  struct Stamp {
    std::string certificate, due_date;
    int64_t ends_at_ns;
    bool overridden;
  };
  std::map<std::string, Stamp, std::less<>> stamps;
  for (const auto& instrument : lab.instruments()) {
    if (!instrument.has_calibration()) continue;
    const auto& c = instrument.calibration();
    stamps[instrument.name()] = {c.certificate(), c.due_date(), config::CalibrationEndsAtNs(c.due_date()).value_or(0),
                                 c.has_override_expired()};
  }
  return [stamps = std::move(stamps), inner = std::move(inner)](std::vector<Reading> readings) {
    for (Reading& reading : readings) {
      auto found = stamps.find(reading.instrument());
      if (found == stamps.end()) continue;
      const Stamp& stamp = found->second;
      reading.set_calibration_certificate(stamp.certificate);
      reading.set_calibration_due_date(stamp.due_date);
      if (reading.requested_at_ns() >= stamp.ends_at_ns && !stamp.overridden) {
        reading.set_quality(CALIBRATION_EXPIRED);
        reading.clear_value();
        reading.set_detail(fmt::format(
            "calibration {} expired after {}; recalibrate, or approve an override in lab-config "
            "(calibration.override_expired with approved_by and reason)",
            stamp.certificate, stamp.due_date));
      }
    }
    inner(std::move(readings));
  };
}

// Logs each instrument's change between good and not good, and keeps its health counts,
// whichever driver or thread the readings come from, after the calibration check has had
// its say.
ReadingSink ObserveHealth(std::shared_ptr<HealthBoard> board, ReadingSink inner) {
  return [board, inner = std::move(inner)](std::vector<Reading> readings) {
    if (!readings.empty()) {
      const int64_t now_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                                 std::chrono::system_clock::now().time_since_epoch())
                                 .count();
      std::lock_guard lock(board->mutex);
      const std::string& name = readings.front().instrument();
      auto found = board->by_instrument.find(name);
      if (found == board->by_instrument.end()) found = board->by_instrument.emplace(name, InstrumentHealth(name)).first;
      found->second.Observe(readings, now_ns);
    }
    inner(std::move(readings));
  };
}

}  // namespace

Result<std::unique_ptr<Acquisition>> Acquisition::Create(asio::io_context& io, const config::Lab& lab,
                                                         ReadingSink sink) {
  // Every reading passes: calibration stamp and check → health log → the store.
  auto board = std::make_shared<HealthBoard>();
  std::unique_ptr<Acquisition> acquisition(
      new Acquisition(io, lab, StampCalibration(lab, ObserveHealth(board, std::move(sink))), board));
  std::map<std::string, std::vector<ModbusBus::Member>> modbus_members;
  for (const auto& instrument : lab.instruments()) {
    if (instrument.driver() != "modbus") continue;
    const config::RegisterMap* map = config::FindRegisterMap(lab, instrument.modbus().register_map());
    auto device = modbus::ModbusDevice::Create(
        instrument.name(), static_cast<uint8_t>(instrument.modbus().unit_id()), *map,
        instrument.modbus().max_gap_registers(), std::chrono::milliseconds(instrument.timeout_ms()),
        instrument.modbus().retries());
    if (!device) return Error(device.error().Annotate(fmt::format("instrument {}", instrument.name())));
    modbus_members[instrument.bus()].push_back(
        {std::move(*device), std::chrono::milliseconds(instrument.period_ms())});
  }
  for (auto& [bus_name, members] : modbus_members) {
    const config::Bus* bus = config::FindBus(lab, bus_name);
    std::unique_ptr<modbus::ModbusLink> link;
    if (bus->has_serial()) {
      link = std::make_unique<modbus::ModbusRtuLink>(modbus::SerialSettings{
          bus->serial().device(), bus->serial().baud(), bus->serial().parity()[0],
          static_cast<int>(bus->serial().stop_bits())});
    } else {
      link = std::make_unique<modbus::ModbusTcpLink>(bus->modbus_tcp().host(),
                                                     static_cast<uint16_t>(bus->modbus_tcp().port()));
    }
    acquisition->modbus_buses_.push_back(
        std::make_unique<ModbusBus>(bus_name, std::move(link), std::move(members), acquisition->sink_));
  }
  return acquisition;
}

api::HealthResponse Acquisition::Health() const {
  api::HealthResponse response;
  std::lock_guard lock(health_->mutex);
  for (const auto& [name, health] : health_->by_instrument) *response.add_instruments() = health.status();
  return response;
}

Acquisition::~Acquisition() {
  Stop();
}

void Acquisition::Start() {
  for (auto& bus : modbus_buses_) bus->Start();
  for (const auto& instrument : lab_.instruments()) {
    if (instrument.driver() != "mt-sics") continue;
    const config::Bus* bus = config::FindBus(lab_, instrument.bus());
    mtsics::BalanceSettings settings;
    settings.instrument = instrument.name();
    settings.channel = instrument.mt_sics().channel();
    settings.command = instrument.mt_sics().command();
    settings.timeout = std::chrono::milliseconds(instrument.timeout_ms());
    auto balance = std::make_shared<mtsics::MtSicsBalance>(io_.get_executor(), std::move(settings),
                                                           bus->serial().device(), bus->serial().baud());
    spdlog::info("instrument {}: MT-SICS balance on {} every {} ms", instrument.name(),
                 bus->serial().device(), instrument.period_ms());
    auto& signal = serial_pollers_.emplace_back(std::make_unique<asio::cancellation_signal>());
    asio::co_spawn(io_,
                   PollBalance(balance, std::chrono::milliseconds(instrument.period_ms()), sink_,
                               instrument.name()),
                   asio::bind_cancellation_slot(signal->slot(), asio::detached));
  }
}

void Acquisition::Stop() {
  for (auto& signal : serial_pollers_) signal->emit(asio::cancellation_type::terminal);
  for (auto& bus : modbus_buses_) bus->Stop();
}

}  // namespace labtrace::acquisition
