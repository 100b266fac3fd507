// The instruments that talk in lines of text (MT-SICS, SBI, SCPI, line; each built by
// its row of the driver table): the coroutine that reads one for as long as the daemon
// runs, asked every period or listened to as it prints.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include <boost/asio/awaitable.hpp>

#include "acquisition/modbus_bus.h"
#include "text_link/text_instrument.h"

namespace labtrace::acquisition {

// Told each time an instrument identifies itself differently from the last time (and
// the first time) in this run: its name and what it said.
using IdentitySink = std::function<void(const std::string& instrument, const InstrumentIdentity& identity)>;

// Reads `instrument` until cancelled: Read() every `period` when polled, Read() again at
// once when pushed. An instrument that cannot be reached is retried with back-off, and
// every attempt is recorded as readings flagged with why there is no value.
boost::asio::awaitable<void> RunTextInstrument(std::shared_ptr<text::TextInstrument> instrument,
                                               std::chrono::milliseconds period, ReadingSink sink,
                                               IdentitySink identified);

}  // namespace labtrace::acquisition
