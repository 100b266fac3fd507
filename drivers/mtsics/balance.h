// A Mettler Toledo balance read with MT-SICS over a serial line: opens the line,
// identifies the balance, and turns each weighing reply into a Reading.
//
// Owned by the acquisition's poller for this instrument; runs on the io_context thread.
#pragma once

#include <chrono>
#include <string>

#include <boost/asio/awaitable.hpp>

#include "labtrace/reading.pb.h"
#include "serial_line/serial_line.h"

namespace labtrace::mtsics {

struct BalanceSettings {
  std::string instrument;     // the lab's name for it
  std::string channel = "mass";
  std::string command = "SI";  // "S" waits for stability, "SI" answers at once
  std::chrono::milliseconds timeout{500};
};

class MtSicsBalance {
 public:
  MtSicsBalance(boost::asio::any_io_executor executor, BalanceSettings settings,
                std::string device, unsigned baud);

  // One weighing. Opens the line first when it is closed (and identifies the balance);
  // a line that cannot be opened yields a DISCONNECTED reading, never a wait.
  boost::asio::awaitable<Reading> Weigh();

  // "XS205DU 220 g, SW 2.10, SN 1234567", once the balance has answered I2/I3/I4.
  const std::string& identification() const { return identification_; }

 private:
  boost::asio::awaitable<void> Identify();

  BalanceSettings settings_;
  serial::SerialLine line_;
  std::string identification_;
};

}  // namespace labtrace::mtsics
