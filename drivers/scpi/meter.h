// A meter or calibrator read with SCPI, on a serial line or a TCP socket (port 5025).
// At connect: drains the error queue, asks *IDN?, sends the setup commands and waits for
// *OPC?. Each poll sends every measurement query, one reply at a time (RS-232 instruments
// do not buffer), then drains SYST:ERR?; an error reported there flags that poll's values.
//
// Owned by the acquisition's poller for this instrument; runs on the io_context thread.
#pragma once

#include <string>
#include <vector>

#include "text_link/text_instrument.h"

namespace labtrace::scpi {

struct Measurement {
  std::string channel;
  std::string query;  // "MEAS:VOLT:DC?"
  std::string unit;
};

struct MeterSettings {
  std::vector<std::string> setup;
  std::vector<Measurement> measurements;
};

// An error-queue entry is at most this many deep before the queue is taken as broken
// (SCPI queues hold 10–20; a firmware that never says "No error" must not hang a poll).
inline constexpr int kMaxErrorsDrained = 32;

class ScpiMeter : public text::TextInstrument {
 public:
  ScpiMeter(boost::asio::any_io_executor executor, text::Endpoint endpoint, std::string instrument,
            MeterSettings settings, std::chrono::milliseconds timeout);

 protected:
  boost::asio::awaitable<void> Identify() override;
  boost::asio::awaitable<std::vector<Reading>> Poll() override;

 private:
  // Asks SYST:ERR? until the queue is empty; each entry is logged. Returns them as
  // "-222,"Data out of range"" texts.
  boost::asio::awaitable<std::vector<std::string>> DrainErrors(const char* when);

  MeterSettings settings_;
};

}  // namespace labtrace::scpi
