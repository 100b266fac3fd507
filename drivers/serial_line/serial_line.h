// A line-oriented serial port (RS-232 instruments: balances, meters, printers) on the
// daemon's io_context. Frames by terminator, never by read: a reply may arrive split
// across reads, and two replies may arrive in one.
//
// Owned by one instrument's poller coroutine; every call runs on the io_context thread.
#pragma once

#include <chrono>
#include <string>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/serial_port.hpp>
#include <boost/asio/streambuf.hpp>

#include "labtrace/status.h"

namespace labtrace::serial {

// One reply line and the bytes it came in (terminator included): the raw frame.
struct Line {
  std::string text;  // without the terminator
  std::string raw;
};

class SerialLine {
 public:
  SerialLine(boost::asio::any_io_executor executor, std::string device, unsigned baud);

  // Opens the port, 8N1 without flow control, and discards whatever the instrument sent
  // while nobody listened. A pseudo-terminal (simulator) takes the same path.
  Status Open();
  void Close();
  bool is_open() const { return port_.is_open(); }
  const std::string& device() const { return device_; }

  // Sends `command` + CR LF and waits up to `timeout` for one reply line. Input that was
  // already waiting is stale (a late reply to an earlier request, or noise) and is dropped
  // first, so a reply is never matched to the wrong request. Errors:
  //   kDeadlineExceeded  no complete line in time
  //   kUnavailable       the port failed or closed (device unplugged, simulator gone);
  //                      the port is closed and must be reopened
  boost::asio::awaitable<Result<Line>> Transact(std::string command,
                                                std::chrono::milliseconds timeout);

 private:
  void DropStaleInput();

  std::string device_;
  unsigned baud_;
  boost::asio::serial_port port_;
  boost::asio::streambuf input_;
};

}  // namespace labtrace::serial
