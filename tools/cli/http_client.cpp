#include "cli/http_client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <fmt/format.h>
#include <google/protobuf/util/json_util.h>

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <fstream>

#include "labtrace/api.pb.h"

namespace labtrace::cli {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

namespace {

Result<HttpReply> Exchange(const std::string& server, http::verb method, const std::string& target,
                           const std::string& body, const std::string& content_type, const std::string& token) {
  constexpr std::string_view kScheme = "http://";
  if (server.rfind(kScheme, 0) != 0) {
    return Error(InvalidArgument(fmt::format("server \"{}\" must start with http://", server)));
  }
  std::string authority = server.substr(kScheme.size());
  if (!authority.empty() && authority.back() == '/') authority.pop_back();
  const size_t colon = authority.rfind(':');
  const std::string host = colon == std::string::npos ? authority : authority.substr(0, colon);
  const std::string port = colon == std::string::npos ? "80" : authority.substr(colon + 1);

  asio::io_context io;
  asio::ip::tcp::resolver resolver(io);
  beast::tcp_stream stream(io);
  beast::error_code ec;
  auto endpoints = resolver.resolve(host, port, ec);
  if (!ec) stream.connect(endpoints, ec);
  if (ec) {
    return Error(Unavailable(fmt::format(
        "cannot reach labtraced at {}: {}. Is the daemon running? (see README, Quick start)",
        server, ec.message())));
  }
  http::request<http::string_body> request(method, target, 11);
  request.set(http::field::host, authority);  // host:port, as the daemon checks it
  request.set(http::field::accept, "application/json");
  if (!token.empty()) request.set(http::field::authorization, "Bearer " + token);
  if (method != http::verb::get) {
    request.set(http::field::content_type, content_type);
    request.body() = body;
    request.prepare_payload();
  }
  request.keep_alive(false);
  http::write(stream, request, ec);
  beast::flat_buffer buffer;
  http::response<http::string_body> response;
  if (!ec) http::read(stream, buffer, response, ec);
  if (ec) return Error(Unavailable(fmt::format("talking to {}: {}", server, ec.message())));
  stream.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ec);
  return HttpReply{static_cast<int>(response.result_int()), std::move(response.body())};
}

}  // namespace

std::string TokenFilePath() {
  const char* config = std::getenv("XDG_CONFIG_HOME");
  if (config != nullptr && *config != '\0') return fmt::format("{}/labtrace/token", config);
  const char* home = std::getenv("HOME");
  return fmt::format("{}/.config/labtrace/token", home != nullptr ? home : ".");
}

std::string SavedToken() {
  if (const char* token = std::getenv("LABTRACE_TOKEN"); token != nullptr && *token != '\0') return token;
  std::ifstream file(TokenFilePath());
  std::string token;
  std::getline(file, token);
  return token;
}

Result<HttpReply> HttpGet(const std::string& server, const std::string& target) {
  return Exchange(server, http::verb::get, target, "", "", SavedToken());
}

Result<HttpReply> HttpGet(const std::string& server, const std::string& target, const std::string& token) {
  return Exchange(server, http::verb::get, target, "", "", token);
}

Result<HttpReply> HttpPost(const std::string& server, const std::string& target, const std::string& body,
                           const std::string& content_type) {
  return Exchange(server, http::verb::post, target, body, content_type, SavedToken());
}

Result<HttpReply> HttpPostAs(const std::string& server, const std::string& target, const std::string& body,
                             const std::string& token, const std::string& content_type) {
  return Exchange(server, http::verb::post, target, body, content_type, token);
}

Result<HttpReply> HttpDelete(const std::string& server, const std::string& target, const std::string& token) {
  // The daemon takes a change only with a JSON or protobuf Content-Type, body or none.
  return Exchange(server, http::verb::delete_, target, "", "application/json", token);
}

int CallApi(const std::string& server, const std::string& target, const std::string* post_body,
            google::protobuf::Message& answer, std::string* json) {
  return ReadAnswer(server, post_body ? HttpPost(server, target, *post_body) : HttpGet(server, target), answer, json);
}

int ReadAnswer(const std::string& server, const Result<HttpReply>& reply, google::protobuf::Message& answer,
               std::string* json) {
  if (!reply) {
    std::fprintf(stderr, "labtrace: %s\n", reply.error().message().c_str());
    return 1;
  }
  if (reply->status != 200) {
    api::ErrorResponse error;
    if (google::protobuf::util::JsonStringToMessage(reply->body, &error).ok()) {
      std::fprintf(stderr, "labtrace: the daemon refused the request: %s\n", error.error().c_str());
    } else {
      std::fprintf(stderr, "labtrace: HTTP %d from %s\n", reply->status, server.c_str());
    }
    if (reply->status == 401 || reply->status == 403) return kNotAllowed;
    return reply->status == 400 || reply->status == 404 || reply->status == 409 ? 2 : 1;
  }
  if (!google::protobuf::util::JsonStringToMessage(reply->body, &answer).ok()) {
    std::fprintf(stderr, "labtrace: the daemon's answer is not a %s\n", answer.GetDescriptor()->name().c_str());
    return 1;
  }
  if (json != nullptr) *json = reply->body;
  return 0;
}

std::string PercentEncode(std::string_view text) {
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

}  // namespace labtrace::cli
