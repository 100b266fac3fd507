// The drivers labtrace has, in one explicit table: the name lab-config gives each, the
// kinds of bus it runs on, whether its instrument needs its bus to itself, and how the
// daemon builds it. Config validation checks an instrument's `driver` against it;
// acquisition builds every instrument from it. Nothing else lists drivers: a new protocol
// is a folder under drivers/ and one row here.
//
// The table is the daemon's, not drivers/'s, because its factories read lab-config;
// drivers/ knows nothing of the daemon. No static registration: it silently vanishes when
// linked from a static library.
#pragma once

#include <memory>
#include <span>
#include <string_view>
#include <variant>

#include <boost/asio/any_io_executor.hpp>

#include "labtrace/config.pb.h"
#include "labtrace/status.h"
#include "modbus/device.h"
#include "text_link/text_instrument.h"

namespace labtrace::drivers {

// The kinds of bus a driver runs on, as bits.
// kTcp: a raw socket carrying lines of text (SCPI port 5025, serial-to-Ethernet converters).
enum BusKind : unsigned { kModbusTcp = 1, kSerial = 2, kTcp = 4 };

// Builds the driver of an instrument that talks in lines of text, on `bus` (the one the
// instrument names). It runs as a coroutine on the daemon's io_context.
using MakeTextInstrument = Result<std::shared_ptr<text::TextInstrument>> (*)(boost::asio::any_io_executor executor,
                                                                             const config::Bus& bus,
                                                                             const config::Instrument& instrument);
// Builds a Modbus device from its register map (borrowed: it must outlive the device),
// polled by its bus's worker thread.
using MakeModbusDevice = Result<modbus::ModbusDevice> (*)(const config::Instrument& instrument,
                                                          const config::RegisterMap& map);

// The "driver" of an instrument the daemon does not read: its readings come from its own
// software, by upload or result file (driver: "upload").
struct NotReadByTheDaemon {};

struct Driver {
  std::string_view name;  // as written in lab-config: driver: "mt-sics"
  unsigned buses;         // the kinds of bus it runs on (BusKind bits); none for "upload"
  bool owns_its_bus;      // its protocol carries no address: one instrument to a line
  std::variant<MakeTextInstrument, MakeModbusDevice, NotReadByTheDaemon> make;
};

// Every driver, in the order error messages list them.
std::span<const Driver> Drivers();
const Driver* FindDriver(std::string_view name);
// Whether the daemon reads the instruments of `driver` itself (all but "upload").
bool ReadByTheDaemon(const Driver& driver);
// Whether `instrument`, read by the daemon, prints by itself and is listened to (a
// balance's auto-print, a line printer) rather than asked.
bool PrintsByItself(const config::Instrument& instrument);
// Whether `driver` runs on a bus such as `bus`.
bool RunsOn(const Driver& driver, const config::Bus& bus);

}  // namespace labtrace::drivers
