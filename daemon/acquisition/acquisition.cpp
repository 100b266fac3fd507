#include "acquisition/acquisition.h"

#include <algorithm>
#include <cassert>
#include <map>
#include <mutex>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "acquisition/text_instruments.h"
#include "config/lab_calendar.h"
#include "config/lab_config.h"
#include "driver_table/driver_table.h"
#include "labtrace/clock.h"

namespace labtrace::acquisition {

namespace asio = boost::asio;

namespace {

// Stamps every reading with where it came from (polled or pushed, by which driver on
// which bus) and its instrument's calibration, and refuses (flags, without a value) a
// reading taken after the calibration's due date unless an override was approved.
// The check is made at capture, reading by reading, so an instrument that expires while
// the daemon runs is caught the moment it does.
ReadingSink StampOrigin(const config::Lab& lab, ReadingSink inner) {
  struct Stamp {
    Provenance provenance;
    bool calibrated;
    std::string certificate, due_date;
    int64_t ends_at_ns;
    bool overridden;
  };
  std::map<std::string, Stamp, std::less<>> stamps;
  const config::LabCalendar calendar = config::LabCalendar::Of(lab);
  for (const auto& instrument : lab.instruments()) {
    const drivers::Driver* driver = drivers::FindDriver(instrument.driver());
    if (driver == nullptr || !drivers::ReadByTheDaemon(*driver)) continue;
    Stamp& stamp = stamps[instrument.name()];
    stamp.provenance.set_source(drivers::PrintsByItself(instrument) ? Provenance::PUSHED : Provenance::POLLED);
    stamp.provenance.set_driver(instrument.driver());
    stamp.provenance.set_bus(instrument.bus());
    stamp.calibrated = instrument.has_calibration();
    const auto& c = instrument.calibration();
    stamp.certificate = c.certificate();
    stamp.due_date = c.due_date();
    stamp.ends_at_ns = stamp.calibrated ? calendar.EndOfDayNs(c.due_date()).value_or(0) : 0;
    stamp.overridden = c.has_override_expired();
  }
  return [stamps = std::move(stamps), inner = std::move(inner)](std::vector<Reading> readings) {
    for (Reading& reading : readings) {
      auto found = stamps.find(reading.instrument());
      if (found == stamps.end()) continue;
      const Stamp& stamp = found->second;
      *reading.mutable_provenance() = stamp.provenance;
      if (!stamp.calibrated) continue;
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
      const int64_t now_ns = NowNs();
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

// Puts what an instrument says it is on its health record, warns when it is not the one
// the lab-config's equipment record describes, and passes it on (to the audit trail).
IdentitySink NoteIdentity(const config::Lab& lab, std::shared_ptr<HealthBoard> board, IdentitySink inner) {
  return [&lab, board, inner = std::move(inner)](const std::string& name, const InstrumentIdentity& identity) {
    spdlog::info("instrument {}: identifies as {} {}, serial number {}, firmware {}", name, identity.manufacturer(),
                 identity.model(), identity.serial_number(), identity.firmware());
    const config::Instrument* record = config::FindInstrumentConfig(lab, name);
    if (record != nullptr && !record->serial_number().empty() && !identity.serial_number().empty() &&
        record->serial_number() != identity.serial_number()) {
      spdlog::warn("instrument {}: reports serial number {}, but lab-config's equipment record says {}: is this the "
                   "instrument the record and its calibration are for?",
                   name, identity.serial_number(), record->serial_number());
    }
    {
      std::lock_guard lock(board->mutex);
      auto found = board->by_instrument.try_emplace(name, InstrumentHealth(name)).first;
      found->second.Identified(identity);
    }
    inner(name, identity);
  };
}

Result<std::unique_ptr<Acquisition>> Acquisition::Create(asio::io_context& io, const config::Lab& lab,
                                                         ReadingSink sink, IdentitySink identified,
                                                         std::shared_ptr<ReadingBuffers> buffers) {
  // Every reading passes: provenance and calibration stamp and check → health log → the store.
  auto board = std::make_shared<HealthBoard>();
  std::unique_ptr<Acquisition> acquisition(
      new Acquisition(io, lab, StampOrigin(lab, ObserveHealth(board, std::move(sink))), board));
  acquisition->identified_ = NoteIdentity(lab, board, std::move(identified));
  // Each instrument built by its driver's row of the table: a text instrument runs as a
  // coroutine, a Modbus device joins its bus's worker.
  std::map<std::string, std::vector<ModbusBus::Member>> modbus_members;
  for (const auto& instrument : lab.instruments()) {
    const drivers::Driver* driver = drivers::FindDriver(instrument.driver());
    assert(driver != nullptr && "the lab-config was validated");
    if (!drivers::ReadByTheDaemon(*driver)) continue;  // its readings are uploaded or imported
    const config::Bus* bus = config::FindBus(lab, instrument.bus());
    assert(bus != nullptr && "the lab-config was validated");
    const std::chrono::milliseconds period(instrument.period_ms());
    if (const auto* make = std::get_if<drivers::MakeTextInstrument>(&driver->make)) {
      auto text = (*make)(io.get_executor(), *bus, instrument);
      if (!text) return Error(text.error());
      acquisition->text_instruments_.push_back({std::move(*text), period, instrument.driver()});
    } else {
      const auto make_device = std::get<drivers::MakeModbusDevice>(driver->make);
      auto device = make_device(instrument, *config::FindRegisterMap(lab, instrument.modbus().register_map()));
      if (!device) return Error(device.error());
      modbus_members[instrument.bus()].push_back({std::move(*device), period});
    }
  }
  std::vector<std::unique_ptr<ModbusBus>> tcp_buses;
  for (auto& [bus_name, members] : modbus_members) {
    const config::Bus* bus = config::FindBus(lab, bus_name);
    if (bus->has_serial()) {
      auto link = std::make_unique<modbus::ModbusRtuLink>(modbus::SerialSettings{
          bus->serial().device(), bus->serial().baud(), bus->serial().parity()[0],
          static_cast<int>(bus->serial().stop_bits())});
      std::vector<std::unique_ptr<ModbusBus>> line;
      line.push_back(
          std::make_unique<ModbusBus>(bus_name, std::move(link), std::move(members), acquisition->sink_, buffers));
      acquisition->modbus_workers_.push_back(std::make_unique<ModbusWorker>(std::move(line)));
    } else {
      auto link = std::make_unique<modbus::ModbusTcpLink>(bus->modbus_tcp().host(),
                                                          static_cast<uint16_t>(bus->modbus_tcp().port()));
      tcp_buses.push_back(
          std::make_unique<ModbusBus>(bus_name, std::move(link), std::move(members), acquisition->sink_, buffers));
    }
  }
  if (!tcp_buses.empty()) acquisition->modbus_workers_.push_back(std::make_unique<ModbusWorker>(std::move(tcp_buses)));
  return acquisition;
}

void Acquisition::Write(const std::string& bus, RegisterWrite write, WriteDone done) {
  for (auto& worker : modbus_workers_) {
    if (ModbusBus* found = worker->Find(bus)) return found->Write(std::move(write), std::move(done));
  }
  done(Error(NotFound(fmt::format("no Modbus bus is named \"{}\"", bus))));
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
  for (auto& worker : modbus_workers_) worker->Start();
  for (auto& [instrument, period, driver] : text_instruments_) {
    spdlog::info("instrument {}: {} on {}{}", instrument->instrument(), driver, instrument->where(),
                 instrument->pushed() ? ", listening for what it prints" : fmt::format(" every {} ms", period.count()));
    auto& signal = text_poller_signals_.emplace_back(std::make_unique<asio::cancellation_signal>());
    asio::co_spawn(io_, RunTextInstrument(instrument, period, sink_, identified_),
                   asio::bind_cancellation_slot(signal->slot(), asio::detached));
  }
}

void Acquisition::Stop() {
  for (auto& signal : text_poller_signals_) signal->emit(asio::cancellation_type::terminal);
  for (auto& worker : modbus_workers_) worker->Stop();
}

}  // namespace labtrace::acquisition
