#include "text_link/text_link.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <fmt/format.h>

#include "labtrace/clock.h"

namespace labtrace::text {

namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;

namespace {

std::string Describe(const Endpoint& endpoint) {
  if (const auto* serial = std::get_if<SerialPort>(&endpoint)) return serial->device;
  const auto& tcp = std::get<TcpPort>(endpoint);
  return fmt::format("{}:{}", tcp.host, tcp.port);
}

// The termios constant for a baud rate, or 0 when the line cannot run at it.
speed_t SpeedOf(unsigned baud) {
  switch (baud) {
    case 1200: return B1200;
    case 2400: return B2400;
    case 4800: return B4800;
    case 9600: return B9600;
    case 19200: return B19200;
    case 38400: return B38400;
    case 57600: return B57600;
    case 115200: return B115200;
    case 230400: return B230400;
    default: return 0;
  }
}

}  // namespace

TextLink::TextLink(asio::any_io_executor executor, Endpoint endpoint)
    : endpoint_(std::move(endpoint)), where_(Describe(endpoint_)), stream_(std::move(executor)) {}

asio::awaitable<Status> TextLink::Open(std::chrono::milliseconds timeout) {
  Close();
  // (No co_await inside ?: or an if's init-statement: GCC 12 miscompiles both.)
  Status opened;
  if (std::holds_alternative<SerialPort>(endpoint_)) {
    opened = OpenSerial(std::get<SerialPort>(endpoint_));
  } else {
    opened = co_await OpenTcp(std::get<TcpPort>(endpoint_), timeout);
  }
  if (opened.ok()) DropStaleInput();
  co_return opened;
}

Status TextLink::OpenSerial(const SerialPort& port) {
  const speed_t speed = SpeedOf(port.baud);
  if (speed == 0) return InvalidArgument(fmt::format("{}: {} baud is not a standard rate", port.device, port.baud));
  const int fd = ::open(port.device.c_str(), O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return Unavailable(fmt::format("cannot open {}: {}", port.device, std::strerror(errno)));
  termios settings{};
  if (::tcgetattr(fd, &settings) != 0) {
    const int error = errno;
    ::close(fd);
    return Unavailable(fmt::format("{} is not a serial port: {}", port.device, std::strerror(error)));
  }
  ::cfmakeraw(&settings);
  ::cfsetispeed(&settings, speed);
  ::cfsetospeed(&settings, speed);
  settings.c_cflag |= CLOCAL | CREAD;  // no modem lines: pseudo-terminals have none
  settings.c_cflag &= ~(PARENB | PARODD | CSTOPB | CRTSCTS);
  if (port.parity == 'E') settings.c_cflag |= PARENB;
  if (port.parity == 'O') settings.c_cflag |= PARENB | PARODD;
  if (port.stop_bits == 2) settings.c_cflag |= CSTOPB;
  if (::tcsetattr(fd, TCSANOW, &settings) != 0) {
    const int error = errno;
    ::close(fd);
    return Unavailable(fmt::format("cannot configure {}: {}", port.device, std::strerror(error)));
  }
  stream_.assign(fd);
  return OkStatus();
}

asio::awaitable<Status> TextLink::OpenTcp(const TcpPort& port, std::chrono::milliseconds timeout) {
  asio::ip::tcp::resolver resolver(stream_.get_executor());
  asio::ip::tcp::socket socket(stream_.get_executor());
  asio::steady_timer timer(stream_.get_executor());
  timer.expires_after(timeout);
  auto resolved = co_await (resolver.async_resolve(port.host, std::to_string(port.port),
                                                   asio::as_tuple(asio::use_awaitable)) ||
                            timer.async_wait(asio::as_tuple(asio::use_awaitable)));
  if (resolved.index() == 1) co_return DeadlineExceeded(fmt::format("cannot resolve {} in time", port.host));
  auto [resolve_error, endpoints] = std::get<0>(resolved);
  if (resolve_error) co_return Unavailable(fmt::format("cannot resolve {}: {}", port.host, resolve_error.message()));
  auto connected = co_await (asio::async_connect(socket, endpoints, asio::as_tuple(asio::use_awaitable)) ||
                             timer.async_wait(asio::as_tuple(asio::use_awaitable)));
  if (connected.index() == 1) co_return DeadlineExceeded(fmt::format("cannot connect to {} within {} ms", where_, timeout.count()));
  if (auto error = std::get<0>(std::get<0>(connected)); error) {
    co_return Unavailable(fmt::format("cannot connect to {}: {}", where_, error.message()));
  }
  // Commands are a few bytes each, sent one at a time: do not let Nagle hold them back.
  boost::system::error_code ignored;
  socket.set_option(asio::ip::tcp::no_delay(true), ignored);
  socket.set_option(asio::socket_base::keep_alive(true), ignored);
  const int fd = socket.release(ignored);
  if (fd < 0) co_return Unavailable(fmt::format("cannot take over the connection to {}", where_));
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  stream_.assign(fd);
  co_return OkStatus();
}

void TextLink::Close() {
  boost::system::error_code ignored;
  stream_.close(ignored);
  pending_.clear();
  discarding_ = false;
}

void TextLink::DropStaleInput() {
  pending_.clear();
  discarding_ = false;
  if (!stream_.is_open()) return;
  // The descriptor is non-blocking: read until the kernel has nothing more. End of file
  // or an error (a reset connection, an unplugged adapter) closes the link, so the next
  // Send reports it instead of writing into a dead socket.
  char chunk[512];
  for (;;) {
    const ssize_t got = ::read(stream_.native_handle(), chunk, sizeof chunk);
    if (got > 0) continue;
    if (got < 0 && (errno == EAGAIN || errno == EINTR)) return;
    Close();
    return;
  }
}

asio::awaitable<Status> TextLink::Send(std::string bytes) {
  if (!stream_.is_open()) co_return Unavailable(fmt::format("{} is not open", where_));
  auto [error, written] = co_await asio::async_write(stream_, asio::buffer(bytes), asio::as_tuple(asio::use_awaitable));
  if (error) {
    Close();
    co_return Unavailable(fmt::format("writing to {}: {}", where_, error.message()));
  }
  co_return OkStatus();
}

asio::awaitable<Result<Line>> TextLink::ReadLine(std::chrono::milliseconds timeout) {
  co_return co_await ReadLine(std::chrono::steady_clock::now() + timeout);
}

asio::awaitable<Result<Line>> TextLink::ReadLine(std::chrono::steady_clock::time_point deadline) {
  if (!stream_.is_open()) co_return Error(Unavailable(fmt::format("{} is not open", where_)));
  const auto started = std::chrono::steady_clock::now();
  asio::steady_timer timer(stream_.get_executor());
  timer.expires_at(deadline);
  for (;;) {
    if (const size_t end = pending_.find('\n'); end != std::string::npos) {
      Line line;
      line.raw = pending_.substr(0, end + 1);
      line.text = line.raw.substr(0, end);
      if (!line.text.empty() && line.text.back() == '\r') line.text.pop_back();
      line.received_at_ns = pending_since_ns_;
      pending_.erase(0, end + 1);
      pending_since_ns_ = last_chunk_ns_;  // the rest came with the latest chunk
      co_return line;
    }
    if (pending_.size() >= kMaxLineBytes) {
      pending_.clear();
      discarding_ = true;  // the rest of this line, up to its end, is noise too
      co_return Error(InvalidArgument(
          fmt::format("{} bytes from {} without a line end: noise, or the wrong baud rate", kMaxLineBytes, where_)));
    }
    char chunk[512];
    auto outcome = co_await (stream_.async_read_some(asio::buffer(chunk), asio::as_tuple(asio::use_awaitable)) ||
                             timer.async_wait(asio::as_tuple(asio::use_awaitable)));
    if (outcome.index() == 1) {
      const auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - started);
      co_return Error(DeadlineExceeded(fmt::format("no reply from {} within {} ms", where_, std::max<long>(0, waited.count()))));
    }
    auto [error, length] = std::get<0>(outcome);
    if (error) {
      Close();
      const std::string why = error == asio::error::eof ? "the instrument closed the connection" : error.message();
      co_return Error(Unavailable(fmt::format("reading from {}: {}", where_, why)));
    }
    last_chunk_ns_ = NowNs();
    std::string_view received(chunk, length);
    if (discarding_) {
      const size_t end = received.find('\n');
      if (end == std::string_view::npos) continue;
      received.remove_prefix(end + 1);
      discarding_ = false;
    }
    if (pending_.empty()) pending_since_ns_ = last_chunk_ns_;
    pending_.append(received);
  }
}

asio::awaitable<Result<Line>> TextLink::Transact(std::string bytes, std::chrono::milliseconds timeout) {
  DropStaleInput();
  const Status sent = co_await Send(std::move(bytes));
  if (!sent.ok()) co_return Error(sent);
  co_return co_await ReadLine(timeout);
}

}  // namespace labtrace::text
