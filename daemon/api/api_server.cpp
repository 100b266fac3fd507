#include "api/api_server.h"

#include <charconv>
#include <cstdint>
#include <limits>
#include <map>
#include <tuple>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <fmt/format.h>
#include <google/protobuf/util/json_util.h>
#include <spdlog/spdlog.h>

#include "api/http_util.h"
#include "labtrace/api.pb.h"

namespace labtrace::api {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;

Result<std::unique_ptr<ApiServer>> ApiServer::Create(asio::io_context& io, const std::string& host,
                                                     uint16_t port, store::RecordStore& store,
                                                     const config::Lab& lab) {
  std::unique_ptr<ApiServer> server(new ApiServer(io, store, lab));
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(host, ec);
  if (ec) return Error(InvalidArgument(fmt::format("API address \"{}\" is not an IP address", host)));
  const tcp::endpoint endpoint(address, port);
  server->acceptor_.open(endpoint.protocol(), ec);
  if (!ec) server->acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) server->acceptor_.bind(endpoint, ec);
  if (!ec) server->acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return Error(Unavailable(fmt::format("cannot listen on {}:{}: {} (is another labtraced running?)",
                                         host, port, ec.message())));
  }
  server->guard_.emplace(server->acceptor_.local_endpoint(), lab.api());
  return server;
}

ApiServer::~ApiServer() {
  queries_.join();
}

void ApiServer::Start() {
  asio::co_spawn(io_, Accept(), asio::detached);
}

asio::awaitable<void> ApiServer::Accept() {
  for (;;) {
    auto [error, socket] = co_await acceptor_.async_accept(asio::as_tuple(asio::use_awaitable));
    if (error == asio::error::operation_aborted || !acceptor_.is_open()) co_return;
    if (error) {
      spdlog::warn("api: accept failed: {}", error.message());
      continue;
    }
    asio::co_spawn(io_, Serve(std::move(socket)), asio::detached);
  }
}

asio::awaitable<void> ApiServer::Serve(tcp::socket socket) {
  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buffer;
  // Counted on the io_context's one thread; the count is back down when this returns.
  struct Counted {
    uint32_t& count;
    ~Counted() { --count; }
  } counted{++connections_};
  const bool over_capacity = connections_ > guard_->max_connections();
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(kMaxHeaderBytes);
    // The body's limit depends on the target, set once the header is read. Until then none:
    // Beast's default (1 MiB) refused every larger upload as the header arrived, and the
    // connection was closed without an answer.
    parser.body_limit(std::numeric_limits<std::uint64_t>::max());
    stream.expires_after(std::chrono::seconds(30));
    auto [header_error, header_bytes] =
        co_await http::async_read_header(stream, buffer, parser, asio::as_tuple(asio::use_awaitable));
    Response response;
    if (header_error == http::error::header_limit) {
      response = ErrorReply(Request(), http::status::request_header_fields_too_large,
                            fmt::format("request headers over {} bytes", kMaxHeaderBytes));
    } else if (header_error) {
      break;  // closed, timed out or not HTTP: nothing was acknowledged, nothing is stored
    } else if (over_capacity) {
      response = ErrorReply(parser.get(), http::status::service_unavailable,
                            fmt::format("{} connections are being served, the most this daemon takes "
                                        "(api.max_connections); try again shortly",
                                        guard_->max_connections()));
    } else if (auto refused = guard_->Screen(parser.get())) {
      response = std::move(*refused);
    } else {
      const auto target = parser.get().target();
      const uint64_t limit = guard_->BodyLimit(std::string_view(target.data(), target.size()));
      // The parser compared Content-Length with its limit when the header was read, so a
      // declared length is checked here; a chunked body is held to the limit as it comes.
      parser.body_limit(limit);
      beast::error_code read_error;
      if (!parser.content_length() || *parser.content_length() <= limit) {
        std::tie(read_error, std::ignore) =
            co_await http::async_read(stream, buffer, parser, asio::as_tuple(asio::use_awaitable));
      } else {
        read_error = http::error::body_limit;
      }
      if (read_error == http::error::body_limit) {
        response = ErrorReply(parser.get(), http::status::payload_too_large,
                              fmt::format("the body is over {} bytes, the most {} takes (api.max_body_bytes, "
                                          "api.max_upload_bytes for uploads); send it in parts",
                                          limit, std::string_view(target.data(), target.size())));
      } else if (read_error) {
        break;  // truncated: nothing was acknowledged, nothing is stored
      } else {
        response = co_await Answer(parser.get());
        if (IsEventStream(response)) {
          co_await StreamReadings(stream, parser.get(), std::move(response));
          break;  // the stream's body ends with the connection
        }
      }
    }
    // A refused request's body may be unread, so the connection cannot be reused.
    if (!parser.is_done() || over_capacity) response.keep_alive(false);
    const bool keep_alive = response.keep_alive();
    auto [write_error, written] =
        co_await http::async_write(stream, response, asio::as_tuple(asio::use_awaitable));
    if (write_error || !keep_alive) break;
  }
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
}

asio::awaitable<http::response<http::string_body>> ApiServer::Answer(
    const http::request<http::string_body>& request) {
  const std::string_view target(request.target().data(), request.target().size());
  const std::string_view path = target.substr(0, target.find('?'));
  Response response;
  constexpr std::string_view kReadingsPrefix = "/v1/readings/", kCorrections = "/corrections";
  constexpr std::string_view kCalibrationsPrefix = "/v1/calibrations/";
  if (path.starts_with(kReadingsPrefix) && path.ends_with(kCorrections)) {
    if (request.method() != http::verb::post) {
      response = ErrorReply(request, http::status::method_not_allowed, "corrections are sent with POST");
    } else {
      co_return co_await AnswerCorrection(
          request, path.substr(kReadingsPrefix.size(), path.size() - kReadingsPrefix.size() - kCorrections.size()));
    }
  } else if (path == "/v1/uploads" && request.method() == http::verb::post) {
    co_return co_await AnswerUpload(request);
  } else if (path == "/v1/modbus/writes") {
    if (request.method() == http::verb::post) co_return co_await AnswerModbusWrite(request);
    response = ErrorReply(request, http::status::method_not_allowed, "register writes are sent with POST");
  } else if (path == "/v1/calibrations" && request.method() == http::verb::post) {
    co_return co_await AnswerCalibration(request);
  } else if (request.method() != http::verb::get) {
    response = ErrorReply(request, http::status::method_not_allowed, "only GET is served here");
  } else if (IsRecordList(path)) {
    co_return co_await asio::co_spawn(queries_, AnswerRecordList(request), asio::use_awaitable);
  } else if (path == "/v1/readings/stream") {
    response = AnswerStreamRequest(request);
  } else if (path.starts_with(kCalibrationsPrefix) || path.starts_with("/v1/trace/")) {
    co_return co_await asio::co_spawn(queries_, AnswerTraceQuery(request), asio::use_awaitable);
  } else if (path == "/v1/health") {
    response = Reply(request, http::status::ok, health_ ? health_() : HealthResponse());
  } else {
    response = ErrorReply(request, http::status::not_found,
                          fmt::format("no such endpoint {}; see docs/API.md", path));
  }
  spdlog::debug("api: {} {} -> {}", std::string(request.method_string()), target,
                static_cast<int>(response.result_int()));
  co_return response;
}

asio::awaitable<Response> ApiServer::AnswerUpload(const Request& request) {
  UploadRequest upload;
  if (Status parsed = ParseBody(request, upload); !parsed.ok()) co_return ErrorReply(request, parsed);
  auto receipt = co_await AsyncStore<UploadReceipt>(
      [this, &upload](auto done) { store_.Upload(std::move(upload), std::move(done)); }, asio::use_awaitable);
  if (!receipt) co_return ErrorReply(request, receipt.error());
  co_return Reply(request, http::status::ok, *receipt);
}

asio::awaitable<Response> ApiServer::AnswerCorrection(const Request& request, std::string_view sequence_text) {
  uint64_t sequence = 0;
  auto [end, ec] = std::from_chars(sequence_text.data(), sequence_text.data() + sequence_text.size(), sequence);
  if (ec != std::errc() || end != sequence_text.data() + sequence_text.size() || sequence == 0) {
    co_return ErrorReply(request, http::status::bad_request,
                         fmt::format("\"{}\" is not a reading sequence number", sequence_text));
  }
  CorrectionRequest correction;
  if (Status parsed = ParseBody(request, correction); !parsed.ok()) co_return ErrorReply(request, parsed);
  auto receipt = co_await AsyncStore<CorrectionReceipt>(
      [this, sequence, &correction](auto done) { store_.Correct(sequence, std::move(correction), std::move(done)); },
      asio::use_awaitable);
  if (!receipt) co_return ErrorReply(request, receipt.error());
  co_return Reply(request, http::status::ok, *receipt);
}

void ApiServer::Stop() {
  boost::system::error_code ignored;
  acceptor_.close(ignored);
}

}  // namespace labtrace::api
