#include "sim/text_sim.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <sstream>

#include "sim/sim_common.h"

namespace {

struct Fault {
  std::string kind = "none";
  double argument = 0;
  int remaining = -1;  // -1: until cleared
};

void SleepMs(double ms) {
  timespec pause{static_cast<time_t>(ms / 1000), static_cast<long>(std::fmod(ms, 1000.0) * 1e6)};
  nanosleep(&pause, nullptr);
}

double NowMs() {
  timespec t{};
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

// The connection to the daemon: a pseudo-terminal's master, or one accepted TCP client.
class Link {
 public:
  explicit Link(const TextSimOptions& options) : options_(options) {}
  ~Link() {
    if (options_.tcp) {
      if (client_ >= 0) close(client_);
      if (listener_ >= 0) close(listener_);
    } else if (pty_.master >= 0) {
      ClosePseudoTerminal(pty_, options_.link);
    }
  }

  bool Open() {
    if (!options_.tcp) {
      pty_ = OpenPseudoTerminal(options_.link);
      if (pty_.master < 0) return false;
      // While nobody reads the terminal, what it prints by itself is dropped, not piled
      // up until a write blocks the simulator.
      fcntl(pty_.master, F_SETFL, fcntl(pty_.master, F_GETFL) | O_NONBLOCK);
      std::printf("%s on %s linked at %s\n", options_.name.c_str(), pty_.slave_path.c_str(), options_.link.c_str());
      return true;
    }
    listener_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const int yes = 1;
    setsockopt(listener_, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(options_.port));
    if (inet_pton(AF_INET, options_.host.c_str(), &address.sin_addr) != 1 ||
        bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 || listen(listener_, 4) != 0) {
      std::fprintf(stderr, "labtrace-sim: cannot listen on %s:%d: %s\n", options_.host.c_str(), options_.port,
                   std::strerror(errno));
      return false;
    }
    socklen_t size = sizeof address;
    getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &size);
    std::printf("%s listening on %s:%d\n", options_.name.c_str(), options_.host.c_str(), ntohs(address.sin_port));
    return true;
  }

  // The descriptor to wait on: the terminal, the client, or (no client yet) the listener.
  int fd() const { return options_.tcp ? (client_ >= 0 ? client_ : listener_) : pty_.master; }
  bool connected() const { return !options_.tcp || client_ >= 0; }

  // Called when fd() is readable: accepts a client, or reads bytes; false when the peer left.
  bool Receive(std::string& received) {
    if (options_.tcp && client_ < 0) {
      client_ = accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
      received.clear();
      return true;
    }
    char chunk[512];
    const ssize_t got = read(fd(), chunk, sizeof chunk);
    if (got > 0) {
      received.append(chunk, static_cast<size_t>(got));
      return true;
    }
    if (got < 0 && (errno == EINTR || errno == EAGAIN)) return true;
    if (options_.tcp) Drop();
    return false;
  }

  bool Send(const std::string& bytes) { return connected() && WriteAll(fd(), bytes.data(), bytes.size()); }

  // The fault "disconnect": as if the cable were pulled and put back.
  void Drop() {
    if (options_.tcp) {
      if (client_ >= 0) close(client_);
      client_ = -1;
      return;
    }
    ClosePseudoTerminal(pty_, options_.link);
    pty_ = OpenPseudoTerminal(options_.link);
    fcntl(pty_.master, F_SETFL, fcntl(pty_.master, F_GETFL) | O_NONBLOCK);
    std::printf("%s on %s linked at %s (after a disconnect)\n", options_.name.c_str(), pty_.slave_path.c_str(),
                options_.link.c_str());
    std::fflush(stdout);
  }

 private:
  const TextSimOptions& options_;
  PseudoTerminal pty_;
  int listener_ = -1;
  int client_ = -1;
};

// Sends `bytes` as the fault says; a fault with a count is spent once it has struck.
void Deliver(Link& link, std::string bytes, Fault& fault, std::mt19937& random) {
  if (bytes.empty()) return;
  const std::string kind = fault.kind;
  const double argument = fault.argument;
  if (kind != "none" && fault.remaining > 0 && --fault.remaining == 0) fault = Fault();
  if (kind == "no-reply") return;
  if (kind == "disconnect") {
    link.Drop();
    return;
  }
  if (kind == "delay") SleepMs(argument);
  std::uniform_int_distribution<int> byte(0, 255);
  if (kind == "garbage") {  // one line of noise: any byte but the line ends
    for (char& c : bytes) {
      do c = static_cast<char>(byte(random));
      while (c == '\r' || c == '\n');
    }
    bytes += "\r\n";
  }
  if (kind == "noise-prefix") bytes.insert(0, std::string{'\x13', static_cast<char>(0xF7), '#', '5'});
  if (kind == "split") {
    const size_t half = bytes.size() / 2;
    link.Send(bytes.substr(0, half));
    SleepMs(40);
    link.Send(bytes.substr(half));
    return;
  }
  link.Send(bytes);
}

bool OperateFault(const std::string& line, Fault& fault) {
  std::istringstream words(line);
  std::string command, kind;
  words >> command >> kind;
  if (command != "fault") return false;
  static const char* const kKinds[] = {"none", "no-reply", "delay", "garbage", "noise-prefix", "split", "disconnect"};
  if (std::find(std::begin(kKinds), std::end(kKinds), kind) == std::end(kKinds)) return false;
  Fault next{kind, 0, -1};
  if (kind == "delay") words >> next.argument;
  if (!(words >> next.remaining)) next.remaining = -1;
  fault = next;
  std::printf("fault %s\n", kind.c_str());
  return true;
}

}  // namespace

bool TextDevice::TakeCommand(std::string& received, std::string& command) {
  const size_t end = received.find('\n');
  if (end == std::string::npos) return false;
  command = received.substr(0, end);
  received.erase(0, end + 1);
  if (!command.empty() && command.back() == '\r') command.pop_back();
  return true;
}

int ServeTextDevice(TextDevice& device, const TextSimOptions& options) {
  InstallStopHandlers();
  Link link(options);
  if (!link.Open()) return 1;
  std::fflush(stdout);
  std::mt19937 random{std::random_device{}()};
  Fault fault;
  std::string received;
  OperatorInput operator_input;
  double next_print = NowMs() + options.print_interval_ms;
  while (!StopRequested()) {
    int wait_ms = 100;
    if (options.print_interval_ms > 0) wait_ms = std::max(0, std::min(wait_ms, static_cast<int>(next_print - NowMs())));
    pollfd ready[2] = {{link.fd(), POLLIN, 0}, {operator_input.fd(), POLLIN, 0}};
    const int n = poll(ready, 2, wait_ms);
    if (n < 0 && errno != EINTR) break;
    if (options.print_interval_ms > 0 && NowMs() >= next_print) {
      next_print += options.print_interval_ms;
      Deliver(link, device.Print(), fault, random);
    }
    if (n <= 0) continue;
    if (ready[1].revents != 0) {
      operator_input.Read([&](const std::string& line) {
        if (line == "print") {
          Deliver(link, device.Print(), fault, random);
        } else if (!OperateFault(line, fault) && !device.Operate(line)) {
          std::printf("commands: print, fault no-reply|delay <ms>|garbage|noise-prefix|split|disconnect|none "
                      "[times], %s\n", device.Usage().c_str());
        }
        std::fflush(stdout);
      });
    }
    if ((ready[0].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
    if (!link.Receive(received)) continue;
    for (std::string command; device.TakeCommand(received, command);) {
      if (!command.empty()) Deliver(link, device.Answer(command), fault, random);
    }
  }
  return 0;
}
