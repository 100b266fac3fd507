#include "cli/event_stream.h"
#include "cli/http_client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <fmt/format.h>
#include <google/protobuf/util/json_util.h>

#include "labtrace/api.pb.h"

namespace labtrace::cli {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

struct EventStream::Connection {
  asio::io_context io;
  asio::ip::tcp::socket socket{io};
  std::string unread;  // received, not yet made into events
};

EventStream::EventStream(std::unique_ptr<Connection> connection) : connection_(std::move(connection)) {}
EventStream::EventStream(EventStream&&) noexcept = default;
EventStream& EventStream::operator=(EventStream&&) noexcept = default;
EventStream::~EventStream() = default;

Result<EventStream> EventStream::Open(const std::string& server, const std::string& target) {
  std::string_view authority(server);
  if (!authority.starts_with("http://")) {
    return Error(InvalidArgument(fmt::format("server \"{}\" must start with http://", server)));
  }
  authority.remove_prefix(7);
  if (authority.ends_with('/')) authority.remove_suffix(1);
  const size_t colon = authority.rfind(':');
  const std::string host(authority.substr(0, colon));
  const std::string port(colon == std::string_view::npos ? "80" : authority.substr(colon + 1));

  auto connection = std::make_unique<Connection>();
  beast::error_code ec;
  asio::ip::tcp::resolver resolver(connection->io);
  const auto endpoints = resolver.resolve(host, port, ec);
  if (!ec) asio::connect(connection->socket, endpoints, ec);
  if (ec) {
    return Error(Unavailable(fmt::format("cannot reach labtraced at {}: {}. Is the daemon running?", server,
                                         ec.message())));
  }
  http::request<http::empty_body> request(http::verb::get, target, 11);
  request.set(http::field::host, authority);
  request.set(http::field::accept, "text/event-stream");
  if (const std::string token = SavedToken(); !token.empty()) request.set(http::field::authorization, "Bearer " + token);
  http::write(connection->socket, request, ec);
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  if (!ec) http::read_header(connection->socket, buffer, parser, ec);
  if (ec) return Error(Unavailable(fmt::format("asking {} for {}: {}", server, target, ec.message())));
  if (parser.get().result() != http::status::ok) {
    // A refusal is a whole JSON answer: read it for the daemon's reason.
    http::read(connection->socket, buffer, parser, ec);
    api::ErrorResponse error;
    const bool said = google::protobuf::util::JsonStringToMessage(parser.get().body(), &error).ok();
    return Error(Unavailable(fmt::format("the daemon refused the stream (HTTP {}): {}", parser.get().result_int(),
                                         said ? error.error() : parser.get().body())));
  }
  const auto data = buffer.data();
  connection->unread.assign(static_cast<const char*>(data.data()), data.size());
  return EventStream(std::move(connection));
}

Result<ServerEvent> EventStream::Next() {
  ServerEvent event;
  bool any_field = false;
  for (;;) {
    std::string& unread = connection_->unread;
    const size_t end = unread.find('\n');
    if (end == std::string::npos) {
      char chunk[4096];
      beast::error_code ec;
      const size_t got = connection_->socket.read_some(asio::buffer(chunk), ec);
      if (ec) return Error(Unavailable(fmt::format("the stream ended: {}", ec.message())));
      unread.append(chunk, got);
      continue;
    }
    std::string line = unread.substr(0, end);
    unread.erase(0, end + 1);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) {
      if (any_field) return event;  // a blank line ends an event; one after a comment does not
      continue;
    }
    if (line.front() == ':') continue;  // a comment: the greeting, or a keep-alive
    const size_t colon = line.find(':');
    const std::string field = line.substr(0, colon);
    std::string value = colon == std::string::npos ? "" : line.substr(colon + 1);
    if (value.starts_with(' ')) value.erase(0, 1);
    any_field = true;
    if (field == "event") {
      event.event = value;
    } else if (field == "id") {
      event.id = value;
    } else if (field == "data") {
      event.data += (event.data.empty() ? "" : "\n") + value;
    }
  }
}

}  // namespace labtrace::cli
