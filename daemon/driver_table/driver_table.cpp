#include "driver_table/driver_table.h"

#include <array>
#include <chrono>
#include <optional>

#include <fmt/format.h>

#include "line/line_instrument.h"
#include "mtsics/balance.h"
#include "sbi/balance.h"
#include "scpi/meter.h"

namespace labtrace::drivers {

namespace {

text::Endpoint EndpointOf(const config::Bus& bus) {
  if (bus.has_tcp()) return text::TcpPort{bus.tcp().host(), static_cast<uint16_t>(bus.tcp().port())};
  const auto& serial = bus.serial();
  return text::SerialPort{serial.device(), serial.baud(), serial.parity().empty() ? 'N' : serial.parity()[0],
                          static_cast<int>(serial.stop_bits())};
}

std::chrono::milliseconds TimeoutOf(const config::Instrument& instrument) {
  return std::chrono::milliseconds(instrument.timeout_ms());
}

// Every text driver is built alike: on the instrument's bus, with its name, its
// driver's settings and its reply timeout.
template <typename TextDriver, typename Settings>
Result<std::shared_ptr<text::TextInstrument>> Build(boost::asio::any_io_executor executor, const config::Bus& bus,
                                                    const config::Instrument& instrument, Settings settings) {
  return std::make_shared<TextDriver>(executor, EndpointOf(bus), instrument.name(), std::move(settings),
                                      TimeoutOf(instrument));
}

Result<modbus::ModbusDevice> MakeModbus(const config::Instrument& instrument, const config::RegisterMap& map) {
  auto device = modbus::ModbusDevice::Create(instrument.name(), static_cast<uint8_t>(instrument.modbus().unit_id()),
                                             map, instrument.modbus().max_gap_registers(), TimeoutOf(instrument),
                                             instrument.modbus().retries());
  if (!device) return Error(device.error().Annotate(fmt::format("instrument {}", instrument.name())));
  return device;
}

Result<std::shared_ptr<text::TextInstrument>> MakeMtSics(boost::asio::any_io_executor executor,
                                                         const config::Bus& bus,
                                                         const config::Instrument& instrument) {
  mtsics::BalanceSettings settings{instrument.mt_sics().channel(), instrument.mt_sics().command(),
                                   instrument.mt_sics().mode() == config::PUSHED};
  return Build<mtsics::MtSicsBalance>(executor, bus, instrument, std::move(settings));
}

Result<std::shared_ptr<text::TextInstrument>> MakeSbi(boost::asio::any_io_executor executor, const config::Bus& bus,
                                                      const config::Instrument& instrument) {
  sbi::BalanceSettings settings{instrument.sbi().channel(), instrument.sbi().unit(),
                                instrument.sbi().mode() == config::PUSHED};
  return Build<sbi::SbiBalance>(executor, bus, instrument, std::move(settings));
}

Result<std::shared_ptr<text::TextInstrument>> MakeScpi(boost::asio::any_io_executor executor, const config::Bus& bus,
                                                       const config::Instrument& instrument) {
  scpi::MeterSettings settings;
  settings.setup.assign(instrument.scpi().setup().begin(), instrument.scpi().setup().end());
  for (const auto& measurement : instrument.scpi().measurements()) {
    settings.measurements.push_back({measurement.channel(), measurement.query(), measurement.unit()});
  }
  return Build<scpi::ScpiMeter>(executor, bus, instrument, std::move(settings));
}

Result<std::shared_ptr<text::TextInstrument>> MakeLine(boost::asio::any_io_executor executor, const config::Bus& bus,
                                                       const config::Instrument& instrument) {
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
  return Build<line::LineInstrument>(executor, bus, instrument, std::move(settings));
}

constexpr std::array<Driver, 6> kDrivers{{
    // Modbus register maps, TCP or RTU; units share a line, told apart by unit id.
    {"modbus", kModbusTcp | kSerial, false, MakeModbus},
    // Mettler Toledo MT-SICS balance.
    {"mt-sics", kSerial | kTcp, true, MakeMtSics},
    // Sartorius SBI balance.
    {"sbi", kSerial | kTcp, true, MakeSbi},
    // SCPI meter or calibrator.
    {"scpi", kSerial | kTcp, true, MakeScpi},
    // An instrument that prints lines, read with a pattern (a line printer's port).
    {"line", kSerial | kTcp, true, MakeLine},
    // Not read by the daemon: its software uploads, or leaves result files.
    {"upload", 0, false, NotReadByTheDaemon{}},
}};

}  // namespace

std::span<const Driver> Drivers() {
  return kDrivers;
}

const Driver* FindDriver(std::string_view name) {
  for (const Driver& driver : kDrivers) {
    if (driver.name == name) return &driver;
  }
  return nullptr;
}

bool ReadByTheDaemon(const Driver& driver) { return !std::holds_alternative<NotReadByTheDaemon>(driver.make); }

bool PrintsByItself(const config::Instrument& instrument) {
  // As the factories above hand it to each driver.
  const std::string& driver = instrument.driver();
  if (driver == "mt-sics") return instrument.mt_sics().mode() == config::PUSHED;
  if (driver == "sbi") return instrument.sbi().mode() == config::PUSHED;
  if (driver == "line") return instrument.line().command().empty();
  return false;
}

bool RunsOn(const Driver& driver, const config::Bus& bus) {
  return ((driver.buses & kModbusTcp) != 0 && bus.has_modbus_tcp()) ||
         ((driver.buses & kSerial) != 0 && bus.has_serial()) || ((driver.buses & kTcp) != 0 && bus.has_tcp());
}

}  // namespace labtrace::drivers
