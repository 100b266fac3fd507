// An older digital thermometer with a printer port, for the generic line driver: it
// prints a header when switched on, then a line per reading, and answers "D" (data) with
// one. Lines are in UTF-8 ("°C"), as such instruments print them:
//
//   TM-920 DIGITAL THERMOMETER
//   T1=  23.45 °C
//
// Typed on standard input: "temperature 37.02"; "probe off" (it prints "T1=  ---- °C",
// which no pattern should read as a value) or "probe on"; "header" prints the header.
#include "sim/printer_sim.h"

#include <cstdio>
#include <random>
#include <sstream>
#include <string>

namespace {

class Thermometer : public TextDevice {
 public:
  std::string Answer(const std::string& command) override { return command == "D" ? Print() : std::string(); }

  std::string Print() override {
    std::string out;
    if (header_pending_) out = "TM-920 DIGITAL THERMOMETER\r\n";
    header_pending_ = false;
    if (!probe_) return out + "T1=  ---- \u00b0C\r\n";
    std::normal_distribution<double> noise(0.0, 0.004);
    char line[48];
    std::snprintf(line, sizeof line, "T1= %6.2f \u00b0C\r\n", temperature_ + noise(random_));
    return out + line;
  }

  bool Operate(const std::string& text) override {
    std::istringstream words(text);
    std::string word, state;
    words >> word;
    if (word == "temperature" && (words >> temperature_)) {
      std::printf("temperature %.2f\n", temperature_);
    } else if (word == "probe" && (words >> state)) {
      probe_ = state == "on";
      std::printf("probe %s\n", state.c_str());
    } else if (word == "header") {
      header_pending_ = true;
      std::printf("header next\n");
    } else {
      return false;
    }
    return true;
  }
  std::string Usage() const override { return "temperature <°C>, probe on|off, header"; }

 private:
  double temperature_ = 23.45;
  bool probe_ = true;
  bool header_pending_ = true;
  std::mt19937 random_{std::random_device{}()};
};

}  // namespace

int RunPrinterSimulator(const TextSimOptions& options) {
  Thermometer thermometer;
  return ServeTextDevice(thermometer, options);
}
