// GET /v1/readings/stream (docs/API.md): live readings as server-sent events, each sent
// once the store has made it durable. The route answers a header that says "event
// stream"; Serve then hands the connection to StreamReadings, which keeps it until the
// client goes, falls behind, or the daemon stops.
//
//   : streaming readings as they are committed
//
//   id: 1207
//   event: reading
//   data: {"sequence":"1207","instrument":"climate-1",…}
//
// A client that falls LiveReadings::kQueueLimit readings behind gets a last event,
// "dropped", with why and where to pick up, and is closed: it must never hold back the
// store. A comment every kKeepAlive tells idle clients, and proxies, that the stream lives.
#include <chrono>
#include <memory>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "api/api_server.h"
#include "api/http_util.h"

namespace labtrace::api {

namespace asio = boost::asio;
namespace beast = boost::beast;

namespace {

constexpr std::string_view kEventStream = "text/event-stream";
constexpr auto kKeepAlive = std::chrono::seconds(15);
// A client that takes no bytes for this long is gone, or too slow to be served.
constexpr auto kWriteTimeout = std::chrono::seconds(30);

std::string ReadingEvent(const Reading& reading) {
  return fmt::format("id: {}\nevent: reading\ndata: {}\n\n", reading.sequence(), ToJson(reading));
}

}  // namespace

Response ApiServer::AnswerStreamRequest(const Request& request) {
  const std::string_view target(request.target().data(), request.target().size());
  ReadingsStreamQuery query;
  if (Status parsed = ParseQueryInto(target, query); !parsed.ok()) return ErrorReply(request, parsed);
  if (!live_) return ErrorReply(request, Unavailable("this daemon has no live readings to stream"));
  Response header(http::status::ok, request.version());
  header.set(http::field::server, "labtraced");
  header.set(http::field::content_type, kEventStream);
  header.set(http::field::cache_control, "no-cache");
  // The body is the stream, ended by closing the connection: no length, no reuse.
  header.keep_alive(false);
  return header;
}

bool ApiServer::IsEventStream(const Response& response) {
  return response.result() == http::status::ok && response[http::field::content_type] == kEventStream;
}

asio::awaitable<void> ApiServer::StreamReadings(beast::tcp_stream& stream, const Request& request, Response header) {
  ReadingsStreamQuery query;
  (void)ParseQueryInto(std::string_view(request.target().data(), request.target().size()), query);  // checked
  // Shared with the wake callback, which the writer thread may call until Unsubscribe.
  auto timer = std::make_shared<asio::steady_timer>(io_);
  auto subscribed = live_->Subscribe(query.instrument(), query.channel(), [timer, &io = io_] {
    asio::post(io, [timer] { timer->cancel(); });
  });
  if (!subscribed) {
    Response refused = ErrorReply(request, http::status::service_unavailable, subscribed.error().message());
    refused.keep_alive(false);
    stream.expires_after(kWriteTimeout);
    co_await http::async_write(stream, refused, asio::as_tuple(asio::use_awaitable));
    co_return;
  }
  // Unsubscribed however this coroutine ends, the daemon's shutdown included; the hub is
  // held here, so it outlives the frame.
  struct Unsubscribe {
    std::shared_ptr<LiveReadings> live;
    std::shared_ptr<LiveReadings::Subscription> subscription;
    ~Unsubscribe() { live->Unsubscribe(subscription); }
  } unsubscribe{live_, *subscribed};
  LiveReadings::Subscription& subscription = **subscribed;
  spdlog::debug("api: live stream opened (instrument \"{}\", channel \"{}\")", query.instrument(), query.channel());

  http::response_serializer<http::string_body> serializer(header);
  stream.expires_after(kWriteTimeout);
  auto [header_error, header_bytes] =
      co_await http::async_write_header(stream, serializer, asio::as_tuple(asio::use_awaitable));
  if (header_error) co_return;
  std::string events = ": streaming readings as they are committed\n\n";
  for (;;) {
    stream.expires_after(kWriteTimeout);
    auto [write_error, written] =
        co_await asio::async_write(stream, asio::buffer(events), asio::as_tuple(asio::use_awaitable));
    if (write_error) {
      spdlog::debug("api: live stream closed: {}", write_error.message());
      co_return;
    }
    events.clear();
    bool overflowed = false;
    std::vector<Reading> readings = live_->Take(subscription, overflowed);
    if (readings.empty() && !overflowed) {
      // A wake from now on is posted to this thread, so it reaches the wait begun here.
      timer->expires_after(kKeepAlive);
      auto [waited] = co_await timer->async_wait(asio::as_tuple(asio::use_awaitable));
      readings = live_->Take(subscription, overflowed);
    }
    for (const Reading& reading : readings) events += ReadingEvent(reading);
    if (overflowed) {
      ErrorResponse dropped;
      dropped.set_error(fmt::format(
          "this client fell {} readings behind the store and was cut off, so that it would not hold the store back; "
          "the readings it missed are stored: ask GET /v1/readings?after_sequence=N (N the last id received), then "
          "open the stream again",
          LiveReadings::kQueueLimit));
      spdlog::warn("api: a live stream fell {} readings behind and was cut off", LiveReadings::kQueueLimit);
      events += fmt::format("event: dropped\ndata: {}\n\n", ToJson(dropped));
      stream.expires_after(kWriteTimeout);
      co_await asio::async_write(stream, asio::buffer(events), asio::as_tuple(asio::use_awaitable));
      co_return;
    }
    if (events.empty()) events = ": keep-alive\n\n";  // the timer ran out with nothing new
  }
}

}  // namespace labtrace::api
