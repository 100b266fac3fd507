// What every instrument that talks in lines of text shares (MT-SICS and SBI balances,
// SCPI meters, the line driver): connecting on demand and identifying at connect, and
// turning a failed exchange into readings flagged with why there is no value.
//
// A driver derives from it and says how to identify the instrument and how to read it.
// The acquisition calls Read() every period (polled) or again and again (pushed).
#pragma once

#include <chrono>
#include <deque>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "labtrace/reading.pb.h"
#include "text_link/text_link.h"

namespace labtrace::text {

class TextInstrument {
 public:
  TextInstrument(boost::asio::any_io_executor executor, Endpoint endpoint, std::string instrument,
                 std::vector<std::string> channels, std::chrono::milliseconds timeout);
  virtual ~TextInstrument() = default;

  // Polled: one request cycle, a reading per channel. Pushed: the lines the instrument
  // printed, waiting for up to one second (none: an empty list). Connects and identifies
  // first when the link is closed; a link that cannot be opened yields DISCONNECTED
  // readings, never a wait.
  boost::asio::awaitable<std::vector<Reading>> Read();

  // True when the instrument prints by itself and is listened to, not asked.
  virtual bool pushed() const { return false; }
  // As the instrument identified itself at the latest connect; empty when it cannot say.
  const InstrumentIdentity& identity() const { return identity_; }
  const std::string& instrument() const { return instrument_; }
  const std::string& where() const { return link_.where(); }

 protected:
  // Asks the instrument who it is, right after the link opened.
  virtual boost::asio::awaitable<void> Identify() = 0;
  // One poll (or, pushed, one wait for printed lines) on an open link.
  virtual boost::asio::awaitable<std::vector<Reading>> Poll() = 0;

  // Pushed instruments: the next line the instrument printed (those kept while
  // identifying first), as a reading stamped with when its first byte arrived; nothing
  // after a second of silence, which is normal for a balance nobody uses.
  boost::asio::awaitable<std::vector<Reading>> NextPrinted();
  // A printed line as a reading, for NextPrinted. Drivers that print override it.
  virtual Reading FromLine(const Line& line) const;
  // Printed lines that are not readings: blank ones, and whatever a driver adds.
  virtual bool Ignored(const Line& line) const;

  // Records what the instrument said it is; an instrument that answered none of the
  // questions keeps no identity (and gets no `identify` audit event).
  void SetIdentity(std::string manufacturer, std::string model, std::string serial_number, std::string firmware);
  // One reading flagged `quality`, without a value, saying why (the caller sets channel,
  // unit, frame and time).
  static Reading Flagged(Quality quality, std::string detail);
  // The same flag, without a value, on every channel: a failed exchange takes them all.
  std::vector<Reading> FlagAll(Quality quality, const std::string& detail, int64_t requested_at_ns) const;
  // The flag a failed ReadLine/Transact means: no reply, a bad frame, or disconnected.
  static Quality QualityOf(const Status& failure);

  TextLink link_;
  InstrumentIdentity identity_;
  std::string instrument_;
  std::vector<std::string> channels_;
  std::chrono::milliseconds timeout_;
  std::deque<Line> printed_;  // printed (pushed) lines that arrived while identifying
  // At most this many are kept; a balance that prints on while it is being identified
  // cannot make them take memory without bound.
  static constexpr size_t kMaxPrintedWhileIdentifying = 64;
};

}  // namespace labtrace::text
