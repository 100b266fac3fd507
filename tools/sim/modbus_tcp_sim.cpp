// A temperature/humidity controller on Modbus TCP, for the demo lab, tests and training.
//
// Register map (the one lab-config/register-maps/climate-th.textproto declares; 0-based):
//   input 0..1    temperature, °C, float32, word order CDAB (low word first)
//   input 2..3    relative humidity, %RH, float32, CDAB
//   holding 0     temperature set point, int16, 0.1 °C per count
// Built on libmodbus's server side; the float encoding below is written out by hand and
// does not share the client's codec, so a word-order mistake on one side cannot hide.
//
// With --units it plays a Modbus TCP to RTU gateway: each listed unit id is a controller
// of its own (unit n has its set point, holding register 0, at (20 + n) °C), and a request for any other
// unit gets exception 11 (gateway target device failed to respond), as a gateway
// answers for a device that stays silent behind it. Without --units it is one device
// that answers every unit id.
//
// Typed on standard input: "fault disconnect" closes every client connection (a
// gateway rebooting, a cable pulled); the clients must connect again. "fault <unit>
// <kind> [arg] [times]" disturbs that unit's replies: no-reply, delay <ms>, garbage (the
// reply's bytes replaced), split (two writes 50 ms apart), stale (first the previous
// reply again, with another value, then the reply: a late answer that arrives after the
// next request), wrong-transaction (the MBAP
// transaction id of another request), wrong-unit, bad-length (an MBAP length that does
// not match), exception <code>, none. Replies are rendered by libmodbus into a socket
// pair first, so a fault changes the real reply's bytes.
#include "sim/modbus_tcp_sim.h"

#include <arpa/inet.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <algorithm>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <modbus.h>

#include "sim/sim_common.h"

namespace {

// CDAB: the low 16-bit word of the IEEE-754 pattern goes to the lower address.
void PutFloatCdab(uint16_t* registers, float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  registers[0] = static_cast<uint16_t>(bits & 0xFFFFu);
  registers[1] = static_cast<uint16_t>(bits >> 16);
}

struct ClimateModel {
  double temperature_c = 23.0;
  double humidity_rh = 52.0;
  int16_t setpoint_counts = 250;  // 25.0 °C
  std::mt19937 random{std::random_device{}()};

  // A slow random walk held near its set point: what a lab's climate chamber shows.
  void Step() {
    std::normal_distribution<double> noise(0.0, 0.02);
    temperature_c += 0.05 * (setpoint_counts / 10.0 - temperature_c) * 0.1 + noise(random);
    humidity_rh += 0.01 * (50.0 - humidity_rh) + 5 * noise(random);
  }
  void Publish(modbus_mapping_t* mapping) const {
    PutFloatCdab(&mapping->tab_input_registers[0], static_cast<float>(temperature_c));
    PutFloatCdab(&mapping->tab_input_registers[2], static_cast<float>(humidity_rh));
    mapping->tab_registers[0] = static_cast<uint16_t>(setpoint_counts);
  }
  // A client may have written the set point (function 06 or 16): the model follows it.
  void Follow(const modbus_mapping_t* mapping) { setpoint_counts = static_cast<int16_t>(mapping->tab_registers[0]); }
};

struct Fault {
  std::string kind = "none";
  int argument = 0;
  int remaining = -1;  // -1: until cleared
};

// "fault 2 exception 6 2": unit 2 answers busy twice. False when not understood.
bool ParseFault(const std::string& line, std::map<int, Fault>& faults) {
  std::istringstream words(line);
  std::string command, kind;
  int unit = 0;
  Fault fault;
  if (!(words >> command >> unit >> kind) || command != "fault") return false;
  static const char* const kKinds[] = {"none", "no-reply", "delay", "garbage", "split", "stale", "wrong-transaction",
                                       "wrong-unit", "bad-length", "exception"};
  if (std::find(std::begin(kKinds), std::end(kKinds), kind) == std::end(kKinds)) return false;
  fault.kind = kind;
  if ((kind == "delay" || kind == "exception") && !(words >> fault.argument)) return false;
  if (!(words >> fault.remaining)) fault.remaining = -1;
  faults[unit] = fault;
  return true;
}

// Sends `reply` (a whole ADU) to `client` as unit `unit`'s fault says. `previous` is the
// last reply sent to this client, and becomes this one.
void Deliver(int client, std::vector<uint8_t> reply, std::vector<uint8_t>& previous, std::map<int, Fault>& faults,
             int unit, std::mt19937& random) {
  const std::vector<uint8_t> before = std::exchange(previous, reply);
  auto found = faults.find(unit);
  // A stale answer needs an earlier one on this connection; until then the fault waits.
  if (found == faults.end() || found->second.kind == "none" || reply.size() < 8 ||
      (found->second.kind == "stale" && before.empty())) {
    WriteAll(client, reply.data(), reply.size());
    return;
  }
  const Fault fault = found->second;
  if (found->second.remaining > 0 && --found->second.remaining == 0) faults.erase(found);
  const auto pause = [](int ms) { usleep(static_cast<useconds_t>(ms) * 1000); };
  if (fault.kind == "no-reply") return;
  if (fault.kind == "delay") pause(fault.argument);
  if (fault.kind == "garbage") {
    for (size_t i = 0; i < reply.size(); ++i) reply[i] = static_cast<uint8_t>(random());
  }
  if (fault.kind == "wrong-transaction") reply[1] = static_cast<uint8_t>(reply[1] + 1);
  if (fault.kind == "wrong-unit") reply[6] = static_cast<uint8_t>(reply[6] + 1);
  if (fault.kind == "bad-length") reply[5] = static_cast<uint8_t>(reply[5] + 2);
  if (fault.kind == "exception") {  // function | 0x80 and the code, in a 9-byte ADU
    reply.resize(9);
    reply[5] = 3;
    reply[7] = static_cast<uint8_t>(reply[7] | 0x80);
    reply[8] = static_cast<uint8_t>(fault.argument);
  }
  if (fault.kind == "stale") {
    // The previous reply again, its last byte one count higher, ahead of the true one: on
    // the wire, a late answer to the previous request that arrives after this request.
    std::vector<uint8_t> late = before;
    late.back() = static_cast<uint8_t>(late.back() + 1);
    WriteAll(client, late.data(), late.size());
  }
  if (fault.kind == "split") {
    const size_t half = reply.size() / 2;
    WriteAll(client, reply.data(), half);
    pause(50);
    WriteAll(client, reply.data() + half, reply.size() - half);
    return;
  }
  WriteAll(client, reply.data(), reply.size());
}

}  // namespace

int RunModbusTcpSimulator(const std::string& host, int port, const std::vector<int>& units) {
  InstallStopHandlers();
  modbus_t* ctx = modbus_new_tcp(host.c_str(), port);
  modbus_mapping_t* mapping = modbus_mapping_new(0, 0, 100, 100);
  // Behind a gateway: a controller per unit id, each with its own registers.
  std::map<int, std::pair<ClimateModel, modbus_mapping_t*>> behind;
  for (int unit : units) {
    auto& [model, unit_mapping] = behind[unit];
    model.setpoint_counts = static_cast<int16_t>(200 + 10 * unit);  // unit n is set to (20 + n) °C
    model.temperature_c = model.setpoint_counts / 10.0;
    unit_mapping = modbus_mapping_new(0, 0, 100, 100);
    model.Publish(unit_mapping);
  }
  if (ctx == nullptr || mapping == nullptr) {
    std::fprintf(stderr, "labtrace-sim: cannot create Modbus context: %s\n", modbus_strerror(errno));
    return 1;
  }
  const int listener = modbus_tcp_listen(ctx, 8);
  if (listener < 0) {
    std::fprintf(stderr, "labtrace-sim: cannot listen on %s:%d: %s\n", host.c_str(), port,
                 modbus_strerror(errno));
    return 1;
  }
  sockaddr_in bound{};
  socklen_t bound_size = sizeof bound;
  getsockname(listener, reinterpret_cast<sockaddr*>(&bound), &bound_size);
  std::printf("modbus-tcp listening on %s:%d%s\n", host.c_str(), ntohs(bound.sin_port),
              units.empty() ? "" : " (a gateway)");
  std::fflush(stdout);

  ClimateModel model;
  model.Publish(mapping);
  std::vector<int> clients;
  std::map<int, std::vector<uint8_t>> last_reply;  // by client descriptor, for the stale fault
  OperatorInput operator_input;
  std::map<int, Fault> faults;
  std::mt19937 random{std::random_device{}()};
  // libmodbus writes its replies here, so that a fault can change them on the way out.
  int rendered[2];
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, rendered) != 0) {
    std::fprintf(stderr, "labtrace-sim: socketpair: %s\n", std::strerror(errno));
    return 1;
  }
  while (!StopRequested()) {
    fd_set readable;
    FD_ZERO(&readable);
    FD_SET(listener, &readable);
    int highest = listener;
    if (operator_input.fd() >= 0) FD_SET(operator_input.fd(), &readable);
    for (int fd : clients) {
      FD_SET(fd, &readable);
      highest = std::max(highest, fd);
    }
    timeval tick{0, 100'000};
    const int ready = select(highest + 1, &readable, nullptr, nullptr, &tick);
    if (ready < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (operator_input.fd() >= 0 && FD_ISSET(operator_input.fd(), &readable)) {
      operator_input.Read([&clients, &faults, &last_reply](const std::string& line) {
        if (line.rfind("fault disconnect", 0) == 0) {
          for (int fd : clients) close(fd);
          last_reply.clear();
          std::printf("fault disconnect: closed %zu connection(s)\n", clients.size());
          clients.clear();
        } else if (ParseFault(line, faults)) {
          std::printf("%s\n", line.c_str());
        } else {
          std::printf("commands: fault disconnect; fault <unit> none|no-reply|delay <ms>|garbage|split|stale|"
                      "wrong-transaction|wrong-unit|bad-length|exception <code> [times]\n");
        }
        std::fflush(stdout);
      });
      continue;
    }
    if (FD_ISSET(listener, &readable)) {
      const int client = accept(listener, nullptr, nullptr);
      if (client >= 0 && client < FD_SETSIZE) clients.push_back(client);
      else if (client >= 0) close(client);
    }
    for (size_t i = 0; i < clients.size();) {
      if (!FD_ISSET(clients[i], &readable)) {
        ++i;
        continue;
      }
      modbus_set_socket(ctx, clients[i]);
      uint8_t query[MODBUS_TCP_MAX_ADU_LENGTH];
      const int length = modbus_receive(ctx, query);
      if (length > 0) {
        const int unit = query[6];  // the MBAP header's unit identifier
        modbus_set_socket(ctx, rendered[0]);
        if (behind.empty()) {
          model.Step();
          model.Publish(mapping);
          modbus_reply(ctx, query, length, mapping);
          model.Follow(mapping);
        } else if (auto found = behind.find(unit); found == behind.end()) {
          modbus_reply_exception(ctx, query, MODBUS_EXCEPTION_GATEWAY_TARGET);
        } else {
          found->second.first.Step();
          found->second.first.Publish(found->second.second);
          modbus_reply(ctx, query, length, found->second.second);
          found->second.first.Follow(found->second.second);
        }
        std::vector<uint8_t> reply(MODBUS_TCP_MAX_ADU_LENGTH);
        const ssize_t got = read(rendered[1], reply.data(), reply.size());
        reply.resize(got > 0 ? static_cast<size_t>(got) : 0);
        Deliver(clients[i], std::move(reply), last_reply[clients[i]], faults, unit, random);
        ++i;
      } else if (length == 0) {
        ++i;  // a request for another unit id: libmodbus ignores it
      } else {
        close(clients[i]);
        last_reply.erase(clients[i]);
        clients.erase(clients.begin() + static_cast<long>(i));
      }
    }
  }
  for (int fd : clients) close(fd);
  close(rendered[0]);
  close(rendered[1]);
  close(listener);
  modbus_mapping_free(mapping);
  for (auto& [unit, controller] : behind) modbus_mapping_free(controller.second);
  modbus_free(ctx);
  return 0;
}
