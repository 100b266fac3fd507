// A Sartorius balance read with SBI over a serial line (or a serial-to-Ethernet
// converter): identifies the balance at connect (ESC x1_, x2_, x3_) and turns each print
// line, asked for with ESC P or printed by the balance itself, into a Reading.
//
// Owned by the acquisition's poller for this instrument; runs on the io_context thread.
#pragma once

#include <string>

#include "text_link/text_instrument.h"

namespace labtrace::sbi {

struct BalanceSettings {
  std::string channel = "mass";
  std::string unit = "g";  // for dynamic weights, which SBI prints without a unit
  bool pushed = false;  // the balance prints by itself (print key, auto print); nothing is asked
};

class SbiBalance : public text::TextInstrument {
 public:
  SbiBalance(boost::asio::any_io_executor executor, text::Endpoint endpoint, std::string instrument,
             BalanceSettings settings, std::chrono::milliseconds timeout);
  bool pushed() const override { return settings_.pushed; }

 protected:
  boost::asio::awaitable<void> Identify() override;
  boost::asio::awaitable<std::vector<Reading>> Poll() override;
  Reading FromLine(const text::Line& line) const override;

 private:

  BalanceSettings settings_;
};

}  // namespace labtrace::sbi
