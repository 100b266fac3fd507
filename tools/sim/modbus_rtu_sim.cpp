// Modbus RTU devices on one simulated RS-485 line (a pseudo-terminal), for tests,
// benchmarks and training.
//
// Each unit is a climate transmitter with a long register bank (0-based addresses):
//   input 0..1    temperature, °C, float32 CDAB      input 2..3   humidity, %RH, float32 CDAB
//   input n ≥ 4   unit·1000 + n                      holding n    unit·1000 + n (writable, FC06)
//   coil n        1 when n is a multiple of 3        discrete input n   1 when n + unit is odd
// Functions 01–04, 06 and 16; anything else gets exception 1, an address beyond the bank 2.
// A broadcast (unit 0) write is carried out by every unit, and none replies.
//
// A pseudo-terminal moves bytes instantly, so the simulator paces the line itself: it
// keeps the time at which the line is next free and answers a request only when the
// request, the device's turnaround and the reply would have crossed a real line at the
// configured baud rate, with the inter-frame gap (3.5 characters, 1.75 ms above 19 200
// baud) after every frame (Modbus over Serial Line v1.02, §2.5.1.1).
//
// Faults, typed on standard input, per unit ("fault 3 bad-crc"; "fault 3 exception 6 2"
// for twice, then healthy again):
//   no-reply, delay <ms>, garbage, split, bad-crc, wrong-unit, exception <code>, none
// and for the whole line, "fault disconnect": the USB adapter pulled and plugged in
// again (the pseudo-terminal closed, a new one linked at the same path).
#include "sim/modbus_rtu_sim.h"

#include <poll.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "sim/sim_common.h"

namespace {

constexpr uint16_t kBankSize = 2000;

uint16_t Crc16(const uint8_t* data, size_t size) {
  uint16_t crc = 0xFFFF;  // Modbus over Serial Line v1.02, §6.2.2: reflected 0xA001
  for (size_t i = 0; i < size; ++i) {
    crc ^= data[i];
    for (int bit = 0; bit < 8; ++bit) crc = (crc & 1) ? static_cast<uint16_t>((crc >> 1) ^ 0xA001) : crc >> 1;
  }
  return crc;
}

void AppendCrc(std::vector<uint8_t>& frame) {
  const uint16_t crc = Crc16(frame.data(), frame.size());
  frame.push_back(static_cast<uint8_t>(crc & 0xFF));  // low byte first
  frame.push_back(static_cast<uint8_t>(crc >> 8));
}

struct Fault {
  std::string kind = "none";
  double argument = 0;
  int remaining = -1;  // -1: until cleared
};

struct Unit {
  std::vector<uint16_t> holding = std::vector<uint16_t>(kBankSize);
  std::vector<uint16_t> input = std::vector<uint16_t>(kBankSize);
  Fault fault;
};

void PutFloatCdab(uint16_t* registers, float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  registers[0] = static_cast<uint16_t>(bits & 0xFFFFu);
  registers[1] = static_cast<uint16_t>(bits >> 16);
}

double NowS() {
  timespec t{};
  clock_gettime(CLOCK_MONOTONIC, &t);
  return static_cast<double>(t.tv_sec) + t.tv_nsec * 1e-9;
}

// Sleeps for what is left until `when_s`, as relative sleeps: libfaketime (the suite runs
// under `faketime -f +730d` to check the dates) shifts an absolute TIMER_ABSTIME deadline
// on CLOCK_MONOTONIC by its offset even when told not to fake that clock, so an absolute
// sleep returned at once and the line was neither paced nor delayed.
void SleepUntil(double when_s) {
  for (double left = when_s - NowS(); left > 0; left = when_s - NowS()) {
    timespec t{};
    t.tv_sec = static_cast<time_t>(left);
    t.tv_nsec = static_cast<long>((left - static_cast<double>(t.tv_sec)) * 1e9);
    clock_nanosleep(CLOCK_MONOTONIC, 0, &t, nullptr);
  }
}

class Line {
 public:
  explicit Line(const ModbusRtuSimOptions& o) {
    const int bits = 1 + 8 + (o.parity == 'N' ? 0 : 1) + o.stop_bits;
    char_s_ = bits / static_cast<double>(o.baud);
    gap_s_ = o.baud > 19200 ? 0.00175 : 3.5 * char_s_;
    turnaround_s_ = o.turnaround_ms / 1000;
  }
  // When the reply to a request of `request_bytes` that reached us at `arrived_s` has
  // fully crossed the line, and books the line until the gap after it.
  double ReplyDone(double arrived_s, size_t request_bytes, size_t reply_bytes, double extra_s) {
    const double request_start = std::max(arrived_s, free_at_s_);
    const double reply_start = request_start + request_bytes * char_s_ + gap_s_ + turnaround_s_ + extra_s;
    const double reply_end = reply_start + reply_bytes * char_s_;
    free_at_s_ = reply_end + gap_s_;
    return reply_end;
  }
  // A request nobody answers still occupies the line.
  void Silent(double arrived_s, size_t request_bytes) {
    free_at_s_ = std::max(arrived_s, free_at_s_) + request_bytes * char_s_ + gap_s_;
  }
  double char_s() const { return char_s_; }

 private:
  double char_s_, gap_s_, turnaround_s_;
  double free_at_s_ = 0;
};

std::vector<uint8_t> Exception(uint8_t unit, uint8_t function, uint8_t code) {
  std::vector<uint8_t> reply{unit, static_cast<uint8_t>(function | 0x80), code};
  AppendCrc(reply);
  return reply;
}

// The reply of a healthy unit, or nothing for a broadcast.
std::vector<uint8_t> Answer(const std::vector<uint8_t>& request, Unit& unit) {
  const uint8_t id = request[0], function = request[1];
  const uint16_t address = static_cast<uint16_t>(request[2] << 8 | request[3]);
  const uint16_t value = static_cast<uint16_t>(request[4] << 8 | request[5]);
  if (function == 0x01 || function == 0x02) {
    if (value < 1 || value > 2000) return Exception(id, function, 3);
    if (address + value > kBankSize) return Exception(id, function, 2);
    std::vector<uint8_t> reply{id, function, static_cast<uint8_t>((value + 7) / 8)};
    reply.resize(3 + reply[2], 0);
    for (uint16_t i = 0; i < value; ++i) {
      const unsigned n = address + i;
      const bool on = function == 0x01 ? n % 3 == 0 : (n + id) % 2 == 1;
      if (on) reply[3 + i / 8] = static_cast<uint8_t>(reply[3 + i / 8] | (1u << (i % 8)));
    }
    AppendCrc(reply);
    return reply;
  }
  if (function == 0x03 || function == 0x04) {
    if (value < 1 || value > 125) return Exception(id, function, 3);
    if (address + value > kBankSize) return Exception(id, function, 2);
    const std::vector<uint16_t>& bank = function == 0x03 ? unit.holding : unit.input;
    std::vector<uint8_t> reply{id, function, static_cast<uint8_t>(2 * value)};
    for (uint16_t i = 0; i < value; ++i) {
      reply.push_back(static_cast<uint8_t>(bank[address + i] >> 8));
      reply.push_back(static_cast<uint8_t>(bank[address + i] & 0xFF));
    }
    AppendCrc(reply);
    return reply;
  }
  if (function == 0x06) {
    if (address >= kBankSize) return Exception(id, function, 2);
    unit.holding[address] = value;
    std::vector<uint8_t> echo(request.begin(), request.begin() + 6);
    AppendCrc(echo);
    return echo;
  }
  if (function == 0x10) {  // value is the quantity here; the registers follow the byte count
    if (value < 1 || value > 123 || request[6] != 2 * value) return Exception(id, function, 3);
    if (address + value > kBankSize) return Exception(id, function, 2);
    for (uint16_t i = 0; i < value; ++i) {
      unit.holding[address + i] = static_cast<uint16_t>(request[7 + 2 * i] << 8 | request[8 + 2 * i]);
    }
    std::vector<uint8_t> reply(request.begin(), request.begin() + 6);
    AppendCrc(reply);
    return reply;
  }
  return Exception(id, function, 1);
}

// What goes on the wire for a unit with a fault: nothing (no reply), or the reply
// changed; `extra_s` delays it, `split` cuts it in two writes. A fault with a count is
// spent once it has struck that many times.
std::vector<uint8_t> Disturb(std::vector<uint8_t> reply, const std::vector<uint8_t>& request, Unit& unit,
                             double& extra_s, bool& split, std::mt19937& random) {
  Fault& fault = unit.fault;
  const std::string kind = fault.kind;
  const double argument = fault.argument;
  if (kind == "none") return reply;
  if (fault.remaining > 0 && --fault.remaining == 0) fault = Fault();
  if (kind == "no-reply") return {};
  if (kind == "delay") extra_s = argument / 1000;
  if (kind == "split") split = true;
  if (kind == "bad-crc") reply.back() ^= 0x5A;
  if (kind == "garbage") {
    std::uniform_int_distribution<int> byte(0, 255);
    for (uint8_t& b : reply) b = static_cast<uint8_t>(byte(random));
  }
  if (kind == "wrong-unit") {
    reply.resize(reply.size() - 2);
    reply[0] = static_cast<uint8_t>(reply[0] + 1);
    AppendCrc(reply);
  }
  if (kind == "exception") reply = Exception(request[0], request[1], static_cast<uint8_t>(argument));
  return reply;
}

// Expected length of the request that starts `buffer`, or 0 while it cannot be known.
size_t RequestLength(const std::vector<uint8_t>& buffer) {
  if (buffer.size() < 2) return 0;
  if (buffer[1] == 0x10 || buffer[1] == 0x0F) return buffer.size() < 7 ? 0 : 9 + buffer[6];
  return 8;  // 03, 04, 05, 06 and, for the exception reply, anything else
}

// Carries out an operator's command; true for "fault disconnect", which the line's loop
// carries out itself.
bool Operate(const std::string& text, std::map<int, Unit>& units) {
  if (text == "fault disconnect") return true;
  std::istringstream words(text);
  std::string command, kind;
  int id = 0;
  double argument = 0;
  int count = -1;
  words >> command >> id >> kind;
  if (kind == "delay" || kind == "exception") words >> argument;
  if (!(words >> count)) count = -1;
  static const char* const kKinds[] = {"none", "no-reply", "delay", "garbage", "split", "bad-crc", "wrong-unit",
                                       "exception"};
  const bool known = std::find(std::begin(kKinds), std::end(kKinds), kind) != std::end(kKinds);
  if (command != "fault" || units.count(id) == 0 || !known) {
    std::printf("usage: fault disconnect; fault <unit> none|no-reply|delay <ms>|garbage|split|bad-crc|wrong-unit|"
                "exception <code> [times]\n");
  } else {
    units[id].fault = {kind, argument, count};
    std::printf("fault %d %s\n", id, kind.c_str());
  }
  std::fflush(stdout);
  return false;
}

}  // namespace

int RunModbusRtuSimulator(const ModbusRtuSimOptions& options) {
  InstallStopHandlers();
  PseudoTerminal pty = OpenPseudoTerminal(options.link);
  if (pty.master < 0) return 1;
  std::map<int, Unit> units;
  for (int id : options.units) {
    Unit& unit = units[id];
    for (uint16_t n = 0; n < kBankSize; ++n) {
      unit.holding[n] = static_cast<uint16_t>(id * 1000 + n);
      unit.input[n] = static_cast<uint16_t>(id * 1000 + n);
    }
    PutFloatCdab(&unit.input[0], 23.0f + 0.1f * static_cast<float>(id));
    PutFloatCdab(&unit.input[2], 50.0f + static_cast<float>(id));
  }
  for (int id : options.dead) units[id].fault = {"no-reply", 0, -1};
  std::string unit_list;
  for (const auto& [id, unit] : units) unit_list += (unit_list.empty() ? "" : ",") + std::to_string(id);
  std::printf("modbus-rtu on %s linked at %s, units %s, %u 8%c%d\n", pty.slave_path.c_str(), options.link.c_str(),
              unit_list.c_str(), options.baud, options.parity, options.stop_bits);
  std::fflush(stdout);

  Line line(options);
  std::mt19937 random{std::random_device{}()};
  std::vector<uint8_t> pending;
  OperatorInput operator_input;
  while (!StopRequested()) {
    pollfd ready[2] = {{pty.master, POLLIN, 0}, {operator_input.fd(), POLLIN, 0}};
    const int n = poll(ready, 2, 100);
    if (n < 0 && errno != EINTR) break;
    if (n <= 0) continue;
    bool disconnect = false;
    if (ready[1].revents != 0) {
      operator_input.Read([&](const std::string& text) { disconnect = Operate(text, units) || disconnect; });
    }
    if (disconnect) {
      ClosePseudoTerminal(pty, options.link);
      pty = OpenPseudoTerminal(options.link);
      if (pty.master < 0) return 1;
      pending.clear();
      std::printf("fault disconnect: modbus-rtu on %s linked at %s\n", pty.slave_path.c_str(), options.link.c_str());
      std::fflush(stdout);
      continue;
    }
    if ((ready[0].revents & POLLIN) == 0) continue;
    uint8_t chunk[512];
    const ssize_t got = read(pty.master, chunk, sizeof chunk);
    if (got <= 0) continue;
    const double arrived = NowS();
    pending.insert(pending.end(), chunk, chunk + got);
    for (size_t length; (length = RequestLength(pending)) != 0 && pending.size() >= length;) {
      std::vector<uint8_t> request(pending.begin(), pending.begin() + static_cast<long>(length));
      pending.erase(pending.begin(), pending.begin() + static_cast<long>(length));
      const uint16_t crc = Crc16(request.data(), length - 2);
      const bool intact = request[length - 2] == (crc & 0xFF) && request[length - 1] == (crc >> 8);
      auto unit = units.find(request[0]);
      if (!intact) {
        pending.clear();  // a damaged frame: real devices stay silent and resynchronise
        line.Silent(arrived, length);
        continue;
      }
      if (request[0] == 0) {  // broadcast: every unit acts, none replies
        for (auto& [id, each] : units) {
          if (each.fault.kind != "no-reply") (void)Answer(request, each);
        }
        line.Silent(arrived, length);
        continue;
      }
      if (unit == units.end()) {
        line.Silent(arrived, length);
        continue;
      }
      double extra_s = 0;
      bool split = false;
      const std::vector<uint8_t> reply =
          Disturb(Answer(request, unit->second), request, unit->second, extra_s, split, random);
      if (reply.empty()) {
        line.Silent(arrived, length);
        continue;
      }
      const double done = line.ReplyDone(arrived, length, reply.size(), extra_s);
      if (split) {
        // The first half crosses the line, then a pause of a few characters (within
        // libmodbus's byte timeout), then the rest: one frame over two reads.
        const size_t half = reply.size() / 2;
        SleepUntil(done - (reply.size() - half) * line.char_s());
        if (!WriteAll(pty.master, reply.data(), half)) break;
        SleepUntil(done + 5 * line.char_s());
        if (!WriteAll(pty.master, reply.data() + half, reply.size() - half)) break;
      } else {
        SleepUntil(done);
        if (!WriteAll(pty.master, reply.data(), reply.size())) break;
      }
    }
  }
  ClosePseudoTerminal(pty, options.link);
  return 0;
}
