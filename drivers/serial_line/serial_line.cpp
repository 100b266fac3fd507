#include "serial_line/serial_line.h"

#include <termios.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <fmt/format.h>

namespace labtrace::serial {

namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;

SerialLine::SerialLine(asio::any_io_executor executor, std::string device, unsigned baud)
    : device_(std::move(device)), baud_(baud), port_(executor) {}

Status SerialLine::Open() {
  boost::system::error_code ec;
  port_.open(device_, ec);
  if (ec) return Unavailable(fmt::format("cannot open {}: {}", device_, ec.message()));
  using sp = asio::serial_port_base;
  port_.set_option(sp::baud_rate(baud_), ec);
  if (!ec) port_.set_option(sp::character_size(8), ec);
  if (!ec) port_.set_option(sp::parity(sp::parity::none), ec);
  if (!ec) port_.set_option(sp::stop_bits(sp::stop_bits::one), ec);
  if (!ec) port_.set_option(sp::flow_control(sp::flow_control::none), ec);
  if (ec) {
    Close();
    return Unavailable(fmt::format("cannot configure {}: {}", device_, ec.message()));
  }
  DropStaleInput();
  return OkStatus();
}

void SerialLine::Close() {
  boost::system::error_code ignored;
  port_.close(ignored);
  input_.consume(input_.size());
}

void SerialLine::DropStaleInput() {
  input_.consume(input_.size());
  // Only the kernel's buffer matters here; a failure (not a tty) leaves nothing to drop.
  ::tcflush(port_.native_handle(), TCIFLUSH);
}

asio::awaitable<Result<Line>> SerialLine::Transact(std::string command,
                                                   std::chrono::milliseconds timeout) {
  if (!port_.is_open()) co_return Error(Unavailable(fmt::format("{} is not open", device_)));
  DropStaleInput();
  command += "\r\n";
  auto [write_error, written] =
      co_await asio::async_write(port_, asio::buffer(command), asio::as_tuple(asio::use_awaitable));
  if (write_error) {
    Close();
    co_return Error(Unavailable(fmt::format("writing to {}: {}", device_, write_error.message())));
  }
  asio::steady_timer timer(port_.get_executor());
  timer.expires_after(timeout);
  auto outcome = co_await (
      asio::async_read_until(port_, input_, "\r\n", asio::as_tuple(asio::use_awaitable)) ||
      timer.async_wait(asio::as_tuple(asio::use_awaitable)));
  if (outcome.index() == 1) {
    co_return Error(DeadlineExceeded(
        fmt::format("no reply from {} within {} ms", device_, timeout.count())));
  }
  auto [read_error, length] = std::get<0>(outcome);
  if (read_error) {
    Close();
    co_return Error(Unavailable(fmt::format("reading from {}: {}", device_, read_error.message())));
  }
  Line line;
  line.raw.assign(asio::buffers_begin(input_.data()), asio::buffers_begin(input_.data()) + length);
  input_.consume(length);
  line.text = line.raw.substr(0, line.raw.size() - 2);
  co_return line;
}

}  // namespace labtrace::serial
