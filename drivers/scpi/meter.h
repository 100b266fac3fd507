// A meter or calibrator read with SCPI, on a serial line or a TCP socket (port 5025).
// At connect: drains the error queue, asks *IDN?, sends the setup commands and waits for
// *OPC?. Each poll sends every measurement query, one reply at a time (RS-232 instruments
// do not buffer), then drains SYST:ERR?; an error reported there flags that poll's values.
// A query unanswered in time (or answered with garbage) ends the poll's queries until
// *OPC? shows the replies are in step again: a late reply is never taken for the next
// query's, which on a meter would be another channel's value.
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
  // After a query went unanswered or garbled: waits for *OPC?'s "1", dropping late
  // replies on the way; false when the instrument does not come back in step.
  boost::asio::awaitable<bool> Resynchronise();
  // Asks SYST:ERR? until the queue is empty; each entry is logged. Returns them as
  // "-222,"Data out of range"" texts.
  boost::asio::awaitable<std::vector<std::string>> DrainErrors(const char* when);

  MeterSettings settings_;
};

}  // namespace labtrace::scpi
