#include "config/lab_config.h"

#include <arpa/inet.h>

#include <cassert>
#include <cstdio>
#include <ctime>
#include <cctype>
#include <charconv>
#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <vector>

#include <fmt/format.h>
#include <openssl/evp.h>
#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/text_format.h>

#include "config/locator.h"
#include "config/proto_file.h"
#include "labtrace/metrology.pb.h"
#include "modbus/register_plan.h"
#include "modbus/value_codec.h"
#include "config/lab_calendar.h"
#include "driver_table/driver_table.h"

namespace labtrace::config {

namespace {

bool IsNumericAddress(const std::string& host) {
  in6_addr v6{};
  in_addr v4{};
  return inet_pton(AF_INET, host.c_str(), &v4) == 1 || inet_pton(AF_INET6, host.c_str(), &v6) == 1;
}

bool IsStandardBaud(uint32_t baud) {
  for (uint32_t b : {300u, 600u, 1200u, 2400u, 4800u, 9600u, 19200u, 38400u, 57600u, 115200u,
                     230400u}) {
    if (b == baud) return true;
  }
  return false;
}

std::string KnownDrivers() {
  std::string names;
  for (const drivers::Driver& driver : drivers::Drivers()) {
    if (!names.empty()) names += ", ";
    names += driver.name;
  }
  return names;
}

Status ValidateBuses(const Lab& lab, const Locator& at) {
  std::map<std::string, int> seen;
  for (int i = 0; i < lab.buses_size(); ++i) {
    const Bus& bus = lab.buses(i);
    if (bus.name().empty()) return Invalid(at.At({{"buses", i}}), "bus has no name");
    if (auto [it, fresh] = seen.emplace(bus.name(), i); !fresh) {
      return Invalid(at.At({{"buses", i}, {"name"}}),
                     fmt::format("\"{}\" is already the name of buses[{}]", bus.name(), it->second));
    }
    switch (bus.link_case()) {
      case Bus::kModbusTcp:
        if (bus.modbus_tcp().host().empty()) {
          return Invalid(at.At({{"buses", i}, {"modbus_tcp"}, {"host"}}), "host is empty");
        }
        if (!IsNumericAddress(bus.modbus_tcp().host())) {
          // One worker polls every Modbus TCP bus; a name lookup would hold them all
          // while the name server is slow or gone.
          return Invalid(at.At({{"buses", i}, {"modbus_tcp"}, {"host"}}),
                         fmt::format("\"{}\" is not an IP address: give the device's or gateway's address "
                                     "(192.168.1.20, fd00::20), not a name",
                                     bus.modbus_tcp().host()));
        }
        if (bus.modbus_tcp().port() == 0 || bus.modbus_tcp().port() > 65535) {
          return Invalid(at.At({{"buses", i}, {"modbus_tcp"}, {"port"}}),
                         fmt::format("port {} is not in 1..65535 (Modbus TCP uses 502)",
                                     bus.modbus_tcp().port()));
        }
        break;
      case Bus::kSerial:
        if (bus.serial().device().empty() || bus.serial().device()[0] != '/') {
          return Invalid(at.At({{"buses", i}, {"serial"}, {"device"}}),
                         fmt::format("\"{}\" is not an absolute device path like /dev/ttyUSB0",
                                     bus.serial().device()));
        }
        if (bus.serial().baud() != 0 && !IsStandardBaud(bus.serial().baud())) {
          return Invalid(at.At({{"buses", i}, {"serial"}, {"baud"}}),
                         fmt::format("{} is not a standard baud rate", bus.serial().baud()));
        }
        if (const std::string& parity = bus.serial().parity();
            !parity.empty() && parity != "N" && parity != "E" && parity != "O") {
          return Invalid(at.At({{"buses", i}, {"serial"}, {"parity"}}),
                         fmt::format("\"{}\" is not a parity; use \"N\", \"E\" or \"O\"", parity));
        }
        if (bus.serial().stop_bits() > 2) {
          return Invalid(at.At({{"buses", i}, {"serial"}, {"stop_bits"}}), "stop bits are 1 or 2");
        }
        break;
      case Bus::kTcp:
        if (bus.tcp().host().empty()) return Invalid(at.At({{"buses", i}, {"tcp"}, {"host"}}), "host is empty");
        if (bus.tcp().port() == 0 || bus.tcp().port() > 65535) {
          return Invalid(at.At({{"buses", i}, {"tcp"}, {"port"}}),
                         fmt::format("port {} is not in 1..65535 (SCPI instruments use 5025)", bus.tcp().port()));
        }
        break;
      case Bus::LINK_NOT_SET:
        return Invalid(at.At({{"buses", i}}),
                       fmt::format("bus \"{}\" has no link: add modbus_tcp {{…}}, serial {{…}} or tcp {{…}}",
                                   bus.name()));
    }
  }
  return OkStatus();
}

Status ValidateRegisterMaps(const Lab& lab, const Locator& at) {
  std::map<std::string, int> seen;
  for (int m = 0; m < lab.register_maps_size(); ++m) {
    const RegisterMap& map = lab.register_maps(m);
    if (map.name().empty()) return Invalid(at.At({{"register_maps", m}}), "register map has no name");
    if (auto [it, fresh] = seen.emplace(map.name(), m); !fresh) {
      return Invalid(at.At({{"register_maps", m}, {"name"}}),
                     fmt::format("\"{}\" is already the name of register_maps[{}]", map.name(), it->second));
    }
    struct Span {
      uint32_t first, end;
      int index;
      int bit;  // for a BIT of a register, which one; -1 otherwise
    };
    std::map<std::string, int> names;
    std::map<RegisterTable, std::vector<Span>> used;
    for (int r = 0; r < map.registers_size(); ++r) {
      const Register& reg = map.registers(r);
      auto here = [&](std::string_view field) {
        return at.At({{"register_maps", m}, {"registers", r}, {field}});
      };
      if (reg.name().empty()) return Invalid(at.At({{"register_maps", m}, {"registers", r}}), "register has no name");
      if (auto [it, fresh] = names.emplace(reg.name(), r); !fresh) {
        return Invalid(here("name"), fmt::format("\"{}\" is already the name of registers[{}]", reg.name(), it->second));
      }
      if (reg.table() == REGISTER_TABLE_UNSPECIFIED) {
        return Invalid(here("table"), "table must be HOLDING, INPUT, COIL or DISCRETE_INPUT");
      }
      if (reg.type() == VALUE_TYPE_UNSPECIFIED) return Invalid(here("type"), "type is missing (INT16, FLOAT32, …)");
      const bool bit_table = reg.table() == COIL || reg.table() == DISCRETE_INPUT;
      if (bit_table && reg.type() != BIT) {
        return Invalid(here("type"), "coils and discrete inputs are single bits: type must be BIT");
      }
      if (reg.type() == BIT && reg.bit() > 15) {
        return Invalid(here("bit"), fmt::format("bit {} is not in 0..15 (0 is the least significant)", reg.bit()));
      }
      const int bit = reg.type() == BIT && !bit_table ? static_cast<int>(reg.bit()) : -1;
      if (reg.type() == STRING) {
        if (reg.length() == 0 || reg.length() > 125) {
          return Invalid(here("length"), fmt::format("a STRING takes 1..125 registers (two characters each), not {}",
                                                     reg.length()));
        }
        if (bit_table) return Invalid(here("table"), "a STRING is in HOLDING or INPUT registers");
        if (reg.word_order() != WORD_ORDER_UNSPECIFIED && reg.word_order() != ABCD && reg.word_order() != BADC) {
          return Invalid(here("word_order"), "a STRING's characters are ABCD (high byte first) or BADC (low byte first)");
        }
        if (reg.scale() != 0 || reg.offset() != 0) return Invalid(here("scale"), "a STRING has no scale or offset");
      } else if (reg.length() != 0) {
        return Invalid(here("length"), "length is for STRING registers; the type sets the others' width");
      } else if (reg.unit().empty()) {
        return Invalid(here("unit"), "unit is missing (write \"1\" for a dimensionless value)");
      }
      if (reg.writable() && (reg.table() != HOLDING || reg.type() == BIT || reg.type() == STRING)) {
        return Invalid(here("writable"), fmt::format("only a HOLDING register holding a number can be written, not {} {}",
                                                     RegisterTable_Name(reg.table()), ValueType_Name(reg.type())));
      }
      auto address = modbus::WireAddress(map, reg);
      if (!address) return Invalid(here("address"), address.error().message());
      const uint32_t first = *address, end = first + modbus::RegisterCount(reg);
      for (const Span& other : used[reg.table()]) {
        // Bits of one register may be named apart; the same bit twice may not.
        if (bit >= 0 && other.bit >= 0 && bit != other.bit) continue;
        if (first < other.end && other.first < end) {
          const Register& o = map.registers(other.index);
          const uint32_t shown = reg.address() - first;  // 0 or 1, back to the map's numbering
          return Invalid(here("address"),
                         fmt::format("{} overlaps \"{}\" ({}..{})", reg.address(), o.name(),
                                     other.first + shown, other.end - 1 + shown));
        }
      }
      used[reg.table()].push_back({first, end, r, bit});
    }
  }
  return OkStatus();
}

Status ValidateInstruments(const Lab& lab, const Locator& at) {
  std::map<std::string, int> seen;
  for (int i = 0; i < lab.instruments_size(); ++i) {
    const Instrument& instrument = lab.instruments(i);
    auto here = [&](std::initializer_list<Step> rest) {
      std::vector<Step> steps{{"instruments", i}};
      steps.insert(steps.end(), rest);
      return at.At(steps);
    };
    if (instrument.name().empty()) return Invalid(here({}), "instrument has no name");
    if (auto [it, fresh] = seen.emplace(instrument.name(), i); !fresh) {
      return Invalid(here({{"name"}}), fmt::format("\"{}\" is already the name of instruments[{}]",
                                                   instrument.name(), it->second));
    }
    const drivers::Driver* driver = drivers::FindDriver(DriverOf(instrument));
    if (driver == nullptr) {
      return Invalid(here({{"driver"}}), fmt::format("unknown driver \"{}\"; known drivers: {}",
                                                     instrument.driver(), KnownDrivers()));
    }
    if (drivers::ReadByTheDaemon(*driver)) {
      if (instrument.has_result_files()) {
        return Invalid(here({{"result_files"}}),
                       fmt::format("result files are for instruments the daemon does not read: set driver: \"upload\" "
                                   "(now \"{}\"), or remove result_files",
                                   instrument.driver()));
      }
      const Bus* bus = FindBus(lab, instrument.bus());
      if (bus == nullptr) {
        return Invalid(here({{"bus"}}), fmt::format("no bus is named \"{}\"", instrument.bus()));
      }
      if (!drivers::RunsOn(*driver, *bus)) {
        return Invalid(here({{"bus"}}), fmt::format("driver \"{}\" cannot run on bus \"{}\" ({})",
                                                    driver->name, bus->name(),
                                                    bus->has_serial() ? "a serial line"
                                                    : bus->has_tcp()  ? "a raw TCP socket"
                                                                      : "Modbus TCP"));
      }
      // One line speaks one protocol, and on a shared line each Modbus unit id is one device.
      for (int j = 0; j < i; ++j) {
        const Instrument& other = lab.instruments(j);
        if (other.bus() != instrument.bus()) continue;
        if (driver->owns_its_bus || drivers::FindDriver(other.driver())->owns_its_bus) {
          return Invalid(here({{"bus"}}), fmt::format("bus \"{}\" already carries {} ({}); a {} instrument needs "
                                                      "a line of its own",
                                                      bus->name(), other.name(), other.driver(), instrument.driver()));
        }
        if (bus->has_serial() && other.driver() != instrument.driver()) {
          return Invalid(here({{"driver"}}), fmt::format("bus \"{}\" already carries {} ({}); a serial line speaks "
                                                         "one protocol",
                                                         bus->name(), other.driver(), other.name()));
        }
        if (instrument.driver() == "modbus" && other.driver() == "modbus" &&
            other.modbus().unit_id() == instrument.modbus().unit_id()) {
          return Invalid(here({{"modbus"}, {"unit_id"}}),
                         fmt::format("unit id {} is already {} on bus \"{}\"", instrument.modbus().unit_id(),
                                     other.name(), bus->name()));
        }
      }
    } else if (Status upload = ValidateUploadInstrument(lab, instrument, here); !upload.ok()) {
      return upload;
    }
    if (instrument.period_ms() != 0 && instrument.period_ms() < 10) {
      return Invalid(here({{"period_ms"}}), "period below 10 ms; no instrument here answers that fast");
    }
    if (driver->name == "modbus") {
      if (!instrument.has_modbus()) return Invalid(here({}), "driver \"modbus\" needs a modbus { … } block");
      const ModbusDevice& device = instrument.modbus();
      if (device.unit_id() == 0 || device.unit_id() > 255) {
        return Invalid(here({{"modbus"}, {"unit_id"}}),
                       fmt::format("unit id {} is not in 1..255 (0 is broadcast, which gets no reply)",
                                   device.unit_id()));
      }
      if (FindRegisterMap(lab, device.register_map()) == nullptr) {
        return Invalid(here({{"modbus"}, {"register_map"}}),
                       fmt::format("no register map is named \"{}\"", device.register_map()));
      }
    }
    if (instrument.has_calibration()) {
      const InstrumentCalibration& calibration = instrument.calibration();
      if (calibration.certificate().empty()) {
        return Invalid(here({{"calibration"}, {"certificate"}}), "the calibration certificate's number is missing");
      }
      if (auto due = ParseDate(calibration.due_date()); !due) {
        return Invalid(here({{"calibration"}, {"due_date"}}), due.error().message());
      }
      if (calibration.has_override_expired() &&
          (calibration.override_expired().approved_by().empty() || calibration.override_expired().reason().empty())) {
        return Invalid(here({{"calibration"}, {"override_expired"}}),
                       "an override of an expired calibration needs approved_by and reason");
      }
    }
    if (Status settings = ValidateTextDriver(instrument, here); !settings.ok()) return settings;
  }
  return OkStatus();
}

void FillDefaults(Lab& lab) {
  if (lab.api().listen().empty()) lab.mutable_api()->set_listen(std::string(kDefaultListen));
  for (Bus& bus : *lab.mutable_buses()) {
    if (!bus.has_serial()) continue;
    SerialLink& serial = *bus.mutable_serial();
    if (serial.baud() == 0) serial.set_baud(kDefaultBaud);
    if (serial.stop_bits() == 0) serial.set_stop_bits(1);
    if (serial.parity().empty()) {
      const bool modbus = std::any_of(lab.instruments().begin(), lab.instruments().end(), [&](const Instrument& i) {
        return i.bus() == bus.name() && i.driver() == "modbus";
      });
      serial.set_parity(modbus ? "E" : "N");
    }
  }
  for (Instrument& instrument : *lab.mutable_instruments()) {
    instrument.set_driver(DriverOf(instrument));
    if (instrument.period_ms() == 0) instrument.set_period_ms(kDefaultPeriodMs);
    if (instrument.timeout_ms() == 0) instrument.set_timeout_ms(kDefaultTimeoutMs);
    if (instrument.driver() == "modbus" && !instrument.modbus().has_retries()) {
      instrument.mutable_modbus()->set_retries(1);
    }
    FillTextDriverDefaults(instrument);
    FillResultFileDefaults(lab, instrument);
  }
}

}  // namespace

Result<std::pair<std::string, uint16_t>> ParseListen(std::string_view listen) {
  const size_t colon = listen.rfind(':');
  if (colon == std::string_view::npos || colon == 0) {
    return Error(InvalidArgument(fmt::format("\"{}\" is not host:port", listen)));
  }
  std::string_view port_text = listen.substr(colon + 1);
  unsigned port = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || end != port_text.data() + port_text.size() || port > 65535) {
    return Error(InvalidArgument(fmt::format("port \"{}\" is not in 0..65535", port_text)));
  }
  std::string host(listen.substr(0, colon));
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  return std::pair{host, static_cast<uint16_t>(port)};
}

const RegisterMap* FindRegisterMap(const Lab& lab, std::string_view name) {
  for (const auto& map : lab.register_maps()) {
    if (map.name() == name) return &map;
  }
  return nullptr;
}

const Bus* FindBus(const Lab& lab, std::string_view name) {
  for (const auto& bus : lab.buses()) {
    if (bus.name() == name) return &bus;
  }
  return nullptr;
}

Result<Lab> ParseLab(std::string_view text, std::string_view file_name) {
  Lab lab;
  FirstError errors;
  pb::TextFormat::ParseInfoTree tree;
  pb::TextFormat::Parser parser;
  parser.RecordErrorsTo(&errors);
  parser.WriteLocationsTo(&tree);
  parser.AllowFieldNumber(false);
  if (!parser.ParseFromString(std::string(text), &lab)) {
    if (errors.has_error()) return Error(InvalidArgument(errors.Format(file_name)));
    return Error(InvalidArgument(fmt::format("{}: not a valid lab configuration", file_name)));
  }
  const Locator at(file_name, tree);
  if (!lab.time_zone().empty()) {
    if (auto zone = LabCalendar::InZone(lab.time_zone()); !zone) {
      return Error(Invalid(at.At({{"time_zone"}}), zone.error().message()));
    }
  }
  if (const std::string& key = lab.trusted_checkpoint_key();
      !key.empty() && (key.size() != 64 || !std::all_of(key.begin(), key.end(), [](char c) {
        return std::isxdigit(static_cast<unsigned char>(c)) != 0;
      }))) {
    return Error(Invalid(at.At({{"trusted_checkpoint_key"}}),
                         "is not an Ed25519 public key: 64 hex digits, as `labtrace checkpoint key --db "
                         "DATA/labtrace.db` prints them"));
  }
  if (!lab.api().listen().empty()) {
    if (auto listen = ParseListen(lab.api().listen()); !listen) {
      return Error(Invalid(at.At({{"api"}, {"listen"}}), listen.error().message()));
    }
  }
  // MPE tables kept in their own files join the lab before procedures are checked.
  for (int i = 0; i < lab.mpe_table_files_size(); ++i) {
    const std::filesystem::path file = std::filesystem::path(file_name).parent_path() / lab.mpe_table_files(i);
    metrology::MpeTables tables;
    if (Status read = ReadProtoFile(file.string(), tables); !read.ok()) {
      return Error(Invalid(at.At({{"mpe_table_files", i}}), read.message()));
    }
    for (auto& table : *tables.mutable_tables()) *lab.add_mpe_tables() = std::move(table);
  }
  for (Status status : {ValidateBuses(lab, at), ValidateRegisterMaps(lab, at), ValidateInstruments(lab, at),
                        ValidateMetrology(lab, at), ValidateConformity(lab, at)}) {
    if (!status.ok()) return Error(status);
  }
  FillDefaults(lab);
  return lab;
}

std::string FileDigest(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return "";
  std::stringstream text;
  text << file.rdbuf();
  const std::string bytes = text.str();
  unsigned char digest[32];
  if (EVP_Digest(bytes.data(), bytes.size(), digest, nullptr, EVP_sha256(), nullptr) != 1) return "";
  std::string hex;
  for (unsigned char b : digest) hex += fmt::format("{:02x}", b);
  return hex;
}

Result<Lab> LoadLab(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    return Error(NotFound(fmt::format("{}: cannot open: {}", path, std::strerror(errno))));
  }
  std::stringstream text;
  text << file.rdbuf();
  if (file.bad()) return Error(Unavailable(fmt::format("{}: read error", path)));
  return ParseLab(text.str(), path);
}

}  // namespace labtrace::config
