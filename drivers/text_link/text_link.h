// A line-oriented link to one instrument (RS-232 balances and meters, printers, SCPI on
// a serial line or on a raw TCP socket such as port 5025 or a serial-to-Ethernet
// converter) on the daemon's io_context. Frames by line end, never by read: a reply may
// arrive split across reads, and two replies may arrive in one.
//
// Owned by one instrument's poller coroutine; every call runs on the io_context thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <variant>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>

#include "labtrace/status.h"

namespace labtrace::text {

struct SerialPort {
  std::string device;  // "/dev/ttyUSB0", or a simulator's pseudo-terminal
  unsigned baud = 9600;
  char parity = 'N';  // 'N', 'E' or 'O'; always 8 data bits
  int stop_bits = 1;
};

struct TcpPort {
  std::string host;
  uint16_t port = 0;
};

using Endpoint = std::variant<SerialPort, TcpPort>;

// One line and the bytes it came in (line end included): the raw frame.
struct Line {
  std::string text;  // without its LF, and without the CR before it
  std::string raw;
  int64_t received_at_ns = 0;  // when its first byte arrived (UTC, ns since the epoch)
};

// Longest line accepted; more bytes without a line end are noise, not a reply.
inline constexpr size_t kMaxLineBytes = 4096;

class TextLink {
 public:
  TextLink(boost::asio::any_io_executor executor, Endpoint endpoint);

  // Opens the port (raw 8-bit, no flow control, modem lines ignored) or connects, then
  // discards whatever the instrument sent while nobody listened. A pseudo-terminal
  // (simulator) takes the serial path.
  boost::asio::awaitable<Status> Open(std::chrono::milliseconds timeout);
  void Close();
  bool is_open() const { return stream_.is_open(); }
  // "/dev/ttyUSB0" or "192.168.1.20:5025", for messages.
  const std::string& where() const { return where_; }

  // Drops input already waiting: a late reply to an earlier request, or noise.
  void DropStaleInput();
  // Sends `bytes` exactly as given (the caller adds its protocol's line end).
  boost::asio::awaitable<Status> Send(std::string bytes);
  // The next line, whoever caused it (a reply, or a balance printing by itself). Errors:
  //   kDeadlineExceeded  no complete line within `timeout`
  //   kInvalidArgument   kMaxLineBytes without a line end (dropped)
  //   kUnavailable       the port failed or the peer closed; the link is closed and must
  //                      be reopened
  boost::asio::awaitable<Result<Line>> ReadLine(std::chrono::milliseconds timeout);
  // The same, waiting until `deadline`: for a caller that reads several lines (skipping
  // the ones that are not its answer) within one time allowance.
  boost::asio::awaitable<Result<Line>> ReadLine(std::chrono::steady_clock::time_point deadline);
  // DropStaleInput, Send, ReadLine: one request, one reply, so that a reply is never
  // matched to the wrong request.
  boost::asio::awaitable<Result<Line>> Transact(std::string bytes, std::chrono::milliseconds timeout);

 private:
  Status OpenSerial(const SerialPort& port);
  boost::asio::awaitable<Status> OpenTcp(const TcpPort& port, std::chrono::milliseconds timeout);

  Endpoint endpoint_;
  std::string where_;
  boost::asio::posix::stream_descriptor stream_;
  std::string pending_;           // bytes received, not yet a whole line
  bool discarding_ = false;       // dropping the rest of an over-long line
  int64_t pending_since_ns_ = 0;  // arrival of pending_'s first byte
  int64_t last_chunk_ns_ = 0;
};

}  // namespace labtrace::text
