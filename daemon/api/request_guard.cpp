#include "api/request_guard.h"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace labtrace::api {

namespace {

std::string Lower(std::string_view text) {
  std::string lower(text);
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  return lower;
}

// "application/json; charset=utf-8" → "application/json"
std::string MediaType(std::string_view content_type) {
  const std::string_view type = content_type.substr(0, content_type.find(';'));
  const size_t first = type.find_first_not_of(" \t");
  if (first == std::string_view::npos) return "";
  return Lower(type.substr(first, type.find_last_not_of(" \t") - first + 1));
}

bool ChangesSomething(http::verb method) {
  return method != http::verb::get && method != http::verb::head && method != http::verb::options;
}

}  // namespace

RequestGuard::RequestGuard(const boost::asio::ip::tcp::endpoint& bound, const config::Api& api)
    : max_body_bytes_(api.max_body_bytes() ? api.max_body_bytes() : kDefaultMaxBodyBytes),
      max_upload_bytes_(api.max_upload_bytes() ? api.max_upload_bytes() : kDefaultMaxUploadBytes),
      max_connections_(std::min(api.max_connections() ? api.max_connections() : kDefaultMaxConnections,
                                kMostConnections)) {
  const auto address = bound.address();
  const std::string port = std::to_string(bound.port());
  if (!address.is_unspecified()) {
    hosts_.insert(address.is_v6() ? fmt::format("[{}]:{}", address.to_string(), port)
                                  : fmt::format("{}:{}", address.to_string(), port));
  }
  if (address.is_loopback() || address.is_unspecified()) {
    hosts_.insert("localhost:" + port);
    hosts_.insert("127.0.0.1:" + port);
    hosts_.insert("[::1]:" + port);
  }
  for (const std::string& name : api.host_names()) hosts_.insert(Lower(name));
}

std::optional<Response> RequestGuard::Screen(const Request& request) const {
  const std::string host = Lower(std::string_view(request[http::field::host]));
  if (!hosts_.contains(host)) {
    return ErrorReply(request, http::status::misdirected_request,
                      fmt::format("Host \"{}\" is not a name this daemon answers to; use one of {}, or add the "
                                  "name to api.host_names in the lab-config",
                                  host, fmt::join(hosts_, ", ")));
  }
  if (!ChangesSomething(request.method())) return std::nullopt;
  const std::string type = MediaType(std::string_view(request[http::field::content_type]));
  if (type != "application/json" && type != "application/x-protobuf") {
    return ErrorReply(request, http::status::unsupported_media_type,
                      fmt::format("Content-Type \"{}\" is not accepted: send application/json or "
                                  "application/x-protobuf",
                                  std::string_view(request[http::field::content_type])));
  }
  if (request.find(http::field::origin) != request.end()) {
    const std::string origin = Lower(std::string_view(request[http::field::origin]));
    constexpr std::string_view kScheme = "http://";
    if (!origin.starts_with(kScheme) || !hosts_.contains(std::string_view(origin).substr(kScheme.size()))) {
      return ErrorReply(request, http::status::forbidden,
                        fmt::format("a request from the web page at {} may not change records here; only the "
                                    "daemon's own console may",
                                    origin));
    }
  }
  return std::nullopt;
}

uint64_t RequestGuard::BodyLimit(std::string_view target) const {
  const std::string_view path = target.substr(0, target.find('?'));
  return path == "/v1/uploads" ? max_upload_bytes_ : max_body_bytes_;
}

}  // namespace labtrace::api
