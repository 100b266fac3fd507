#include "api/api_server.h"

#include <array>
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
#include "api/upload_rules.h"
#include "labtrace/api.pb.h"
#include "labtrace/clock.h"

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
  constexpr int64_t kSecondNs = 1'000'000'000;
  if (lab.api().session_hours() > 0) server->session_lifetime_ns_ = lab.api().session_hours() * 3600 * kSecondNs;
  if (lab.api().failures_to_lock() > 0) server->lockout_.failures_to_lock = lab.api().failures_to_lock();
  if (lab.api().lock_minutes() > 0) server->lockout_.lock_ns = lab.api().lock_minutes() * 60 * kSecondNs;
  return server;
}

ApiServer::~ApiServer() {
  queries_.join();
  accounts_.join();
  printer_.join();
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
  // A lingering close: a client still sending the body of a refused request would get a
  // reset, not our answer, if the socket closed with its bytes unread. So what it sends
  // is read and dropped until it stops, for a few seconds at most.
  stream.expires_after(std::chrono::seconds(5));
  for (std::array<char, 64 * 1024> drain;;) {
    auto [error, read] = co_await stream.async_read_some(asio::buffer(drain), asio::as_tuple(asio::use_awaitable));
    if (error) break;
  }
}

asio::awaitable<Response> ApiServer::Answer(const Request& request) {
  const std::string_view target(request.target().data(), request.target().size());
  const std::string_view method(request.method_string().data(), request.method_string().size());
  auto caller = co_await Identify(request);
  if (!caller) {
    if (caller.error().code() == StatusCode::kUnauthenticated) AuditRefusal(auth::Caller(), request, caller.error().message());
    co_return ErrorReply(request, caller.error());
  }
  const auth::AccessDecision decision = auth::Decide(caller->role, method, target);
  Response response;
  switch (decision.verdict) {
    case auth::Verdict::kNoSuchEndpoint:
      response = ErrorReply(request, http::status::not_found, decision.reason);
      break;
    case auth::Verdict::kWrongMethod:
      response = ErrorReply(request, http::status::method_not_allowed, decision.reason);
      break;
    case auth::Verdict::kNeedsToken:
      AuditRefusal(*caller, request, decision.reason);
      response = ErrorReply(request, Unauthenticated(decision.reason));
      break;
    case auth::Verdict::kRoleRefused:
      AuditRefusal(*caller, request, decision.reason);
      response = ErrorReply(request, PermissionDenied(decision.reason));
      break;
    case auth::Verdict::kAllowed:
      if (!decision.endpoint->planned.empty()) {
        response = ErrorReply(request, http::status::not_found,
                              fmt::format("{} {} is planned (issue {}) and not served yet; see docs/API.md",
                                          decision.endpoint->method, decision.endpoint->route,
                                          decision.endpoint->planned));
      } else {
        response = co_await Route(request, *caller, *decision.endpoint);
      }
      break;
  }
  spdlog::debug("api: {} {} by {} -> {}", method, target, caller->user.empty() ? "nobody" : caller->user,
                static_cast<int>(response.result_int()));
  co_return response;
}

namespace {

// The path segment that stands where `route` has `{name}`.
std::string RouteParameter(std::string_view route, std::string_view target, std::string_view name) {
  std::string_view path = target.substr(0, target.find('?'));
  for (;;) {
    const size_t route_slash = route.find('/', 1), path_slash = path.find('/', 1);
    const std::string_view route_segment = route.substr(1, route_slash - 1);
    const std::string_view path_segment = path.substr(1, path_slash - 1);
    if (route_segment.size() == name.size() + 2 && route_segment.substr(1, name.size()) == name) {
      return std::string(path_segment);
    }
    if (route_slash == std::string_view::npos || path_slash == std::string_view::npos) return "";
    route = route.substr(route_slash);
    path = path.substr(path_slash);
  }
}

}  // namespace

asio::awaitable<Response> ApiServer::Route(const Request& request, const auth::Caller& caller,
                                           const auth::Endpoint& endpoint) {
  const std::string_view target(request.target().data(), request.target().size());
  const std::string route = fmt::format("{} {}", endpoint.method, endpoint.route);
  if (route == "GET /v1/health") co_return Reply(request, http::status::ok, health_ ? health_() : HealthResponse());
  if (route == "POST /v1/sessions") co_return co_await AnswerLogin(request);
  if (route == "DELETE /v1/sessions/current") co_return co_await AnswerLogout(request, caller);
  if (route == "POST /v1/password") co_return co_await AnswerPasswordChange(request, caller);
  if (route == "GET /v1/users") co_return co_await AnswerUsers(request);
  if (route == "POST /v1/users") co_return co_await AnswerEnrol(request, caller);
  if (route == "POST /v1/users/{name}/unlock") {
    co_return co_await AnswerUnlock(request, caller, RouteParameter(endpoint.route, target, "name"));
  }
  if (route == "GET /v1/tokens") co_return co_await AnswerTokens(request);
  if (route == "POST /v1/tokens") co_return co_await AnswerNewToken(request, caller);
  if (route == "DELETE /v1/tokens/{token_id}") {
    co_return co_await AnswerRevokeToken(request, caller, RouteParameter(endpoint.route, target, "token_id"));
  }
  if (route == "GET /v1/readings" || route == "GET /v1/audit" || route == "GET /v1/uploads" ||
      route == "GET /v1/calibrations") {
    co_return co_await asio::co_spawn(queries_, AnswerRecordList(request), asio::use_awaitable);
  }
  if (route == "GET /v1/readings/stream") co_return AnswerStreamRequest(request);
  if (route == "POST /v1/readings/{sequence}/corrections") {
    co_return co_await AnswerCorrection(request, caller, RouteParameter(endpoint.route, target, "sequence"));
  }
  if (route == "POST /v1/uploads") co_return co_await AnswerUpload(request, caller);
  if (route == "POST /v1/modbus/writes") co_return co_await AnswerModbusWrite(request, caller);
  if (route == "POST /v1/calibrations") co_return co_await AnswerCalibration(request, caller);
  if (route == "GET /v1/calibrations/{number}" || route == "GET /v1/trace/chain" ||
      route == "GET /v1/trace/reverse") {
    co_return co_await asio::co_spawn(queries_, AnswerTraceQuery(request), asio::use_awaitable);
  }
  if (route.find(" /v1/enterprises") != std::string::npos || route.find(" /v1/products") != std::string::npos ||
      route.find(" /v1/samples") != std::string::npos) {
    co_return co_await AnswerReferenceData(request, caller, route, RouteParameter(endpoint.route, target, "code"));
  }
  if (route.find(" /v1/runs") != std::string::npos) {
    co_return co_await AnswerRuns(request, caller, route, RouteParameter(endpoint.route, target, "id"));
  }
  if (route.find(" /v1/reports") != std::string::npos) {
    co_return co_await AnswerReports(request, caller, route, RouteParameter(endpoint.route, target, "number"));
  }
  if (route == "GET /v1/verify/{code}") {
    co_return co_await AnswerVerification(request, RouteParameter(endpoint.route, target, "code"));
  }
  // The table lists a route served today that no branch above answers: a bug, caught by
  // the test that calls every endpoint.
  co_return ErrorReply(request, Internal(fmt::format("{} is in the endpoint table but has no route", route)));
}

asio::awaitable<Result<auth::Caller>> ApiServer::Identify(const Request& request) {
  const auto header = request[http::field::authorization];
  if (header.empty()) co_return auth::Caller();  // nobody; the table says what nobody may do
  const std::string_view value(header.data(), header.size());
  constexpr std::string_view kBearer = "Bearer ";
  if (value.size() <= kBearer.size() || !beast::iequals(value.substr(0, kBearer.size()), kBearer)) {
    co_return Error(Unauthenticated(
        "the Authorization header must be \"Bearer TOKEN\"; log in with `labtrace login`"));
  }
  const std::string_view text = value.substr(kBearer.size());
  auto key = auth::TokenLookupKey(text);
  if (!key) co_return Error(key.error());
  auto seen = tokens_seen_.find(*key);
  if (seen == tokens_seen_.end()) {
    auto found = co_await asio::co_spawn(queries_, LookUpToken(*key), asio::use_awaitable);
    if (!found) co_return Error(found.error());
    if (!*found) co_return auth::Authenticate(text, nullptr, NowNs());
    // Bounded: past this many tokens in a day something is wrong; start again.
    constexpr size_t kMostTokensSeen = 100'000;
    if (tokens_seen_.size() >= kMostTokensSeen) tokens_seen_.clear();
    seen = tokens_seen_.emplace(*key, std::move(**found)).first;
  }
  co_return auth::Authenticate(text, &seen->second, NowNs());
}

asio::awaitable<Result<std::optional<AccessToken>>> ApiServer::LookUpToken(std::string text_sha256) {
  co_return store_.FindToken(text_sha256);
}

void ApiServer::ForgetToken(std::string_view token_id) {
  std::erase_if(tokens_seen_, [&](const auto& entry) { return entry.second.token_id() == token_id; });
}

void ApiServer::AuditRefusal(const auth::Caller& caller, const Request& request, std::string_view reason) {
  // Bounded: a refused caller chooses the target, and the trail keeps it for good.
  constexpr size_t kMostTargetBytes = 200;
  const std::string_view target(request.target().data(), std::min(request.target().size(), kMostTargetBytes));
  AuditEvent event;
  event.set_actor(caller.user.empty() ? "anonymous" : caller.user);
  event.set_action("refuse");
  event.set_entity(fmt::format("api:{} {}", std::string_view(request.method_string()), target.substr(0, target.find('?'))));
  event.set_reason(caller.token_id.empty() ? std::string(reason) : fmt::format("{} (token {})", reason, caller.token_id));
  store_.RecordAudit(std::move(event));
}

asio::awaitable<Response> ApiServer::AnswerUpload(const Request& request, const auth::Caller& caller) {
  UploadRequest upload;
  if (Status parsed = ParseBody(request, upload); !parsed.ok()) co_return ErrorReply(request, parsed);
  // The lab's rules first (an instrument the daemon reads itself, one it does not know),
  // whose message says what is wrong with the upload; then the token's scope.
  if (Status allowed = CheckUploadRules(lab_, upload); !allowed.ok()) co_return ErrorReply(request, allowed);
  for (int i = 0; i < upload.readings_size(); ++i) {
    if (Status scope = auth::CheckInstrumentScope(caller, upload.readings(i).instrument()); !scope.ok()) {
      AuditRefusal(caller, request, scope.message());
      co_return ErrorReply(request, PermissionDenied(fmt::format("readings[{}]: {}", i, scope.message())));
    }
  }
  auto receipt = co_await AsyncStore<UploadReceipt>(
      [this, &upload, &caller](auto done) {
        store_.Upload(std::move(upload), UploadedBy(caller.user, caller.token_id), std::move(done));
      },
      asio::use_awaitable);
  if (!receipt) co_return ErrorReply(request, receipt.error());
  co_return Reply(request, http::status::ok, *receipt);
}

asio::awaitable<Response> ApiServer::AnswerCorrection(const Request& request, const auth::Caller& caller,
                                                      std::string_view sequence_text) {
  uint64_t sequence = 0;
  auto [end, ec] = std::from_chars(sequence_text.data(), sequence_text.data() + sequence_text.size(), sequence);
  if (ec != std::errc() || end != sequence_text.data() + sequence_text.size() || sequence == 0) {
    co_return ErrorReply(request, http::status::bad_request,
                         fmt::format("\"{}\" is not a reading sequence number", sequence_text));
  }
  CorrectionRequest correction;
  if (Status parsed = ParseBody(request, correction); !parsed.ok()) co_return ErrorReply(request, parsed);
  if (Status actor = TakeActor(caller, "actor", *correction.mutable_actor()); !actor.ok()) {
    co_return ErrorReply(request, actor);
  }
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
