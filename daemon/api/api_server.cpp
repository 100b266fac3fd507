#include "api/api_server.h"

#include <charconv>
#include <map>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <fmt/format.h>
#include <google/protobuf/util/json_util.h>
#include <spdlog/spdlog.h>

#include "labtrace/api.pb.h"

namespace labtrace::api {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

// An upload of 100 000 readings with raw frames fits well within this.
constexpr uint64_t kMaxBodyBytes = 64 * 1024 * 1024;

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Result<std::string> PercentDecode(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '+') {
      out += ' ';
    } else if (text[i] == '%') {
      if (i + 2 >= text.size()) {
        return Error(InvalidArgument("truncated %-escape in query"));
      }
      const int hi = HexValue(text[i + 1]), lo = HexValue(text[i + 2]);
      if (hi < 0 || lo < 0) return Error(InvalidArgument("bad %-escape in query"));
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

Result<std::map<std::string, std::string>> ParseQueryString(std::string_view target) {
  std::map<std::string, std::string> params;
  const size_t question = target.find('?');
  if (question == std::string_view::npos) return params;
  std::string_view rest = target.substr(question + 1);
  while (!rest.empty()) {
    const size_t amp = rest.find('&');
    std::string_view pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
    if (pair.empty()) continue;
    const size_t eq = pair.find('=');
    auto key = PercentDecode(pair.substr(0, eq));
    auto value = PercentDecode(eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1));
    if (!key) return Error(key.error());
    if (!value) return Error(value.error());
    params[*key] = *value;
  }
  return params;
}

template <typename Int>
Result<Int> ParseInteger(const std::map<std::string, std::string>& params, const std::string& name) {
  auto found = params.find(name);
  if (found == params.end()) return Int{0};
  Int value{};
  const std::string& text = found->second;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) {
    return Error(InvalidArgument(fmt::format("query parameter {}=\"{}\" is not a whole number", name, text)));
  }
  return value;
}

Result<ReadingsQuery> ParseReadingsQuery(std::string_view target) {
  auto params = ParseQueryString(target);
  if (!params) return Error(params.error());
  for (const auto& [key, value] : *params) {
    if (key != "instrument" && key != "channel" && key != "since_ns" && key != "last") {
      return Error(InvalidArgument(fmt::format(
          "unknown query parameter \"{}\"; known: instrument, channel, since_ns, last", key)));
    }
  }
  ReadingsQuery query;
  if (params->count("instrument")) query.set_instrument(params->at("instrument"));
  if (params->count("channel")) query.set_channel(params->at("channel"));
  auto since = ParseInteger<int64_t>(*params, "since_ns");
  if (!since) return Error(since.error());
  auto last = ParseInteger<uint32_t>(*params, "last");
  if (!last) return Error(last.error());
  query.set_since_ns(*since);
  query.set_last(*last);
  return query;
}

bool WantsProtobuf(const Request& request) {
  return request[http::field::accept].find("application/x-protobuf") != beast::string_view::npos;
}

Response Reply(const Request& request, http::status status, const google::protobuf::Message& message) {
  Response response(status, request.version());
  response.set(http::field::server, "labtraced");
  if (WantsProtobuf(request)) {
    response.set(http::field::content_type, "application/x-protobuf");
    response.body() = message.SerializeAsString();
  } else {
    google::protobuf::util::JsonPrintOptions options;
    options.add_whitespace = false;
    options.preserve_proto_field_names = true;
    std::string json;
    (void)google::protobuf::util::MessageToJsonString(message, &json, options);
    response.set(http::field::content_type, "application/json");
    response.body() = std::move(json) + "\n";
  }
  response.keep_alive(request.keep_alive());
  response.prepare_payload();
  return response;
}

Response ErrorReply(const Request& request, http::status status, std::string text) {
  ErrorResponse error;
  error.set_error(std::move(text));
  return Reply(request, status, error);
}

}  // namespace

Result<std::unique_ptr<ApiServer>> ApiServer::Create(asio::io_context& io, const std::string& host,
                                                     uint16_t port, store::RecordStore& store) {
  std::unique_ptr<ApiServer> server(new ApiServer(io, store));
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
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.body_limit(kMaxBodyBytes);
    stream.expires_after(std::chrono::seconds(30));
    auto [read_error, read_bytes] =
        co_await http::async_read(stream, buffer, parser, asio::as_tuple(asio::use_awaitable));
    // Closed, timed out, truncated or not HTTP: nothing was acknowledged, nothing is stored.
    if (read_error) break;
    const Request& request = parser.get();
    Response response = co_await Answer(request);
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
  if (path.starts_with(kReadingsPrefix) && path.ends_with(kCorrections)) {
    if (request.method() != http::verb::post) {
      response = ErrorReply(request, http::status::method_not_allowed, "corrections are sent with POST");
    } else {
      co_return co_await AnswerCorrection(
          request, path.substr(kReadingsPrefix.size(), path.size() - kReadingsPrefix.size() - kCorrections.size()));
    }
  } else if (path == "/v1/uploads") {
    if (request.method() == http::verb::post) co_return co_await AnswerUpload(request);
    response = ErrorReply(request, http::status::method_not_allowed, "uploads are sent with POST");
  } else if (request.method() != http::verb::get) {
    response = ErrorReply(request, http::status::method_not_allowed, "only GET is served here");
  } else if (path == "/v1/audit") {
    auto params = ParseQueryString(target);
    auto since = params ? ParseInteger<int64_t>(*params, "since_ns") : Result<int64_t>(Error(params.error()));
    if (!since) {
      response = ErrorReply(request, http::status::bad_request, since.error().message());
    } else {
      const std::string entity = params->count("entity") ? params->at("entity") : "";
      auto answer = co_await asio::co_spawn(queries_, RunAuditQuery(entity, *since), asio::use_awaitable);
      response = answer ? Reply(request, http::status::ok, *answer)
                        : ErrorReply(request, http::status::service_unavailable, answer.error().message());
    }
  } else if (path == "/v1/health") {
    ErrorResponse ok;  // an empty error says all is well
    response = Reply(request, http::status::ok, ok);
  } else if (path == "/v1/readings") {
    auto query = ParseReadingsQuery(target);
    if (!query) {
      response = ErrorReply(request, http::status::bad_request, query.error().message());
    } else {
      // Run the query on the worker; the coroutine resumes on the io_context.
      auto answer = co_await asio::co_spawn(queries_, RunQuery(*query), asio::use_awaitable);
      response = answer ? Reply(request, http::status::ok, *answer)
                        : ErrorReply(request, http::status::service_unavailable, answer.error().message());
    }
  } else {
    response = ErrorReply(request, http::status::not_found,
                          fmt::format("no such endpoint {}; see docs/API.md", path));
  }
  spdlog::debug("api: {} {} -> {}", std::string(request.method_string()), target,
                static_cast<int>(response.result_int()));
  co_return response;
}

namespace {

// Hands an upload to the store and completes when the store has answered: after the
// commit is durable, or with the reason it is not.
template <typename Token>
auto AsyncUpload(store::RecordStore& store, UploadRequest request, Token&& token) {
  return asio::async_initiate<Token, void(Result<UploadReceipt>)>(
      [&store](auto handler, UploadRequest request) {
        auto shared = std::make_shared<decltype(handler)>(std::move(handler));
        store.Upload(std::move(request), [shared](Result<UploadReceipt> result) {
          auto executor = asio::get_associated_executor(*shared);
          asio::post(executor, [shared, result = std::move(result)]() mutable { (*shared)(std::move(result)); });
        });
      },
      token, std::move(request));
}

bool SentProtobuf(const Request& request) {
  return request[http::field::content_type].find("application/x-protobuf") != beast::string_view::npos;
}

}  // namespace

asio::awaitable<Response> ApiServer::AnswerUpload(const Request& request) {
  UploadRequest upload;
  if (SentProtobuf(request)) {
    if (!upload.ParseFromString(request.body())) {
      co_return ErrorReply(request, http::status::bad_request, "body is not an UploadRequest (protobuf)");
    }
  } else {
    const auto parsed = google::protobuf::util::JsonStringToMessage(request.body(), &upload);
    if (!parsed.ok()) {
      co_return ErrorReply(request, http::status::bad_request,
                           fmt::format("body is not an UploadRequest: {}", std::string(parsed.message())));
    }
  }
  auto receipt = co_await AsyncUpload(store_, std::move(upload), asio::use_awaitable);
  if (receipt) co_return Reply(request, http::status::ok, *receipt);
  const Status& error = receipt.error();
  const http::status status = error.code() == StatusCode::kInvalidArgument     ? http::status::bad_request
                              : error.code() == StatusCode::kResourceExhausted ? http::status::insufficient_storage
                                                                               : http::status::service_unavailable;
  co_return ErrorReply(request, status, error.message());
}

namespace {

template <typename Token>
auto AsyncCorrect(store::RecordStore& store, uint64_t sequence, CorrectionRequest request, Token&& token) {
  return asio::async_initiate<Token, void(Result<CorrectionReceipt>)>(
      [&store, sequence](auto handler, CorrectionRequest request) {
        auto shared = std::make_shared<decltype(handler)>(std::move(handler));
        store.Correct(sequence, std::move(request), [shared](Result<CorrectionReceipt> result) {
          auto executor = asio::get_associated_executor(*shared);
          asio::post(executor, [shared, result = std::move(result)]() mutable { (*shared)(std::move(result)); });
        });
      },
      token, std::move(request));
}

}  // namespace

asio::awaitable<Response> ApiServer::AnswerCorrection(const Request& request, std::string_view sequence_text) {
  uint64_t sequence = 0;
  auto [end, ec] = std::from_chars(sequence_text.data(), sequence_text.data() + sequence_text.size(), sequence);
  if (ec != std::errc() || end != sequence_text.data() + sequence_text.size() || sequence == 0) {
    co_return ErrorReply(request, http::status::bad_request,
                         fmt::format("\"{}\" is not a reading sequence number", sequence_text));
  }
  CorrectionRequest correction;
  const auto parsed = SentProtobuf(request) ? (correction.ParseFromString(request.body())
                                                   ? google::protobuf::util::Status()
                                                   : google::protobuf::util::Status(
                                                         google::protobuf::util::StatusCode::kInvalidArgument,
                                                         "not a CorrectionRequest"))
                                            : google::protobuf::util::JsonStringToMessage(request.body(), &correction);
  if (!parsed.ok()) {
    co_return ErrorReply(request, http::status::bad_request,
                         fmt::format("body is not a CorrectionRequest: {}", std::string(parsed.message())));
  }
  auto receipt = co_await AsyncCorrect(store_, sequence, std::move(correction), asio::use_awaitable);
  if (receipt) co_return Reply(request, http::status::ok, *receipt);
  const Status& error = receipt.error();
  const http::status status = error.code() == StatusCode::kInvalidArgument     ? http::status::bad_request
                              : error.code() == StatusCode::kNotFound          ? http::status::not_found
                              : error.code() == StatusCode::kResourceExhausted ? http::status::insufficient_storage
                                                                               : http::status::service_unavailable;
  co_return ErrorReply(request, status, error.message());
}

// Member coroutines, not lambdas: their arguments live in the coroutine frame, whereas a
// lambda's captures die with the temporary closure (this crashed GET /v1/audit once).
asio::awaitable<Result<AuditResponse>> ApiServer::RunAuditQuery(std::string entity, int64_t since_ns) {
  co_return store_.QueryAudit(entity, since_ns);
}

asio::awaitable<Result<ReadingsResponse>> ApiServer::RunQuery(ReadingsQuery query) {
  co_return store_.Query(query);
}

void ApiServer::Stop() {
  boost::system::error_code ignored;
  acceptor_.close(ignored);
}

}  // namespace labtrace::api
