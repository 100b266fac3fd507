// What every simulated instrument that talks in lines of text shares (MT-SICS and SBI
// balances, the SCPI meter, the line printer): serving on a pseudo-terminal or a TCP
// port, framing commands, printing by itself, and the operator's faults.
//
// Typed on standard input:
//   print                         the print key: the device prints once
//   fault <kind> [arg] [times]    disturbs the next replies and prints (all, or `times`):
//     no-reply            nothing is sent
//     delay <ms>          sent late
//     garbage             random bytes instead, ending in CR LF
//     noise-prefix        a few noise bytes, then the true line
//     split               the line in two writes 40 ms apart
//     disconnect          the link drops: the TCP connection is closed, or the
//                         pseudo-terminal is torn down and made anew at the same link
//     none                healthy again
//   and whatever the device itself understands ("load 20 kg").
#pragma once

#include <string>

class TextDevice {
 public:
  virtual ~TextDevice() = default;
  // Takes one command off the front of `received`; false while none is complete. The
  // default frames by LF and drops a CR before it, as these instruments do.
  virtual bool TakeCommand(std::string& received, std::string& command);
  // The bytes to send back, line end included; empty for none.
  virtual std::string Answer(const std::string& command) = 0;
  // What it prints on the print key or in auto print; empty for nothing.
  virtual std::string Print() { return {}; }
  // An operator's line that is not print or fault; false when not understood.
  virtual bool Operate(const std::string& line) = 0;
  // The device's own operator commands, for the usage line.
  virtual std::string Usage() const = 0;
};

struct TextSimOptions {
  std::string name;           // printed first: "mt-sics on …", "scpi listening on …"
  std::string link;           // pseudo-terminal symlink (serial); ignored with tcp
  bool tcp = false;
  std::string host = "127.0.0.1";
  int port = 0;               // 0: a free one, printed
  int print_interval_ms = 0;  // auto print; 0: only on the print key

  TextSimOptions Named(std::string device_name) const {
    TextSimOptions named = *this;
    named.name = std::move(device_name);
    return named;
  }
};

// Serves until SIGINT/SIGTERM; returns the exit code.
int ServeTextDevice(TextDevice& device, const TextSimOptions& options);
