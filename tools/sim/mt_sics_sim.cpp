// A Mettler Toledo balance speaking MT-SICS level 0/1 on a pseudo-terminal: an XS205DU
// analytical balance, or an IND570 terminal on a 30 kg class III platform (the one the
// lab verifies in training).
//
// Answers (MT-SICS Reference Manual, §3): S and SI with a stable weight "S S <value> g",
// I2/I3/I4 with identification, Z (zero) and T (tare) with acknowledgements, and ES for
// anything it does not know. Replies are formatted here, not by the driver's codec: the
// weight is right-aligned in a 10-character field, as the balance pads it.
//
// The load on the pan is set by typing on the simulator's standard input, as a
// technician puts weights on a real one:  load 20.0002 kg. "motion on" makes the weight
// dynamic (SI answers S D, S answers S I); a load beyond capacity reads S +, a negative
// one (pan lifted) S -. With --print-interval-ms, or "print" typed, it prints by itself
// as in auto-print; faults as every text simulator (sim/text_sim.h).
#include "sim/mt_sics_sim.h"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>

#include "sim/text_sim.h"

namespace {

// What lies on the pan and how the balance shows it. The indication is the load with
// the balance's span error, plus noise, rounded to the displayed interval.
struct BalanceModel {
  std::string model, firmware, serial, unit;
  int decimals = 5;
  double capacity = 0;       // in `unit`; beyond it the balance shows overload
  double load = 0;           // in `unit`
  double tare = 0;
  double noise = 0;          // standard deviation, in `unit`
  double span_error_ppm = 0;
  bool motion = false;       // the weight is not settling
  std::mt19937 random{std::random_device{}()};
  double Indication() {
    std::normal_distribution<double> wander(0.0, noise);
    const double shown = (load - tare) * (1 + span_error_ppm * 1e-6) + (noise > 0 ? wander(random) : 0.0);
    const double step = std::pow(10.0, -decimals);
    return std::round(shown / step) * step;
  }
};

// A 100 g reference weight on the pan of a 0.01 mg balance: the indication wanders by a
// few hundredths of a milligram, as it does on a real bench.
BalanceModel Xs205() { return {"XS205DU 220 g", "3.2.11", "B312345678", "g", 5, 220.0, 100.0, 0, 0.00002, 0}; }
// An IND570 terminal on a 30 kg platform, class III, e = 10 g, shown in its expanded
// (service) mode with d = 1 g, as a verification reads it (OIML R76-2 A.4.4.3). Empty pan.
BalanceModel Ind570Platform() { return {"IND570 30 kg", "2.4.0", "C271834560", "kg", 3, 30.0, 0, 0, 0, 0}; }

class MtSicsDevice : public TextDevice {
 public:
  explicit MtSicsDevice(BalanceModel balance) : balance_(std::move(balance)) {}

  std::string Answer(const std::string& command) override {
    if (command == "S" || command == "SI") return Weight(command == "S");
    if (command == "I2") return "I2 A \"" + balance_.model + "\"\r\n";
    if (command == "I3") return "I3 A \"" + balance_.firmware + "\"\r\n";
    if (command == "I4") return "I4 A \"" + balance_.serial + "\"\r\n";
    if (command == "Z") {
      balance_.tare = balance_.load;
      return "Z A\r\n";
    }
    if (command == "T") {
      balance_.tare = balance_.load;
      return Format("T S", balance_.load);
    }
    return "ES\r\n";
  }

  // The print key, or auto print: what SI would say.
  std::string Print() override { return Weight(false); }

  // "load 20.0002 kg" puts that mass on the pan; "span-error 300" sets the span error in
  // ppm; "motion on|off" makes the weight unsettled.
  bool Operate(const std::string& line) override {
    char word[32] = {}, unit[16] = {};
    double value = 0;
    const int fields = std::sscanf(line.c_str(), "%31s %lf %15s", word, &value, unit);
    if (fields >= 2 && std::strcmp(word, "load") == 0) {
      if (fields == 3 && balance_.unit == "kg" && std::strcmp(unit, "g") == 0) value /= 1000;
      if (fields == 3 && balance_.unit == "g" && std::strcmp(unit, "kg") == 0) value *= 1000;
      balance_.load = value;
      std::printf("load %.6f %s on the pan\n", balance_.load, balance_.unit.c_str());
      return true;
    }
    if (fields >= 2 && std::strcmp(word, "span-error") == 0) {
      balance_.span_error_ppm = value;
      std::printf("span error %g ppm\n", value);
      return true;
    }
    if (std::sscanf(line.c_str(), "motion %15s", unit) == 1) {
      balance_.motion = std::strcmp(unit, "on") == 0;
      std::printf("motion %s\n", balance_.motion ? "on" : "off");
      return true;
    }
    return false;
  }
  std::string Usage() const override { return "load <mass> [g|kg], span-error <ppm>, motion on|off"; }

 private:
  // The weight field is right-aligned in 10 characters, as the balance pads it.
  std::string Format(const char* head, double value) const {
    char reply[64];
    std::snprintf(reply, sizeof reply, "%s %10.*f %s\r\n", head, balance_.decimals, value, balance_.unit.c_str());
    return reply;
  }
  // `wait_for_stability`: S waits and gives up with S I; SI answers S D at once.
  std::string Weight(bool wait_for_stability) {
    if (balance_.load - balance_.tare > balance_.capacity * 1.02) return "S +\r\n";
    if (balance_.load < 0) return "S -\r\n";
    if (balance_.motion) return wait_for_stability ? "S I\r\n" : Format("S D", balance_.Indication());
    return Format("S S", balance_.Indication());
  }

  BalanceModel balance_;
};

}  // namespace

int RunMtSicsSimulator(const TextSimOptions& options, const std::string& balance_kind, double span_error_ppm) {
  BalanceModel balance = balance_kind == "ind570-30kg" ? Ind570Platform() : Xs205();
  balance.span_error_ppm = span_error_ppm;
  MtSicsDevice device(std::move(balance));
  return ServeTextDevice(device, options);
}
