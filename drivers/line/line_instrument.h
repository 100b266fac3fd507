// An instrument that only prints lines of text, read with a pattern from lab-config
// (line/pattern.h): asked with a command every period, or listened to as it prints.
//
// Owned by the acquisition's poller for this instrument; runs on the io_context thread.
#pragma once

#include <optional>
#include <string>

#include "line/pattern.h"
#include "text_link/text_instrument.h"

namespace labtrace::line {

struct LineSettings {
  LinePattern pattern;
  std::optional<LinePattern> skip;  // lines that are not readings
  std::string channel = "value";
  std::string unit;
  std::string command;  // empty: the instrument prints by itself
};

class LineInstrument : public text::TextInstrument {
 public:
  LineInstrument(boost::asio::any_io_executor executor, text::Endpoint endpoint, std::string instrument,
                 LineSettings settings, std::chrono::milliseconds timeout);
  bool pushed() const override { return settings_.command.empty(); }

 protected:
  // Such instruments cannot say who they are; lab-config's equipment record stands.
  boost::asio::awaitable<void> Identify() override { co_return; }
  boost::asio::awaitable<std::vector<Reading>> Poll() override;
  Reading FromLine(const text::Line& line) const override;
  bool Ignored(const text::Line& line) const override;

 private:
  LineSettings settings_;
};

}  // namespace labtrace::line
