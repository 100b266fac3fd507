// A Sartorius analytical balance (220 g, d = 0.1 mg) speaking SBI on a pseudo-terminal,
// for tests and training.
//
// Commands (SBI: ESC and a letter, CR LF optional): ESC P prints the weight, ESC T tares,
// ESC x1_ / x2_ / x3_ give the model, serial number and software version (not with
// --anonymous: older models have no such commands and stay silent). The print line
// is the 16-character format (protocols.md): sign, space, the value right-aligned in 8
// characters, space, the unit in 3, CR LF; while the weight is not stable the unit is
// left blank. Special displays print in the value's place: H (overload), L (underload),
// C (adjusting), Err ##. Formatted here with printf, not with the driver's codec.
//
// Typed on standard input: "load 100.0002" (grams), "motion on|off", "adjust on|off",
// "error 54" (shows Err 54 until "error 0"); with --print-interval-ms or "print" it
// prints by itself, as in auto print.
#include "sim/sbi_sim.h"

#include <cmath>
#include <cstdio>
#include <sstream>
#include <string>

namespace {

class SbiBalanceDevice : public TextDevice {
 public:
  explicit SbiBalanceDevice(bool anonymous) : anonymous_(anonymous) {}

  // ESC and its letters, whatever comes between; CR and LF are optional.
  bool TakeCommand(std::string& received, std::string& command) override {
    const size_t escape = received.find('\x1b');
    if (escape == std::string::npos) {
      received.clear();
      return false;
    }
    received.erase(0, escape);
    if (received.size() < 2) return false;
    if (received[1] == 'x') {
      if (received.size() < 4) return false;
      command = received.substr(1, 2);  // "x1"
      received.erase(0, 4);
    } else {
      command = received.substr(1, 1);  // "P", "T"
      received.erase(0, 2);
    }
    return true;
  }

  std::string Answer(const std::string& command) override {
    if (command == "P") return Print();
    if (command == "T") {
      tare_ = load_;
      return {};
    }
    if (anonymous_) return {};  // an older model: no ESC x commands
    if (command == "x1") return "SECURA224-1S\r\n";
    if (command == "x2") return "0034512345\r\n";
    if (command == "x3") return "00-37-09\r\n";
    return {};
  }

  std::string Print() override {
    if (error_ != 0) return Special(("Err " + std::to_string(error_)).c_str());
    if (adjusting_) return Special("C");
    const double net = load_ - tare_;
    if (load_ > 220.0 * 1.02) return Special("H");
    if (load_ < 0) return Special("L");
    char line[32];
    const double shown = std::round(net / 0.0001) * 0.0001;
    std::snprintf(line, sizeof line, "%c %8.4f %-3s\r\n", shown < 0 ? '-' : '+', std::fabs(shown), motion_ ? "" : "g");
    return line;
  }

  bool Operate(const std::string& text) override {
    std::istringstream words(text);
    std::string word, state;
    double value = 0;
    words >> word;
    if (word == "load" && (words >> value)) {
      load_ = value;
      std::printf("load %.4f g on the pan\n", load_);
    } else if ((word == "motion" || word == "adjust") && (words >> state)) {
      (word == "motion" ? motion_ : adjusting_) = state == "on";
      std::printf("%s %s\n", word.c_str(), state.c_str());
    } else if (word == "error" && (words >> value)) {
      error_ = static_cast<int>(value);
      std::printf("error %d\n", error_);
    } else {
      return false;
    }
    return true;
  }
  std::string Usage() const override { return "load <g>, motion on|off, adjust on|off, error <n>"; }

 private:
  static std::string Special(const char* display) {
    char line[32];
    std::snprintf(line, sizeof line, "+ %8s    \r\n", display);
    return line;
  }

  bool anonymous_;
  double load_ = 100.0002, tare_ = 0;
  bool motion_ = false, adjusting_ = false;
  int error_ = 0;
};

}  // namespace

int RunSbiSimulator(const TextSimOptions& options, bool anonymous) {
  SbiBalanceDevice balance(anonymous);
  return ServeTextDevice(balance, options);
}
