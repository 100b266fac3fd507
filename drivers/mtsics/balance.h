// A Mettler Toledo balance read with MT-SICS over a serial line (or a serial-to-Ethernet
// converter): identifies the balance at connect (I2, I3, I4) and turns each weighing
// reply, asked for or printed by the balance itself, into a Reading.
//
// Owned by the acquisition's poller for this instrument; runs on the io_context thread.
#pragma once

#include <string>

#include "text_link/text_instrument.h"

namespace labtrace::mtsics {

struct BalanceSettings {
  std::string channel = "mass";
  std::string command = "SI";  // "S" waits for stability, "SI" answers at once
  bool pushed = false;         // the balance prints by itself; nothing is asked
};

class MtSicsBalance : public text::TextInstrument {
 public:
  MtSicsBalance(boost::asio::any_io_executor executor, text::Endpoint endpoint, std::string instrument,
                BalanceSettings settings, std::chrono::milliseconds timeout);
  bool pushed() const override { return settings_.pushed; }

 protected:
  boost::asio::awaitable<void> Identify() override;
  boost::asio::awaitable<std::vector<Reading>> Poll() override;
  Reading FromLine(const text::Line& line) const override;

 private:
  // Sends `command` and waits for the reply that names it (or a general error). Replies
  // to other commands are stale and dropped; weights the balance prints meanwhile are
  // kept for Poll when pushed. Errors as TextLink::ReadLine.
  boost::asio::awaitable<Result<text::Line>> Ask(const std::string& command, const std::string& reply_command);

  BalanceSettings settings_;
};

}  // namespace labtrace::mtsics
