// A 6½-digit digital multimeter speaking SCPI, as a Keysight 34465A does, on a
// pseudo-terminal (RS-232) or a TCP port (5025 on the real one), for tests and training.
//
// Answers (34465A Programming Guide; SCPI-99): *IDN?, *CLS, *RST, *OPC?, SYST:ERR?,
// MEAS:VOLT:DC?, MEAS:RES?, CONF:VOLT:DC [range[,resolution]], CONF:RES, CONF?, READ?.
// Long forms (MEASure:VOLTage:DC?) are accepted. A command it does not know queues
// -113,"Undefined header" and gets no reply, as on the instrument; the queue holds 20
// entries and on overflow its last becomes -350,"Queue overflow".
//
// Typed on standard input: "volts 0.1094503" or "ohms 99.9987" sets what is applied
// to the terminals; "overload" (the input beyond every range: 9.9E37), "nan" (9.91E37),
// "normal"; "error -222" queues that error.
#include "sim/scpi_sim.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <deque>
#include <random>
#include <sstream>
#include <string>
#include <utility>

namespace {

class Multimeter : public TextDevice {
 public:
  std::string Answer(const std::string& raw) override {
    const std::string command = ShortForm(raw);
    if (command == "*IDN?") return "Keysight Technologies,34465A,MY60012345,A.03.01-02.40-03.01-00.52-03-01\n";
    if (command == "*CLS") return Silent([&] { errors_.clear(); });
    if (command == "*RST") return Silent([&] { function_ = "VOLT", range_ = 10, resolution_ = 1e-6; });
    if (command == "*OPC?") return "1\n";
    if (command == "SYST:ERR?" || command == "SYST:ERR:NEXT?") {
      if (errors_.empty()) return "+0,\"No error\"\n";
      auto [code, message] = errors_.front();
      errors_.pop_front();
      char line[128];
      std::snprintf(line, sizeof line, "%+d,\"%s\"\n", code, message.c_str());
      return line;
    }
    if (command == "CONF?") {
      char line[128];
      std::snprintf(line, sizeof line, "\"%s %+.8E,%+.8E\"\n", function_.c_str(), range_, resolution_);
      return line;
    }
    if (StartsWith(command, "CONF:VOLT:DC") || StartsWith(command, "CONF:RES")) {
      Configure(command);
      return {};
    }
    if (command == "MEAS:VOLT:DC?" || command == "MEAS:RES?") {
      Configure(command);
      return Measure();
    }
    if (command == "READ?") return Measure();
    Queue(-113, "Undefined header");
    return {};
  }

  bool Operate(const std::string& line) override {
    std::istringstream words(line);
    std::string word;
    double value = 0;
    words >> word;
    if ((word == "volts" || word == "ohms") && (words >> value)) {
      (word == "volts" ? volts_ : ohms_) = value;
      std::printf("%s %.9g applied\n", word.c_str(), value);
    } else if (word == "overload" || word == "nan" || word == "normal") {
      state_ = word;
      std::printf("input %s\n", word.c_str());
    } else if (word == "error" && (words >> value)) {
      Queue(static_cast<int>(value), value == -222 ? "Data out of range" : "Simulated error");
      std::printf("error %d queued\n", static_cast<int>(value));
    } else {
      return false;
    }
    return true;
  }
  std::string Usage() const override { return "volts <V>, ohms <Ω>, overload, nan, normal, error <code>"; }

 private:
  // Upper case, no leading colon, long mnemonics cut to their short forms.
  static std::string ShortForm(std::string command) {
    for (char& c : command) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (!command.empty() && command[0] == ':') command.erase(0, 1);
    static const std::pair<const char*, const char*> kLong[] = {
        {"MEASURE", "MEAS"}, {"VOLTAGE", "VOLT"}, {"RESISTANCE", "RES"}, {"CONFIGURE", "CONF"},
        {"SYSTEM", "SYST"},  {"ERROR", "ERR"}};
    for (const auto& [long_form, short_form] : kLong) {
      for (size_t at; (at = command.find(long_form)) != std::string::npos;) command.replace(at, std::strlen(long_form), short_form);
    }
    return command;
  }
  static bool StartsWith(const std::string& text, const char* prefix) { return text.rfind(prefix, 0) == 0; }
  template <typename F>
  static std::string Silent(F action) {
    action();
    return {};
  }

  void Queue(int code, std::string message) {
    if (errors_.size() >= 20) {
      errors_.back() = {-350, "Queue overflow"};
      return;
    }
    errors_.emplace_back(code, std::move(message));
  }

  // CONF:VOLT:DC 10,1E-6 or MEAS:VOLT:DC? (autorange, default resolution).
  void Configure(const std::string& command) {
    function_ = command.find("RES") != std::string::npos ? "RES" : "VOLT";
    range_ = function_ == "RES" ? 1000 : 10;
    resolution_ = range_ * 1e-7;
    const size_t space = command.find(' ');
    if (space != std::string::npos) {
      double range = 0, resolution = 0;
      const int fields = std::sscanf(command.c_str() + space, " %lf,%lf", &range, &resolution);
      if (fields >= 1 && range > 0) range_ = range;
      if (fields == 2 && resolution > 0) resolution_ = resolution;
    }
  }

  std::string Measure() {
    if (state_ == "overload") return "+9.90000000E+37\n";
    if (state_ == "nan") return "+9.91000000E+37\n";
    const double applied = function_ == "RES" ? ohms_ : volts_;
    if (std::fabs(applied) > range_ * 1.2) {  // beyond the range's 120 % overrange
      return applied < 0 ? "-9.90000000E+37\n" : "+9.90000000E+37\n";
    }
    std::normal_distribution<double> noise(0.0, resolution_ / 2);
    const double shown = std::round((applied + noise(random_)) / resolution_) * resolution_;
    char line[64];
    std::snprintf(line, sizeof line, "%+.8E\n", shown);
    return line;
  }

  std::string function_ = "VOLT";
  double range_ = 10, resolution_ = 1e-6;
  double volts_ = 0.1094503, ohms_ = 99.9987;
  std::string state_ = "normal";
  std::deque<std::pair<int, std::string>> errors_;
  std::mt19937 random_{std::random_device{}()};
};

}  // namespace

int RunScpiSimulator(const TextSimOptions& options) {
  Multimeter meter;
  return ServeTextDevice(meter, options);
}
